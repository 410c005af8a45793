# Container image for the slabcache HTTP server (packages/server).
#
# Two stages. "build" installs the whole pnpm workspace from the lockfile,
# compiles the TypeScript (engine + server), then `pnpm deploy --prod` copies the
# server with only its production dependencies (the engine included, as a real
# copy of its package files) into /out. "runtime" starts again from the bare
# base image and takes only /out, so compilers, dev dependencies and the pnpm
# store never reach the final image.
#
# The base is Node 24 (an LTS line) on Debian 13 "trixie": the uWebSockets.js
# build for Node 22/24 (20.57) needs glibc >= 2.38, which Debian 12 lacks, and
# uWS ships glibc binaries only, so no Alpine/musl (README, "Supported
# runtimes"). BASE_IMAGE is an argument so CI, which cannot reach Docker Hub,
# can build on a local stand-in (.ci/docker-test.sh). There is deliberately no
# `# syntax=` line: it would pull an image from Docker Hub, and the legacy
# builder must keep working.
#
#   docker build -t key-value-store .
#   docker run -p 7171:7171 key-value-store
#
# Configuration is by environment variable (PORT, HOST, MAX_KEYS, MAX_BYTES, ...);
# see docs/docker.md.

ARG BASE_IMAGE=node:24-trixie-slim

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

# uWebSockets.js comes from @slabcache/uws (packages/uws), which carries two uWS
# packages with 42 native binaries between them (~230 MB). Keep only the one
# that loads on this platform and this Node; the base image is the same in both
# stages, so the runtime loads the same file. The proof that it loads comes
# first: a base where no build loads fails here, with the loader's reasons,
# instead of producing an image that cannot serve.
# `pnpm deploy` leaves hyper-express's `uWebSockets.js` (the pnpm override)
# pointing at packages/uws in the workspace, which /out lacks; it is pointed at
# the deployed copy of the package instead, and the check below proves that
# hyper-express and the server share that one module.
RUN set -eu; \
    uws_pkg="$(readlink -f /out/node_modules/@slabcache/uws)"; \
    for link in /out/node_modules/.pnpm/*/node_modules/uWebSockets.js /out/node_modules/uWebSockets.js; do \
      if [ -L "$link" ]; then ln -sfn "$(realpath --relative-to="$(dirname "$link")" "$uws_pkg")" "$link"; fi; \
    done; \
    cd /out; \
    keep="$(node -e " \
      const r = require('@slabcache/uws/build').uwsLoadResult(); \
      if (!r.loaded) { console.error(r.message); process.exit(1); } \
      console.log(r.build.file)")"; \
    find /out/node_modules/.pnpm -name 'uws_*.node' ! -path "$keep" -delete; \
    rm -rf /out/node_modules/.pnpm/@trufflesuite+uws-js-unofficial@*/node_modules/@trufflesuite/uws-js-unofficial/docs; \
    node -e " \
      const uws = require('@slabcache/uws'); \
      const { compressors } = require('hyper-express'); \
      if (compressors !== uws) { console.error('hyper-express does not use @slabcache/uws'); process.exit(1); } \
      const b = require('@slabcache/uws/build').uwsLoadResult().build; \
      console.log('uWS ' + b.build + ' (' + b.packageName + ') on Node ' + process.version + ', glibc ' + b.glibc + ': ' + b.file)"

# `docker build --target test`: the build stage with its dev dependencies, to run
# the server's test suite on exactly this Node and uWS build (CI does; see
# .ci/docker-test.sh). Nothing here runs during an ordinary build.
FROM build AS test
CMD ["pnpm", "exec", "jest", "--selectProjects", "engine", "server", "--ci"]

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
