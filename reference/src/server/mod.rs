//! Servers built on the I/O-free codecs: for now the Engine.IO protocol 4 server
//! ([`engine_io`]), on hyper 1.x and tokio.

pub mod engine_io;
