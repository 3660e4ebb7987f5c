//! # sio-conformance
//!
//! The command-line runner of the Engine.IO and Socket.IO conformance suite:
//!
//! - `sio-conformance run`: the suite against the embedded reference fixture server, or
//!   against a server (`--target URL`, `--profile FILE`), with filters, parallel jobs, a
//!   baseline, and reports in five formats (pretty, JSON Lines, JUnit, Markdown, HTML);
//! - `sio-conformance matrix`: several targets against their baselines, as the compatibility
//!   matrix;
//! - `sio-conformance diff`: the same cases against two targets, where their verdicts and
//!   wire transcripts differ;
//! - `sio-conformance list`, `explain <id>` and `coverage`: the cases and requirements;
//! - `sio-conformance vectors list|mirror|check`: the protocol vectors.
//!
//! See `runner/README.md`. Exit codes: 0 as expected, 1 failures, 2 the run could not be
//! judged (`sio-conformance run --help` has the details).

use std::process::ExitCode;

fn main() -> ExitCode {
    sio_runner::cli::main()
}
