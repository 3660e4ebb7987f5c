//! The reference Socket.IO client.

pub mod backoff;
pub mod config;
pub mod engine;
pub mod socket_state;
