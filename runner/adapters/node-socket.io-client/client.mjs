// The conformance suite's client adapter on the official `socket.io-client` 4.8.4 (Engine.IO
// protocol 4, Socket.IO protocol 5), following docs/client-contract.md:
//
//   npm ci && SIO_URL=http://127.0.0.1:3000 SIO_PATH=/socket.io/ SIO_NAMESPACE=/ node client.mjs
//
// - Settings come from the environment (SIO_URL, SIO_PATH, SIO_NAMESPACE, SIO_AUTH,
//   SIO_TRANSPORTS, SIO_OPTIONS, SIO_CASE) and are handed to `io()` as the official options.
// - Mirror behaviours: `echo` is emitted back as `echo-back`; an event that requests an ack is
//   acknowledged once with its own arguments; every event is reported.
// - Cues arrive on stdin, one JSON object a line; reports leave on stdout, one JSON object a
//   line, each written whole by a single write. Binary crosses both pipes as
//   {"$binary": "<base64>"}.
// - The program runs until stdin ends, then closes every socket (and so the Manager's
//   connection) and exits. Nothing else makes it exit: not a refusal, not the end of the
//   reconnection attempts.
//
// Diagnostics go to stderr, which the runner keeps in the case's transcript.

import { createInterface } from "node:readline";
import { io } from "socket.io-client";

/** The options of the contract's table, all of which socket.io-client 4.8.4 has by these names. */
const CONTRACT_OPTIONS = new Set([
  "reconnection",
  "reconnectionAttempts",
  "reconnectionDelay",
  "reconnectionDelayMax",
  "randomizationFactor",
  "timeout",
  "requestTimeout",
  "ackTimeout",
  "retries",
  "upgrade",
  "rememberUpgrade",
  "tryAllTransports",
  "forceBase64",
  "timestampRequests",
  "addTrailingSlash",
  "query",
  "extraHeaders",
  "withCredentials",
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
  process.stderr.write(`[node-socket.io-client ${process.env.SIO_CASE ?? ""}] ${message}\n`);
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

/** The contract's options, passed by the same names; anything else is reported unsupported. */
const libraryOptions = {};
for (const [name, value] of Object.entries(settingOptions)) {
  if (CONTRACT_OPTIONS.has(name)) {
    libraryOptions[name] = value;
  } else {
    report({ event: "unsupported", what: name });
  }
}

// Set and empty is an empty list (the contract), not the library's default.
const transports =
  process.env.SIO_TRANSPORTS !== undefined
    ? process.env.SIO_TRANSPORTS.split(",").map((name) => name.trim()).filter(Boolean)
    : undefined;

/**
 * Whether an ack callback gets an error first. socket.io-client calls it `(err, ...args)`
 * when the emit has a timeout, from `timeout(ms)` or the `ackTimeout` option, or goes through
 * the retry queue (`retries`); otherwise it calls it with the ack's arguments alone.
 */
function ackIsErrorFirst(cueTimeout) {
  return cueTimeout != null || libraryOptions.ackTimeout !== undefined || Boolean(libraryOptions.retries);
}

// ---------------------------------------------------------------------------------------------
// Sockets

/** Every namespace's socket, all on the first socket's Manager. */
const sockets = new Map();

/** Reports what a namespace's socket tells, and gives it the mirror behaviours. */
function watch(socket, nsp) {
  socket.on("connect", () => {
    const line = { event: "connect", namespace: nsp, id: socket.id };
    if (socket.recovered) line.recovered = true;
    report(line);
  });
  socket.on("connect_error", (error) => {
    report({
      event: "connect_error",
      namespace: nsp,
      message: error?.message ?? String(error),
      data: toReport(error?.data ?? null),
    });
  });
  socket.on("disconnect", (reason) => {
    report({ event: "disconnect", namespace: nsp, reason });
  });
  socket.onAny((name, ...args) => {
    // socket.io-client appends an ack function to the arguments when the server asked for one.
    const acknowledge = typeof args[args.length - 1] === "function" ? args.pop() : null;
    const line = { event: "event", namespace: nsp, name, args: toReport(args) };
    if (acknowledge) line.ack = true;
    report(line);
    if (name === "echo") {
      try {
        socket.emit("echo-back", ...args);
      } catch (error) {
        log(`echo-back failed: ${error.message}`);
      }
    }
    if (acknowledge) acknowledge(...args);
  });
}

/** Reports what the Manager tells about the connection's reconnection loop. */
function watchManager(manager) {
  manager.on("reconnect_attempt", (attempt) => report({ event: "reconnect_attempt", attempt }));
  manager.on("reconnect", (attempt) => report({ event: "reconnect", attempt }));
  manager.on("reconnect_failed", () => report({ event: "reconnect_failed" }));
  manager.on("error", (error) => log(`manager error: ${error?.message ?? error}`));
}

const firstOptions = { ...libraryOptions, path };
if (transports) firstOptions.transports = transports;
if (auth !== undefined) firstOptions.auth = fromCue(auth);

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
  const args = fromCue(cue.args ?? []);
  if (!Array.isArray(args)) return cueError(cue, "emit: `args` must be an array");
  let target = socket;
  if (cue.volatile) target = target.volatile;
  if (cue.timeout != null) target = target.timeout(cue.timeout);
  if (cue.ack) {
    if (ackIsErrorFirst(cue.timeout)) {
      args.push((error, ...response) => {
        if (error) report({ event: "ack_error", cue: cue.id ?? null, message: error.message });
        else report({ event: "ack", cue: cue.id ?? null, args: toReport(response) });
      });
    } else {
      args.push((...response) => report({ event: "ack", cue: cue.id ?? null, args: toReport(response) }));
    }
  }
  try {
    target.emit(cue.event, ...args);
  } catch (error) {
    cueError(cue, error.message);
  }
}

function connectCue(cue) {
  const nsp = cue.namespace ?? "/";
  const cueAuth = cue.auth === undefined ? undefined : fromCue(cue.auth);
  const known = sockets.get(nsp);
  if (known) {
    if (cueAuth !== undefined) known.auth = cueAuth;
    known.connect();
    return;
  }
  // The socket-level options (ackTimeout, retries) apply to every namespace's socket; the
  // Manager, and so the Engine.IO connection, is the first socket's.
  const socketOptions = { ...libraryOptions };
  if (cueAuth !== undefined) socketOptions.auth = cueAuth;
  const socket = manager.socket(nsp, socketOptions);
  sockets.set(nsp, socket);
  watch(socket, nsp);
}

function disconnectCue(cue) {
  const nsp = cue.namespace ?? "/";
  const socket = sockets.get(nsp);
  if (!socket) return cueError(cue, `no socket for namespace ${nsp}`);
  socket.disconnect();
}

/**
 * Disconnects every socket; the Manager closes its connection once no socket is active. The
 * direct `_close()` covers a Manager left open or reconnecting without active sockets.
 */
function closeAll() {
  for (const socket of sockets.values()) socket.disconnect();
  if (manager._readyState !== "closed") manager._close();
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
