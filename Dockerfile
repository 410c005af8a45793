# Container image for the slabcache HTTP server (packages/server).
#
# Two stages. "build" installs the whole pnpm workspace from the lockfile,
# compiles the TypeScript (engine + server), then `pnpm deploy --prod` copies the
# server with only its production dependencies (the engine included, as a real
# copy of its package files) into /out. "runtime" starts again from the bare
# base image and takes only /out, so compilers, dev dependencies and the pnpm
# store never reach the final image.
#
# The base must be glibc-based: uWebSockets.js (the native core of hyper-express)
# ships glibc binaries only and does not load on Alpine/musl. BASE_IMAGE is an
# argument so CI, which cannot reach Docker Hub, can build on a local stand-in
# (.ci/docker-test.sh). There is deliberately no `# syntax=` line: it would pull
# an image from Docker Hub, and the legacy builder must keep working.
#
#   docker build -t key-value-store .
#   docker run -p 7171:7171 key-value-store
#
# Configuration is by environment variable (PORT, HOST, MAX_KEYS, MAX_BYTES, ...);
# see docs/docker.md.

ARG BASE_IMAGE=node:20-bookworm-slim

FROM ${BASE_IMAGE} AS build
ENV CI=true
WORKDIR /src
RUN npm install -g pnpm@9.15.9 --no-update-notifier --no-fund --no-audit

# Download every package named in the lockfile into pnpm's store. This layer
# depends on the lockfile alone, so editing sources does not download again.
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN pnpm fetch

COPY . .
RUN pnpm install --offline --frozen-lockfile \
 && pnpm run build \
 && pnpm --filter @slabcache/server deploy --prod /out

# The uWebSockets.js package carries 18 native binaries (3 OSes x 4 CPUs x 3
# Node ABIs, ~110 MB). Keep only the one this platform and this Node load; the
# base image is the same in both stages, so the runtime loads the same file.
# Then prove, inside the build, that the native addon loads (the package would
# otherwise fall back silently to a slow pure-JS server).
RUN set -eu; \
    uws_dirs="$(find /out/node_modules/.pnpm -type d -path '*/node_modules/@trufflesuite/uws-js-unofficial')"; \
    [ "$(printf '%s\n' "$uws_dirs" | grep -c .)" = 1 ] \
      || { echo "expected exactly one @trufflesuite/uws-js-unofficial in /out, found: $uws_dirs" >&2; exit 1; }; \
    keep="uws_$(node -p 'process.platform + "_" + process.arch + "_" + process.versions.modules').node"; \
    [ -f "$uws_dirs/binaries/$keep" ] || { echo "no uWS binary $keep for this platform" >&2; exit 1; }; \
    find "$uws_dirs/binaries" "$uws_dirs/dist" -name 'uws_*.node' ! -path "$uws_dirs/binaries/$keep" -delete; \
    rm -rf "$uws_dirs/docs"; \
    cd /out && node -e " \
      const uws = require('uWebSockets.js'); \
      const native = Object.values(require.cache).some(m => m.filename.endsWith('.node') && m.exports === uws); \
      if (!native) { console.error('uWebSockets.js native addon did not load'); process.exit(1); }"

FROM ${BASE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=7171
WORKDIR /app
# Owned by root and read-only for the server's user: the process cannot rewrite
# its own code. Only what runs is copied (no sources, tests or tsconfig).
COPY --from=build /out/package.json ./package.json
COPY --from=build /out/node_modules ./node_modules
COPY --from=build /out/dist ./dist
# The one writable place, for SNAPSHOT_PATH=/data/...: mount a volume here. A
# new named volume takes this directory's owner, so uid 1000 can write to it.
# "node" (uid 1000) exists in the official node images and in the CI stand-in.
RUN mkdir /data && chown node:node /data
USER node
EXPOSE 7171
# No curl in slim images, so node itself probes /health. It targets HOST when
# that names one address, else loopback. The long start period covers loading
# a large snapshot before the server listens (~130 MB/s): failures during it do
# not count, and the first success marks the container healthy at once.
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "const h = process.env.HOST; const host = !h || h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h; require('http').get({ host, port: process.env.PORT || 7171, path: '/health', timeout: 2500 }, r => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1)).on('timeout', () => process.exit(1))"]
# node runs as PID 1 on purpose (no tini): the server installs its own SIGTERM
# and SIGINT handlers and exits 0 after a graceful shutdown, and it starts no
# child processes, so there are no zombies to reap. `docker run --init` also works.
STOPSIGNAL SIGTERM
CMD ["node", "dist/cli.js"]
