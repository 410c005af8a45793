#!/usr/bin/env bash
# Runs the whole test suite (`pnpm test`) several times in a row while
# stress-ng keeps both cores busy, so that a verdict that depends on how fast
# the machine is shows up as a failure here rather than on a newcomer's first
# run. Each run's jest summary goes to a log; the last line is
# "N passed, N failed" counting runs.
#
#   scripts/test-under-load.sh [RUNS=5] [extra jest arguments...]
#
# Needs stress-ng (apt-get install -y stress-ng). The hog is started in its own
# process group and stopped by that group's id when the script ends, however it ends.
set -uo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
shift || true
command -v stress-ng >/dev/null || { echo "stress-ng is not installed (apt-get install -y stress-ng)" >&2; exit 2; }
logs="$(mktemp -d /tmp/test-under-load.XXXXXX)"
# Bounded: the hog stops by itself after 4 hours even if this script is killed.
setsid stress-ng --cpu 2 --timeout 4h --quiet &
hog=$!
trap 'kill -- -"$hog" 2>/dev/null; wait "$hog" 2>/dev/null' EXIT
passed=0
failed=0
for run in $(seq "$runs"); do
  start=$(date +%s)
  if pnpm run test "$@" >"$logs/run-$run.log" 2>&1; then
    passed=$((passed + 1)); verdict=PASS
  else
    failed=$((failed + 1)); verdict=FAIL
  fi
  summary=$(grep -E '^Tests:' "$logs/run-$run.log" | tail -n 1)
  echo "run $run/$runs: $verdict in $(( $(date +%s) - start )) s — ${summary:-no jest summary} (log: $logs/run-$run.log)"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
