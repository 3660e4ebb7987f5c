//! The reference Socket.IO client.

mod api;
pub mod backoff;
pub mod config;
pub mod engine;
mod manager;
pub mod socket_state;

pub use api::{
    AckResponder, Client, ClientBuilder, ClientError, ClientEvent, Socket, SocketEvent,
    SocketEvents,
};
pub use config::{Protocol, TransportKind};
pub use socket_state::{AckError, DisconnectReason};
