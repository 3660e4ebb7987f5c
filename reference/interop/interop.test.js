"use strict";
// Interop of the reference fixture server (reference/src/bin/sio-fixture-server.rs) with the
// official JavaScript clients: socket.io-client over polling, WebSocket, and polling upgraded
// to WebSocket, engine.io-client against the Engine.IO echo, and engine.io-client 3 (protocol 3)
// against the protocol 3 echo.
//
// Nothing is built here: the fixture binary comes from $SIO_FIXTURE_SERVER, or
// ../../target/debug/sio-fixture-server relative to this file. See README.md.

const { describe, test, before, after, beforeEach, afterEach } = require("node:test");
const assert = require("node:assert/strict");
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const util = require("node:util");
const { io, Manager } = require("socket.io-client");
const { Socket: EngineSocket } = require("engine.io-client");
const { Socket: EngineSocketV3 } = require("engine.io-client-v3");

/** How long any single wait may take. */
const WAIT_MS = 3000;
/** How long one test case may take. */
const TEST_MS = 10_000;
/** How long the server may take to print its address. */
const START_MS = 10_000;

const SERVER_PATH = process.env.SIO_FIXTURE_SERVER
  ? path.resolve(process.env.SIO_FIXTURE_SERVER)
  : path.resolve(__dirname, "../../target/debug/sio-fixture-server");

// ---------------------------------------------------------------------------------------------
// The fixture server

let server;
let baseUrl;

function startServer() {
  if (!fs.existsSync(SERVER_PATH)) {
    throw new Error(
      `fixture server not found at ${SERVER_PATH}: build it with ` +
        "`cargo build -p sio-reference --bin sio-fixture-server` or set SIO_FIXTURE_SERVER",
    );
  }
  const child = spawn(SERVER_PATH, ["--host", "127.0.0.1", "--port", "0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
    if (process.env.SIO_FIXTURE_VERBOSE) process.stderr.write(chunk);
  });
  return new Promise((resolve, reject) => {
    const fail = (why) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      // A grandchild may hold the pipes open; they must not keep this process alive.
      child.stdout.destroy();
      child.stderr.destroy();
      child.unref();
      reject(
        new Error(
          `fixture server ${SERVER_PATH}: ${why}\n` +
            `stdout so far: ${JSON.stringify(stdout)}\nstderr so far: ${JSON.stringify(stderr)}`,
        ),
      );
    };
    const timer = setTimeout(
      () => fail(`did not print "listening on http://HOST:PORT" within ${START_MS} ms`),
      START_MS,
    );
    child.on("error", (error) => fail(`could not be started: ${error.message}`));
    child.on("exit", (code, signal) => {
      if (!baseUrl) fail(`exited (code ${code}, signal ${signal}) before printing its address`);
    });
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      if (baseUrl) return;
      stdout += chunk;
      const newline = stdout.indexOf("\n");
      if (newline < 0) return;
      const line = stdout.slice(0, newline).trim();
      const match = /^listening on (http:\/\/[^\s/]+)$/.exec(line);
      if (!match) return fail(`printed an unexpected first line: ${JSON.stringify(line)}`);
      clearTimeout(timer);
      baseUrl = match[1];
      resolve(child);
    });
  });
}

let serverExit;

before(async () => {
  server = await startServer();
  server.on("exit", (code, signal) => {
    serverExit = `the fixture server exited during the tests (code ${code}, signal ${signal})`;
  });
  // A test process that dies some other way must not leave the server behind.
  process.on("exit", () => server && server.kill("SIGKILL"));
});

beforeEach(() => {
  if (serverExit) throw new Error(serverExit);
});

after(async () => {
  if (!server || serverExit) return;
  const exited = new Promise((resolve) => server.once("exit", resolve));
  server.kill("SIGTERM");
  const timer = setTimeout(() => server.kill("SIGKILL"), 2000);
  await exited;
  clearTimeout(timer);
  server = undefined;
});

// ---------------------------------------------------------------------------------------------
// Bounded waits

