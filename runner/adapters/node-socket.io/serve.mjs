// The conformance suite's fixture server on the official Node.js implementation, for every
// socket.io 4.x line the suite runs: this module takes the `socket.io` and `engine.io` of the
// caller (each adapter's `fixture.mjs` imports its own pinned copies and calls `serve`), so
// that one fixture serves 4.0 to 4.8 with the same handlers.
//
// What it serves on one HTTP server bound to 127.0.0.1 (the fixture contract):
//
// - /socket.io/   a Socket.IO server with the contract's options (pingInterval 300 ms,
//                 pingTimeout 200 ms, maxHttpBufferSize 1e6, connectTimeout 1000 ms,
//                 upgradeTimeout 10000 ms, CORS for any origin; `allowEIO3`, so that it
//                 serves socket.io 2.x clients too, Socket.IO protocol 4 over EIO=3) and
//                 these handlers:
//     `/` and `/custom`: on connection, emit `auth` with the CONNECT payload;
//     `/` only: `message` -> `message-back` with the same arguments; `message-with-ack`
//       -> acknowledged with its arguments; `emit-with-ack` -> re-emitted with an ack request
//       (1000 ms), then the ack's arguments come back as another `emit-with-ack`;
//       `disconnect-me`, `close-me`, `join`, `to-room` (the extended handlers);
//     `/refused`: a middleware refuses every CONNECT (message "refused", data {reason});
//     `/dynamic-<anything>`: created on first CONNECT, like `/custom`;
//     any other namespace: refused by socket.io itself ("Invalid namespace").
// - /socket.io-recovery/ a second Socket.IO server, the same options and handlers on `/`, with
//                 connectionStateRecovery on (maxDisconnectionDuration 2000 ms, skipMiddlewares)
//                 and one more handler: `emit-later` (delay ms, event, count) -> that long
//                 after, `count` emits of the event to the socket, with 1, 2, ...
//                 Only where the version has connection state recovery (4.6 and later).
// - /engine.io/   a raw Engine.IO server (same options) echoing every message, text or binary.
// - /engine.io-v3/ the same echo with `allowEIO3: true`, for the protocol 3 cases. Apart, so
//                 that /engine.io/ answers EIO=3 as a server without allowEIO3 does.
// - /engine.io-cookie/  the echo with `cookie: { name: "io", path: "/", httpOnly: true,
//                 sameSite: "lax" }` (feature session-cookie).
// - /engine.io-guarded/ the echo with an `allowRequest` that lets a handshake through only with
//                 the query parameter `token=let-me-in`: no token is refused without a message
//                 and an empty one with an empty message (both `Forbidden`), another value
//                 with `invalid token` (feature allow-request).
// - /engine.io-cors/ the echo with `cors: { origin: ["http://allowed.example"],
//                 credentials: true, exposedHeaders: ["X-Fixture"] }` (feature cors-allowlist). A list, not a string: the `cors`
//                 package sends a string origin to every origin, a listed one only to itself.
// - /engine.io-no-slash the echo attached with `addTrailingSlash: false` (feature
//                 no-trailing-slash): served at the path as written, without the slash the
//                 other endpoints' paths end with. Only where engine.io has the option (6.3,
//                 socket.io 4.6, and later).
// - any other path: 404 (plain HTTP requests and WebSocket upgrades alike).
//
// Once listening it prints one line on stdout, `listening on http://127.0.0.1:<port>`; anything
// else goes to stderr, and nothing is logged in normal operation.

import { createServer } from "node:http";

// Options shared by every endpoint, by their Node names. upgradeTimeout is spelled out
// although it is the official default, since the suite's profile declares it.
const ENGINE_OPTIONS = {
  pingInterval: 300,
  pingTimeout: 200,
  upgradeTimeout: 10000,
  maxHttpBufferSize: 1e6, // announced as "maxPayload" in the handshake (engine.io 6.2 and later)
  cors: { origin: "*" },
};

// How each engine attaches to the HTTP server. `destroyUpgrade: false`: an engine would
// otherwise end, after 1 s, every WebSocket upgrade request for a path that is not its own,
// the other engine's included. Upgrades for no served path get a 404 below instead.
const ATTACH_OPTIONS = { destroyUpgrade: false };

const ACK_TIMEOUT_MS = 1000;

/** Paths each endpoint serves: engine.io matches a request whose URL starts with its path. */
const SOCKET_IO_PATH = "/socket.io/";
const SOCKET_IO_RECOVERY_PATH = "/socket.io-recovery/";
const ENGINE_IO_PATH = "/engine.io/";
const ENGINE_IO_V3_PATH = "/engine.io-v3/";
const ENGINE_IO_COOKIE_PATH = "/engine.io-cookie/";
const ENGINE_IO_GUARDED_PATH = "/engine.io-guarded/";
const ENGINE_IO_CORS_PATH = "/engine.io-cors/";
const ENGINE_IO_NO_SLASH_PATH = "/engine.io-no-slash";

