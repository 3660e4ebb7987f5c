"use strict";
// The reference fixture server (reference/src/bin/sio-fixture-server.rs) against the official
// socket.io-client *browser bundle* (socket.io-client's dist/socket.io.min.js) in headless
// Chromium, driven by playwright-core: the browser's own XMLHttpRequest and WebSocket, its CORS
// checks and its cookie jar, which the Node.js client of interop.test.js does not exercise.
//
// The page is served from another origin than the server (another port on 127.0.0.1), so
// every polling request is a cross-origin request with `withCredentials: true`: the fixture is
// started with `--cors-origin <the page's origin> --cookie` (credentialed CORS for that origin,
// and the `io` session cookie at /socket.io/).
//
// Chromium is /usr/bin/chromium unless $SIO_CHROMIUM names another binary. Without it the
// tests are skipped, unless $SIO_BROWSER_REQUIRED is set (CI sets it), when they fail.
//
// With $SIO_PROXY naming an `sio-conformance` binary that has the `proxy` command, the browser
// talks to the fixture through `sio-conformance proxy` (the decoding proxy), and a last case
// fails when the proxy flagged a protocol violation in what the browser and the server said.
// See README.md.

const { describe, test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");

/** How long any single wait in the page may take. */
const WAIT_MS = 3000;
/** How long one test case may take. */
const TEST_MS = 15_000;
/** How long the server may take to print its address, and Chromium to start. */
const START_MS = 30_000;

const SERVER_PATH = process.env.SIO_FIXTURE_SERVER
  ? path.resolve(process.env.SIO_FIXTURE_SERVER)
  : path.resolve(__dirname, "../../target/debug/sio-fixture-server");
const CHROMIUM_PATH = process.env.SIO_CHROMIUM || "/usr/bin/chromium";
const BUNDLE_PATH = path.join(__dirname, "node_modules/socket.io-client/dist/socket.io.min.js");
const BUNDLE_VERSION = require("socket.io-client/package.json").version;
const PROXY_PATH = process.env.SIO_PROXY ? path.resolve(process.env.SIO_PROXY) : undefined;

const missing = fs.existsSync(CHROMIUM_PATH)
  ? undefined
  : `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set SIO_CHROMIUM)`;
if (missing && process.env.SIO_BROWSER_REQUIRED) {
  throw new Error(`${missing}; SIO_BROWSER_REQUIRED is set`);
}

// ---------------------------------------------------------------------------------------------
// The page: served from its own origin, with the bundle and a few bounded helpers

/**
 * In the page: connects `nsp` with `options` (and credentials), waits for the transport the
 * setting ends on (after the `upgrade` event for the default), and checks it. Returns the
 * socket and the `auth` the server emitted.
 */
const OPEN = `async (url, options, setting) => {
  const socket = io(url, { forceNew: true, reconnection: false, withCredentials: true, ...options });
  const upgraded = setting === "upgrade" ? next(socket.io, "open", "open").then(() => next(socket.io.engine, "upgrade", "upgrade")) : null;
  const auth = next(socket, "auth", "the auth event");
  await connected(socket);
  const [authArgs] = await auth;
  if (upgraded) await upgraded;
  const transport = socket.io.engine.transport.name;
  const expected = setting === "polling" ? "polling" : "websocket";
  if (transport !== expected) throw new Error("transport " + transport + ", not " + expected);
  return { socket, auth: authArgs };
}`;

/** The helpers every test's page code uses: bounded waits, and `openSocket`. */
const PAGE_HELPERS = `
window.WAIT_MS = ${WAIT_MS};
/** The arguments of the next \`event\` on \`emitter\`, or a rejection after WAIT_MS. */
window.next = (emitter, event, what = event) => new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error("no " + what + " within " + WAIT_MS + " ms")), WAIT_MS);
  emitter.once(event, (...args) => { clearTimeout(timer); resolve(args); });
});
/** Resolves when \`socket\` connects; rejects with the connect_error's message, or after WAIT_MS. */
window.connected = (socket) => new Promise((resolve, reject) => {
  if (socket.connected) return resolve();
  const timer = setTimeout(() => reject(new Error("no connect within " + WAIT_MS + " ms")), WAIT_MS);
  socket.once("connect", () => { clearTimeout(timer); resolve(); });
  socket.once("connect_error", (error) => { clearTimeout(timer); reject(new Error("connect_error: " + error.message)); });
});
/** An acknowledged emit's answer (every argument), or a rejection after WAIT_MS. */
window.ack = (socket, ...args) => new Promise((resolve, reject) => {
  socket.timeout(WAIT_MS).emit(...args, (error, ...answer) => error ? reject(error) : resolve(answer));
});
/** Bytes as a plain array, for comparing across the page boundary. */
window.bytes = (buffer) => Array.from(new Uint8Array(buffer));
window.openSocket = ${OPEN};
`;

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>socket.io-client ${BUNDLE_VERSION} in a browser</title>
<script src="/socket.io.min.js"></script>
<script>${PAGE_HELPERS}</script>
</head><body></body></html>`;

/** Serves the page and the bundle on 127.0.0.1, on a free port; resolves with the origin. */
function startPageServer() {
  const bundle = fs.readFileSync(BUNDLE_PATH);
  const server = http.createServer((request, response) => {
    if (request.url === "/socket.io.min.js") {
      response.writeHead(200, { "content-type": "text/javascript; charset=utf-8" });
      return response.end(bundle);
    }
    if (request.url === "/") {
      response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      return response.end(PAGE);
    }
    response.writeHead(404);
    response.end();
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      resolve({ server, origin: `http://127.0.0.1:${server.address().port}` });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The fixture server

/** Starts the fixture with `args`; resolves with the child and its base URL. */
function startFixture(args) {
  if (!fs.existsSync(SERVER_PATH)) {
    throw new Error(
      `fixture server not found at ${SERVER_PATH}: build it with ` +
        "`cargo build -p sio-reference --bin sio-fixture-server` or set SIO_FIXTURE_SERVER",
    );
  }
  return startProgram(
    SERVER_PATH,
    ["--host", "127.0.0.1", "--port", "0", ...args],
    "stdout",
    /^listening on (http:\/\/[^\s/]+)$/,
  );
}

/**
 * Starts `sio-conformance proxy` between the browser and `upstream`, writing every entry to
 * `jsonl`; resolves with the child and the proxy's base URL.
 */
function startProxy(upstream, jsonl) {
  return startProgram(
    PROXY_PATH,
    ["proxy", "--listen", "127.0.0.1:0", "--upstream", upstream, "--quiet", "--color", "never", "--jsonl", jsonl],
    "stderr",
    /^proxy listening on (http:\/\/[^\s/]+)/,
  );
}

/**
 * Starts `program` with `args`; resolves with the child and the URL its first line on
 * `stream` gives (the first group of `pattern`), within START_MS.
 */
function startProgram(program, args, stream, pattern) {
  const child = spawn(program, args, { stdio: ["ignore", "pipe", "pipe"] });
  const output = { stdout: "", stderr: "" };
  for (const name of ["stdout", "stderr"]) {
    child[name].setEncoding("utf8");
    child[name].on("data", (chunk) => {
      output[name] += chunk;
      if (name === "stderr" && process.env.SIO_FIXTURE_VERBOSE) process.stderr.write(chunk);
    });
  }
  return new Promise((resolve, reject) => {
    let url;
    const fail = (why) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      child.stdout.destroy();
      child.stderr.destroy();
      child.unref();
      reject(new Error(`${program}: ${why}\nstdout: ${output.stdout}\nstderr: ${output.stderr}`));
    };
    const timer = setTimeout(() => fail(`printed no address within ${START_MS} ms`), START_MS);
    child.on("error", (error) => fail(`could not be started: ${error.message}`));
    child.on("exit", (code, signal) => {
      if (!url) fail(`exited (code ${code}, signal ${signal}) before printing its address`);
    });
    child[stream].on("data", () => {
      if (url) return;
      const newline = output[stream].indexOf("\n");
      if (newline < 0) return;
      const match = pattern.exec(output[stream].slice(0, newline).trim());
      if (!match) return fail(`printed an unexpected first line: ${JSON.stringify(output[stream])}`);
      clearTimeout(timer);
      url = match[1];
      resolve({ child, url, output });
    });
  });
}

