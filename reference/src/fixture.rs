//! The fixture server: the contract every server under test implements for the suite, served
//! by the reference implementation.
//!
//! At `/socket.io/` it is the official Socket.IO test suite's server:
//!
//! - on connection to `/` or `/custom`, it emits `auth` with the CONNECT payload;
//! - `message` is answered with `message-back` and the same arguments;
//! - `message-with-ack` is acknowledged with its arguments;
//! - `emit-with-ack` is re-emitted to the client with an acknowledgement request, and whatever
//!   the client acknowledges comes back as another `emit-with-ack` (the event socketioxide's
//!   copy of the suite adds);
//! - any other namespace is refused with `Invalid namespace`.
//!
//! Extended behaviours, for the suite's optional cases:
//!
//! - `disconnect-me`: the server leaves the namespace (a DISCONNECT packet);
//! - `close-me`: the server closes the whole connection (DISCONNECT for each namespace, then the
//!   Engine.IO close);
//! - `join` with a room name: the socket joins it, and the event is acknowledged if asked;
//! - `to-room` with a room name, an event name and arguments: the event goes to the room's other
//!   sockets;
//! - namespace `/refused`: every CONNECT is refused by a middleware, with message `refused` and
//!   data `{"reason":"testing"}`;
//! - namespaces `/dynamic-<anything>`: created on first CONNECT, behaving as `/custom`.
//!
//! It serves socket.io 2.x clients too (Engine.IO protocol 3, Socket.IO protocol 4: `EIO=3`),
//! as the official server with `allowEIO3` does, with the same handlers: the client is joined
//! to `/` at once, and `auth` is a namespace's query (`40/custom?token=abc,` gives
//! `{"token":"abc"}`), `{}` without one.
//!
//! At `/socket.io-recovery/` it is a second Socket.IO server with connection state recovery
//! on (`maxDisconnectionDuration` 2000 ms, `skipMiddlewares`), whose main namespace has the same
//! handlers as `/socket.io/`'s, and one more:
//!
//! - `emit-later` with a delay in milliseconds, an event name and a count: that long after, the
//!   server emits the event `count` times to the socket, with the argument 1, then 2, and so
//!   on, whether the client is still connected or not (so that a client that comes back gets
//!   the events it missed).
//!
//! At `/engine.io/` it is an Engine.IO server that echoes every message, text or binary; it
//! speaks protocol 4 only, so `EIO=3` there gets `400` code 5, as from a server without
//! `allowEIO3`. At `/engine.io-v3/` the same echo also serves protocol 3 (`allow_eio3`), for the
//! suite's `EIO=3` cases.
//!
//! Four more echoes, for the suite's optional handshake features, each with one option of the
//! official server set:
//!
//! - `/engine.io-cookie/` (`session-cookie`): the polling handshake sets the sid as the cookie
//!   `io=<sid>; Path=/; HttpOnly; SameSite=Lax` (the official `cookie: { name: "io", path: "/",
//!   httpOnly: true, sameSite: "lax" }`);
//! - `/engine.io-guarded/` (`allow-request`): an `allowRequest` hook lets a handshake through
//!   only with the query parameter `token=let-me-in`; without `token` it refuses with no message
//!   and with an empty `token` with an empty one (both the official `Forbidden`), with another
//!   value with the message `invalid token`;
//! - `/engine.io-cors/` (`cors-allowlist`): CORS for the one origin `http://allowed.example`, with
//!   credentials, exposing `X-Fixture` (the official `cors: { origin: ["http://allowed.example"],
//!   credentials: true, exposedHeaders: ["X-Fixture"] }`);
//! - `/engine.io-no-slash` (`no-trailing-slash`): served at the path as written, without the
//!   trailing slash every other path has (the official `addTrailingSlash: false`), so that
//!   `/engine.io-no-slash?EIO=4…` is an Engine.IO request.
//!
//! Any other path is `404`.
//!
//! Its options default to the contract's: `pingInterval` 300 ms, `pingTimeout` 200 ms,
//! `maxPayload` 1 000 000, `connectTimeout` 1000 ms, CORS for any origin. For browser pages
//! that connect with credentials, [`Options::credentialed_origins`] and
//! [`Options::session_cookie`] turn on the official server's credentialed CORS and session
//! cookie at `/socket.io/`.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use tokio::net::{TcpListener, ToSocketAddrs};

use http::request::Parts;

