#!/usr/bin/env bash
# Used by scripts/proxy-interop.sh, in place of sio-fixture-server: starts the fixture server
# (with the arguments given), proxy B in front of it and proxy A in front of B, then prints
# `listening on <proxy A's URL>` as the fixture server would. SIGTERM stops all three (the
# proxies write their files). Needs PROXY_INTEROP_ROOT (the repository) and PROXY_INTEROP_OUT
# (where the proxies write their JSON Lines, HTML and logs).
set -euo pipefail
root="${PROXY_INTEROP_ROOT:?}"
out="${PROXY_INTEROP_OUT:?}"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait || true' EXIT TERM INT

# start <log> <sed expression> <command…>: runs the command with its output on a pipe, prints
# the first line the expression matches (as it rewrites it), then copies the rest to <log>.
start() {
  local log=$1 expression=$2 fifo fd line found
  shift 2
  fifo=$(mktemp -u)
  mkfifo "$fifo"
  "$@" > "$fifo" 2>&1 &
  pids+=($!)
  exec {fd}< "$fifo"
  rm -f "$fifo"
  while IFS= read -r line <&"$fd"; do
    found=$(printf '%s\n' "$line" | sed -n "$expression")
    if [ -n "$found" ]; then
      cat <&"$fd" >> "$log" &
      printf '%s\n' "$found"
      return 0
    fi
  done
  return 1
}

proxy() { # <name> <upstream>
  start "$out/$1.log" 's/^proxy listening on \(http:[^ ]*\).*/\1/p' \
    "$root/target/debug/sio-conformance" proxy --listen 127.0.0.1:0 --upstream "$2" --quiet \
    --jsonl "$out/$1.jsonl" --html "$out/$1.html"
}

# Not in $(…): the processes must be this shell's children, for the trap to stop them.
exec 3> "$out/addresses"
start "$out/fixture.log" 's/^listening on //p' "$root/target/debug/sio-fixture-server" "$@" >&3
server=$(tail -n 1 "$out/addresses")
proxy b "$server" >&3
b=$(tail -n 1 "$out/addresses")
proxy a "$b" >&3
a=$(tail -n 1 "$out/addresses")
echo "listening on $a"
wait
