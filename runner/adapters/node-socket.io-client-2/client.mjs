// The conformance suite's client adapter on the official `socket.io-client` 2.5.0 (Engine.IO
// protocol 3, Socket.IO protocol 4), following docs/client-contract.md:
//
//   npm ci && SIO_URL=http://127.0.0.1:3000 SIO_PATH=/socket.io/ SIO_NAMESPACE=/ node client.mjs
//
// The same contract as the 4.x adapter beside it; where socket.io-client 2.x lacks what the
// contract asks, the adapter says so with an `unsupported` report and keeps running:
//
// - `auth` (SIO_AUTH, the `auth` of a `connect` cue): the 2.x client has no CONNECT payload
//   (it sends no CONNECT at all for `/`, and only a query string for other namespaces), so it
//   is reported unsupported and the namespace connects without it.
// - The options 2.x does not have: `ackTimeout`, and `retries`, `tryAllTransports` and
//   `addTrailingSlash` unless their value is the one 2.x always behaves by (no retries, no
//   fallback to the next transport, a path that keeps its trailing slash).
// - `volatile` emits: the 2.x client socket has no volatile flag; the emit is not made.
// - Emit timeouts: 2.x has no `timeout(ms)`. The adapter, not the library, times the ack
//   and reports `ack_error` "operation has timed out" (the 4.x client's words) when it is late.
// - 2.x has no `onAny`: events are seen by wrapping the socket's `onevent`, which the library
//   calls for every EVENT and BINARY_EVENT packet of its namespace.
// - Reserved names: 2.x does not refuse them, it emits them locally (a cued `disconnect` would
//   fire the socket's own disconnect listeners). The adapter refuses them itself, from the
//   list in 2.5.0's lib/socket.js, with a `cue_error`.
// - A refusal is an ERROR packet whose payload is a string or any JSON value (the 2.x server
//   sends `err.data` when it has one, else `err.message`): a string is reported as the
//   `message` with `data: null`; anything else as `data`, with `message: null`.
//
// Diagnostics go to stderr, which the runner keeps in the case's transcript.

import { createInterface } from "node:readline";
import io from "socket.io-client";

/** The contract's options that socket.io-client 2.5.0 (engine.io-client 3.5) has by name. */
const HONOURED_OPTIONS = new Set([
  "reconnection",
  "reconnectionAttempts",
  "reconnectionDelay",
  "reconnectionDelayMax",
  "randomizationFactor",
  "timeout",
  "upgrade",
  "rememberUpgrade",
  "forceBase64",
  "timestampRequests",
  "query",
  "extraHeaders",
]);

/**
 * The contract's options 2.x lacks, with the value 2.x always behaves by (honoured when the
 * setting asks exactly that), or `undefined` when no value is honoured.
 */
const FIXED_BEHAVIOURS = new Map([
  ["ackTimeout", undefined],
  ["retries", 0],
  ["tryAllTransports", false],
  ["addTrailingSlash", true],
]);

/** Event names socket.io-client 2.5.0 emits locally instead of sending (lib/socket.js). */
const RESERVED_EVENTS = new Set([
  "connect",
  "connect_error",
  "connect_timeout",
  "connecting",
  "disconnect",
  "error",
  "reconnect",
  "reconnect_attempt",
  "reconnect_failed",
  "reconnect_error",
  "reconnecting",
  "ping",
  "pong",
]);

/** How long the program lingers after closing, for the close to reach the wire, at most. */
const EXIT_GRACE_MS = 300;

// ---------------------------------------------------------------------------------------------
// The two pipes

/** Writes one report: one JSON object, one line, one write (so lines never interleave). */
function report(object) {
  process.stdout.write(JSON.stringify(object) + "\n");
}

/** A diagnostic for the transcript. */
function log(message) {
  process.stderr.write(`[node-socket.io-client-2 ${process.env.SIO_CASE ?? ""}] ${message}\n`);
}

/** Binary values (Buffer, ArrayBuffer, typed arrays) as {"$binary": base64}, recursively. */
function toReport(value) {
  if (Buffer.isBuffer(value)) return { $binary: value.toString("base64") };
  if (value instanceof ArrayBuffer) return { $binary: Buffer.from(value).toString("base64") };
  if (ArrayBuffer.isView(value)) {
    return { $binary: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64") };
  }
  if (Array.isArray(value)) return value.map(toReport);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toReport(item)]));
  }
  return value === undefined ? null : value;
}