use crate::server::engine_io::{self, Body, EngineIo, Refusal};
use crate::server::socket_io::{self, ConnectError, ConnectionStateRecovery, Socket, SocketIo};
use crate::socket_io::Value;

/// The fixture's options; the defaults are the contract's.
#[derive(Debug, Clone)]
pub struct Options {
    /// `pingInterval`. Default 300 ms.
    pub ping_interval: Duration,
    /// `pingTimeout`. Default 200 ms.
    pub ping_timeout: Duration,
    /// `maxPayload` (`maxHttpBufferSize`). Default 1 000 000.
    pub max_payload: usize,
    /// `connectTimeout`. Default 1000 ms.
    pub connect_timeout: Duration,
    /// `upgradeTimeout`. Default 10 000 ms, the official default.
    pub upgrade_timeout: Duration,
    /// How long the server waits for the client's acknowledgement of `emit-with-ack`.
    /// Default 1000 ms.
    pub ack_timeout: Duration,
    /// `maxDisconnectionDuration` of the recovery endpoint. Default 2000 ms.
    pub max_disconnection_duration: Duration,
    /// The origins a browser page may reach the server from with credentials (a client's
    /// `withCredentials: true`). Empty, the default: CORS for any origin, without credentials
    /// (the contract's). Otherwise every endpoint but `/engine.io-cors/` answers CORS for
    /// these origins only, with `Access-Control-Allow-Credentials: true`: the official
    /// `cors: { origin: [...], credentials: true }`, which a credentialed browser request
    /// needs (it refuses `Access-Control-Allow-Origin: *`).
    pub credentialed_origins: Vec<String>,
    /// Whether the `/socket.io/` handshake sets the session cookie `io=<sid>`, as
    /// `/engine.io-cookie/` does (the official `cookie: { name: "io", path: "/", httpOnly: true,
    /// sameSite: "lax" }`). Default false, as in the contract.
    pub session_cookie: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            ping_interval: Duration::from_millis(300),
            ping_timeout: Duration::from_millis(200),
            max_payload: 1_000_000,
            connect_timeout: Duration::from_millis(1000),
            upgrade_timeout: Duration::from_millis(10_000),
            ack_timeout: Duration::from_millis(1000),
            max_disconnection_duration: Duration::from_millis(2000),
            credentialed_origins: Vec::new(),
            session_cookie: false,
        }
    }
}

impl Options {
    /// The official test suite's server allows any origin; with credentialed origins, those.
    fn cors(&self) -> engine_io::Cors {
        if self.credentialed_origins.is_empty() {
            return engine_io::Cors::default();
        }
        engine_io::Cors {
            origin: engine_io::CorsOrigin::List(self.credentialed_origins.clone()),
            credentials: true,
            ..engine_io::Cors::default()
        }
    }

    fn engine_config(&self, path: &str, allow_eio3: bool) -> engine_io::Config {
        engine_io::Config {
            path: path.to_owned(),
            allow_eio3,
            ping_interval: self.ping_interval,
            ping_timeout: self.ping_timeout,
            upgrade_timeout: self.upgrade_timeout,
            max_http_buffer_size: self.max_payload,
            cors: Some(self.cors()),
            ..engine_io::Config::default()
        }
    }
}

/// The fixture server: the Socket.IO contract at `/socket.io/` (and with connection state
/// recovery at `/socket.io-recovery/`), the Engine.IO echo at `/engine.io/`, the protocol 3
/// echo at `/engine.io-v3/` and the echoes of the optional features (`/engine.io-cookie/`,
/// `/engine.io-guarded/`, `/engine.io-cors/`), on one address.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// use sio_reference::fixture::{Fixture, Options};
///
/// let (address, serving) = Fixture::new(Options::default()).listen("127.0.0.1:0").await?;
/// tokio::spawn(serving);
/// println!("the fixture listens on http://{address}");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Fixture {
    io: SocketIo,
    recovery: SocketIo,
    /// The Engine.IO echoes, each at its own path; the last one also answers `404` for the
    /// paths no endpoint serves.
    echoes: Vec<EngineIo>,
}

