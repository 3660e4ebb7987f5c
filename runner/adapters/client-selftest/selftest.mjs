// Self-test of a client adapter (docs/client-contract.md), before the suite's engine drives it:
// the official socket.io server, on 127.0.0.1, plays the server side; the adapter is started with
// the contract's environment and checked over its standard input and output.
//
//   node selftest.mjs --cwd ../python-socketio-client -- .venv/bin/python client.py
//   node selftest.mjs --cwd ../rust-socketio-client [--transports websocket] -- target/release/rust-socketio-client
//
// Checks, per transport list (websocket, polling, and polling,websocket by default): the connect report carries the id the
// server gave, the auth arrives, `echo` comes back as `echo-back` with its binary argument intact,
// a server event with an ack is answered with its arguments, a cued emit gets its ack, a cued emit
// with a timeout gets its ack_error, a dropped transport is followed by a reconnection (reported),
// a server-side disconnect is reported with its reason, the program exits when its standard input
// ends; then once, a refused CONNECT is reported with the refusal's message and data. A report of
// `unsupported` for what a check needs makes that check SKIP, not FAIL.
//
// Every wait has a deadline; nothing sleeps where an event can be awaited. The last line is
// "N passed, N failed, N skipped"; the exit code is 1 when any check failed.
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { once } from "node:events";
import { isDeepStrictEqual, inspect } from "node:util";
import { Server } from "socket.io";

const STEP_MS = Number(process.env.SELFTEST_STEP_MS ?? 5000); // the deadline of one step
// The deadline of one step in a check declared with --without: it is expected to fail, and its
// failure is shown, so it need not wait as long.
const DECLARED_STEP_MS = Math.min(STEP_MS, 1000);
let stepMs = STEP_MS;
const EXIT_MS = 1500; // how soon the program must exit once its standard input ended

function parseArgs(argv) {
  const opts = {
    cwd: ".",
    transports: ["websocket", "polling", "polling,websocket"],
    without: new Set(),
    options: { reconnectionDelay: 100, reconnectionDelayMax: 200, randomizationFactor: 0 },
    command: [],
  };
  const dash = argv.indexOf("--");
  const flags = dash < 0 ? argv : argv.slice(0, dash);
  opts.command = dash < 0 ? [] : argv.slice(dash + 1);
  for (let i = 0; i < flags.length; i++) {
    if (flags[i] === "--cwd") opts.cwd = flags[++i];
    else if (flags[i] === "--transports") opts.transports = flags[++i].split(" ");
    else if (flags[i] === "--without") for (const key of flags[++i].split(",")) opts.without.add(key);
    else if (flags[i] === "--options") opts.options = JSON.parse(flags[++i]);
    else throw new Error(`unknown argument ${flags[i]}`);
  }
  if (opts.command.length === 0)
    throw new Error("usage: selftest.mjs [--cwd DIR] [--transports 'websocket polling'] [--without KEY,...] [--options JSON] -- COMMAND...");
  return opts;
}

