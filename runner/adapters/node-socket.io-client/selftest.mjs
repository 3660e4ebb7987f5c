// Self-test of client.mjs against docs/client-contract.md, before the suite's engine drives it:
// a scripted server on the official `socket.io` 4.8.4 (the same major as the client), the
// adapter as a child process with the contract's environment on 127.0.0.1, and checks over its
// stdin and stdout. Every case runs over the three transport settings the engine uses.
//
//   npm ci && node --test selftest.mjs

import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:http";
import { createInterface } from "node:readline";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Server } from "socket.io";

const ADAPTER_DIR = new URL(".", import.meta.url);
const PATH = "/socket.io/";
/** The deadline of every wait for a report or a server event, in ms. */
const WAIT_MS = 4000;
/** A window in which something must *not* happen (no reconnection), in ms. */
const SILENCE_MS = 400;
/** Fast reconnection, so that a dropped connection comes back within the waits. */
const FAST_RECONNECTION = { reconnectionDelay: 50, reconnectionDelayMax: 100, randomizationFactor: 0 };

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
 * middleware with data.
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
      connections.push({ nsp, id: socket.id, auth: socket.handshake.auth, engine: socket.conn.id, socket });
      socket.onAny((name, ...args) => events.push({ nsp, name, args, socket }));
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
    test("connects with SIO_AUTH and reports the id the server saw", async (t) => {
      const { server, adapter } = await session(t, { transports, auth: { token: "abc", n: 1 } });
      const seen = await connected(server, adapter);
      assert.deepStrictEqual(seen.auth, { token: "abc", n: 1 });
      const expected = transports === "polling" ? "polling" : "websocket";
      if (transports === "polling,websocket" && seen.socket.conn.transport.name !== "websocket") {
        await within(once(seen.socket.conn, "upgrade"), "the upgrade");
      }
      assert.equal(seen.socket.conn.transport.name, expected);
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
      const response = await socket.timeout(WAIT_MS).emitWithAck("question", 1, "two", Buffer.from([9]));
      assert.deepStrictEqual(response, 1, "emitWithAck resolves with the first argument");
      const line = await adapter.reports.next(like({ event: "event", name: "question" }), "question report");
      assert.deepStrictEqual(line, {
        event: "event",
        namespace: "/",
        name: "question",
        args: [1, "two", { $binary: "CQ==" }],
        ack: true,
      });
      const all = await new Promise((resolve, reject) =>
        socket.timeout(WAIT_MS).emit("question", "x", Buffer.from([1, 2]), (error, ...args) =>
          error ? reject(error) : resolve(args),
        ),
      );
      assert.equal(all[0], "x");
      assert.ok(all[1].equals(Buffer.from([1, 2])));
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

    test("plain and volatile emits arrive; a reserved name is a cue_error", async (t) => {
      const { server, adapter } = await session(t, { transports });
      await connected(server, adapter);
      adapter.cue({ cue: "emit", event: "plain", args: [{ a: [1, null] }] });
      const plain = await server.events.next((e) => e.name === "plain", "plain on the server");
      assert.deepStrictEqual(plain.args, [{ a: [1, null] }]);
      // A volatile emit is dropped, by design, while the transport is not writable (over
      // polling: while a POST is in flight), so it is tried a bounded number of times.
      let fleeting = null;
      for (let attempt = 0; attempt < 8 && !fleeting; attempt++) {
        adapter.cue({ cue: "emit", event: "fleeting", args: [attempt], volatile: true });
        fleeting = await server.events.next((e) => e.name === "fleeting", "volatile emit", 500).catch(() => null);
      }
      assert.ok(fleeting, "a volatile emit arrived");
      assert.equal(typeof fleeting.args[0], "number");
      adapter.cue({ cue: "emit", event: "disconnect", args: [], id: "bad" });
      const refused = await adapter.reports.next(like({ event: "cue_error", cue: "bad" }), "cue_error");
      assert.match(refused.message, /reserved event name/);
      adapter.cue({ cue: "emit", namespace: "/nowhere", event: "x", id: "lost" });
      await adapter.reports.next(like({ event: "cue_error", cue: "lost" }), "cue_error for an unknown namespace");
      adapter.cue({ cue: "fly" });
      await adapter.reports.next(like({ event: "cue_error" }), "cue_error for an unknown cue");
    });

    test("a second namespace shares the engine connection; its auth arrives", async (t) => {
      const { server, adapter } = await session(t, { transports, auth: { main: true } });
      const main = await connected(server, adapter);
      adapter.cue({ cue: "connect", namespace: "/admin", auth: { role: "admin" } });
      const admin = await connected(server, adapter, "/admin");
      assert.deepStrictEqual(admin.auth, { role: "admin" });
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
      adapter.cue({ cue: "connect", namespace: "/admin", auth: { role: "again" } });
      const again = await connected(server, adapter, "/admin");
      assert.equal(again.engine, main.engine, "connected again over the same connection");
      assert.deepStrictEqual(again.auth, { role: "again" }, "the new auth of the cue");
    });

    test("a refusal with data is a connect_error with message and data", async (t) => {
      const { server, adapter } = await session(t, { transports });
      await connected(server, adapter);
      adapter.cue({ cue: "connect", namespace: "/refused", auth: { try: 1 } });
      const refusal = await adapter.reports.next(like({ event: "connect_error", namespace: "/refused" }), "refusal");
      assert.deepStrictEqual(refusal, {
        event: "connect_error",
        namespace: "/refused",
        message: "refused",
        data: { reason: "not today", code: 7 },
      });
    });

    test("a refusal of the first namespace is reported, and the program keeps running", async (t) => {
      const { adapter } = await session(t, { transports, namespace: "/refused" });
      const refusal = await adapter.reports.next(like({ event: "connect_error" }), "refusal");
      assert.deepStrictEqual(refusal.data, { reason: "not today", code: 7 });
      adapter.cue({ cue: "emit", event: "x", id: "after" });
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
    });

    test("reconnection attempts exhausted: reconnect_failed, and the program stays", async (t) => {
      const { server, adapter } = await session(t, {
        transports,
        options: { ...FAST_RECONNECTION, reconnectionAttempts: 2 },
      });
      const first = await connected(server, adapter);
      // Refuse every new Engine.IO connection from now on, so that each attempt fails.
      server.io.engine.opts.allowRequest = (req, callback) => callback("no", false);
      first.socket.conn.close();
      await adapter.reports.next(like({ event: "reconnect_attempt", attempt: 1 }), "attempt 1");
      await adapter.reports.next(like({ event: "reconnect_attempt", attempt: 2 }), "attempt 2");
      await adapter.reports.next(like({ event: "reconnect_failed" }), "reconnect_failed");
      assert.ok(adapter.alive(), "the program does not exit on its own");
    });

    test("an option outside the contract is reported unsupported", async (t) => {
      const { server, adapter } = await session(t, { transports, options: { notAnOption: 1, timeout: 5000 } });
      await adapter.reports.next(like({ event: "unsupported", what: "notAnOption" }), "unsupported");
      await connected(server, adapter);
      assert.ok(!adapter.reports.any(like({ event: "unsupported", what: "timeout" })));
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