const EMIT_LATER_MAX_DELAY_MS = 10000;
const EMIT_LATER_MAX_COUNT = 100;

/**
 * Runs a handler; an exception (such as a reserved event name given to `to-room`) is logged
 * instead of taking the whole fixture down with it.
 */
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

/** Emits `auth` with the handshake's auth: the CONNECT payload, `{}` when there was none. */
function emitAuth(socket) {
  socket.emit("auth", socket.handshake.auth);
}

/**
 * Emits `event` with `data` and an ack request that gives up after `ms`, calling
 * `onReply(...reply)` only when the client acknowledges in time. `socket.timeout()` exists from
 * socket.io 4.4; before it, a timer of the fixture's own stands in, so that the wire is the same.
 */
function emitWithTimeout(socket, ms, event, data, onReply) {
  if (typeof socket.timeout === "function") {
    socket.timeout(ms).emit(event, ...data, (err, ...reply) => {
      if (!err) onReply(...reply);
    });
    return;
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
  }, ms);
  socket.emit(event, ...data, (...reply) => {
    clearTimeout(timer);
    if (!timedOut) onReply(...reply);
  });
}

/** The handlers of the main namespace, for both Socket.IO servers. */
function mainHandlers(socket) {
  emitAuth(socket);

  // `message`: echo every argument back (binary ones stay binary).
  socket.on("message", guarded("message", (...args) => {
    socket.emit("message-back", ...args);
  }));

  // `message-with-ack`: acknowledge with the same arguments.
  socket.on("message-with-ack", guarded("message-with-ack", (...args) => {
    const { data, ack } = splitAck(args);
    if (ack) ack(...data);
  }));

  // `emit-with-ack`: ask the client for an ack, then send its arguments back. The callback
  // form keeps every ack argument; an un-awaited emitWithAck() would reject on timeout and
  // crash the process.
  socket.on("emit-with-ack", guarded("emit-with-ack", (...args) => {
    const { data } = splitAck(args);
    emitWithTimeout(socket, ACK_TIMEOUT_MS, "emit-with-ack", data, (...reply) => {
      socket.emit("emit-with-ack", ...reply);
    });
  }));

  // `disconnect-me`: leave this namespace only (the server sends a DISCONNECT packet).
  socket.on("disconnect-me", guarded("disconnect-me", () => {
    socket.disconnect();
  }));

  // `close-me`: close the whole underlying Engine.IO connection.
  socket.on("close-me", guarded("close-me", () => {
    socket.disconnect(true);
  }));

  // `join`: join the room, and acknowledge with no arguments if asked.
  socket.on("join", guarded("join", (...args) => {
    const { data, ack } = splitAck(args);
    socket.join(data[0]);
    if (ack) ack();
  }));

  // `to-room`: (room, event, ...args) goes to the room's other sockets, not the sender.
  socket.on("to-room", guarded("to-room", (...args) => {
    const { data } = splitAck(args);
    const [room, event, ...rest] = data;
    socket.to(room).emit(event, ...rest);
  }));
}

/**
 * Serves the fixture with the caller's libraries.
 *
 * @param {object} libraries
 * @param {Function} libraries.Server the `Server` of `socket.io`
 * @param {Function} libraries.EngineServer the `Server` of `engine.io`, the copy socket.io uses
 * @param {boolean} libraries.recovery whether this socket.io has connectionStateRecovery
 *   (4.6 and later): /socket.io-recovery/ is served only then
 * @param {boolean} libraries.addTrailingSlash whether this engine.io has the attach option
 *   `addTrailingSlash` (6.3 and later): /engine.io-no-slash is served only then
 */
