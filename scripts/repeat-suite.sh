#!/usr/bin/env bash
# Isolation check: the whole suite, RUNS times in a row (default 20), against ONE standalone
# marketplace that is never restarted. Fails on the first red run.
#
#   scripts/repeat-suite.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}

cargo build -q -p marketplace
cargo test -q --test workflows --no-run

target_dir=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
log=$(mktemp)
"$target_dir/debug/marketplace" --port 0 >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log"' EXIT

url=""
for _ in $(seq 1 100); do
  url=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$log" | head -n 1 || true)
  [ -n "$url" ] && break
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "the marketplace did not start:" >&2
  cat "$log" >&2
  exit 1
fi
echo "marketplace at $url; running the suite $runs times"

for i in $(seq 1 "$runs"); do
  if ! out=$(WORKFLOW_BASE_URL="$url" cargo test -q --test workflows 2>&1); then
    echo "run $i of $runs failed:" >&2
    echo "$out" >&2
    exit 1
  fi
  echo "run $i: $(grep -E '^test result' <<<"$out")"
done
echo "isolation check: all $runs runs green against one marketplace"