/** Resolves with the arguments of the next `event` on `emitter`, or rejects after `ms`. */
function next(emitter, event, { ms = WAIT_MS, what = event, failOn = [] } = {}) {
  return new Promise((resolve, reject) => {
    const handlers = [];
    const done = () => {
      clearTimeout(timer);
      emitter.off(event, onEvent);
      for (const [name, handler] of handlers) emitter.off(name, handler);
    };
    const onEvent = (...args) => {
      done();
      resolve(args);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    emitter.on(event, onEvent);
    for (const name of failOn) {
      const handler = (...args) => {
        done();
        reject(new Error(`got ${name} while waiting for ${what}: ${describeArgs(args)}`));
      };
      handlers.push([name, handler]);
      emitter.on(name, handler);
    }
  });
}

/** Resolves with the arguments of the next `count` events, in order. */
function collect(emitter, event, count, { ms = WAIT_MS } = {}) {
  return new Promise((resolve, reject) => {
    const got = [];
    const onEvent = (...args) => {
      got.push(args);
      if (got.length === count) {
        clearTimeout(timer);
        emitter.off(event, onEvent);
        resolve(got);
      }
    };
    const timer = setTimeout(() => {
      emitter.off(event, onEvent);
      reject(new Error(`timed out after ${ms} ms: ${got.length} of ${count} ${event} events`));
    }, ms);
    emitter.on(event, onEvent);
  });
}

/** Rejects if `event` comes within `ms`, resolves otherwise. */
function silence(emitter, event, ms = 300) {
  return new Promise((resolve, reject) => {
    const onEvent = (...args) => {
      clearTimeout(timer);
      reject(new Error(`unexpected ${event}: ${describeArgs(args)}`));
    };
    const timer = setTimeout(() => {
      emitter.off(event, onEvent);
      resolve();
    }, ms);
    emitter.on(event, onEvent);
  });
}

function describeArgs(args) {
  return args
    .map((a) => (a instanceof Error ? `${a.message} ${JSON.stringify(a.data)}` : inspect(a)))
    .join(", ");
}

function inspect(value) {
  return util.inspect(value, { depth: 6, breakLength: Infinity });
}

// ---------------------------------------------------------------------------------------------
// Clients

const MODES = {
  polling: { transports: ["polling"] },
  websocket: { transports: ["websocket"] },
  upgrade: {}, // the default: polling, then the upgrade to WebSocket
};

/** Every Manager opened by the current test, closed after it. */
let managers = [];

afterEach(() => {
  for (const manager of managers) {
    for (const socket of Object.values(manager.nsps)) socket.disconnect();
    if (manager.engine && manager.engine.readyState !== "closed") manager.engine.close();
  }
  managers = [];
});

function clientOptions(mode, extra = {}) {
  return { ...MODES[mode], reconnection: false, timeout: WAIT_MS, ...extra };
}

/** A Manager in `mode`, closed after the test; in upgrade mode, `upgraded` is set up at once. */
function newManager(mode, extra = {}) {
  const manager = new Manager(baseUrl, clientOptions(mode, extra));
  track(manager, mode);
  return manager;
}

/** A socket on its own Manager (`io(url, { forceNew: true })`). */
function newSocket(mode, nsp, extra = {}) {
  const socket = io(baseUrl + nsp, clientOptions(mode, { forceNew: true, ...extra }));
  track(socket.io, mode);
  return socket;
}

function track(manager, mode) {
  managers.push(manager);
  if (mode === "upgrade") {
    // The engine exists as soon as the Manager opens; the upgrade comes after the handshake.
    const engine = manager.engine;
    assert.ok(engine, "the Manager opened its Engine.IO socket");
    assert.equal(engine.transport.name, "polling", "the default mode starts on polling");
    manager.upgraded = next(engine, "upgrade", {
      ms: WAIT_MS,
      what: "the upgrade to WebSocket",
    }).then(() => {
      assert.equal(engine.transport.name, "websocket", "transport after the upgrade event");
    });
    manager.upgraded.catch(() => {}); // awaited by ready(); not an unhandled rejection
  }
}

/**
 * Waits until `socket` is connected (and, in upgrade mode, its engine upgraded), and checks
 * the transport it ends up on.
 */
async function ready(socket, mode) {
  if (!socket.connected) {
    await next(socket, "connect", { what: `connect to ${socket.nsp}`, failOn: ["connect_error"] });
  }
  assert.ok(socket.id, "a connected socket has an id");
  const engine = socket.io.engine;
  if (mode === "upgrade") {
    await socket.io.upgraded;
    assert.equal(engine.transport.name, "websocket", "upgraded to WebSocket");
  } else {
    assert.equal(engine.transport.name, mode, `the ${mode} transport`);
  }
}

/** Connects `nsp` on its own Manager, and returns the socket with its `auth` event. */
async function connect(mode, nsp, auth) {
  const socket = newSocket(mode, nsp, auth === undefined ? {} : { auth });
  const authEvent = next(socket, "auth", { what: `auth on ${nsp}` });
  authEvent.catch(() => {});
  await ready(socket, mode);
  return { socket, auth: await authEvent };
}

/** Emits `message` and resolves with the arguments of the `message-back` answer. */
async function roundTrip(socket, ...args) {
  const back = next(socket, "message-back");
  socket.emit("message", ...args);
  return back;
}

/** Replaces binary values, at any depth, by `{ $binary: hex }`. */
function normalize(value) {
  if (value instanceof ArrayBuffer) return { $binary: Buffer.from(value).toString("hex") };
  if (ArrayBuffer.isView(value)) {
    return { $binary: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex") };
  }
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]));
  }
  return value;
}

