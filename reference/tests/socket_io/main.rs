//! The Socket.IO server's tests over raw HTTP and WebSocket on 127.0.0.1, one protocol area
//! per module, in one test binary (one link instead of one per area):
//! `cargo test -p sio-reference --test socket_io -- acks::` selects an area, and
//! `-- acks::polling::` its tests over one transport.

#![allow(clippy::unwrap_used, missing_docs)]

// `on_both_transports!` is used in the area modules declared below it.
#[macro_use]
#[path = "../sio_support/mod.rs"]
mod sio_support;
// The Engine.IO helpers: `attach` speaks to the server as a raw Engine.IO client, and
// `sio_support` takes its HTTP client from them.
#[path = "../support/mod.rs"]
mod support;

mod acks;
mod attach;
mod binary;
mod disconnect;
mod events;
mod fixture;
mod namespaces;
mod rooms;
mod v4;
