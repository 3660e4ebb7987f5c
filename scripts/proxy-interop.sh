#!/usr/bin/env bash
# The official Node.js clients' interop battery (reference/interop) with the decoding proxy in
# between: client → proxy A → proxy B → sio-fixture-server.
#
# The battery must pass as it does without the proxy. Proxy B sees exactly what proxy A sent
# on, so comparing what each of them saw (every HTTP request line and body, response status
# and body, WebSocket data frame, each direction, and the end-to-end request headers) tells
# whether A changed a byte. Close frames are counted, not compared: each hop's WebSocket
# library answers a close frame itself. The script prints the
# battery's result, the violations each proxy flagged, and the comparison; it exits non-zero
# when the battery fails or B saw anything A did not carry (a changed byte).
#
#   scripts/proxy-interop.sh               # builds what it needs (debug), npm ci if needed
#   PROXY_INTEROP_OUT=dir scripts/proxy-interop.sh   # keeps the JSON Lines and HTML there
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="${PROXY_INTEROP_OUT:-$(mktemp -d)}"
mkdir -p "$out"

cargo build --quiet -p sio-reference --bin sio-fixture-server
cargo build --quiet -p sio-runner --bin sio-conformance
if [ ! -d "$root/reference/interop/node_modules" ]; then
  (cd "$root/reference/interop" && npm ci --no-audit --no-fund)
fi

# The battery starts "the fixture server" itself (SIO_FIXTURE_SERVER) and reads its
# `listening on URL` line: proxy-interop-server.sh starts the real one behind the two proxies.
set +e
(cd "$root/reference/interop" && PROXY_INTEROP_ROOT="$root" PROXY_INTEROP_OUT="$out" \
  SIO_FIXTURE_SERVER="$root/scripts/proxy-interop-server.sh" node --test 2>&1) > "$out/battery.txt"
battery=$?
set -e
grep -E '^# (tests|pass|fail)' "$out/battery.txt" || tail -20 "$out/battery.txt"

set +e
# What each proxy saw, as sorted lists: bodies and frames by direction, request headers by
# name (hop-by-hop ones left out: A does not forward them, by design).
node - "$out/a.jsonl" "$out/b.jsonl" <<'EOF'
const fs = require("fs");
const hop = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer",
  "transfer-encoding", "upgrade", "sec-websocket-key", "sec-websocket-accept",
  "sec-websocket-version", "sec-websocket-extensions", "host", "content-length"]);
function seen(file) {
  const items = [];
  const violations = {};
  const closes = {};
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (!line) continue;
    const e = JSON.parse(line);
    const data = (d) => (d.text !== undefined ? "t:" + d.text : "b:" + d.base64);
    if (e.type === "http_request") {
      items.push(`${e.from} ${e.method} ${e.target} ${data(e.body)}`);
      for (const [name, value] of e.headers) if (!hop.has(name)) items.push(`header ${name}: ${value}`);
    } else if (e.type === "http_response") {
      items.push(`${e.from} ${e.status} ${data(e.body)}`);
    } else if (e.type === "frame") {
      items.push(`${e.from} frame ${data(e.frame)}`);
    } else if (e.type === "close") {
      // Each hop's WebSocket library answers a close frame itself (with the same code), so
      // the far side may get the answer from the proxy rather than from its peer: counted,
      // not compared.
      closes[e.from] = (closes[e.from] || 0) + 1;
    } else if (e.type === "violation") {
      violations[e.requirement] = (violations[e.requirement] || 0) + 1;
    }
  }
  return { items: items.sort(), violations, closes };
}
const [a, b] = [seen(process.argv[2]), seen(process.argv[3])];
console.log("violations seen by proxy A:", JSON.stringify(a.violations));
console.log("violations seen by proxy B:", JSON.stringify(b.violations));
console.log("close frames read by A:", JSON.stringify(a.closes), "by B:", JSON.stringify(b.closes));
const count = (list) => list.reduce((m, x) => m.set(x, (m.get(x) || 0) + 1), new Map());
const [ca, cb] = [count(a.items), count(b.items)];
const keys = [...new Set([...ca.keys(), ...cb.keys()])];
// B saw something A did not carry: A changed (or made up) bytes.
const changed = keys.filter((k) => (cb.get(k) || 0) > (ca.get(k) || 0));
// A read something B never saw: in flight when the far side closed the connection (lost
// there as it would be without the proxy), or changed on the way (then it shows above too).
const lost = keys.filter((k) => (ca.get(k) || 0) > (cb.get(k) || 0));
console.log(`items compared: ${a.items.length} seen by A, ${b.items.length} by B`);
console.log(`seen by B and not carried by A (changed bytes): ${changed.length}`);
for (const k of changed.slice(0, 20)) console.log(`  A ${ca.get(k) || 0} × B ${cb.get(k) || 0} × ${k.slice(0, 200)}`);
console.log(`read by A and not seen by B (in flight at a close): ${lost.length}`);
for (const k of lost.slice(0, 20)) console.log(`  A ${ca.get(k) || 0} × B ${cb.get(k) || 0} × ${k.slice(0, 200)}`);
process.exitCode = changed.length === 0 ? 0 : 3;
EOF
compared=$?
set -e
echo "output: $out"
[ "$battery" -eq 0 ] && [ "$compared" -eq 0 ]
