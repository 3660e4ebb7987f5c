//! # sio-reference
//!
//! The reference implementation of the [Engine.IO protocol] (versions 3 and 4) and the
//! [Socket.IO protocol] (versions 4 and 5), written to be faithful to the written specs and, where
//! they are silent, to the official Node.js implementation.
//!
//! This crate is built in layers, each usable on its own:
//!
//! - [`engine_io`]: Engine.IO packets and polling payloads, for both protocol versions. I/O free.
//! - [`socket_io`]: Socket.IO packets, their JSON-with-binary data model ([`socket_io::Value`]),
//!   the encoder and the stateful decoder that reassembles binary attachments. I/O free.
//! - [`server`]: servers on hyper and tokio: the Engine.IO protocol 4 server
//!   ([`server::engine_io`]) and the Socket.IO protocol 5 server on it ([`server::socket_io`]).
//! - [`fixture`]: the fixture server the suite runs against, built on those servers.
//!
//! Every decoder refuses malformed input with a precise [`Error`], never a panic, because the
//! input comes from the network.
//!
//! [Engine.IO protocol]: https://github.com/socketio/engine.io-protocol
//! [Socket.IO protocol]: https://github.com/socketio/socket.io-protocol

pub mod client;
pub mod engine_io;
mod error;
pub mod fixture;
pub mod server;
pub mod socket_io;

pub use error::{EngineIoError, Error, SocketIoError};
