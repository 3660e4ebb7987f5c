//! # sio-suite
//!
//! The conformance suite for the Engine.IO and Socket.IO protocols, as data and the code that
//! loads it:
//!
//! - [`vectors`]: the language-neutral packet vectors under `vectors/` at the repository's root
//!   (Engine.IO v3/v4 packets and payloads, Socket.IO v4/v5 packets, inputs that must be
//!   rejected), loaded into typed values with errors that name the file, line and column.
//! - [`scenario`]: the scenarios under `suite/scenarios/`, one behaviour per file, expanded over
//!   their transports and protocol versions into cases.
//! - [`requirements`]: the requirements catalogue under `suite/requirements/` that scenarios
//!   cover.
//! - [`protocol`]: the Engine.IO and Socket.IO wire formats, written from the specs: packet
//!   types, packets and polling payloads, encoded and decoded strictly.
//! - [`engine`]: the replay engine that runs a case against a target and returns its verdict,
//!   the failing step and the wire transcript.
//! - [`term`]: the controlled vocabularies (verdicts, levels, roles, features, transports),
//!   each spelled one way by `as_str`, `FromStr` and serde alike.
//! - [`yaml`]: the YAML reading shared by all of them, with located errors.
//!
//! The suite never judges with the reference implementation's codec: vectors and scenarios are
//! written from the specs as wire text and bytes.

pub mod engine;
pub mod protocol;
pub mod requirements;
pub mod scenario;
pub mod term;
pub mod vectors;
pub mod yaml;
