// The fixture server on the official Node.js implementation of protocol 3: `socket.io` 2.5.1
// (Socket.IO protocol 4) and the `engine.io` 3.6 it depends on (Engine.IO protocol 3).
// package.json pins both exactly, and the lock file shows a single copy of engine.io.
//
//   npm ci && PORT=0 node fixture.mjs
//
// It follows the fixture contract (docs/server-contract.md) as far as 2.x can, with the same
// handlers and options as ../node-socket.io/fixture.mjs. Where 2.x differs:
//
// - Protocol: Engine.IO 3 and Socket.IO 4 only (`EIO=3`); a client must speak them (the
//   reference client with `Protocol::V4`). A protocol 4 handshake (`EIO=4`) is not refused but
//   answered in protocol 3, as engine.io 3 does with any version.
// - Heartbeat: the client pings, the server answers with a pong; the options keep their names
//   (pingInterval 300 ms, pingTimeout 200 ms) but engine.io 3 closes a session that sends no
//   ping within pingInterval + pingTimeout.
// - `auth`: protocol 4 has no CONNECT payload. The main namespace `/` is joined implicitly
//   with the Engine.IO handshake, and another namespace's CONNECT carries a query after its
//   name (`40/custom?token=abc,`). So `auth` carries the handshake query, what socket.io 2.x
//   calls `socket.handshake.query` (the namespace's query over the request's), without the
//   Engine.IO parameters (EIO, transport, t, sid, b64, j): `{}` when the client gave none,
//   string values only.
// - No connectTimeout (2.x has none: a session never joins a namespace other than `/`, which
//   it joins at once).
// - `emit-with-ack`: 2.x has no ack timeout (`socket.timeout()`); a timer drops the ack that
//   comes after 1000 ms instead.
// - `/refused`: the middleware's error is sent as 2.x sends one, its data alone:
//   `44/refused,{"reason":"testing"}` (no message).
// - CORS: 2.x's `origins: "*:*"`, any origin.
// - Endpoints: `/socket.io/`, and the Engine.IO echo at `/engine.io-v3/` (protocol 3). There is
//   no `/engine.io/` (protocol 4): it is answered 404 like any other path.
//
// Once listening it prints one line on stdout, `listening on http://127.0.0.1:<port>`; anything
// else goes to stderr, and nothing is logged in normal operation.

import { createServer } from "node:http";
import engine from "engine.io";
import createSocketIo from "socket.io";

// Options shared by both endpoints, by their Node names.
const ENGINE_OPTIONS = {
  pingInterval: 300,
  pingTimeout: 200,
  upgradeTimeout: 10000,
  maxHttpBufferSize: 1e6,
  cookie: false,
};

// `destroyUpgrade: false`: an engine would otherwise end, after 1 s, every WebSocket upgrade
// request for a path that is not its own. Upgrades for neither path get a 404 below instead.
const ATTACH_OPTIONS = { destroyUpgrade: false };

const ACK_TIMEOUT_MS = 1000;

const SOCKET_IO_PATH = "/socket.io";
const ENGINE_IO_V3_PATH = "/engine.io-v3";

/** The query parameters of Engine.IO itself, left out of `auth`. */
const ENGINE_PARAMETERS = new Set(["EIO", "transport", "t", "sid", "b64", "j"]);

const httpServer = createServer((req, res) => {
  res.writeHead(404, { "Content-Type": "text/plain" });
  res.end("Not Found");
});

/** Whether `url` is under `path` (engine.io 3 matches `path + "/"`). */
function isUnder(url, path) {
  return url.startsWith(`${path}/`);
}

httpServer.on("upgrade", (req, socket) => {
  if ([SOCKET_IO_PATH, ENGINE_IO_V3_PATH].some((path) => isUnder(req.url, path))) {
    return; // one of the engines answers it
  }
  socket.on("error", () => {});
  socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
});

// ---------------------------------------------------------------------------------------
// Socket.IO at /socket.io/
// ---------------------------------------------------------------------------------------

const io = createSocketIo(httpServer, {
  ...ENGINE_OPTIONS,
  ...ATTACH_OPTIONS,
  path: SOCKET_IO_PATH,
  serveClient: false,
  origins: "*:*",
});

/** Emits `auth` with the handshake query, the Engine.IO parameters left out. */
function emitAuth(socket) {
  const auth = {};
  for (const [key, value] of Object.entries(socket.handshake.query)) {
    if (!ENGINE_PARAMETERS.has(key)) auth[key] = value;
  }
  socket.emit("auth", auth);
}

/** Runs a handler; an exception is logged instead of taking the fixture down. */
function guarded(name, handler) {
  return (...args) => {
    try {
      handler(...args);
    } catch (err) {
      console.error(`handler "${name}" threw:`, err);
    }
  };
}

/** Splits an event's arguments into the data and the ack callback, if the client asked one. */
function splitAck(args) {
  if (args.length > 0 && typeof args[args.length - 1] === "function") {
    return { data: args.slice(0, -1), ack: args[args.length - 1] };
  }
  return { data: args, ack: undefined };
}

io.on("connection", (socket) => {
  emitAuth(socket);

  socket.on("message", guarded("message", (...args) => {
    socket.emit("message-back", ...args);
  }));

  socket.on("message-with-ack", guarded("message-with-ack", (...args) => {
    const { data, ack } = splitAck(args);
    if (ack) ack(...data);
  }));

  // `emit-with-ack`: ask the client for an ack, then send its arguments back, unless it came
  // after ACK_TIMEOUT_MS.
  socket.on("emit-with-ack", guarded("emit-with-ack", (...args) => {
    const { data } = splitAck(args);
    let expired = false;
    const timer = setTimeout(() => { expired = true; }, ACK_TIMEOUT_MS);
    socket.emit("emit-with-ack", ...data, (...reply) => {
      clearTimeout(timer);
      if (!expired) socket.emit("emit-with-ack", ...reply);
    });
  }));

  socket.on("disconnect-me", guarded("disconnect-me", () => {
    socket.disconnect();
  }));

  socket.on("close-me", guarded("close-me", () => {
    socket.disconnect(true);
  }));

  socket.on("join", guarded("join", (...args) => {
    const { data, ack } = splitAck(args);
    socket.join(data[0]);
    if (ack) ack();
  }));

  socket.on("to-room", guarded("to-room", (...args) => {
    const { data } = splitAck(args);
    const [room, event, ...rest] = data;
    socket.to(room).emit(event, ...rest);
  }));
});

io.of("/custom").on("connection", emitAuth);

io.of("/refused").use((_socket, next) => {
  const err = new Error("refused");
  err.data = { reason: "testing" };
  next(err);
});

io.of(/^\/dynamic-.*$/).on("connection", emitAuth);

// ---------------------------------------------------------------------------------------
// Engine.IO protocol 3 echo at /engine.io-v3/
// ---------------------------------------------------------------------------------------

const echo = new engine.Server(ENGINE_OPTIONS);
echo.attach(httpServer, { ...ATTACH_OPTIONS, path: ENGINE_IO_V3_PATH });
echo.on("connection", (socket) => {
  socket.on("message", (data) => socket.send(data));
});

// ---------------------------------------------------------------------------------------
// Listen
// ---------------------------------------------------------------------------------------

process.on("uncaughtException", (err) => {
  console.error("uncaught exception:", err);
});

const port = Number(process.env.PORT || 0);
httpServer.listen(port, "127.0.0.1", () => {
  process.stdout.write(`listening on http://127.0.0.1:${httpServer.address().port}\n`);
});
