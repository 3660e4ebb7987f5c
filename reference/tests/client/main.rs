//! The reference client against the reference server, in-process on 127.0.0.1, one protocol
//! area per module: `cargo test -p sio-reference --test client -- events::` selects an area.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

mod acks;
mod bad_input;
mod binary;
mod connect;
mod engine_close;
mod events;
mod heartbeat;
mod reconnection;
mod transports;