impl Fixture {
    /// The fixture with these options.
    pub fn new(options: Options) -> Fixture {
        let io = SocketIo::new(socket_io::Config {
            // `allow_eio3`: socket.io 2.x clients are served Socket.IO protocol 4 over Engine.IO 3
            // (the `sio4` cases), as by the official server with `allowEIO3`.
            engine: engine_io::Config {
                cookie: options.session_cookie.then(session_cookie),
                ..options.engine_config("/socket.io/", true)
            },
            connect_timeout: options.connect_timeout,
            ..socket_io::Config::default()
        });
        install_handlers(&io, options.ack_timeout);
        let recovery = SocketIo::new(socket_io::Config {
            engine: options.engine_config("/socket.io-recovery/", false),
            connect_timeout: options.connect_timeout,
            connection_state_recovery: Some(ConnectionStateRecovery {
                max_disconnection_duration: options.max_disconnection_duration,
                skip_middlewares: true,
                ..ConnectionStateRecovery::default()
            }),
            ..socket_io::Config::default()
        });
        install_handlers(&recovery, options.ack_timeout);
        recovery.on_connection(|socket| {
            socket.on("emit-later", |socket, arguments, _ack| {
                emit_later(socket, &arguments);
            });
        });
        let echoes = vec![
            echo_server(options.engine_config("/engine.io/", false)),
            echo_server(engine_io::Config {
                cookie: Some(session_cookie()),
                ..options.engine_config("/engine.io-cookie/", false)
            }),
            echo_server(engine_io::Config {
                allow_request: Some(engine_io::AllowRequest::new(check_token)),
                ..options.engine_config("/engine.io-guarded/", false)
            }),
            echo_server(engine_io::Config {
                cors: Some(allowlist_cors()),
                ..options.engine_config("/engine.io-cors/", false)
            }),
            echo_server(engine_io::Config {
                add_trailing_slash: false,
                ..options.engine_config("/engine.io-no-slash", false)
            }),
            echo_server(options.engine_config("/engine.io-v3/", true)),
        ];
        Fixture {
            io,
            recovery,
            echoes,
        }
    }

    /// The Socket.IO server at `/socket.io/`.
    pub fn socket_io(&self) -> &SocketIo {
        &self.io
    }

    /// The Socket.IO server with connection state recovery, at `/socket.io-recovery/`.
    pub fn socket_io_recovery(&self) -> &SocketIo {
        &self.recovery
    }

    /// Answers one request: Socket.IO, one of the Engine.IO echoes, or `404`.
    pub async fn handle(&self, request: Request<Incoming>) -> Response<Body> {
        if self.io.engine().handles(&request) {
            return self.io.engine().handle(request).await;
        }
        if self.recovery.engine().handles(&request) {
            return self.recovery.engine().handle(request).await;
        }
        let echo = self
            .echoes
            .iter()
            .find(|echo| echo.handles(&request))
            // An echo server answers 404 outside its own path.
            .or(self.echoes.last());
        match echo {
            Some(echo) => echo.handle(request).await,
            None => self.io.engine().handle(request).await,
        }
    }

    /// Serves HTTP/1.1 connections from `listener`, with upgrades.
    pub async fn serve(self, listener: TcpListener) -> io::Result<()> {
        crate::server::http::serve(listener, move |request| {
            let fixture = self.clone();
            async move { fixture.handle(request).await }
        })
        .await
    }

    /// Binds `address` and serves it; returns the bound address and the serving future.
    pub async fn listen(
        self,
        address: impl ToSocketAddrs,
    ) -> io::Result<(SocketAddr, impl Future<Output = io::Result<()>>)> {
        crate::server::http::listen(address, move |request| {
            let fixture = self.clone();
            async move { fixture.handle(request).await }
        })
        .await
    }
}

/// An Engine.IO server that sends every message back, text or binary.
fn echo_server(config: engine_io::Config) -> EngineIo {
    EngineIo::with_acceptor(config, |mut socket| {
        tokio::spawn(async move {
            while let Some(data) = socket.recv().await {
                if socket.send(data).is_err() {
                    break;
                }
            }
        });
    })
}

/// The cookie of `/engine.io-cookie/`: the official server's defaults for `cookie: true`, spelled
/// out as the contract writes them.
fn session_cookie() -> engine_io::Cookie {
    engine_io::Cookie {
        name: "io".to_owned(),
        path: Some("/".to_owned()),
        http_only: true,
        same_site: Some(engine_io::SameSite::Lax),
        ..engine_io::Cookie::default()
    }
}

