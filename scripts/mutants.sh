#!/usr/bin/env bash
# Mutation testing of the reference server, with the scenario replay as the only oracle: each
# mutant of reference/src/server/ is judged by `cargo test -p sio-runner --test scenarios`
# (every server case against the reference fixture, in-process; settings in
# .cargo/mutants.toml). A mutant the replay does not catch is a behaviour the suite cannot see,
# or dead code. Prints the counts and the kill rate: caught / (caught + missed), timeouts counted
# as caught, unviable mutants (that do not build) left out.
#
#   scripts/mutants.sh                      # every mutant of reference/src/server/
#   scripts/mutants.sh 'reference/src/server/engine_io/cors.rs'   # only these files (globs)
#   scripts/mutants.sh --list [globs…]      # list the mutants, run nothing
#
# Environment: MUTANTS_SHARD=k/n runs shard k (0-based) of n, mutant i going to shard i % n:
# a round-robin sample, for a machine where the whole run is too long (about 15 s a mutant
# on 2 cores, 500-odd mutants); MUTANTS_JOBS (default 1) builds and tests that many mutants
# at once; MUTANTS_TIMEOUT (default 90) is the seconds a replay may take before the mutant
# counts as a timeout; MUTANTS_OUT (default target/mutants) holds mutants.out/ (caught.txt,
# missed.txt, timeout.txt, unviable.txt, outcomes.json, a log per mutant).
#
# reference/src/fixture.rs is left out: it is the test's setup (which handlers and options the
# fixture serves), not the server, and a mutant there changes what is tested rather than how
# the server behaves.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo mutants --version >/dev/null 2>&1; then
  echo "installing cargo-mutants" >&2
  cargo install cargo-mutants --locked
fi

list=false
if [ "${1:-}" = "--list" ]; then
  list=true
  shift
fi
globs=("$@")
if [ "${#globs[@]}" -eq 0 ]; then
  globs=('reference/src/server/**/*.rs')
fi
files=()
for glob in "${globs[@]}"; do
  files+=(-f "$glob")
done
shard=()
if [ -n "${MUTANTS_SHARD:-}" ]; then
  shard=(--shard "$MUTANTS_SHARD" --sharding round-robin)
fi

if $list; then
  exec cargo mutants --list -p sio-reference "${files[@]}" "${shard[@]}"
fi

# The baseline: the unmutated tree must pass the replay. cargo-mutants' own baseline would test
# the mutated package (sio-reference) instead of test_package, so it is skipped below.
cargo test -q -p sio-runner --test scenarios >/dev/null

out="${MUTANTS_OUT:-target/mutants}"
mkdir -p "$out"
# cargo-mutants exits non-zero when a mutant is missed; the summary below says so instead.
status=0
cargo mutants -p sio-reference "${files[@]}" "${shard[@]}" \
  --baseline skip --jobs "${MUTANTS_JOBS:-1}" --timeout "${MUTANTS_TIMEOUT:-90}" --build-timeout 900 \
  --output "$out" || status=$?

python3 - "$out/mutants.out/outcomes.json" <<'PY'
import json, sys
outcomes = json.load(open(sys.argv[1]))
caught, missed = outcomes["caught"], outcomes["missed"]
timeout, unviable = outcomes["timeout"], outcomes["unviable"]
killed = caught + timeout
viable = killed + missed
print(f"mutants: {outcomes['total_mutants']} (caught {caught}, timeout {timeout}, "
      f"missed {missed}, unviable {unviable})")
if viable:
    print(f"kill rate: {killed}/{viable} = {100 * killed / viable:.1f} % of viable mutants")
PY
# 0: nothing missed; 2: some missed (cargo-mutants' code); anything else: the run failed.
case "$status" in
  0 | 2 | 3) exit "$status" ;;
  *) echo "cargo mutants failed (exit $status)" >&2; exit "$status" ;;
esac
