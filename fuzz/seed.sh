#!/usr/bin/env bash
# Writes the seed corpus of every fuzz target (fuzz/corpus/<target>/seed-*) from the protocol
# vectors. The writer builds on stable, in the workspace's target directory, where its
# dependencies (those of sio-suite) are usually built already.
set -euo pipefail
cd "$(dirname "$0")"
root="$(cd .. && pwd)"
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}" \
  cargo run --quiet --manifest-path seed/Cargo.toml -- "$@"
