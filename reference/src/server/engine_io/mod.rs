//! An Engine.IO server on hyper 1.x and tokio, faithful to the written [Engine.IO protocol]:
//! the handshake, HTTP long-polling, WebSocket, the upgrade from one to the other, the
//! heartbeat and the close.
//!
//! It speaks protocol 4 (`EIO=4`, socket.io 3.x and later), and protocol 3 (`EIO=3`,
//! socket.io 1.x and 2.x) too when [`Config::allow_eio3`] is on; each session keeps the
//! version of its handshake ([`Socket::protocol`]) and the application sees no difference. In
//! a v3 session polling payloads are length-prefixed, binary data travels as a binary payload
//! or as binary frames that start with the packet type, and the client pings: the server
//! answers, sends no pings of its own, and closes a session it hears nothing from for
//! `ping_interval + ping_timeout`.
//!
//! Where the official Node.js server departs from the written spec, this one follows the spec;
//! each such place says so in a `SPEC-FAITHFUL` comment.
//!
//! An echo server:
//!
//! ```no_run
//! use sio_reference::server::engine_io::{Config, EngineIo};
//!
//! # async fn run() -> std::io::Result<()> {
//! let (server, mut sockets) = EngineIo::new(Config::default());
//! let (_address, serving) = server.listen("127.0.0.1:3000").await?;
//! tokio::spawn(serving);
//! while let Some(mut socket) = sockets.accept().await {
//!     tokio::spawn(async move {
//!         while let Some(data) = socket.recv().await {
//!             let _ = socket.send(data);
//!         }
//!     });
//! }
//! # Ok(())
//! # }
//! ```
//!
//! The server listens on its own address ([`EngineIo::listen`], [`EngineIo::serve`]), answers
//! requests handed to it ([`EngineIo::handle`], with any body type), or attaches to an existing
//! tower or axum application with [`EngineIoLayer`], which passes every request outside its
//! path on to the application.
//!
//! Options beyond the timers, all off by default as on the official server: an
//! [`AllowRequest`] hook that may refuse handshakes, the sid [`Cookie`] for sticky sessions,
//! a [`Cors`] policy, and protocol 3 ([`Config::allow_eio3`]).
//!
//! [Engine.IO protocol]: https://github.com/socketio/engine.io-protocol

mod allow;
mod config;
mod cookie;
mod cors;
mod handshake;
mod layer;
mod polling;
mod queue;
mod response;
mod service;
mod session;
mod websocket;

pub use allow::{AllowRequest, BoxFuture, Refusal, RemoteAddr};
pub use config::{Config, TransportKind};
pub use cookie::{Cookie, SameSite};
pub use cors::{Cors, CorsOrigin};
pub use layer::{EngineIoFuture, EngineIoLayer, EngineIoService};
pub use response::{Body, BoxError, ErrorCode};
pub use service::{EngineIo, Sockets};
#[doc(hidden)]
pub use session::Activity;
pub use session::{CloseReason, Socket, SocketClosed, SocketHandle};

pub(crate) use handshake::generate_sid;