/// The `allowRequest` of `/engine.io-guarded/`: `token=let-me-in` passes; no `token` is refused
/// without a message and an empty one with an empty message (the client is told `Forbidden`
/// both times), any other value with `invalid token`.
fn check_token(request: &Parts) -> std::future::Ready<Result<(), Refusal>> {
    let token = request
        .uri
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="));
    std::future::ready(match token {
        Some("let-me-in") => Ok(()),
        // An empty message is no message: the client is told `Forbidden` as well.
        Some("") => Err(Refusal::with_message("")),
        Some(_) => Err(Refusal::with_message("invalid token")),
        None => Err(Refusal::new()),
    })
}

/// The CORS policy of `/engine.io-cors/`: the one origin `http://allowed.example`, with
/// credentials, exposing the header `X-Fixture`; the rest is the `cors` package's defaults.
fn allowlist_cors() -> engine_io::Cors {
    engine_io::Cors {
        origin: engine_io::CorsOrigin::List(vec!["http://allowed.example".to_owned()]),
        credentials: true,
        exposed_headers: vec!["X-Fixture".to_owned()],
        ..engine_io::Cors::default()
    }
}

fn install_handlers(io: &SocketIo, ack_timeout: Duration) {
    io.on_connection(move |socket| {
        emit_auth(&socket);
        socket.on("message", |socket, arguments, _ack| {
            let _ = socket.emit("message-back", arguments);
        });
        socket.on("message-with-ack", |_socket, arguments, ack| {
            if let Some(ack) = ack {
                let _ = ack.send(arguments);
            }
        });
        socket.on("emit-with-ack", move |socket, arguments, _ack| {
            tokio::spawn(async move {
                let reply = socket
                    .emit_with_ack("emit-with-ack", arguments, ack_timeout)
                    .await;
                if let Ok(reply) = reply {
                    let _ = socket.emit("emit-with-ack", reply);
                }
            });
        });
        install_extended_handlers(&socket);
    });
    io.of("/custom").on_connection(|socket| emit_auth(&socket));
    io.of("/refused").use_middleware(|_handshake| async {
        Err(ConnectError::new("refused").with_data(Value::Object(vec![(
            "reason".to_owned(),
            Value::from("testing"),
        )])))
    });
    io.of_dynamic(|name| name.starts_with("/dynamic-"))
        .on_connection(|socket| emit_auth(&socket));
}

fn emit_auth(socket: &Socket) {
    let _ = socket.emit("auth", vec![socket.handshake().auth.clone()]);
}

fn install_extended_handlers(socket: &Socket) {
    socket.on("disconnect-me", |socket, _arguments, _ack| {
        socket.disconnect()
    });
    socket.on("close-me", |socket, _arguments, _ack| {
        socket.close_connection()
    });
    socket.on("join", |socket, arguments, ack| {
        if let Some(room) = arguments.first().and_then(Value::as_str) {
            socket.join(room);
        }
        if let Some(ack) = ack {
            let _ = ack.send(Vec::new());
        }
    });
    socket.on("to-room", |socket, mut arguments, _ack| {
        if arguments.len() < 2 {
            return;
        }
        let rest = arguments.split_off(2);
        if let (Some(room), Some(event)) = (arguments[0].as_str(), arguments[1].as_str()) {
            let _ = socket.to(room).emit(event, rest);
        }
    });
}

/// The longest delay and the most events `emit-later` takes: a case needs a few, and a client
/// must not make the fixture hold tasks for long.
const EMIT_LATER_MAX_DELAY: Duration = Duration::from_secs(10);
const EMIT_LATER_MAX_COUNT: u64 = 100;

/// `emit-later` with a delay in milliseconds, an event name and a count: the events go to the
/// socket that long after, connected or not; arguments of another shape are ignored.
fn emit_later(socket: Socket, arguments: &[Value]) {
    let whole = |value: &Value| match value {
        Value::Number(number) => number.as_u64(),
        _ => None,
    };
    let delay = arguments.first().and_then(whole);
    let event = arguments.get(1).and_then(Value::as_str);
    let count = arguments.get(2).and_then(whole);
    let (Some(delay), Some(event), Some(count)) = (delay, event, count) else {
        return;
    };
    let delay = Duration::from_millis(delay).min(EMIT_LATER_MAX_DELAY);
    let event = event.to_owned();
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        for n in 1..=count.min(EMIT_LATER_MAX_COUNT) {
            let _ = socket.emit(&event, vec![Value::from(n)]);
        }
    });
}
