// Self-test of client.mjs against docs/client-contract.md, before the suite's engine drives it:
// a scripted server on the official `socket.io` 2.5.1 (the same major as the client: Engine.IO
// 3, Socket.IO 4), the adapter as a child process with the contract's environment on 127.0.0.1,
// and checks over its stdin and stdout. Every case runs over the three transport settings the
// engine uses. Where 2.x lacks what the contract asks, the check is the `unsupported` report.
//
//   npm ci && node --test selftest.mjs

import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:http";
import { createInterface } from "node:readline";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import Server from "socket.io";

const ADAPTER_DIR = new URL(".", import.meta.url);
const PATH = "/socket.io/";
/** The deadline of every wait for a report or a server event, in ms. */
const WAIT_MS = 4000;
/** A window in which something must *not* happen (no reconnection), in ms. */
const SILENCE_MS = 400;
/** Fast reconnection, so that a dropped connection comes back within the waits (2.x turns a
 * randomizationFactor of 0 into its default 0.5, so none is given). */
const FAST_RECONNECTION = { reconnectionDelay: 50, reconnectionDelayMax: 100 };
/** engine.io 3's error code for a request its `allowRequest` refuses (Forbidden). */
const FORBIDDEN = 4;

/** Things that arrive in order and are awaited, each taken once, with a deadline. */
class Inbox {
  constructor(name) {
    this.name = name;
    this.items = [];
    this.seen = [];
    this.waiters = [];
  }

  push(item) {
    this.seen.push(item);
    const waiter = this.waiters.find((w) => w.matches(item));
    if (waiter) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      clearTimeout(waiter.timer);
      waiter.resolve(item);
    } else {
      this.items.push(item);
    }
  }

  /** The first item (arrived or to come) that matches, taken out; rejects after `ms`. */
  next(matches, what, ms = WAIT_MS) {
    const index = this.items.findIndex(matches);
    if (index >= 0) return Promise.resolve(this.items.splice(index, 1)[0]);
    return new Promise((resolve, reject) => {
      const waiter = { matches, resolve };
      waiter.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`${this.name}: no ${what} within ${ms} ms; seen: ${JSON.stringify(this.seen.map(brief))}`));
      }, ms);
      this.waiters.push(waiter);
    });
  }

  /** Whether an item that matches has arrived (taken or not). */
  any(matches) {
    return this.seen.some(matches);
  }
}

/** Server-side items are logged without their socket objects. */
function brief(item) {
  if (item && typeof item === "object" && "socket" in item) {
    const { socket, ...rest } = item;
    return { ...rest, socket: socket.id };
  }
  return item;
}

/** `promise`, or a rejection naming `what` after `ms`. */
function within(promise, what, ms = WAIT_MS) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** A matcher of reports: every key given must be deep-equal in the report. */
function like(expected) {
  return (actual) => {
    try {
      for (const [key, value] of Object.entries(expected)) assert.deepStrictEqual(actual[key], value);
      return true;
    } catch {
      return false;
    }
  };
}

/**
 * The scripted server: `/` and `/admin` record connections and events and answer `hello`
 * with an ack `["hi", ...args]`; `ignored` is never answered; `/refused` is refused by a
 * middleware with data, `/refused-plain` with a message alone.
 */
async function startServer() {
  const httpServer = createServer();
  const io = new Server(httpServer, { path: PATH, pingInterval: 1000, pingTimeout: 1000 });
  const engineConnections = new Inbox("engine connections");
  const connections = new Inbox("server connections");
  const events = new Inbox("server events");
  const disconnections = new Inbox("server disconnections");
  io.engine.on("connection", (conn) => engineConnections.push({ id: conn.id }));
  for (const nsp of ["/", "/admin"]) {
    io.of(nsp).on("connection", (socket) => {
      connections.push({ nsp, id: socket.id, query: socket.handshake.query, engine: socket.conn.id, socket });
      // socket.io 2.x has no onAny: a packet middleware sees every event (an ack function last
      // when the client asked for one).
      socket.use((packet, next) => {
        const [name, ...args] = packet;
        events.push({ nsp, name, args: args.filter((arg) => typeof arg !== "function"), socket });
        next();
      });
      socket.on("hello", (...args) => {
        const ack = args.pop();
        ack("hi", ...args);
      });
      socket.on("disconnect", (reason) => disconnections.push({ nsp, id: socket.id, reason }));
    });
  }
  io.of("/refused").use((socket, next) => {
    const error = new Error("refused");
    error.data = { reason: "not today", code: 7 };
    next(error);
  });
  io.of("/refused-plain").use((socket, next) => next(new Error("refused")));
  httpServer.listen(0, "127.0.0.1");
  await once(httpServer, "listening");
  const { port } = httpServer.address();
  return {
    url: `http://127.0.0.1:${port}`,
    io,
    engineConnections,
    connections,
    events,
    disconnections,
    refuseNewConnections: () => {
      io.engine.allowRequest = (req, callback) => callback(FORBIDDEN, false);
    },
    close: () => new Promise((resolve) => io.close(() => resolve())),
  };
}

