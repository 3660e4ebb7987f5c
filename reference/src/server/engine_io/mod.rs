//! An Engine.IO protocol 4 server on hyper 1.x and tokio, faithful to the written
//! [Engine.IO protocol]: the handshake, HTTP long-polling, WebSocket, the upgrade from one to the
//! other, the heartbeat and the close.
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
//! [Engine.IO protocol]: https://github.com/socketio/engine.io-protocol

mod config;
mod handshake;
mod polling;
mod response;
mod service;
mod session;
mod websocket;

pub use config::{Config, TransportKind};
pub use response::{Body, ErrorCode};
pub use service::{EngineIo, Sockets};
pub use session::{CloseReason, Socket, SocketClosed, SocketHandle};

pub(crate) use handshake::generate_sid;
