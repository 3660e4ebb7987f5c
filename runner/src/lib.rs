//! # sio-runner
//!
//! The command-line runner of the Engine.IO and Socket.IO conformance suite, `sio-conformance`,
//! as a library: the binary is [`cli::main`].
//!
//! - [`cli`]: the commands' arguments and output: `run`, `list`, `explain`, `coverage`,
//!   `matrix`, `bench`, `soak`, `vectors`.
//! - [`profile`]: target profiles (URL, paths, declared options, features, baseline).
//! - [`launch`]: starting a profile's `start` program and reading its URL.
//! - [`url`]: a server's base URL, `http://host:port`.
//! - [`diff`]: `diff`, the same cases against two targets, verdicts and aligned transcripts
//!   compared.
//! - [`matrix`]: the compatibility matrix of several targets.
//! - [`load`]: the load generator of `bench` and `soak`: raw protocol drivers, figures, reports.
//! - [`proxy`]: `sio-conformance proxy`, the decoding proxy: carries traffic between a client
//!   and a server unchanged, logs every packet, flags violations, records draft scenarios.
//! - [`select`]: which cases run: id patterns, features, transports.
//! - [`run`]: the run pipeline ([`run::run_target`]): the target made ready (reached,
//!   started, or the embedded reference fixture), the scheduler (cases run concurrently,
//!   results in case order), the progress bar, and the report judged against the baseline.
//! - [`baseline`]: expected non-passes, and how verdicts are judged against them.
//! - [`report`]: the report formats: pretty, JSON Lines, JUnit XML, Markdown.
//! - [`explain`]: a case with the requirement it checks.
//! - [`error`]: why a command could not run (exit code 2).
//!
//! Exit codes: see [`cli::EXIT_CODES`].

pub mod baseline;
pub mod cli;
pub mod coverage;
pub mod diff;
pub mod error;
pub mod explain;
pub mod launch;
pub mod load;
pub mod matrix;
pub mod profile;
pub mod proxy;
pub mod report;
pub mod run;
pub mod select;
pub mod url;
pub mod vectors;