export function serve({ Server, EngineServer, recovery, addTrailingSlash }) {
  // The HTTP server's own handler only sees the requests no engine takes (each engine's
  // `attach` wraps the handlers already registered and calls them for paths not its own).
  const httpServer = createServer((req, res) => {
    res.writeHead(404, { "Content-Type": "text/plain" });
    res.end("Not Found");
  });

  const served = [
    SOCKET_IO_PATH,
    ENGINE_IO_PATH,
    ENGINE_IO_V3_PATH,
    ENGINE_IO_COOKIE_PATH,
    ENGINE_IO_GUARDED_PATH,
    ENGINE_IO_CORS_PATH,
    ...(recovery ? [SOCKET_IO_RECOVERY_PATH] : []),
    ...(addTrailingSlash ? [ENGINE_IO_NO_SLASH_PATH] : []),
  ];

  // A WebSocket upgrade for another path: the same 404, then the connection ends.
  httpServer.on("upgrade", (req, socket) => {
    if (served.some((path) => req.url.startsWith(path))) {
      return; // one of the engines answers it
    }
    socket.on("error", () => {});
    socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  });

  // -------------------------------------------------------------------------------------
  // Socket.IO at /socket.io/
  // -------------------------------------------------------------------------------------

  /** The options of both Socket.IO servers, at `path`. */
  function socketIoOptions(path) {
    return {
      ...ENGINE_OPTIONS,
      ...ATTACH_OPTIONS,
      path,
      connectTimeout: 1000,
      // The client bundle (/socket.io/socket.io.js) is not part of the protocol: every
      // request under the path goes to the engine.
      serveClient: false,
    };
  }

  const io = new Server(httpServer, {
    ...socketIoOptions(SOCKET_IO_PATH),
    // socket.io 2.x clients (Engine.IO 3, Socket.IO protocol 4: EIO=3), for the sio4 cases.
    allowEIO3: true,
  });

  io.on("connection", mainHandlers);

  io.of("/custom").on("connection", emitAuth);

  // `/refused`: every CONNECT refused with a message and data (a CONNECT_ERROR packet).
  io.of("/refused").use((_socket, next) => {
    const err = new Error("refused");
    err.data = { reason: "testing" };
    next(err);
  });

  // `/dynamic-<anything>`: created on the first CONNECT to a matching name.
  io.of(/^\/dynamic-.*$/).on("connection", emitAuth);

  // -------------------------------------------------------------------------------------
  // Socket.IO with connection state recovery at /socket.io-recovery/
  // -------------------------------------------------------------------------------------

  if (recovery) {
    const ioRecovery = new Server(httpServer, {
      ...socketIoOptions(SOCKET_IO_RECOVERY_PATH),
      connectionStateRecovery: { maxDisconnectionDuration: 2000, skipMiddlewares: true },
    });

    ioRecovery.on("connection", (socket) => {
      mainHandlers(socket);

      // `emit-later`: (delay ms, event, count) -> that long after, `count` emits of the event
      // to the socket, with 1, 2, ...: stored for replay whether the client is connected or
      // not.
      socket.on("emit-later", guarded("emit-later", (...args) => {
        const { data } = splitAck(args);
        const [delay, event, count] = data;
        if (!Number.isInteger(delay) || typeof event !== "string" || !Number.isInteger(count)) {
          return;
        }
        setTimeout(guarded("emit-later", () => {
          for (let n = 1; n <= Math.min(count, EMIT_LATER_MAX_COUNT); n++) {
            socket.emit(event, n);
          }
        }), Math.min(Math.max(delay, 0), EMIT_LATER_MAX_DELAY_MS));
      }));
    });

    ioRecovery.of("/custom").on("connection", emitAuth);
  }

  // -------------------------------------------------------------------------------------
  // The Engine.IO echoes
  // -------------------------------------------------------------------------------------

  /** A raw Engine.IO server at `path` that echoes every message. */
  function attachEcho(path, options, attachOptions = {}) {
    const engine = new EngineServer({ ...ENGINE_OPTIONS, ...options });
    engine.attach(httpServer, { ...ATTACH_OPTIONS, ...attachOptions, path });
    engine.on("connection", (socket) => {
      socket.on("message", (data) => socket.send(data));
    });
  }

  attachEcho(ENGINE_IO_PATH, {});

  // The protocol 3 echo.
  attachEcho(ENGINE_IO_V3_PATH, { allowEIO3: true });

  // The optional features' echoes: the io cookie, allowRequest, a CORS allowlist, the path
  // without a trailing slash.
  attachEcho(ENGINE_IO_COOKIE_PATH, {
    cookie: { name: "io", path: "/", httpOnly: true, sameSite: "lax" },
  });

  attachEcho(ENGINE_IO_GUARDED_PATH, {
    allowRequest: (req, callback) => {
      const token = new URL(req.url, "http://fixture").searchParams.get("token");
      if (token === "let-me-in") callback(null, true);
      else if (token === null) callback(null, false);
      else if (token === "") callback("", false); // an empty message: `Forbidden` as well
      else callback("invalid token", false);
    },
  });

  attachEcho(ENGINE_IO_CORS_PATH, {
    cors: { origin: ["http://allowed.example"], credentials: true, exposedHeaders: ["X-Fixture"] },
  });

  if (addTrailingSlash) {
    attachEcho(ENGINE_IO_NO_SLASH_PATH, {}, { addTrailingSlash: false });
  }

  // -------------------------------------------------------------------------------------
  // Listen
  // -------------------------------------------------------------------------------------

  // A bug a scenario triggers in a handler must not end the run for every later case: log it.
  process.on("uncaughtException", (err) => {
    console.error("uncaught exception:", err);
  });

  const port = Number(process.env.PORT || 0);
  httpServer.listen(port, "127.0.0.1", () => {
    process.stdout.write(`listening on http://127.0.0.1:${httpServer.address().port}\n`);
  });
}