/** A promise that rejects after `ms` with `what` in its message. */
function deadline(promise, ms, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

const results = { passed: 0, failed: 0, skipped: 0 };
class Skip extends Error {}

let without = new Set(); // keys of the checks the adapter's library is declared unable to pass

/** Runs one check; `key` names it for `--without`, which turns its failure into a SKIP. */
async function check(key, name, body) {
  const started = Date.now();
  stepMs = without.has(key) ? DECLARED_STEP_MS : STEP_MS;
  try {
    const detail = await body();
    results.passed++;
    console.log(`PASS ${name} (${Date.now() - started} ms)${detail ? `: ${detail}` : ""}`);
    return true;
  } catch (err) {
    if (err instanceof Skip) {
      results.skipped++;
      console.log(`SKIP ${name}: ${err.message}`);
    } else if (without.has(key)) {
      results.skipped++;
      console.log(`SKIP ${name}: declared unsupported (--without ${key}); it failed: ${err.message}`);
    } else {
      results.failed++;
      console.log(`FAIL ${name}: ${err.message}`);
    }
    return false;
  } finally {
    stepMs = STEP_MS;
  }
}

/** The official server with the namespaces the checks use. */
async function startServer() {
  const http = createServer();
  const io = new Server(http, { path: "/socket.io/", pingInterval: 1000, pingTimeout: 2000 });
  io.of("/refused").use((_socket, next) => {
    const err = new Error("not allowed");
    err.data = { code: 42, why: "selftest" };
    next(err);
  });
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  const url = `http://127.0.0.1:${http.address().port}`;
  // Server-side sockets of "/", in arrival order, with waiters.
  const arrivals = [];
  const waiters = [];
  io.of("/").on("connection", (socket) => {
    const waiter = waiters.shift();
    if (waiter) waiter(socket);
    else arrivals.push(socket);
  });
  const nextSocket = (what) =>
    deadline(
      new Promise((resolve) => (arrivals.length ? resolve(arrivals.shift()) : waiters.push(resolve))),
      stepMs,
      what,
    );
  return { io, http, url, nextSocket };
}

/** The adapter as a child process: its reports, with waiters, and its exit. */
class Adapter {
  constructor(opts, env) {
    this.child = spawn(opts.command[0], opts.command.slice(1), {
      cwd: opts.cwd,
      env: { ...process.env, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.reports = []; // every report, in order
    this.unclaimed = []; // reports no check has taken yet
    this.waiters = [];
    this.stderr = [];
    this.exited = new Promise((resolve) => this.child.on("exit", (code, signal) => resolve({ code, signal })));
    let buffered = "";
    this.child.stdout.setEncoding("utf8");
    this.child.stdout.on("data", (chunk) => {
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        this.onLine(line);
      }
    });
    this.child.stderr.setEncoding("utf8");
    this.child.stderr.on("data", (chunk) => this.stderr.push(chunk));
  }

  onLine(line) {
    let report;
    try {
      report = JSON.parse(line);
    } catch {
      return; // not JSON: kept by the runner in its transcript, ignored here
    }
    if (report === null || typeof report !== "object" || Array.isArray(report)) return;
    this.reports.push(report);
    const i = this.waiters.findIndex((w) => w.match(report));
    if (i >= 0) this.waiters.splice(i, 1)[0].resolve(report);
    else this.unclaimed.push(report);
  }

  /** The first report, past or future, that `match` accepts and no other check took. */
  report(match, what) {
    const i = this.unclaimed.findIndex(match);
    if (i >= 0) return Promise.resolve(this.unclaimed.splice(i, 1)[0]);
    return deadline(new Promise((resolve) => this.waiters.push({ match, resolve })), stepMs, what);
  }

  unsupported(what) {
    return this.reports.some((r) => r.event === "unsupported" && r.what === what);
  }

  /** Sends a cue, then awaits `outcome` unless an `unsupported` report follows the cue (a SKIP). */
  async cueOrSkip(cue, outcome) {
    const since = this.reports.length;
    let active = true; // a waiter that outlived its check must not take a later check's report
    const refused = this.report((r) => active && r.event === "unsupported" && this.reports.indexOf(r) >= since, "");
    this.cue(cue);
    try {
      const first = await Promise.race([outcome.then((value) => ({ value })), refused.then((report) => ({ report }))]);
      if (first.report) throw new Skip(`the adapter reports ${JSON.stringify(first.report)}`);
      return first.value;
    } finally {
      active = false;
      refused.catch(() => {}); // its deadline may still pass: nobody waits for it any more
    }
  }

  /** Waits for `match` or for an `unsupported` report of `what`; the latter skips the check. */
  async reportOrSkip(match, what, unsupportedWhat) {
    const found = await this.report((r) => match(r) || (r.event === "unsupported" && r.what === unsupportedWhat), what);
    if (found.event === "unsupported") throw new Skip(`the adapter reports ${JSON.stringify(found)}`);
    return found;
  }

  cue(obj) {
    this.child.stdin.write(JSON.stringify(obj) + "\n");
  }

  async end() {
    this.child.stdin.end();
    const started = Date.now();
    try {
      const { code, signal } = await deadline(this.exited, EXIT_MS, "exit after the end of standard input");
      return `exited ${signal ?? code} ${Date.now() - started} ms after the end of standard input`;
    } finally {
      this.child.kill("SIGKILL");
    }
  }

  kill() {
    this.child.kill("SIGKILL");
  }
}

const binary = (bytes) => ({ $binary: Buffer.from(bytes).toString("base64") });
const show = (v) => inspect(v, { depth: 6, breakLength: Infinity });
function expectEqual(actual, expected, what) {
  if (!isDeepStrictEqual(actual, expected)) throw new Error(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}

/** Severs the transport under a server-side socket without a close packet. */
function dropTransport(socket) {
  const transport = socket.conn.transport;
  if (transport.name === "websocket") {
    transport.socket.terminate(); // ws: closes the TCP connection, no close frame
    return true;
  }
  // polling: the TCP connection of the pending GET, when there is one
  const req = transport.req;
  if (req?.socket) {
    req.socket.destroy();
    return true;
  }
  return false;
}

async function runMain(opts, server, transport) {
  const label = (name) => `${transport}: ${name}`;
  const adapter = new Adapter(opts, {
    SIO_URL: server.url,
    SIO_PATH: "/socket.io/",
    SIO_NAMESPACE: "/",
    SIO_AUTH: JSON.stringify({ token: "abc" }),
    SIO_TRANSPORTS: transport,
    SIO_OPTIONS: JSON.stringify(opts.options),
    // Not of the contract: the event names the server sends, for a library that has no catch-all
    // handler (its adapter registers them by name).
    SIO_EVENTS: "echo,ask",
    SIO_CASE: `selftest/${transport}`,
  });
  try {
    let socket;
    let connectReport;
    const connected = await check("connect", label("connect, and its report"), async () => {
      socket = await server.nextSocket("connection at the server");
      connectReport = await adapter.report((r) => r.event === "connect" && r.namespace === "/", "connect report");
    });
    if (!connected) return;

    await check("connect-id", label("the connect report carries the server's socket id"), async () => {
      expectEqual(connectReport.id, socket.id, "the reported id");
      return `id ${connectReport.id}`;
    });

    await check("auth", label("auth arrives in CONNECT"), async () => {
      expectEqual(socket.handshake.auth, { token: "abc" }, "handshake.auth");
    });

    await check("echo-binary", label("echo -> echo-back, a lone binary argument intact"), async () => {
      const back = deadline(new Promise((resolve) => socket.once("echo-back", (...args) => resolve(args))), stepMs, "echo-back");
      socket.emit("echo", Buffer.from([5, 6, 0]));
      expectEqual(await back, [Buffer.from([5, 6, 0])], "echo-back's arguments");
      const seen = await adapter.report((r) => r.event === "event" && r.name === "echo", "event report of echo");
      expectEqual(seen.args, [binary([5, 6, 0])], "the reported arguments");
    });

    await check("echo-mixed-binary", label("echo -> echo-back, text and binary arguments intact"), async () => {
      const back = deadline(new Promise((resolve) => socket.once("echo-back", (...args) => resolve(args))), stepMs, "echo-back");
      socket.emit("echo", "text", Buffer.from([0, 1, 2, 255]));
      expectEqual(await back, ["text", Buffer.from([0, 1, 2, 255])], "echo-back's arguments");
      const seen = await adapter.report((r) => r.event === "event" && r.name === "echo", "event report of echo");
      expectEqual(seen.args, ["text", binary([0, 1, 2, 255])], "the reported arguments");
    });

    await check("server-ack", label("a server event with ack is answered with its arguments"), async () => {
      // emitWithAck() would keep the first argument only.
      const reply = await deadline(
        new Promise((resolve, reject) =>
          socket.timeout(stepMs).emit("ask", 1, "two", Buffer.from([3, 4]), (err, ...args) => (err ? reject(err) : resolve(args))),
        ),
        stepMs + 100,
        "ack",
      );
      expectEqual(reply, [1, "two", Buffer.from([3, 4])], "the ack's arguments");
      const seen = await adapter.report((r) => r.event === "event" && r.name === "ask", "event report of ask");
      expectEqual(seen.ack, true, "the report's ack flag");
    });

    await check("cued-ack", label("a cued emit with ack, a binary ack"), async () => {
      const got = deadline(
        new Promise((resolve) =>
          socket.once("hello", (...args) => {
            const ack = args.pop();
            ack("ok", Buffer.from([7, 8]));
            resolve(args);
          }),
        ),
        stepMs,
        "hello at the server",
      );
      const args = await adapter.cueOrSkip({ cue: "emit", event: "hello", args: [1, "2"], ack: true, id: "c1" }, got);
      expectEqual(args, [1, "2"], "hello's arguments at the server");
      const ack = await adapter.report((r) => r.event === "ack" && r.cue === "c1", "ack report");
      expectEqual(ack.args, ["ok", binary([7, 8])], "the reported ack's arguments");
    });

    await check("cued-binary", label("a cued emit of text and binary arguments, with ack"), async () => {
      const got = deadline(
        new Promise((resolve) =>
          socket.once("bin", (...args) => {
            args.pop()();
            resolve(args);
          }),
        ),
        stepMs,
        "bin at the server",
      );
      const seen = await adapter.cueOrSkip({ cue: "emit", event: "bin", args: ["x", binary([1, 2])], ack: true, id: "c3" }, got);
      expectEqual(seen, ["x", Buffer.from([1, 2])], "bin's arguments at the server");
      const ack = await adapter.report((r) => r.event === "ack" && r.cue === "c3", "ack report");
      expectEqual(ack.args, [], "the reported ack's arguments");
    });

    await check("cued-lone-binary", label("a cued emit of a lone binary argument, with ack"), async () => {
      const got = deadline(
        new Promise((resolve) =>
          socket.once("lone", (...args) => {
            args.pop()("done");
            resolve(args);
          }),
        ),
        stepMs,
        "lone at the server",
      );
      const seen = await adapter.cueOrSkip({ cue: "emit", event: "lone", args: [binary([9, 9])], ack: true, id: "c4" }, got);
      expectEqual(seen, [Buffer.from([9, 9])], "lone's arguments at the server");
      const ack = await adapter.report((r) => r.event === "ack" && r.cue === "c4", "ack report");
      expectEqual(ack.args, ["done"], "the reported ack's arguments");
    });

    await check("ack-timeout", label("a cued emit with a timeout and no ack: ack_error"), async () => {
      const seen = await adapter.cueOrSkip(
        { cue: "emit", event: "silent", args: ["x"], ack: true, timeout: 300, id: "c2" },
        adapter.report((r) => r.event === "ack_error" && r.cue === "c2", "ack_error report"),
      );
      return `message ${JSON.stringify(seen.message)}`;
    });

    await check("reconnection", label("a dropped transport, then a reconnection"), async () => {
      const dropped = socket;
      if (!dropTransport(dropped)) throw new Skip("no pending request to sever");
      const gone = await adapter.report((r) => r.event === "disconnect" && r.namespace === "/", "disconnect report");
      socket = await server.nextSocket("a new connection at the server");
      const seen = await adapter.report((r) => r.event === "connect" && r.namespace === "/", "connect report");
      if (!without.has("connect-id")) expectEqual(seen.id, socket.id, "the reported id");
      expectEqual(socket.handshake.auth, { token: "abc" }, "handshake.auth on reconnection");
      const attempt = await adapter.reportOrSkip((r) => r.event === "reconnect_attempt", "reconnect_attempt report", "reconnect_attempt");
      expectEqual(attempt.attempt, 1, "the attempt's number");
      const back = await adapter.reportOrSkip((r) => r.event === "reconnect", "reconnect report", "reconnect");
      expectEqual(back.attempt, 1, "the reconnect's attempt number");
      return `disconnect reason ${JSON.stringify(gone.reason)}`;
    });

    let gone;
    await check("server-disconnect", label("a server-side disconnect is reported"), async () => {
      socket.disconnect();
      gone = await adapter.report((r) => r.event === "disconnect" && r.namespace === "/", "disconnect report");
    });
    if (gone) {
      await check("disconnect-reason", label("... with the reason io server disconnect"), async () => {
        expectEqual(gone.reason, "io server disconnect", "the reason");
      });
    }

    await check("exit", label("exit at the end of standard input"), () => adapter.end());
  } finally {
    adapter.kill();
    const stray = adapter.reports.filter((r) => r.event === "unsupported");
    if (stray.length) console.log(`     ${transport}: unsupported reports: ${stray.map((r) => JSON.stringify(r.what)).join(", ")}`);
  }
}

async function runRefusal(opts, server, transport) {
  const adapter = new Adapter(opts, {
    SIO_URL: server.url,
    SIO_PATH: "/socket.io/",
    SIO_NAMESPACE: "/refused",
    SIO_TRANSPORTS: transport,
    SIO_CASE: `selftest/refused/${transport}`,
  });
  try {
    await check("refusal", `${transport}: a refused CONNECT: connect_error with message and data`, async () => {
      const seen = await adapter.report((r) => r.event === "connect_error", "connect_error report");
      expectEqual(seen.namespace, "/refused", "the namespace");
      expectEqual(seen.message, "not allowed", "the message");
      expectEqual(seen.data, { code: 42, why: "selftest" }, "the data");
    });
    await check("exit", `${transport}: exit at the end of standard input (after a refusal)`, () => adapter.end());
  } finally {
    adapter.kill();
  }
}

/** Reconnection attempts that all fail: the server stops listening, then drops the transport. */
async function runGiveUp(opts) {
  const server = await startServer();
  const adapter = new Adapter(opts, {
    SIO_URL: server.url,
    SIO_PATH: "/socket.io/",
    SIO_NAMESPACE: "/",
    SIO_TRANSPORTS: "websocket",
    SIO_OPTIONS: JSON.stringify({ ...opts.options, reconnectionAttempts: 2 }),
    SIO_CASE: "selftest/give-up",
  });
  try {
    await check("give-up", "websocket: reconnection attempts exhausted: reconnect_failed, and the program stays", async () => {
      const socket = await server.nextSocket("connection at the server");
      await adapter.report((r) => r.event === "connect", "connect report");
      server.http.close(); // no new connections from here on
      dropTransport(socket);
      await adapter.report((r) => r.event === "disconnect", "disconnect report");
      for (const n of [1, 2]) {
        const seen = await adapter.report((r) => r.event === "reconnect_attempt", `reconnect_attempt report ${n}`);
        expectEqual(seen.attempt, n, "the attempt's number");
      }
      await adapter.report((r) => r.event === "reconnect_failed", "reconnect_failed report");
      // The program must not exit on its own: it is still there to obey a cue.
      if (adapter.child.exitCode !== null) throw new Error(`exited with ${adapter.child.exitCode}`);
    });
    await check("exit", "websocket: exit at the end of standard input (after giving up)", () => adapter.end());
    const more = adapter.reports.filter((r) => r.event === "reconnect_attempt").length;
    if (more > 2) console.log(`     reconnect_attempt reports after giving up: ${more - 2} more`);
  } finally {
    adapter.kill();
    server.io.close();
  }
}

const opts = parseArgs(process.argv.slice(2));
without = opts.without;
const server = await startServer();
console.log(`official socket.io server on ${server.url}; adapter: ${opts.command.join(" ")} (in ${opts.cwd})`);
try {
  for (const transport of opts.transports) await runMain(opts, server, transport);
  await runRefusal(opts, server, opts.transports[0]);
  await runGiveUp(opts);
} finally {
  server.io.close();
}
console.log(`${results.passed} passed, ${results.failed} failed, ${results.skipped} skipped`);
process.exit(results.failed ? 1 : 0);