/** Stops a child process: SIGTERM, then SIGKILL after 2 s; resolves with its exit code. */
async function stop(child) {
  if (!child) return undefined;
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

// ---------------------------------------------------------------------------------------------
// The run: one fixture, one page origin the fixture allows and one it does not, one browser

let browser;
let fixture;
let proxy;
let proxyLog;
let baseUrl;
let allowedPage;
let otherPage;

before(async () => {
  if (missing) return;
  allowedPage = await startPageServer();
  otherPage = await startPageServer();
  // Timers longer than the contract's 300/200 ms: these cases are not about heartbeat timing,
  // and a browser's pong on a loaded machine (CI runs this beside interop.test.js) can take
  // longer than 200 ms, which the proxy would rightly flag.
  fixture = await startFixture([
    "--cors-origin",
    allowedPage.origin,
    "--cookie",
    "--ping-interval",
    "500",
    "--ping-timeout",
    "2000",
  ]);
  baseUrl = fixture.url;
  process.on("exit", () => fixture && fixture.child.kill("SIGKILL"));
  if (PROXY_PATH) {
    proxyLog = path.join(fs.mkdtempSync(path.join(require("node:os").tmpdir(), "sio-browser-")), "proxy.jsonl");
    proxy = await startProxy(fixture.url, proxyLog);
    baseUrl = proxy.url;
    process.on("exit", () => proxy && proxy.child.kill("SIGKILL"));
  }
  const { chromium } = require("playwright-core");
  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    // Root (CI) cannot use Chromium's sandbox.
    args: ["--no-sandbox"],
    timeout: START_MS,
  });
});