/** {"$binary": base64} (an object with that one key) as a Buffer, recursively. */
function fromCue(value) {
  if (Array.isArray(value)) return value.map(fromCue);
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === "$binary" && typeof value.$binary === "string") {
      return Buffer.from(value.$binary, "base64");
    }
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fromCue(item)]));
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Settings

/** A setting that holds JSON, parsed; a malformed one ends the program (the runner's mistake). */
function jsonSetting(name) {
  const text = process.env[name];
  if (text === undefined || text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    log(`${name} is not JSON (${error.message}): ${text}`);
    process.exit(2);
  }
}

function requiredSetting(name) {
  const value = process.env[name];
  if (!value) {
    log(`${name} is not set`);
    process.exit(2);
  }
  return value;
}

const url = requiredSetting("SIO_URL");
const path = process.env.SIO_PATH || "/socket.io/";
const namespace = process.env.SIO_NAMESPACE || "/";
const auth = jsonSetting("SIO_AUTH");
const settingOptions = jsonSetting("SIO_OPTIONS") ?? {};
if (settingOptions === null || typeof settingOptions !== "object" || Array.isArray(settingOptions)) {
  log(`SIO_OPTIONS is not a JSON object: ${process.env.SIO_OPTIONS}`);
  process.exit(2);
}

/** The options 2.x has, passed by the same names; the rest reported unsupported. */
const libraryOptions = {};
for (const [name, value] of Object.entries(settingOptions)) {
  if (HONOURED_OPTIONS.has(name)) {
    libraryOptions[name] = value;
  } else if (FIXED_BEHAVIOURS.has(name) && FIXED_BEHAVIOURS.get(name) === value) {
    // 2.x behaves so without the option: nothing to pass.
  } else {
    report({ event: "unsupported", what: name });
  }
}
if (auth !== undefined) report({ event: "unsupported", what: "auth" });

const transports = process.env.SIO_TRANSPORTS
  ? process.env.SIO_TRANSPORTS.split(",").map((name) => name.trim()).filter(Boolean)
  : undefined;

// ---------------------------------------------------------------------------------------------
// Sockets

/** Every namespace's socket, all on the first socket's Manager. */
const sockets = new Map();

/** An event from the server: reported, echoed when it is `echo`, acknowledged when asked. */
function onServerEvent(socket, nsp, data) {
  const [name, ...args] = data;
  // The library has appended its ack function when the server asked for one.
  const acknowledge = typeof args[args.length - 1] === "function" ? args.pop() : null;
  const line = { event: "event", namespace: nsp, name, args: toReport(args) };
  if (acknowledge) line.ack = true;
  report(line);
  if (name === "echo") socket.emit("echo-back", ...args);
  if (acknowledge) acknowledge(...args);
}

/**
 * Sees every event of the socket's namespace by wrapping `onevent`. The library delivers an
 * event that arrives before the namespace is connected only once it is (before `connect`);
 * so does the adapter: such events wait in `early` until the socket's `connect`.
 */
function interceptEvents(socket, nsp) {
  const early = [];
  const onevent = socket.onevent;
  socket.onevent = function (packet) {
    onevent.call(this, packet); // appends the ack function to packet.data when one is asked
    const data = packet.data || [];
    if (this.connected) onServerEvent(this, nsp, data);
    else early.push(data);
  };
  return () => early.splice(0).forEach((data) => onServerEvent(socket, nsp, data));
}

/** Reports what a namespace's socket tells, and gives it the mirror behaviours. */
function watch(socket, nsp) {
  const deliverEarly = interceptEvents(socket, nsp);
  socket.on("connect", () => {
    deliverEarly();
    report({ event: "connect", namespace: nsp, id: socket.id });
  });
  // The Manager's connection failed (emitted to every socket): an Error, or "timeout".
  socket.on("connect_error", (error) => {
    report({ event: "connect_error", namespace: nsp, message: error?.message ?? String(error), data: null });
  });
  // An ERROR packet for this namespace (or for `/`, which 2.x gives to every socket) carries
  // the refusal; an Error instance is the engine's, which a `disconnect` follows.
  socket.on("error", (payload) => {
    if (payload instanceof Error) {
      log(`${nsp}: engine error: ${payload.message}`);
      return;
    }
    const line = { event: "connect_error", namespace: nsp };
    if (typeof payload === "string") Object.assign(line, { message: payload, data: null });
    else Object.assign(line, { message: null, data: toReport(payload ?? null) });
    report(line);
  });
  socket.on("disconnect", (reason) => {
    report({ event: "disconnect", namespace: nsp, reason });
  });
}

