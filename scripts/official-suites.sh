#!/usr/bin/env bash
# Runs the official protocol test suites (the `test-suite/` folders of the engine.io-protocol
# and socket.io-protocol repositories, mocha, hard-coded to http://localhost:3000) against the
# reference fixture server, several times, and prints each run's passing and failing counts and
# the names of the tests that failed.
#
#   scripts/official-suites.sh [--runs N] [--keep-messages] ENGINE_IO_PROTOCOL SOCKET_IO_PROTOCOL
#
# ENGINE_IO_PROTOCOL and SOCKET_IO_PROTOCOL are checkouts of the two repositories
# (git clone https://github.com/socketio/engine.io-protocol, …/socket.io-protocol); either may
# be `-` to skip that suite. Their test suites are copied to a temporary folder and installed
# there with `npm ci`; the checkouts are not touched. Port 3000 must be free.
#
# --keep-messages preloads scripts/official-suites/keep-messages.mjs into the socket.io-protocol
# suite, which sets aside that suite's own listener race (two frames in one TCP read: the second
# is emitted before the test listens for it); see that file. The engine.io-protocol suite always
# runs as published: it has no such race, and some of its tests need a message that comes while
# nothing listens to be lost. Without the flag, both suites run exactly as published.
#
# Not part of CI: the suites live on GitHub, which CI cannot reach.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

runs=5
keep_messages=
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --keep-messages) keep_messages=1; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
if [ $# -ne 2 ]; then
  echo "usage: $0 [--runs N] [--keep-messages] ENGINE_IO_PROTOCOL SOCKET_IO_PROTOCOL" >&2
  exit 2
fi

work="$(mktemp -d)"
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== building the fixture server (release)"
cargo build --quiet --release -p sio-reference --bin sio-fixture-server
fixture="${CARGO_TARGET_DIR:-target}/release/sio-fixture-server"

install_suite() {
  local name="$1" checkout="$2"
  if [ ! -f "$checkout/test-suite/test-suite.js" ]; then
    echo "$checkout has no test-suite/test-suite.js" >&2
    exit 2
  fi
  cp -r "$checkout/test-suite" "$work/$name"
  (cd "$work/$name" && npm ci --no-audit --no-fund --loglevel=error)
}

suites=()
[ "$1" != "-" ] && install_suite engine.io-protocol "$1" && suites+=(engine.io-protocol)
[ "$2" != "-" ] && install_suite socket.io-protocol "$2" && suites+=(socket.io-protocol)

echo "== starting the fixture server on 127.0.0.1:3000"
"$fixture" --port 3000 > "$work/server.out" 2> "$work/server.err" &
server_pid=$!
for _ in $(seq 1 100); do
  grep -q "listening on" "$work/server.out" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.err" >&2; exit 1; }
  sleep 0.1
done
grep -q "listening on" "$work/server.out" || { echo "the fixture server did not start" >&2; exit 1; }

# The preload imports `ws`, which resolves from the suite's own node_modules: a copy of it sits
# in the suite's folder.
if [ -n "$keep_messages" ]; then
  cp "$root/scripts/official-suites/keep-messages.mjs" "$work/socket.io-protocol/" 2>/dev/null || true
fi

failed_runs=0
for suite in "${suites[@]}"; do
  node_options=
  if [ -n "$keep_messages" ] && [ "$suite" = socket.io-protocol ]; then
    node_options="--import=./keep-messages.mjs"
  fi
  for run in $(seq 1 "$runs"); do
    report="$work/$suite-$run.json"
    (cd "$work/$suite" && NODE_OPTIONS="$node_options" npx mocha --reporter json test-suite.js > "$report" 2> "$report.err") || true
    if ! [ -s "$report" ]; then
      echo "$suite run $run/$runs: mocha wrote no report:" >&2
      tail -20 "$report.err" >&2
      exit 1
    fi
    summary="$(node -e '
      const report = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const failed = report.failures.map((test) => test.fullTitle);
      console.log(`${report.stats.passes} passing, ${report.stats.failures} failing` +
        (failed.length ? ": " + failed.join(" | ") : ""));
      process.exit(report.stats.failures ? 1 : 0);
    ' "$report")" || failed_runs=$((failed_runs + 1))
    echo "$suite run $run/$runs: $summary"
  done
done
echo "== $failed_runs of $(( ${#suites[@]} * runs )) runs had a failing test"
[ "$failed_runs" -eq 0 ]
