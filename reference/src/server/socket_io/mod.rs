//! A Socket.IO protocol 5 server on the Engine.IO protocol 4 server of
//! [`engine_io`](super::engine_io), faithful to the written [Socket.IO protocol]; with
//! [`allow_eio3`](super::engine_io::Config::allow_eio3) it serves socket.io 1.x and 2.x
//! clients too, Socket.IO protocol 4 over Engine.IO 3 (the implicit connection to `/`, the
//! namespace query as `auth`, string refusals).
//!
//! Its API follows the official JavaScript server's, in Rust's manner: a [`SocketIo`] server
//! has namespaces ([`of`](SocketIo::of), [`of_dynamic`](SocketIo::of_dynamic)) with
//! middlewares and connection handlers; a [`Socket`] is one client in one namespace, with
//! event handlers ([`on`](Socket::on)), [`emit`](Socket::emit),
//! [`emit_with_ack`](Socket::emit_with_ack), rooms ([`join`](Socket::join)) and broadcasts
//! ([`to`](Socket::to)). Connection state recovery, off by default, is the official server's:
//! see [`ConnectionStateRecovery`].
//!
//! Handlers are plain closures that run on the connection's task, in the order the client's
//! packets arrive; work that waits belongs in a spawned task.
//!
//! ```no_run
//! use std::time::Duration;
//! use sio_reference::server::socket_io::{Config, SocketIo};
//!
//! # async fn run() -> std::io::Result<()> {
//! let io = SocketIo::new(Config::default());
//! io.on_connection(|socket| {
//!     socket.on("chat", |socket, arguments, ack| {
//!         let _ = socket.broadcast().emit("chat", arguments);
//!         if let Some(ack) = ack {
//!             let _ = ack.send(vec!["delivered".into()]);
//!         }
//!     });
//!     let asking = socket.clone();
//!     tokio::spawn(async move {
//!         let answer = asking
//!             .emit_with_ack("name?", vec![], Duration::from_secs(5))
//!             .await;
//!         println!("{answer:?}");
//!     });
//! });
//! let (_address, serving) = io.listen("127.0.0.1:3000").await?;
//! serving.await
//! # }
//! ```
//!
//! [Socket.IO protocol]: https://github.com/socketio/socket.io-protocol

use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

mod broadcast;
mod client;
mod config;
mod error;
mod namespace;
mod reason;
mod recovery;
mod server;
mod socket;
mod v4;

pub use broadcast::BroadcastOperator;
pub use config::Config;
pub use error::{AckError, ConnectError, EmitError};
pub use namespace::{DynamicNamespace, Namespace};
pub use reason::DisconnectReason;
pub use recovery::ConnectionStateRecovery;
pub use server::SocketIo;
pub use socket::{Ack, Handshake, Socket};

/// Locks a mutex; a panic elsewhere while it was held does not stop the server.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