/** Every binary value found in `value`, depth-first. */
function binaries(value, found = []) {
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) found.push(value);
  else if (Array.isArray(value)) value.forEach((v) => binaries(v, found));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => binaries(v, found));
  return found;
}

/** Asserts that `actual` equals `expected`, binary values compared by content. */
function assertSame(actual, expected, message) {
  assert.deepEqual(normalize(actual), normalize(expected), message);
  for (const binary of binaries(actual)) {
    assert.ok(Buffer.isBuffer(binary), `binary arrives as a Buffer in Node: ${inspect(binary)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Test data

const UNICODE = "héllo wörld — 日本語 — 😀🎉 — \u2028\u2029 — \u001e\u001f — \"quotes\" \\ / \n\t";

// For raw Engine.IO messages: no U+001E, the v4 polling payload separator, which the official
// client does not escape (the official parser would split the payload there too).
const EIO_TEXT = UNICODE.replace(/\u001e/g, "");

const JSON_ARGS = [
  "plain",
  UNICODE,
  "",
  0,
  -42,
  3.25,
  Number.MAX_SAFE_INTEGER,
  true,
  false,
  null,
  [],
  {},
  [1, "two", [3, { four: 4 }], null],
  { nested: { deeper: { list: [true, false, null], text: UNICODE } }, "kéy 🔑": "value" },
];

const bytes = (n, from = 0) => Buffer.from(Array.from({ length: n }, (_, i) => (from + i) % 256));

function binaryArgs() {
  return [
    bytes(256), // every byte value
    new Uint8Array([1, 2, 3]),
    { file: bytes(16, 200), name: "file.bin", meta: { parts: [bytes(3, 7), "text", bytes(1)] } },
    [bytes(5, 250), { inner: new Uint8Array([0xff, 0x00, 0x80]) }, 7],
    "a string between binaries",
    Buffer.alloc(0), // an empty attachment
  ];
}

// ---------------------------------------------------------------------------------------------
// The cases, once per transport mode

for (const mode of Object.keys(MODES)) {
  describe(`socket.io-client over ${mode}`, { timeout: 60_000 }, () => {
    const caseOptions = { timeout: TEST_MS };

    test("connects to / and the server echoes the handshake auth", caseOptions, async () => {
      const auth = { token: "abc-123", user: { name: "Zoë 😀", roles: ["a", "b"] }, n: 1.5 };
      const { socket, auth: authArgs } = await connect(mode, "/", auth);
      assert.deepEqual(authArgs, [auth]);
      assert.equal(socket.connected, true);
    });

    test("connects to / without auth: auth is {}", caseOptions, async () => {
      const { auth: authArgs } = await connect(mode, "/");
      assert.deepEqual(authArgs, [{}]);
    });

    test("connects to /custom on its own Manager, with auth echoed", caseOptions, async () => {
      const auth = { custom: true, list: [1, 2, 3] };
      const { socket, auth: authArgs } = await connect(mode, "/custom", auth);
      assert.deepEqual(authArgs, [auth]);
      assert.equal(socket.nsp, "/custom");
    });

    test("multiplexes / and /custom on one Manager", caseOptions, async () => {
      const manager = newManager(mode);
      const root = manager.socket("/", { auth: { which: "root" } });
      const custom = manager.socket("/custom", { auth: { which: "custom", s: UNICODE } });
      const rootAuth = next(root, "auth");
      const customAuth = next(custom, "auth");
      await Promise.all([ready(root, mode), ready(custom, mode)]);
      assert.deepEqual(await rootAuth, [{ which: "root" }]);
      assert.deepEqual(await customAuth, [{ which: "custom", s: UNICODE }]);
      assert.equal(root.io, custom.io, "one Manager");
      assert.equal(Object.keys(manager.nsps).length, 2);
      assert.notEqual(root.id, custom.id, "each namespace has its own socket id");
      // Events on / still work with /custom open on the same connection.
      assert.deepEqual(await roundTrip(root, "after multiplexing"), ["after multiplexing"]);
    });

    test("heartbeat: the connection outlives several ping intervals", caseOptions, async () => {
      // pingInterval 300 ms, pingTimeout 200 ms: without the server's pings the client gives up
      // after 500 ms ("ping timeout"); without the client's pongs the server closes.
      const { socket } = await connect(mode, "/");
      let pings = 0;
      socket.io.engine.on("ping", () => pings++);
      await silence(socket, "disconnect", 1300);
      assert.ok(pings >= 3, `at least 3 pings in 1300 ms, got ${pings}`);
      assert.deepEqual(await roundTrip(socket, "still alive"), ["still alive"]);
    });

    test("connect timeout: a connection that sends no CONNECT is closed", caseOptions, async () => {
      // connectTimeout 1000 ms. A Manager with no socket opens the Engine.IO connection only.
      const started = Date.now();
      const manager = newManager(mode);
      const [reason] = await next(manager.engine, "close", { ms: 3000, what: "the server's close" });
      const elapsed = Date.now() - started;
      assert.equal(reason, "transport close");
      assert.ok(elapsed >= 900, `closed after ${elapsed} ms, not before connectTimeout`);
    });

    test("message → message-back with several args of several JSON types", caseOptions, async () => {
      const { socket } = await connect(mode, "/");
      assert.deepEqual(await roundTrip(socket, ...JSON_ARGS), JSON_ARGS);
      assert.deepEqual(await roundTrip(socket), [], "no arguments");
      assert.deepEqual(await roundTrip(socket, UNICODE), [UNICODE]);
    });

    test("events keep their order, including those sent before the connection is up", caseOptions, async () => {
      const socket = newSocket(mode, "/");
      const backs = collect(socket, "message-back", 30, { ms: WAIT_MS * 2 });
      // Sent at once: buffered by the client until CONNECT, then (in upgrade mode) across the
      // upgrade.
      for (let i = 0; i < 10; i++) socket.emit("message", i, `early ${i}`);
      await next(socket, "connect", { failOn: ["connect_error"] });
      for (let i = 10; i < 20; i++) socket.emit("message", i, `during ${i}`);
      await ready(socket, mode);
      for (let i = 20; i < 30; i++) socket.emit("message", i, `late ${i}`);
      const got = await backs;
      assert.deepEqual(
        got.map((args) => args[0]),
        Array.from({ length: 30 }, (_, i) => i),
      );
    });

    test("a large event (200 kB of unicode) round-trips", caseOptions, async () => {
      const { socket } = await connect(mode, "/");
      const big = "x😀é日".repeat(40_000);
      const [back] = await roundTrip(socket, { big });
      assert.equal(back.big.length, big.length);
      assert.equal(back.big, big);
    });

    test("ack client → server: message-with-ack is acknowledged with its args", caseOptions, async () => {
      const { socket } = await connect(mode, "/");
      assert.deepEqual(
        await socket.timeout(WAIT_MS).emitWithAck("message-with-ack", { a: UNICODE }),
        { a: UNICODE },
      );
      // Several arguments: the callback form gets all of them.
      const all = await new Promise((resolve, reject) => {
        socket.timeout(WAIT_MS).emit("message-with-ack", ...JSON_ARGS, (error, ...args) =>
          error ? reject(error) : resolve(args),
        );
      });
      assert.deepEqual(all, JSON_ARGS);
      // No arguments: acknowledged without arguments.
      const none = await new Promise((resolve, reject) => {
        socket.timeout(WAIT_MS).emit("message-with-ack", (error, ...args) =>
          error ? reject(error) : resolve(args),
        );
      });
      assert.deepEqual(none, []);
      // Acks may interleave: ten in flight at once, each answered with its own args.
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          socket.timeout(WAIT_MS).emitWithAck("message-with-ack", i),
        ),
      );
      assert.deepEqual(answers, Array.from({ length: 10 }, (_, i) => i));
    });


    test("ack server → client: emit-with-ack asks the client, the answer comes back", caseOptions, async () => {
      const { socket } = await connect(mode, "/");
      const answer = ["answer", { u: UNICODE, list: [1, null, true] }, 42, null];
      const { request, echo } = await serverAck(socket, JSON_ARGS, () => answer);
      assert.deepEqual(request, JSON_ARGS, "the server's request carries the args");
      assert.deepEqual(echo, answer, "the client's ack args come back");
      // An ack without arguments, to a request without arguments.
      const empty = await serverAck(socket, [], () => []);
      assert.deepEqual(empty, { request: [], echo: [] });
    });

    test("binary: message → message-back with Buffers and Uint8Arrays nested", caseOptions, async () => {
      const { socket } = await connect(mode, "/");
      assertSame(await roundTrip(socket, ...binaryArgs()), binaryArgs());
      assertSame(await roundTrip(socket, bytes(1000)), [bytes(1000)], "a lone binary argument");
      // 10 attachments: the most socket.io-parser's decoder accepts by default.
      const manyParts = Array.from({ length: 10 }, (_, i) => bytes(i + 1, i));
      assertSame(await roundTrip(socket, { manyParts }), [{ manyParts }], "10 attachments");
    });

    test("binary: 11 attachments close the connection, as on the official server", caseOptions, async () => {
      // socket.io's server decodes with maxAttachments 10 and closes the Engine.IO connection
      // when the decoder throws "too many attachments".
      const { socket } = await connect(mode, "/");
      const gone = next(socket, "disconnect", { failOn: ["message-back"] });
      socket.emit("message", Array.from({ length: 11 }, (_, i) => bytes(2, i)));
      assert.equal((await gone)[0], "transport close");
    });

    test("binary: ack client → server with binary args and binary ack", caseOptions, async () => {
      const { socket } = await connect(mode, "/");
      assertSame(
        await socket.timeout(WAIT_MS).emitWithAck("message-with-ack", new Uint8Array([4, 5, 6])),
        Buffer.from([4, 5, 6]),
      );
      const all = await new Promise((resolve, reject) => {
        socket.timeout(WAIT_MS).emit("message-with-ack", ...binaryArgs(), (error, ...args) =>
          error ? reject(error) : resolve(args),
        );
      });
      assertSame(all, binaryArgs());
    });

    test("binary: ack server → client with binary request and binary answer", caseOptions, async () => {
      const { socket } = await connect(mode, "/");
      const answer = [bytes(64, 128), { nested: [new Uint8Array([9, 8, 7]), "text"] }, 1];
      const { request, echo } = await serverAck(socket, binaryArgs(), () => answer);
      assertSame(request, binaryArgs(), "the server's request carries the binary args");
      assertSame(echo, answer, "the client's binary ack comes back");
      // A binary request answered with plain JSON, and the reverse.
      const plain = await serverAck(socket, [bytes(3)], () => ["plain"]);
      assertSame(plain.echo, ["plain"]);
      const binary = await serverAck(socket, ["plain"], () => [bytes(3)]);
      assertSame(binary.echo, [bytes(3)]);
    });

    test("refused namespace: connect_error with message and data", caseOptions, async () => {
      const socket = newSocket(mode, "/refused");
      const [error] = await next(socket, "connect_error", { failOn: ["connect"] });
      assert.ok(error instanceof Error);
      assert.equal(error.message, "refused");
      assert.deepEqual(error.data, { reason: "testing" });
      assert.equal(socket.connected, false);
    });

    test("refused namespace on a multiplexed Manager leaves / working", caseOptions, async () => {
      const manager = newManager(mode);
      const root = manager.socket("/");
      await ready(root, mode);
      const refused = manager.socket("/refused");
      const [error] = await next(refused, "connect_error", { failOn: ["connect"] });
      assert.equal(error.message, "refused");
      assert.deepEqual(error.data, { reason: "testing" });
      assert.equal(root.connected, true);
      assert.deepEqual(await roundTrip(root, "still here"), ["still here"]);
    });

    test("unknown namespace: connect_error Invalid namespace", caseOptions, async () => {
      const socket = newSocket(mode, "/no-such-namespace");
      const [error] = await next(socket, "connect_error", { failOn: ["connect"] });
      assert.equal(error.message, "Invalid namespace");
    });

    test("dynamic namespace: /dynamic-* connects, auth echoed, twice", caseOptions, async () => {
      const nsp = `/dynamic-${mode}-${Math.random().toString(36).slice(2)}`;
      const first = await connect(mode, nsp, { n: 1 });
      assert.deepEqual(first.auth, [{ n: 1 }]);
      assert.equal(first.socket.nsp, nsp);
      // The namespace exists now; a second client joins the same one.
      const second = await connect(mode, nsp, { n: 2 });
      assert.deepEqual(second.auth, [{ n: 2 }]);
      // And multiplexed with / on one Manager.
      const manager = newManager(mode);
      const root = manager.socket("/");
      const dynamic = manager.socket(nsp, { auth: { n: 3 } });
      const dynamicAuth = next(dynamic, "auth");
      await Promise.all([ready(root, mode), ready(dynamic, mode)]);
      assert.deepEqual(await dynamicAuth, [{ n: 3 }]);
    });

    test("server disconnect: disconnect-me → disconnect with io server disconnect", caseOptions, async () => {
      const { socket } = await connect(mode, "/");
      const disconnected = next(socket, "disconnect");
      socket.emit("disconnect-me");
      const [reason] = await disconnected;
      assert.equal(reason, "io server disconnect");
      assert.equal(socket.connected, false);
    });

    test("server disconnect of / on a multiplexed Manager: /custom stays, / reconnects", caseOptions, async () => {
      const manager = newManager(mode);
      const root = manager.socket("/");
      const custom = manager.socket("/custom");
      await Promise.all([ready(root, mode), ready(custom, mode)]);
      const firstId = root.id;
      const customDisconnect = silence(custom, "disconnect", 300);
      const disconnected = next(root, "disconnect");
      root.emit("disconnect-me");
      assert.equal((await disconnected)[0], "io server disconnect");
      await customDisconnect;
      assert.equal(custom.connected, true);
      assert.equal(manager.engine.readyState, "open", "the connection stays open");
      // / connects again on the same connection.
      const auth = next(root, "auth");
      root.connect();
      await ready(root, mode);
      await auth;
      assert.notEqual(root.id, firstId, "a new socket id");
      assert.deepEqual(await roundTrip(root, "again"), ["again"]);
    });

    test("server close: close-me disconnects every namespace", caseOptions, async () => {
      const manager = newManager(mode);
      const root = manager.socket("/");
      const custom = manager.socket("/custom");
      await Promise.all([ready(root, mode), ready(custom, mode)]);
      const rootGone = next(root, "disconnect");
      const customGone = next(custom, "disconnect");
      const engineClosed = next(manager.engine, "close");
      root.emit("close-me");
      const [[rootReason], [customReason]] = await Promise.all([rootGone, customGone]);
      assert.equal(rootReason, "io server disconnect");
      assert.equal(customReason, "io server disconnect");
      await engineClosed;
    });

    test("client disconnect: the namespace closes, the other stays, then reconnects", caseOptions, async () => {
      const manager = newManager(mode);
      const root = manager.socket("/");
      const custom = manager.socket("/custom");
      await Promise.all([ready(root, mode), ready(custom, mode)]);
      const engine = manager.engine;
      // Leave /custom: the connection stays for /.
      const customGone = next(custom, "disconnect");
      custom.disconnect();
      assert.deepEqual((await customGone)[0], "io client disconnect");
      assert.equal(engine.readyState, "open");
      assert.deepEqual(await roundTrip(root, "after /custom left"), ["after /custom left"]);
      // /custom again on the same connection: the server took the DISCONNECT.
      const auth = next(custom, "auth");
      custom.connect();
      await ready(custom, mode);
      await auth;
      assert.equal(manager.engine, engine, "same Engine.IO connection");
      // Leave both: the Manager closes the connection.
      const engineClosed = next(engine, "close");
      const rootGone = next(root, "disconnect");
      root.disconnect();
      custom.disconnect();
      assert.equal((await rootGone)[0], "io client disconnect");
      assert.equal((await engineClosed)[0], "forced close");
    });

    test("client disconnect on its own Manager closes the connection", caseOptions, async () => {
      const { socket } = await connect(mode, "/");
      const engine = socket.io.engine;
      const engineClosed = next(engine, "close");
      const gone = next(socket, "disconnect");
      socket.disconnect();
      assert.equal((await gone)[0], "io client disconnect");
      assert.equal((await engineClosed)[0], "forced close");
      // And a new client connects afterwards.
      const again = await connect(mode, "/", { again: true });
      assert.deepEqual(again.auth, [{ again: true }]);
    });

    test("rooms: join and to-room reach the other member, not the sender", caseOptions, async () => {
      const room = `room-${mode}-${Math.random().toString(36).slice(2)}`;
      const a = (await connect(mode, "/")).socket;
      const b = (await connect(mode, "/")).socket;
      await Promise.all([
        a.timeout(WAIT_MS).emitWithAck("join", room),
        b.timeout(WAIT_MS).emitWithAck("join", room),
      ]);
      const payload = ["hi", { u: UNICODE, bin: bytes(8) }];
      const atB = next(b, "room-event");
      const notAtA = silence(a, "room-event", 300);
      a.emit("to-room", room, "room-event", ...payload);
      assertSame(await atB, payload);
      await notAtA;
    });

    test("connection state recovery: a lost connection comes back with its id and missed events", caseOptions, async () => {
      // The fixture's /socket.io-recovery/ keeps a lost session for 2000 ms; the client
      // reconnects 300 ms after it drops its connection, and the server emits `news` twice
      // 50 ms after asking, while the client is away, so they come back as a replay.
      const socket = newSocket(mode, "/", {
        path: "/socket.io-recovery/",
        reconnection: true,
        reconnectionDelay: 300,
        reconnectionDelayMax: 300,
        randomizationFactor: 0,
      });
      const firstAuth = next(socket, "auth", { what: "auth" });
      firstAuth.catch(() => {});
      await ready(socket, mode);
      const [auth, offset] = await firstAuth;
      assert.deepEqual(auth, {});
      assert.equal(typeof offset, "string", "the event ends with an offset");
      assert.equal(socket.recovered, false);
      const id = socket.id;
      const news = collect(socket, "news", 2);
      news.catch(() => {});
      const disconnected = next(socket, "disconnect");
      const reconnected = next(socket, "connect", { ms: WAIT_MS, failOn: ["connect_error"] });
      reconnected.catch(() => {});
      socket.emit("emit-later", 50, "news", 2);
      socket.io.engine.close();
      await disconnected;
      await reconnected;
      assert.equal(socket.recovered, true, "the session is recovered");
      assert.equal(socket.id, id, "with its old id");
      const got = await news;
      assert.deepEqual(got.map((args) => args[0]), [1, 2]);
      for (const args of got) assert.equal(typeof args[1], "string", "each with its offset");
    });

    test("engine.io-client: the /engine.io/ echo returns text and binary", caseOptions, async () => {
      const engine = new EngineSocket(baseUrl, { path: "/engine.io/", ...MODES[mode] });
      try {
        const upgraded =
          mode === "upgrade" ? next(engine, "upgrade", { what: "the Engine.IO upgrade" }) : null;
        upgraded && upgraded.catch(() => {});
        await next(engine, "open", { what: "Engine.IO open", failOn: ["error", "close"] });
        if (upgraded) await upgraded;
        assert.equal(engine.transport.name, mode === "upgrade" ? "websocket" : mode);
        const messages = collect(engine, "message", 4);
        engine.send(EIO_TEXT);
        engine.send(bytes(256));
        engine.send("");
        engine.send(new Uint8Array([1, 2, 3]));
        const got = (await messages).map(([data]) => data);
        assert.equal(got[0], EIO_TEXT);
        assertSame(got[1], bytes(256));
        // The server answers "4"; engine.io-parser decodes a packet without data as
        // `{ type: "message" }`, so engine.io-client hands an empty message over as undefined.
        assert.equal(got[2], undefined);
        assertSame(got[3], Buffer.from([1, 2, 3]));
      } finally {
        engine.close();
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Engine.IO protocol 3: the official engine.io-client 3.5 (socket.io 2.x's) against the fixture's
// /engine.io-v3/ echo

/** The fixture's pingInterval + pingTimeout: a v3 client that stops pinging is closed after it. */
const V3_HEARTBEAT_WINDOW_MS = 300 + 200;

const V3_MODES = {
  polling: { transports: ["polling"] },
  "polling, base64": { transports: ["polling"], forceBase64: true },
  websocket: { transports: ["websocket"] },
  upgrade: {},
};

describe("engine.io-client 3 (EIO=3) against /engine.io-v3/", { timeout: 60_000 }, () => {
  for (const [mode, options] of Object.entries(V3_MODES)) {
    test(`${mode}: text, unicode and binary echo, and the client's pings keep the session`, { timeout: TEST_MS }, async () => {
      const engine = new EngineSocketV3(baseUrl, { path: "/engine.io-v3/", ...options });
      try {
        const upgraded = mode === "upgrade" ? next(engine, "upgrade", { what: "the v3 upgrade" }) : null;
        upgraded && upgraded.catch(() => {});
        await next(engine, "open", { what: "Engine.IO v3 open", failOn: ["error", "close"] });
        if (upgraded) await upgraded;
        assert.equal(engine.transport.query.EIO, 3);
        assert.equal(engine.transport.name, mode === "upgrade" ? "websocket" : options.transports[0]);
        const echo = async () => {
          const messages = collect(engine, "message", 4);
          engine.send(UNICODE);
          engine.send(bytes(256));
          engine.send("4");
          engine.send(new Uint8Array([1, 2, 3]));
          const got = (await messages).map(([data]) => data);
          assert.equal(got[0], UNICODE);
          assert.deepEqual(Buffer.from(got[1]), bytes(256));
          assert.equal(got[2], "4");
          assert.deepEqual(Buffer.from(got[3]), Buffer.from([1, 2, 3]));
        };
        await echo();
        // The v3 client pings every pingInterval and closes on a missing pong; the server
        // closes a client that has not pinged for pingInterval + pingTimeout. Three windows
        // without a close, then the echo again.
        await silence(engine, "close", 3 * V3_HEARTBEAT_WINDOW_MS);
        await echo();
      } finally {
        engine.close();
      }
    });
  }
});

/**
 * Emits `emit-with-ack` with `args`; answers the server's request (the event with an ack
 * callback) with `answer(requestArgs)`; resolves with the request's args and the echo that
 * comes back.
 */
function serverAck(socket, args, answer) {
  return new Promise((resolve, reject) => {
    let request;
    const finish = (error, value) => {
      clearTimeout(timer);
      socket.off("emit-with-ack", onEvent);
      error ? reject(error) : resolve(value);
    };
    const onEvent = (...got) => {
      const last = got[got.length - 1];
      if (typeof last === "function") {
        if (request) return finish(new Error("a second emit-with-ack request"));
        got.pop();
        request = got;
        last(...answer(got));
      } else if (!request) {
        finish(new Error(`emit-with-ack without an ack request: ${inspect(got)}`));
      } else {
        finish(null, { request, echo: got });
      }
    };
    const timer = setTimeout(
      () =>
        finish(
          new Error(
            request
              ? `timed out after ${WAIT_MS} ms waiting for the ack answer to come back`
              : `timed out after ${WAIT_MS} ms waiting for the server's emit-with-ack request`,
          ),
        ),
      WAIT_MS,
    );
    socket.on("emit-with-ack", onEvent);
    socket.emit("emit-with-ack", ...args);
  });
}
