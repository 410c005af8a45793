#!/usr/bin/env bash
# ci-smoke.sh: a short smoke of every load driver in this package, so the
# tooling never rots. Each driver runs for a few seconds on tiny pools against
# servers on 127.0.0.1 in this package's port ranges; the whole script takes
# about a minute and a half on 2 shared cores.
#
# It installs nothing. It expects what .ci/run sets up first:
#   apt-get install -y wrk python3-locust redis-server
#   pnpm install && pnpm run build      (our server runs from packages/server/dist)
#
# Every check prints "ok - NAME" or "FAIL - NAME" (with the tail of its log),
# and the last line is "N passed, N failed". Exit status 1 if any check failed.
# The numbers a smoke prints are not benchmarks.

set -uo pipefail
cd "$(dirname "$0")"

WORK=$(mktemp -d -t loadtest-smoke-XXXXXX)
PASSED=0
FAILED=0
EXTRA_PID=
cleanup() {
  if [ -n "$EXTRA_PID" ]; then kill "$EXTRA_PID" 2>/dev/null; wait "$EXTRA_PID" 2>/dev/null; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

TSX=(node --import tsx)

# check NAME COMMAND...: runs COMMAND (bounded by `timeout`), logs to a file.
check() {
  local name=$1
  shift
  local log="$WORK/$(echo "$name" | tr -c 'a-zA-Z0-9' '_').log"
  timeout 120 "$@" >"$log" 2>&1
  local status=$?
  if [ "$status" -eq 0 ]; then
    PASSED=$((PASSED + 1))
    echo "ok - $name"
  else
    FAILED=$((FAILED + 1))
    echo "FAIL - $name (exit $status); last lines of its output:"
    tail -n 25 "$log" | sed 's/^/    /'
  fi
}

# check_json NAME FILE JS: FILE parses and the JS expression over `d` is true.
check_json() {
  check "$1" node -e '
    const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const ok = (0, eval)("(d) => " + process.argv[2])(d);
    if (!ok) { console.error(JSON.stringify(d, null, 1).slice(0, 3000)); process.exit(1); }' "$2" "$3"
}

check "prerequisites: wrk, locust, redis, built server" bash -c '
  command -v wrk && command -v redis-server && command -v redis-benchmark && command -v redis-cli &&
  /usr/bin/python3 -c "import locust" && test -f ../server/dist/cli.js'

# 1. wrk driver on our server: preload, GET / PUT / mix, RSS before and after.
check "wrk driver (ours): preload 2000 keys, get/put/mix 2 s each" \
  "${TSX[@]}" src/cli/wrk.ts --server ours --keys 2000 --duration 2 --max-keys 5000 --json "$WORK/wrk-ours.json"
check_json "wrk driver (ours): 3 routes, requests, no failures" "$WORK/wrk-ours.json" \
  'd.results.length === 3 && d.results.every(r => r.wrk.requests > 0 && r.wrk.statusOther === 0 && r.before.rssKiB > 0 && r.after.hwmKiB > 0)'

# 2. The same driver on the baseline peer, with a pool larger than the cache: 404s are misses, not failures.
check "wrk driver (baseline): pool larger than MAX_KEYS, misses counted apart" \
  "${TSX[@]}" src/cli/wrk.ts --server baseline --keys 3000 --max-keys 1000 --routes get --duration 2 --json "$WORK/wrk-baseline.json"
check_json "wrk driver (baseline): 404s present, no failures" "$WORK/wrk-baseline.json" \
  'd.results[0].wrk.status404 > 0 && d.results[0].wrk.status2xx > 0 && d.results[0].wrk.statusOther === 0'

# 3. Locust, headless and bounded, on a server it starts itself.
check "locust: 4 s headless run with preload, CSV + HTML reports" \
  "${TSX[@]}" src/cli/load.ts --time 4s --users 10 --spawn-rate 10 --pool 2000 --out-dir "$WORK/locust" --name smoke
check "locust: reports written" bash -c "test -s '$WORK/locust/smoke.html' && test -s '$WORK/locust/smoke_stats.csv' && test -s '$WORK/locust/smoke_summary.json'"

# 4. Locust must fail the run on a failure other than 404: our server with a
#    50-byte value limit answers 413 to every 100-byte PUT.
PORT=$("${TSX[@]}" -e "import('./src/ports.ts').then(async (m) => console.log(await m.findFreePort([18280, 18299])))")
PORT=$PORT HOST=127.0.0.1 MAX_VALUE_BYTES=50 LOG_LEVEL=warn node ../server/dist/cli.js >"$WORK/strict-server.log" 2>&1 &
EXTRA_PID=$!
for _ in $(seq 50); do
  node -e "fetch('http://127.0.0.1:$PORT/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))" && break
  sleep 0.2
done
check "locust: a run with failed PUTs exits non-zero and says why" bash -c "
  ${TSX[*]} src/cli/load.ts --host http://127.0.0.1:$PORT --time 2s --users 2 --pool 50 --out-dir '$WORK/locust' --name strict >'$WORK/strict.out' 2>&1
  status=\$?; cat '$WORK/strict.out'
  [ \$status -eq 1 ] && grep -q 'FAILED: .* failed requests' '$WORK/strict.out' && grep -q 'answered 413' '$WORK/strict.out'"
kill "$EXTRA_PID" 2>/dev/null; wait "$EXTRA_PID" 2>/dev/null; EXTRA_PID=

# 5. The one-command report, smoke preset: microbenchmarks, redis reference,
#    our server against the baseline in alternating rounds, Markdown + SVG.
check "report (smoke preset): micro + redis + comparison + rendering" \
  "${TSX[@]}" src/cli/report.ts --preset smoke --out-dir "$WORK/report"
check_json "report: both servers on every route, redis GET/SET, micro phases" "$WORK/report/results/latest.json" \
  '["ours","baseline"].every(s => ["get","put","mix"].every(r => d.http.runs.some(x => x.server === s && x.route === r && x.requestsPerSecond > 0 && x.statusOther === 0))) &&
   d.redis[0].tests.map(t => t.test).sort().join() === "GET,SET" && d.micro.results.length === 12 && d.machine.cores > 0'
# The check above kept the report's output in its log: each phase announced, and the end.
REPORT_LOG="$WORK/$(echo "report (smoke preset): micro + redis + comparison + rendering" | tr -c 'a-zA-Z0-9' '_').log"
check "report: progress (phases 1/3 to 3/3 announced, finish time)" bash -c "
  grep -q '^== phase 1/3: microbenchmarks (report running ' '$REPORT_LOG' &&
  grep -q '^== phase 2/3: redis reference (report running ' '$REPORT_LOG' &&
  grep -q '^== phase 3/3: HTTP comparison (report running ' '$REPORT_LOG' &&
  grep -q '^report finished in ' '$REPORT_LOG'"
check "report: latest.md and three SVG charts" bash -c "
  grep -q '## Headline' '$WORK/report/latest.md' &&
  for f in requests-per-second p99-latency memory; do grep -q '</svg>' \"$WORK/report/\$f.svg\" || exit 1; done"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
