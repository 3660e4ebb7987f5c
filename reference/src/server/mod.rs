//! Servers built on the I/O-free codecs, on hyper 1.x and tokio: the Engine.IO protocol 4
//! server ([`engine_io`]) and the Socket.IO protocol 5 server on top of it ([`socket_io`]).

pub mod engine_io;
pub(crate) mod http;
pub mod socket_io;