/** The adapter as the runner starts it: the contract's settings, cues in, reports out. */
function startAdapter(server, { transports, namespace = "/", auth, options }) {
  const env = {
    ...process.env,
    SIO_URL: server.url,
    SIO_PATH: PATH,
    SIO_NAMESPACE: namespace,
    SIO_TRANSPORTS: transports,
    SIO_CASE: "selftest",
  };
  if (auth !== undefined) env.SIO_AUTH = JSON.stringify(auth);
  if (options !== undefined) env.SIO_OPTIONS = JSON.stringify(options);
  const child = spawn(process.execPath, ["client.mjs"], {
    cwd: ADAPTER_DIR,
    env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  const reports = new Inbox("adapter reports");
  const garbage = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    let parsed;
    try {
      parsed = JSON.parse(line);
    } catch {
      garbage.push(line);
      return;
    }
    reports.push(parsed);
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return {
    reports,
    garbage,
    exited,
    stderr: () => stderr,
    cue: (object) => child.stdin.write(JSON.stringify(object) + "\n"),
    end: () => child.stdin.end(),
    kill: () => child.kill("SIGKILL"),
    alive: () => child.exitCode === null && child.signalCode === null,
  };
}

/** A server and an adapter for one test, both stopped when it ends. */
async function session(t, settings) {
  const server = await startServer();
  const adapter = startAdapter(server, settings);
  t.after(async () => {
    if (adapter.alive()) adapter.kill();
    await adapter.exited;
    await server.close();
    assert.deepStrictEqual(adapter.garbage, [], "every stdout line is a JSON object");
  });
  return { server, adapter };
}

/** Waits for the first namespace's connect on both sides; returns the server's socket. */
async function connected(server, adapter, nsp = "/") {
  const seen = await server.connections.next((c) => c.nsp === nsp, `connection to ${nsp}`);
  await adapter.reports.next(like({ event: "connect", namespace: nsp, id: seen.id }), `connect report of ${nsp} with id ${seen.id}`);
  return seen;
}

for (const transports of ["polling", "websocket", "polling,websocket"]) {
  describe(`SIO_TRANSPORTS=${transports}`, { timeout: 20000 }, () => {
    test("connects and reports the id the server saw; SIO_AUTH is unsupported", async (t) => {
      const { server, adapter } = await session(t, { transports, auth: { token: "abc" } });
      await adapter.reports.next(like({ event: "unsupported", what: "auth" }), "unsupported auth");
      const seen = await connected(server, adapter);
      assert.equal(seen.query.token, undefined, "nothing of the auth was sent");
      const expected = transports === "polling" ? "polling" : "websocket";
      if (transports === "polling,websocket" && seen.socket.conn.transport.name !== "websocket") {
        await within(once(seen.socket.conn, "upgrade"), "the upgrade");
      }
      assert.equal(seen.socket.conn.transport.name, expected);
      assert.equal(seen.query.EIO, "3", "Engine.IO protocol 3");
    });

    test("echo comes back as echo-back, binary intact, and is reported", async (t) => {
      const { server, adapter } = await session(t, { transports });
      const { socket } = await connected(server, adapter);
      const bytes = Buffer.from([0, 1, 2, 255]);
      socket.emit("echo", "text", bytes, { nested: [Buffer.from("hé")] }, 3);
      const line = await adapter.reports.next(like({ event: "event", name: "echo" }), "echo report");
      assert.deepStrictEqual(line, {
        event: "event",
        namespace: "/",
        name: "echo",
        args: ["text", { $binary: "AAEC/w==" }, { nested: [{ $binary: Buffer.from("hé").toString("base64") }] }, 3],
      });
      const back = await server.events.next((e) => e.name === "echo-back", "echo-back");
      assert.equal(back.args[0], "text");
      assert.ok(Buffer.isBuffer(back.args[1]) && back.args[1].equals(bytes), "binary stays binary");
      assert.ok(back.args[2].nested[0].equals(Buffer.from("hé")));
      assert.equal(back.args[3], 3);
    });

    test("a server event with an ack is answered with its arguments, once", async (t) => {
      const { server, adapter } = await session(t, { transports });
      const { socket } = await connected(server, adapter);
      const answer = await within(
        new Promise((resolve) => socket.emit("question", 1, "two", Buffer.from([9]), (...args) => resolve(args))),
        "the ack of question",
      );
      assert.equal(answer[0], 1);
      assert.equal(answer[1], "two");
      assert.ok(Buffer.isBuffer(answer[2]) && answer[2].equals(Buffer.from([9])), "binary ack argument");
      const line = await adapter.reports.next(like({ event: "event", name: "question" }), "question report");
      assert.deepStrictEqual(line, {
        event: "event",
        namespace: "/",
        name: "question",
        args: [1, "two", { $binary: "CQ==" }],
        ack: true,
      });
    });

    test("a cued emit with ack reports the ack; with a timeout never answered, ack_error", async (t) => {
      const { server, adapter } = await session(t, { transports });
      await connected(server, adapter);
      adapter.cue({ cue: "emit", event: "hello", args: [1, { $binary: "BAU=" }], ack: true, id: "c1" });
      const ack = await adapter.reports.next(like({ event: "ack", cue: "c1" }), "ack of c1");
      assert.deepStrictEqual(ack.args, ["hi", 1, { $binary: "BAU=" }]);
      const hello = await server.events.next((e) => e.name === "hello", "hello on the server");
      assert.ok(Buffer.isBuffer(hello.args[1]), "a cue's $binary is sent as binary");

      adapter.cue({ cue: "emit", event: "hello", args: ["quick"], ack: true, timeout: 2000, id: "c2" });
      const timely = await adapter.reports.next(like({ event: "ack", cue: "c2" }), "ack of c2");
      assert.deepStrictEqual(timely.args, ["hi", "quick"]);

      adapter.cue({ cue: "emit", event: "ignored", args: [], ack: true, timeout: 150, id: "c3" });
      const failed = await adapter.reports.next((r) => r.cue === "c3", "a report of c3");
      assert.deepStrictEqual(failed, { event: "ack_error", cue: "c3", message: "operation has timed out" });
      await server.events.next((e) => e.name === "ignored", "ignored on the server");
    });

    test("plain emits arrive; volatile is unsupported; a reserved name is a cue_error", async (t) => {
      const { server, adapter } = await session(t, { transports });
      await connected(server, adapter);
      adapter.cue({ cue: "emit", event: "plain", args: [{ a: [1, null] }] });
      const plain = await server.events.next((e) => e.name === "plain", "plain on the server");
      assert.deepStrictEqual(plain.args, [{ a: [1, null] }]);
      adapter.cue({ cue: "emit", event: "fleeting", args: ["v"], volatile: true });
      await adapter.reports.next(like({ event: "unsupported", what: "volatile" }), "unsupported volatile");
      adapter.cue({ cue: "emit", event: "disconnect", args: [], id: "bad" });
      const refused = await adapter.reports.next(like({ event: "cue_error", cue: "bad" }), "cue_error");
      assert.match(refused.message, /reserved event name/);
      adapter.cue({ cue: "emit", namespace: "/nowhere", event: "x", id: "lost" });
      await adapter.reports.next(like({ event: "cue_error", cue: "lost" }), "cue_error for an unknown namespace");
      adapter.cue({ cue: "emit", event: "after", args: [] });
      await server.events.next((e) => e.name === "after", "a later emit on the server");
      assert.ok(!server.events.any((e) => e.name === "fleeting"), "the volatile emit was not made");
      assert.ok(!adapter.reports.any((r) => r.event === "disconnect"), "the reserved name was not emitted locally");
    });

    test("a second namespace shares the engine connection", async (t) => {
      const { server, adapter } = await session(t, { transports });
      const main = await connected(server, adapter);
      adapter.cue({ cue: "connect", namespace: "/admin", auth: { role: "admin" } });
      await adapter.reports.next(like({ event: "unsupported", what: "auth" }), "unsupported auth of the cue");
      const admin = await connected(server, adapter, "/admin");
      assert.equal(admin.engine, main.engine, "one Engine.IO connection");
      assert.equal(server.engineConnections.seen.length, 1);
      adapter.cue({ cue: "emit", namespace: "/admin", event: "hello", args: ["a"], ack: true, id: "adm" });
      const ack = await adapter.reports.next(like({ event: "ack", cue: "adm" }), "ack on /admin");
      assert.deepStrictEqual(ack.args, ["hi", "a"]);
      const hello = await server.events.next((e) => e.name === "hello", "hello on /admin");
      assert.equal(hello.nsp, "/admin");

      admin.socket.emit("echo", "from-admin");
      const back = await server.events.next((e) => e.name === "echo-back", "echo-back on /admin");
      assert.equal(back.nsp, "/admin");

      adapter.cue({ cue: "disconnect", namespace: "/admin" });
      await adapter.reports.next(
        like({ event: "disconnect", namespace: "/admin", reason: "io client disconnect" }),
        "disconnect of /admin",
      );
      await server.disconnections.next((d) => d.nsp === "/admin", "/admin gone on the server");
      adapter.cue({ cue: "connect", namespace: "/admin" });
      const again = await connected(server, adapter, "/admin");
      assert.equal(again.engine, main.engine, "connected again over the same connection");
    });

    test("a namespace's query option is its CONNECT query, as 2.x sends it", async (t) => {
      const { server, adapter } = await session(t, { transports, options: { query: { k: "v" } } });
      const main = await connected(server, adapter);
      assert.equal(main.query.k, "v", "the handshake's query");
      adapter.cue({ cue: "connect", namespace: "/admin" });
      const admin = await connected(server, adapter, "/admin");
      assert.equal(admin.query.k, "v");
    });

    test("a refusal with data is a connect_error with that data; one without, its message", async (t) => {
      const { server, adapter } = await session(t, { transports });
      await connected(server, adapter);
      adapter.cue({ cue: "connect", namespace: "/refused" });
      const refusal = await adapter.reports.next(like({ event: "connect_error", namespace: "/refused" }), "refusal");
      assert.deepStrictEqual(refusal, {
        event: "connect_error",
        namespace: "/refused",
        message: null,
        data: { reason: "not today", code: 7 },
      });
      adapter.cue({ cue: "connect", namespace: "/refused-plain" });
      const plain = await adapter.reports.next(
        like({ event: "connect_error", namespace: "/refused-plain" }),
        "plain refusal",
      );
      assert.deepStrictEqual(plain, {
        event: "connect_error",
        namespace: "/refused-plain",
        message: "refused",
        data: null,
      });
    });

    test("a refusal of the first namespace is reported, and the program keeps running", async (t) => {
      const { adapter } = await session(t, { transports, namespace: "/refused" });
      const refusal = await adapter.reports.next(like({ event: "connect_error" }), "refusal");
      assert.deepStrictEqual(refusal.data, { reason: "not today", code: 7 });
      adapter.cue({ cue: "emit", namespace: "/", event: "x", id: "after" });
      await adapter.reports.next(like({ event: "cue_error", cue: "after" }), "a later cue is still read");
    });

    test("a server-side disconnect is io server disconnect, without reconnection", async (t) => {
      const { server, adapter } = await session(t, { transports, options: FAST_RECONNECTION });
      const { socket } = await connected(server, adapter);
      socket.disconnect();
      await adapter.reports.next(
        like({ event: "disconnect", namespace: "/", reason: "io server disconnect" }),
        "io server disconnect",
      );
      // A silence several times the reconnection delay: nothing may try to come back.
      await new Promise((resolve) => setTimeout(resolve, SILENCE_MS));
      assert.ok(!adapter.reports.any((r) => r.event === "reconnect_attempt"), "no reconnection attempt");
      assert.equal(server.connections.seen.length, 1, "no new connection");
    });

    test("a dropped connection: transport close, reconnect_attempt, reconnect, connect", async (t) => {
      const { server, adapter } = await session(t, { transports, options: FAST_RECONNECTION });
      const first = await connected(server, adapter);
      first.socket.conn.close();
      await adapter.reports.next(
        like({ event: "disconnect", namespace: "/", reason: "transport close" }),
        "transport close",
      );
      await adapter.reports.next(like({ event: "reconnect_attempt", attempt: 1 }), "reconnect_attempt 1");
      await adapter.reports.next(like({ event: "reconnect", attempt: 1 }), "reconnect 1");
      const second = await connected(server, adapter);
      assert.notEqual(second.id, first.id);
      assert.equal(server.engineConnections.seen.length, 2);
      assert.equal(adapter.reports.seen.filter((r) => r.event === "reconnect").length, 1, "reported once");
    });

    test("reconnection attempts exhausted: reconnect_failed, and the program stays", async (t) => {
      const { server, adapter } = await session(t, {
        transports,
        options: { ...FAST_RECONNECTION, reconnectionAttempts: 2 },
      });
      const first = await connected(server, adapter);
      server.refuseNewConnections();
      first.socket.conn.close();
      await adapter.reports.next(like({ event: "reconnect_attempt", attempt: 1 }), "attempt 1");
      await adapter.reports.next(like({ event: "reconnect_attempt", attempt: 2 }), "attempt 2");
      await adapter.reports.next(like({ event: "reconnect_failed" }), "reconnect_failed");
      assert.ok(adapter.alive(), "the program does not exit on its own");
    });

    test("options 2.x lacks are reported unsupported, unless 2.x behaves so anyway", async (t) => {
      const options = {
        ackTimeout: 100,
        retries: 2,
        tryAllTransports: true,
        addTrailingSlash: false,
        notAnOption: 1,
        timeout: 5000,
      };
      const { server, adapter } = await session(t, { transports, options });
      for (const what of ["ackTimeout", "retries", "tryAllTransports", "addTrailingSlash", "notAnOption"]) {
        await adapter.reports.next(like({ event: "unsupported", what }), `unsupported ${what}`);
      }
      await connected(server, adapter);
      assert.ok(!adapter.reports.any(like({ event: "unsupported", what: "timeout" })));
    });

    test("options set to what 2.x always does are not unsupported", async (t) => {
      const options = { retries: 0, tryAllTransports: false, addTrailingSlash: true };
      const { server, adapter } = await session(t, { transports, options });
      await connected(server, adapter);
      assert.ok(!adapter.reports.any((r) => r.event === "unsupported"));
    });

    test("the close cue closes every socket; the end of stdin ends the program", async (t) => {
      const { server, adapter } = await session(t, { transports });
      await connected(server, adapter);
      adapter.cue({ cue: "connect", namespace: "/admin" });
      await connected(server, adapter, "/admin");
      adapter.cue({ cue: "close" });
      const gone = [
        await server.disconnections.next((d) => d.nsp === "/", "/ closed on the server"),
        await server.disconnections.next((d) => d.nsp === "/admin", "/admin closed on the server"),
      ];
      for (const d of gone) assert.equal(d.reason, "client namespace disconnect");
      assert.ok(adapter.alive(), "close waits for the end of stdin");
      adapter.end();
      const exit = await within(adapter.exited, "the exit", 1000);
      assert.deepStrictEqual(exit, { code: 0, signal: null });
    });

    test("the end of stdin closes the connection and ends the program", async (t) => {
      const { server, adapter } = await session(t, { transports });
      await connected(server, adapter);
      adapter.end();
      const exit = await within(adapter.exited, "the exit", 1000);
      assert.deepStrictEqual(exit, { code: 0, signal: null });
      const gone = await server.disconnections.next((d) => d.nsp === "/", "/ closed on the server");
      assert.equal(gone.reason, "client namespace disconnect", "the manager was closed before exiting");
    });
  });
}
