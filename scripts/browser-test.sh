#!/usr/bin/env bash
# The dashboard in a real headless browser: Debian's chromium driven by playwright-core.
# Starts the suite in serve mode, runs tests/browser/dashboard.mjs against it (select three
# workflows, run them, wait for completion and the statistics, check the JSON download, save
# screenshots under target/browser/), stops the server. Idempotent; run as root (CI does).
#
#   scripts/browser-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)

# Build the suite and find its test binary (the last "workflows" test artifact cargo reports).
binary=$(cargo test -q --test workflows --no-run --message-format=json |
  node -e '
    let last = "";
    require("readline").createInterface({ input: process.stdin }).on("line", (line) => {
      try {
        const m = JSON.parse(line);
        if (m.reason === "compiler-artifact" && m.target.name === "workflows" && m.profile.test && m.executable) last = m.executable;
      } catch (_) {}
    }).on("close", () => console.log(last));')
if [ -z "$binary" ]; then
  echo "browser-test: cannot find the suite's test binary" >&2
  exit 1
fi

# report.html: the test writes a fixture run's page and a 10,000-workflow one, the browser opens
# them (no console error, no request, one lane per workflow, a transcript on a click).
mkdir -p target/browser
cargo test -q --test report_html >/dev/null
node tests/browser/report.mjs target/browser

# The repository's harness.toml plus a schedule the Schedules panel must show (due only on
# 29 February, so it never runs during the test).
mkdir -p target/browser
config="$PWD/target/browser/harness.toml"
{ cat harness.toml; printf '\n[[schedule]]\nname = "leap-day"\ncron = "0 3 29 2 *"\ntimezone = "Europe/Berlin"\nworkflow_ids = ["user-profile"]\n'; } >"$config"

log=$(mktemp)
# cargo runs test binaries from the package root with CARGO_MANIFEST_DIR set; do the same so
# harness.toml and the report directory resolve as under `cargo test`.
# The marketplace adds 20 ms to each response, so the run lasts long enough to be seen live.
WORKFLOW_SERVER_LATENCY_MS=${WORKFLOW_SERVER_LATENCY_MS:-20} CARGO_MANIFEST_DIR=$PWD \
  WORKFLOW_CONFIG="$config" WORKFLOW_REPORT_DIR="$PWD/target/workflow-reports" \
  "$binary" --serve 127.0.0.1:0 >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -f "$log"' EXIT

url=""
for _ in $(seq 1 300); do
  url=$(grep -oE 'on http://127\.0\.0\.1:[0-9]+' "$log" | head -n 1 | cut -d' ' -f2 || true)
  [ -n "$url" ] && break
  if ! kill -0 "$server" 2>/dev/null; then break; fi
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "browser-test: the server did not start:" >&2
  cat "$log" >&2
  exit 1
fi
echo "browser-test: dashboard at $url"

mkdir -p target/browser
DASHBOARD_URL="$url" node tests/browser/dashboard.mjs target/browser
