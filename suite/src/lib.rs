//! # sio-suite
//!
//! The conformance suite for the Engine.IO and Socket.IO protocols, as data and the code that
//! loads it:
//!
//! - [`vectors`]: the language-neutral packet vectors under `vectors/` at the repository's root
//!   (Engine.IO v3/v4 packets and payloads, Socket.IO v4/v5 packets, inputs that must be
//!   rejected), loaded into typed values with errors that name the file, line and column.
//!
//! The suite never judges with the reference implementation's codec: vectors and scenarios are
//! written from the specs as wire text and bytes.

pub mod vectors;
