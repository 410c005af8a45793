# Sourced by .ci/docker-test.sh once the project image is built: runs
# deploy/docker-compose.yml for real, as docs/cluster.md tells a user to, and
# checks what the three nodes behind the HAProxy router promise.
#
# Where it runs. The CI dockerd has no container network (all its traffic stays
# on loopback), but compose needs one: the router reaches node1..node3 through
# Docker's DNS on a bridge. So a second dockerd runs inside a network namespace
# this script creates: its bridge, its containers' addresses and the router's
# published port 7171 exist only there, and every request below is sent from
# inside it (to 127.0.0.1 or to a container of that namespace). Only the
# namespace's dockerd is entered into it (nsenter --net, not `ip netns exec`,
# which remounts /sys and would hide the cgroups dockerd needs).
#
# What it runs: Debian's docker-compose (1.29, the Compose file without the v2-only
# top-level `name`, so the same file serves `docker compose`), the project image
# as `key-value-store` and the router image from deploy/docker/router.Dockerfile,
# both built by the CI dockerd on the local Debian 13 base (HAProxy 3.0 there;
# the router's default base is Debian 12's 2.6, which the cluster tests run) and
# copied into the namespace's dockerd with docker save / docker load.
#
# Uses from docker-test.sh: pass, fail, info, show_tail, now, seconds_since,
# is_running, interruptible, await_dockerd, stop_dockerd, WORK, REPO_DIR, IMAGE,
# BASE_IMAGE.

COMPOSE_NETNS=
COMPOSE_DOCKERD_PID=
COMPOSE_DOCKER_HOST= # the namespace's dockerd, set when it starts
COMPOSE_PROJECT=slabcache
COMPOSE_NODES=(node1 node2 node3)
# A stand-in for a container that takes a freed address (see the recreate check).
COMPOSE_SQUATTER=slabcache-ci-squatter

# In the namespace: its dockerd and every client request.
in_netns() { nsenter --net="/run/netns/$COMPOSE_NETNS" "$@"; }
compose_docker() { DOCKER_HOST="$COMPOSE_DOCKER_HOST" docker "$@"; }
compose() {
  DOCKER_HOST="$COMPOSE_DOCKER_HOST" docker-compose --ansi never -p "$COMPOSE_PROJECT" -f "$REPO_DIR/deploy/docker-compose.yml" "$@"
}

# Called by docker-test.sh's cleanup, before its own dockerd stops.
compose_cleanup() {
  if [ -n "$COMPOSE_DOCKERD_PID" ] && is_running "$COMPOSE_DOCKERD_PID"; then
    compose_docker ps -aq 2>/dev/null | xargs -r env DOCKER_HOST="$COMPOSE_DOCKER_HOST" docker rm -f >/dev/null 2>&1 || true
  fi
  stop_dockerd "$COMPOSE_DOCKERD_PID"
  COMPOSE_DOCKERD_PID=
  if [ -n "$COMPOSE_NETNS" ]; then ip netns delete "$COMPOSE_NETNS" 2>/dev/null || true; fi
  COMPOSE_NETNS=
}

start_compose_dockerd() {
  COMPOSE_NETNS="slabcache-ci-compose-$$"
  COMPOSE_DOCKER_HOST="unix://$WORK/compose.sock"
  ip netns add "$COMPOSE_NETNS" || return 1
  in_netns ip link set lo up || return 1
  # Not through in_netns: `&` on a function forks a subshell, and $! would be its PID, not
  # dockerd's (nsenter execs dockerd, so here $! is dockerd).
  nsenter --net="/run/netns/$COMPOSE_NETNS" dockerd --host "$COMPOSE_DOCKER_HOST" --data-root "$WORK/compose-data" \
    --exec-root "$WORK/compose-exec" --pidfile "$WORK/compose-dockerd.pid" \
    >"$WORK/compose-dockerd.log" 2>&1 &
  COMPOSE_DOCKERD_PID=$!
  await_dockerd "$COMPOSE_DOCKERD_PID" "$COMPOSE_DOCKER_HOST"
}

# Polls (every 0.5 s, at most $1 s) until the command in "${@:2}" succeeds; the
# bound only ends a wait that failed, it decides nothing by itself.
wait_for() {
  local limit="$1" t
  shift
  t="$(now)"
  until "$@"; do
    [ "$(seconds_since "$t" | cut -d. -f1)" -ge "$limit" ] && return 1
    sleep 0.5
  done
}