after(async () => {
  if (browser) await browser.close();
  if (proxy) await stop(proxy.child);
  if (fixture) await stop(fixture.child);
  for (const page of [allowedPage, otherPage]) if (page) page.server.close();
});

/**
 * Runs `body` in a fresh page (its own cookies) loaded from `origin`; resolves with what it
 * returns, and with the browser context for a look at its cookies.
 */
async function inPage(origin, body, arg) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(TEST_MS);
    const errors = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${origin}/`);
    const result = await page.evaluate(body, arg);
    assert.deepEqual(errors, [], "uncaught errors in the page");
    return { result, cookies: await context.cookies(baseUrl) };
  } finally {
    await context.close();
  }
}

/** The client options of each transport setting. */
const TRANSPORTS = {
  polling: { transports: ["polling"] },
  websocket: { transports: ["websocket"] },
  upgrade: {},
};


describe(
  `socket.io-client ${BUNDLE_VERSION} browser bundle in headless Chromium`,
  { skip: missing },
  () => {
    for (const [setting, options] of Object.entries(TRANSPORTS)) {
      describe(setting, () => {
        test("connects with auth, and an event comes back", { timeout: TEST_MS }, async () => {
          const { result } = await inPage(
            allowedPage.origin,
            async ([url, options, setting]) => {
              const { socket, auth } = await openSocket(url, { ...options, auth: { token: "browser" } }, setting);
              const back = next(socket, "message-back");
              socket.emit("message", 1, "two", { three: [true, null] }, "é😀\u2028");
              const args = await back;
              socket.disconnect();
              return { auth, args, id: typeof socket.id };
            },
            [baseUrl, options, setting],
          );
          assert.deepEqual(result.auth, { token: "browser" });
          assert.deepEqual(result.args, [1, "two", { three: [true, null] }, "é😀\u2028"]);
        });

        test("acknowledgements both ways", { timeout: TEST_MS }, async () => {
          const { result } = await inPage(
            allowedPage.origin,
            async ([url, options, setting]) => {
              const { socket } = await openSocket(url, options, setting);
              const clientAck = await ack(socket, "message-with-ack", "a", 2, { b: [3] });
              // The server asks the page to acknowledge, then sends back what it answered.
              const answered = new Promise((resolve, reject) => {
                const timer = setTimeout(() => reject(new Error("no answer back")), WAIT_MS);
                socket.on("emit-with-ack", (...args) => {
                  const callback = typeof args[args.length - 1] === "function" ? args.pop() : null;
                  if (callback) return callback("from the browser", 42);
                  clearTimeout(timer);
                  resolve(args);
                });
              });
              socket.emit("emit-with-ack", "question");
              const serverAck = await answered;
              socket.disconnect();
              return { clientAck, serverAck };
            },
            [baseUrl, options, setting],
          );
          assert.deepEqual(result.clientAck, ["a", 2, { b: [3] }]);
          assert.deepEqual(result.serverAck, ["from the browser", 42]);
        });

        test("binary attachments, in events and acks", { timeout: TEST_MS }, async () => {
          const { result } = await inPage(
            allowedPage.origin,
            async ([url, options, setting]) => {
              const { socket } = await openSocket(url, options, setting);
              const every = new Uint8Array(256).map((_, index) => index);
              const back = next(socket, "message-back");
              socket.emit("message", every, { nested: [new Uint8Array([]), new Uint8Array([1, 2, 3]).buffer] });
              const [first, second] = await back;
              const answer = await ack(socket, "message-with-ack", new Uint8Array([0xde, 0xad]), "text");
              socket.disconnect();
              return {
                first: first instanceof ArrayBuffer ? bytes(first) : String(first),
                nested: second.nested.map((part) => (part instanceof ArrayBuffer ? bytes(part) : String(part))),
                answer: [answer[0] instanceof ArrayBuffer ? bytes(answer[0]) : String(answer[0]), answer[1]],
              };
            },
            [baseUrl, options, setting],
          );
          assert.deepEqual(result.first, Array.from({ length: 256 }, (_, index) => index));
          assert.deepEqual(result.nested, [[], [1, 2, 3]]);
          assert.deepEqual(result.answer, [[0xde, 0xad], "text"]);
        });

        test("a namespace multiplexed beside / on one connection", { timeout: TEST_MS }, async () => {
          const { result } = await inPage(
            allowedPage.origin,
            async ([url, options, setting]) => {
              const manager = new io.Manager(url, { reconnection: false, withCredentials: true, ...options });
              const main = manager.socket("/");
              const custom = manager.socket("/custom", { auth: { room: "custom" } });
              const authMain = next(main, "auth");
              const authCustom = next(custom, "auth");
              main.connect();
              custom.connect();
              await Promise.all([connected(main), connected(custom)]);
              // The fixture's /custom only greets; / answers while /custom shares its connection,
              // and still does once /custom has left it.
              const before = next(main, "message-back");
              main.emit("message", "beside /custom");
              const beside = await before;
              const customLeft = custom.id;
              custom.disconnect();
              const after = next(main, "message-back");
              main.emit("message", "alone");
              const result = {
                authMain: (await authMain)[0],
                authCustom: (await authCustom)[0],
                back: [beside, await after],
                distinctIds: typeof customLeft === "string" && main.id !== customLeft,
                oneManager: main.io === custom.io,
                transport: manager.engine.transport.name,
              };
              main.disconnect();
              return result;
            },
            [baseUrl, options, setting],
          );
          assert.deepEqual(result.authMain, {});
          assert.deepEqual(result.authCustom, { room: "custom" });
          assert.deepEqual(result.back, [["beside /custom"], ["alone"]]);
          assert.equal(result.distinctIds, true);
          assert.equal(result.oneManager, true);
          if (setting !== "upgrade") assert.equal(result.transport, options.transports[0]);
        });
      });
    }

    describe("CORS with credentials, from another origin", () => {
      for (const setting of ["polling", "upgrade"]) {
        test(`${setting}: the session cookie is kept by the browser`, { timeout: TEST_MS }, async () => {
          const { result, cookies } = await inPage(
            allowedPage.origin,
            async ([url, options, setting]) => {
              const { socket } = await openSocket(url, options, setting);
              const sid = socket.io.engine.id;
              // A round trip after the handshake: requests that carry the cookie back.
              const back = next(socket, "message-back");
              socket.emit("message", "with the cookie");
              await back;
              socket.disconnect();
              return { sid };
            },
            [baseUrl, TRANSPORTS[setting], setting],
          );
          const cookie = cookies.find((cookie) => cookie.name === "io");
          assert.ok(cookie, `no io cookie among ${JSON.stringify(cookies)}`);
          assert.equal(cookie.value, result.sid);
          assert.equal(cookie.httpOnly, true);
          assert.equal(cookie.path, "/");
          assert.equal(cookie.sameSite, "Lax");
        });
      }

      test("polling from an origin the server does not list is refused by the browser", { timeout: TEST_MS }, async () => {
        const { result } = await inPage(
          otherPage.origin,
          async ([url]) => {
            const socket = io(url, { forceNew: true, reconnection: false, withCredentials: true, transports: ["polling"] });
            try {
              await connected(socket);
              return { connected: true };
            } catch (error) {
              return { connected: false, error: error.message };
            } finally {
              socket.disconnect();
            }
          },
          [baseUrl],
        );
        assert.deepEqual(result, { connected: false, error: "connect_error: xhr poll error" });
      });
    });

    test(
      "through the decoding proxy, no protocol violation",
      { skip: PROXY_PATH ? false : "SIO_PROXY is unset", timeout: TEST_MS },
      async () => {
        // The last case: the proxy stops here, and says what it saw.
        const code = await stop(proxy.child);
        const entries = fs
          .readFileSync(proxyLog, "utf8")
          .split("\n")
          .filter((line) => line.trim())
          .map((line) => JSON.parse(line));
        const violations = entries.filter((entry) => entry.type === "violation");
        assert.deepEqual(violations, [], `the proxy flagged violations (log: ${proxyLog})`);
        assert.equal(code, 0, `the proxy exited ${code}: ${proxy.output.stderr}`);
        assert.ok(entries.length > 100, `the proxy saw only ${entries.length} entries`);
        // Kept for a look when the case fails; removed when it passes.
        fs.rmSync(path.dirname(proxyLog), { recursive: true, force: true });
      },
    );
  },
);
