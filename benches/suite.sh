#!/usr/bin/env bash
# Parallel efficiency of the real suite: the 20 marketplace workflows, the embedded marketplace
# adding 20 ms to every response. Prints the wall time of the parallel run, of a
# `--test-threads 1` run, of the slowest workflow alone, and the ratios. Each figure is the
# engine's `totalDuration` from report.json, best of 3.
#
#   benches/suite.sh [LATENCY_MS]
set -euo pipefail
cd "$(dirname "$0")/.."
latency=${1:-20}
out=target/bench-suite
export WORKFLOW_SERVER_LATENCY_MS=$latency WORKFLOW_REPORT_DIR=$out
cargo test -q --release --test workflows --no-run 2>/dev/null

total() { python3 -c "import json,sys; print(json.load(open('$out/report.json'))['totalDuration'])"; }
best() { # best of 3 totalDuration for the given libtest arguments
  local best=""
  for _ in 1 2 3; do
    cargo test -q --release --test workflows -- "$@" >/dev/null 2>&1 || { echo "run failed: $*" >&2; exit 1; }
    local t; t=$(total)
    if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
  done
  echo "$best"
}

parallel=$(best)
sequential=$(best --test-threads 1)
ids=$(cargo test -q --release --test workflows -- --list 2>/dev/null | sed -n 's/: test$//p')
slowest=0; slowest_id=""
for id in $ids; do
  t=$(best --exact "$id")
  if [ "$t" -gt "$slowest" ]; then slowest=$t; slowest_id=$id; fi
done

python3 - "$latency" "$parallel" "$sequential" "$slowest" "$slowest_id" <<'PY'
import sys
latency, par, seq, slow, slow_id = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
print(f"20 workflows, {latency} ms latency per response (best of 3)")
print(f"  parallel run            {par:6d} ms")
print(f"  --test-threads 1 run    {seq:6d} ms")
print(f"  slowest alone           {slow:6d} ms  ({slow_id})")
print(f"  parallel / slowest      {par / slow:6.2f}   (1.00 is ideal)")
print(f"  sequential / parallel   {seq / par:6.2f}x  speed-up")
PY