/** The reconnection loop, from the Manager (2.x also repeats each event on every socket). */
function watchManager(manager) {
  manager.on("reconnect_attempt", (attempt) => report({ event: "reconnect_attempt", attempt }));
  manager.on("reconnect", (attempt) => report({ event: "reconnect", attempt }));
  manager.on("reconnect_failed", () => report({ event: "reconnect_failed" }));
}

const firstOptions = { ...libraryOptions, path };
if (transports) firstOptions.transports = transports;

const firstSocket = io(url + namespace, firstOptions);
const manager = firstSocket.io;
sockets.set(namespace, firstSocket);
watch(firstSocket, namespace);
watchManager(manager);

// ---------------------------------------------------------------------------------------------
// Cues

function cueError(cue, message) {
  report({ event: "cue_error", cue: cue?.id ?? null, message });
}

function emitCue(cue) {
  const nsp = cue.namespace ?? "/";
  const socket = sockets.get(nsp);
  if (!socket) return cueError(cue, `no socket for namespace ${nsp}: connect it first`);
  if (typeof cue.event !== "string") return cueError(cue, "emit: `event` must be a string");
  if (RESERVED_EVENTS.has(cue.event)) {
    return cueError(cue, `"${cue.event}" is a reserved event name (socket.io-client 2.x would emit it locally)`);
  }
  if (cue.volatile) return report({ event: "unsupported", what: "volatile" });
  const args = fromCue(cue.args ?? []);
  if (!Array.isArray(args)) return cueError(cue, "emit: `args` must be an array");
  if (cue.ack) args.push(ackCallback(cue));
  try {
    socket.emit(cue.event, ...args);
  } catch (error) {
    cueError(cue, error.message);
  }
}

/**
 * The ack callback of a cued emit. With `timeout`, the adapter's timer (2.x has no emit
 * timeout of its own) reports `ack_error` when the ack is late, and a late ack is then ignored.
 */
function ackCallback(cue) {
  let settled = false;
  let timer = null;
  if (cue.timeout != null) {
    timer = setTimeout(() => {
      settled = true;
      report({ event: "ack_error", cue: cue.id ?? null, message: "operation has timed out" });
    }, cue.timeout);
  }
  return (...response) => {
    if (settled) return;
    settled = true;
    if (timer) clearTimeout(timer);
    report({ event: "ack", cue: cue.id ?? null, args: toReport(response) });
  };
}

function connectCue(cue) {
  const nsp = cue.namespace ?? "/";
  if (cue.auth !== undefined) report({ event: "unsupported", what: "auth" });
  const known = sockets.get(nsp);
  if (known) {
    known.connect();
    return;
  }
  // Like `io(url + nsp, options)` on the same Manager: the `query` option is also the
  // namespace's CONNECT query in 2.x.
  const socket = manager.socket(nsp, libraryOptions.query ? { query: libraryOptions.query } : {});
  sockets.set(nsp, socket);
  watch(socket, nsp);
}

function disconnectCue(cue) {
  const nsp = cue.namespace ?? "/";
  const socket = sockets.get(nsp);
  if (!socket) return cueError(cue, `no socket for namespace ${nsp}`);
  socket.disconnect();
}

/** Disconnects every socket, then closes the Manager's connection if it is still open. */
function closeAll() {
  for (const socket of sockets.values()) socket.disconnect();
  if (manager.readyState !== "closed") manager.close();
}

function obey(line) {
  if (line.trim() === "") return;
  let cue;
  try {
    cue = JSON.parse(line);
  } catch (error) {
    return cueError(null, `not JSON: ${error.message}`);
  }
  if (cue === null || typeof cue !== "object" || Array.isArray(cue)) {
    return cueError(null, "a cue is a JSON object");
  }
  switch (cue.cue) {
    case "emit":
      return emitCue(cue);
    case "connect":
      return connectCue(cue);
    case "disconnect":
      return disconnectCue(cue);
    case "close":
      return closeAll();
    default:
      return cueError(cue, `unknown cue ${JSON.stringify(cue.cue)}`);
  }
}

// A fault in a handler is logged, and the program keeps running: only stdin's end ends it.
process.on("uncaughtException", (error) => log(`uncaught: ${error?.stack ?? error}`));

const cues = createInterface({ input: process.stdin, crlfDelay: Infinity });
cues.on("line", (line) => {
  try {
    obey(line);
  } catch (error) {
    cueError(null, error.message);
  }
});
cues.on("close", () => {
  closeAll();
  // The process ends by itself once the close has gone out; the timer (which does not keep it
  // alive) ends it anyway if a keep-alive handle lingers.
  setTimeout(() => process.exit(0), EXIT_GRACE_MS).unref();
});
