//! The Engine.IO server's tests over raw HTTP and WebSocket on 127.0.0.1, one protocol area
//! per module, in one test binary (one link instead of one per area):
//! `cargo test -p sio-reference --test engine_io -- polling::` selects an area.

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../support/mod.rs"]
mod support;

mod allow_request;
mod attach;
mod close;
mod cookie;
mod cors;
mod handshake;
mod heartbeat;
mod ordering;
mod polling;
mod upgrade;
mod v3;
mod websocket;
