//! The protocol vectors: their model ([`VectorFile`], [`Vector`]), loading with located errors
//! ([`load_dir`]), and the JSON mirror ([`mirror`]).
//!
//! The format is documented for every language in `vectors/README.md`; this module is its Rust
//! reading. Loading checks what the JSON Schema cannot say in a way that gives good errors: that
//! each vector is of exactly one kind, that ids are unique and carry the file's protocol and
//! version.

mod load;
pub mod mirror;
mod model;

pub use load::{default_dir, load_dir, load_file, LoadError};
pub use model::*;
