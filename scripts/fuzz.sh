#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ in turn, for the given seconds each (default 60), and prints
# per target its executions, executions per second and crashes; exits non-zero when any target
# crashed (a panic, a hang past the per-input timeout, or running out of memory). The corpora
# are seeded from the vectors first (fuzz/seed.sh) and grow under fuzz/corpus/; crashing
# inputs land in fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh [seconds-per-target]
#
# Environment: FUZZ_RUNS=N runs each target for N executions instead (no time limit);
# FUZZ_TARGETS="a b" runs only those; FUZZ_SANITIZER (default none) is cargo-fuzz's
# --sanitizer: the crates forbid unsafe code, so a panic is what there is to find, and without
# AddressSanitizer the targets build faster and run several times faster; FUZZ_JOBS (default 1)
# runs that many targets at once.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-60}"
sanitizer="${FUZZ_SANITIZER:-none}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2
  exit 2
fi
targets="${FUZZ_TARGETS:-$(cargo fuzz list)}"
./seed.sh >/dev/null
cargo +nightly fuzz build --sanitizer "$sanitizer" >/dev/null

limit=(-max_total_time="$seconds")
if [ -n "${FUZZ_RUNS:-}" ]; then
  limit=(-runs="$FUZZ_RUNS")
fi
logs="$(mktemp -d)"
run_target() {
  local target="$1" log="$logs/$1.log" status=0
  mkdir -p "artifacts/$target"
  local before
  before="$(ls "artifacts/$target" | wc -l)"
  cargo +nightly fuzz run --sanitizer "$sanitizer" "$target" -- "${limit[@]}" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1 || status=$?
  local executions rate after
  executions="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  after="$(ls "artifacts/$target" | wc -l)"
  printf '%-18s executions %-10s exec/s %-8s crashes %s\n' \
    "$target" "${executions:-?}" "${rate:-?}" "$((after - before))"
  if [ "$status" -ne 0 ]; then
    grep -E "panicked at|ERROR: libFuzzer|Test unit written" "$log" | head -5 | sed 's/^/    /'
    return 1
  fi
}

failed=0
jobs="${FUZZ_JOBS:-1}"
for target in $targets; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
    wait -n || failed=1
  done
  run_target "$target" &
done
while [ "$(jobs -rp | wc -l)" -gt 0 ]; do
  wait -n || failed=1
done
rm -rf "$logs"
exit "$failed"