router_log() { compose logs --no-color router 2>&1; }
# The router's own view of its nodes, one line each: "name status last-check"
# (e.g. "node1 UP L7OK"), from HAProxy's runtime API: `show stat` on the stats
# socket its configuration opens, asked inside the router container with perl,
# which every Debian image has (perl-base; the image has no socat). The CSV's
# columns are found by their names in its header line.
router_node_states() {
  compose exec -T router perl -MIO::Socket::UNIX -e '
      my $api = IO::Socket::UNIX->new(Peer => $ENV{SLABCACHE_ADMIN_SOCKET}) or die "runtime API: $!\n";
      print $api "show stat\n";
      print while <$api>;' 2>/dev/null |
    awk -F, 'NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) col[$i] = i; next }
             $1 == "nodes" && $2 != "BACKEND" { print $2, $col["status"], $col["check_status"] }'
}
# The router logged node $1's address change from $2 to $3 and now has it UP
# with a passed check (at the old address, where nothing listens, it was DOWN).
router_followed() {
  [[ "$(router_log)" == *"nodes/$1: IP changed from '$2' to '$3'"* ]] && router_node_states | grep -qx "$1 UP L7OK"
}
# Every node is UP in the router and its last health check passed. Not "the log
# said UP": HAProxy starts a server UP and logs only changes, so a node that
# already answered the router's first check is never logged coming UP.
all_nodes_up() { [ "$(router_node_states | awk '$2 == "UP" && $3 == "L7OK"' | wc -l)" = "${#COMPOSE_NODES[@]}" ]; }
container_ip() { compose_docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1"; }
container_of() { compose ps -q "$1"; }

# curl from inside the namespace; prints the status code, then the body.
netns_curl() { in_netns curl -sS --max-time 5 -w '\n%{http_code}' "$@" 2>&1; }

# Puts keys $2..$3 through the router with the token $1, then reads them back;
# prints nothing and succeeds only if every put answered {"ok":true} and every
# get the value put, else prints the first failure.
put_and_get_through_router() {
  local token="$1" from="$2" to="$3" i out
  for ((i = from; i < to; i++)); do
    out="$(netns_curl -X POST http://127.0.0.1:7171/put -H "Authorization: Bearer $token" \
      -H 'Content-Type: application/json' -d "{\"key\":\"k$i\",\"value\":\"v$i\"}")"
    [ "$out" = $'{"ok":true}\n200' ] || { echo "put k$i -> $out"; return 1; }
  done
  for ((i = from; i < to; i++)); do
    out="$(netns_curl -H "Authorization: Bearer $token" "http://127.0.0.1:7171/get?key=k$i")"
    [ "$out" = "{\"key\":\"k$i\",\"value\":\"v$i\"}"$'\n200' ] || { echo "get k$i -> $out"; return 1; }
  done
}

# The keys each node holds (curr_items of its /stats), asked at its container's address.
items_on() {
  local token="$1" node="$2"
  in_netns curl -sS --max-time 5 -H "Authorization: Bearer $token" "http://$(container_ip "$(container_of "$node")"):7171/stats" \
    | node -e 'let s = ""; process.stdin.on("data", (c) => (s += c)).on("end", () => console.log(JSON.parse(s).engine.curr_items))'
}

compose_checks() {
  local t token out old_ip new_ip counts total empty n items fresh summary
  t="$(now)"
  if ! interruptible timeout 300 docker build --network host --force-rm --build-arg BASE_IMAGE="$BASE_IMAGE" \
       -f "$REPO_DIR/deploy/docker/router.Dockerfile" -t slabcache-router "$REPO_DIR" >"$WORK/router-build.log" 2>&1; then
    fail "compose: build the router image"; show_tail "$WORK/router-build.log"; return
  fi
  if ! docker tag "$IMAGE" key-value-store; then fail "compose: tag $IMAGE as key-value-store"; return; fi
  if ! start_compose_dockerd; then
    fail "compose: start a dockerd in network namespace $COMPOSE_NETNS"; show_tail "$WORK/compose-dockerd.log"; return
  fi
  if ! docker save key-value-store slabcache-router | compose_docker load >"$WORK/compose-load.log" 2>&1; then
    fail "compose: copy the images into the namespace's dockerd"; show_tail "$WORK/compose-load.log"; return
  fi
  info "compose: router image built ($(docker run --rm --network none slabcache-router haproxy -v | awk 'NR == 1 { print $1, $2, $3 }')), dockerd in netns $COMPOSE_NETNS, images copied in $(seconds_since "$t") s"

  # The file refuses to start the nodes without a token: behind the router they would refuse everything.
  if out="$(unset SLABCACHE_AUTH_TOKEN; compose config -q 2>&1)"; then
    fail "compose: config without SLABCACHE_AUTH_TOKEN was accepted"
  elif [[ "$out" == *"set SLABCACHE_AUTH_TOKEN to a secret"* ]]; then
    pass "compose: without SLABCACHE_AUTH_TOKEN it refuses to start: ...$(grep -o 'set SLABCACHE_AUTH_TOKEN to a secret ([^)]*)' <<<"$out" | head -n 1)"
  else
    fail "compose: config without SLABCACHE_AUTH_TOKEN failed for another reason: $out"
  fi

  token="$(openssl rand -hex 32)"
  export SLABCACHE_AUTH_TOKEN="$token"
  t="$(now)"
  if ! compose up -d --no-build >"$WORK/compose-up.log" 2>&1; then
    fail "compose up"; show_tail "$WORK/compose-up.log"; return
  fi
  # The event that says the router serves: its runtime API has every node UP, each with a passed check.
  if ! wait_for 90 all_nodes_up; then
    fail "compose up: the router did not have all three nodes UP within 90 s: $(router_node_states | paste -sd ';')"
    router_log >"$WORK/router.log"; show_tail "$WORK/router.log"; return
  fi
  pass "compose up: 3 nodes and the router, which has every node UP with a passed check (its runtime API) after $(seconds_since "$t") s"

  if out="$(put_and_get_through_router "$token" 0 300)"; then
    counts=() total=0 empty=0
    for n in "${COMPOSE_NODES[@]}"; do
      items="$(items_on "$token" "$n")" || items=0
      counts+=("$n $items"); total=$((total + items))
      [ "$items" -gt 0 ] || empty=1
    done
    summary="$(IFS=,; echo "${counts[*]}")"
    if [ "$total" = 300 ] && [ "$empty" = 0 ]; then
      pass "compose: 300 puts and gets through the router on 127.0.0.1:7171, spread over the nodes ($summary)"
    else
      fail "compose: 300 keys through the router, but the nodes hold: $summary (total $total)"
    fi
  else
    fail "compose: through the router: $out"
  fi
  out="$(netns_curl "http://127.0.0.1:7171/get?key=k1")"
  if [ "${out##*$'\n'}" = 401 ]; then
    pass "compose: a request without the token, through the router -> 401"
  else
    fail "compose: a request without the token, through the router -> $out"
  fi

  # A recreated node comes back at a new address (another container took its old one),
  # and the router follows it through Docker's DNS, as docs/cluster.md says.
  t="$(now)"
  old_ip="$(container_ip "$(container_of node2)")" || old_ip=
  # Docker hands out the lowest free address: the squatter, started first, takes node2's.
  { compose rm -s -f node2 \
      && compose_docker run -d --name "$COMPOSE_SQUATTER" --network "${COMPOSE_PROJECT}_default" --entrypoint sleep key-value-store 600 \
      && compose up -d --no-build --no-deps node2; } >"$WORK/compose-recreate.log" 2>&1 || true
  new_ip="$(container_ip "$(container_of node2)" 2>/dev/null || true)"
  if [ -z "$new_ip" ] || [ "$new_ip" = "$old_ip" ]; then
    fail "compose: recreate node2 at a new address: it has '$new_ip' (old $old_ip)"; show_tail "$WORK/compose-recreate.log"
  elif ! wait_for 120 router_followed node2 "$old_ip" "$new_ip"; then
    fail "compose: the router did not follow node2 from $old_ip to $new_ip within 120 s"
    router_log >"$WORK/router.log"; show_tail "$WORK/router.log"
  elif fresh="$(items_on "$token" node2)" && [ "$fresh" != 0 ]; then
    fail "compose: the recreated node2 should start empty (no snapshot), but holds '$fresh' keys"
  elif ! out="$(put_and_get_through_router "$token" 300 600)"; then
    fail "compose: after node2's recreation: $out"
  elif items="$(items_on "$token" node2)" && [ "$items" -gt 0 ] 2>/dev/null; then
    pass "compose: node2 recreated at $new_ip (its old $old_ip taken); the router followed through Docker's DNS after $(seconds_since "$t") s, and of 300 more keys put through it the new node2 (empty before) holds $items"
  else
    fail "compose: after node2's recreation the new node2 holds '$items' of 300 new keys"
  fi
  compose_docker rm -f "$COMPOSE_SQUATTER" >/dev/null 2>&1 || true

  t="$(now)"
  if compose down >"$WORK/compose-down.log" 2>&1 && [ -z "$(compose_docker ps -aq)" ]; then
    pass "compose down: exit 0 after $(seconds_since "$t") s, no container left"
  else
    fail "compose down"; show_tail "$WORK/compose-down.log"
  fi
  unset SLABCACHE_AUTH_TOKEN
  compose_cleanup
}
