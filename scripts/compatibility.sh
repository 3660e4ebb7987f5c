#!/usr/bin/env bash
# The compatibility matrix: installs every third-party target from the package registries, at
# the versions its lock file pins, then runs the whole suite against each one and against the
# reference, each against its baseline, and writes docs/compatibility.md: servers against the
# server-role cases, clients against the client-role cases.
#
#   scripts/compatibility.sh                 # everything
#   scripts/compatibility.sh --filter sio5   # extra arguments go to `sio-conformance matrix`
#
# Exit code: 0 when every target meets its baseline; 1 on a regression or an unexpected pass;
# 2 when a target could not be run or judged. Needs: the Rust toolchain, Node.js 20 with npm,
# Python 3 with venv, OpenSSL's headers (libssl-dev, for the Rust clients); the registries npm,
# PyPI and crates.io.
set -euo pipefail
cd "$(dirname "$0")/.."
adapters=runner/adapters
target_dir="$(mkdir -p "${CARGO_TARGET_DIR:-target}" && cd "${CARGO_TARGET_DIR:-target}" && pwd)"

echo "== node socket.io: npm ci"
(cd "$adapters/node-socket.io" && npm ci --no-audit --no-fund --loglevel=error)

echo "== node socket.io 4.0.2, 4.4.1, 4.6.2, 4.7.5 (the older 4.x lines, for docs/versions.md): npm ci"
for minor in 4.0 4.4 4.6 4.7; do
  (cd "$adapters/node-socket.io-$minor" && npm ci --no-audit --no-fund --loglevel=error)
done

echo "== node socket.io 2.5.1 (Engine.IO 3, Socket.IO 4): npm ci"
(cd "$adapters/node-socket.io-2" && npm ci --no-audit --no-fund --loglevel=error)

echo "== the official JavaScript clients (socket.io-client 4.8.4 and 2.5.0): npm ci"
(cd "$adapters/node-socket.io-client" && npm ci --no-audit --no-fund --loglevel=error)
(cd "$adapters/node-socket.io-client-2" && npm ci --no-audit --no-fund --loglevel=error)

echo "== python-socketio: a virtualenv, pip install --require-hashes"
(
  cd "$adapters/python-socketio"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
    --require-hashes -r requirements.txt
)

echo "== socketioxide: cargo build --release --locked (its own workspace and target folder)"
# Its own target folder even when CARGO_TARGET_DIR is set: its profile runs the binary there.
cargo build --quiet --release --locked --manifest-path "$adapters/socketioxide/Cargo.toml" \
  --target-dir "$adapters/socketioxide/target"

echo "== python-socketio's AsyncClient (the client adapter): a virtualenv, pip install --require-hashes"
(
  cd "$adapters/python-socketio-client"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
    --require-hashes -r requirements.txt
)

echo "== the Rust clients rust_socketio and socket_io_client: cargo build --release --locked"
# Each its own workspace and target folder, as socketioxide: their profiles run the binaries
# there. Both link OpenSSL (libssl-dev; .ci/run installs it when missing).
for adapter in rust-socketio-client socket-io-client-rs; do
  cargo build --quiet --release --locked --manifest-path "$adapters/$adapter/Cargo.toml" \
    --target-dir "$adapters/$adapter/target"
done

echo "== the runner and the reference fixture server"
cargo build --quiet --locked -p sio-runner -p sio-reference --bins

echo "== every target against its baseline"
"$target_dir/debug/sio-conformance" matrix --no-progress "$@"
