//! The replay engine: runs a [`Case`] against a [`Target`] and returns a [`CaseResult`] with
//! its verdict, the failing step (expected against actual, and the requirement quoted), and
//! the full transcript.
//!
//! Everything a case opens (connections, background requests, pollers, WebSocket readers)
//! belongs to that case and ends with it; nothing is shared between cases, so cases run in
//! parallel. Every wait has a deadline: a target that stalls or answers garbage gets the
//! verdict of the broken requirement's level, never a hang; an unreachable one gets ERROR.
//!
//! The engine plays the client; scenarios whose role is `client` (the engine playing the
//! server) are loaded but not replayed yet, and get ERROR saying so.
//!
//! Its parts:
//!
//! - `judge`: a case's verdict, from its failing step; `steps`: the interpreter, one module
//!   per layer of steps (session, raw HTTP, raw WebSocket), each with its own actors;
//! - `expect`: the expectations on what arrived, over an `inbox` and a step's `clock`, with
//!   the pattern matcher (`matching`) and the variables (`vars`);
//! - `session`: the abstract Engine.IO session over its transports, with its packet `rules`;
//!   `http` and `websocket`: the client connections; `wire`: what a case's connections share;
//! - `transcript`, `verdict`, `target`, `error`: what a run records, returns, is given, and
//!   how a step fails.
//!
//! The wire formats are the crate's [`protocol`](crate::protocol) module's.

mod clock;
mod error;
mod expect;
mod http;
mod inbox;
mod judge;
pub mod lines;
mod matching;
mod serving;
mod session;
mod steps;
mod target;
mod transcript;
mod vars;
mod verdict;
mod websocket;
mod wire;

use tokio::time::Instant;

pub use serving::{Backoff, ClientProgram};
pub use target::{DeclaredOptions, RunOptions, Target};
pub use transcript::{Event, EventKind, Transcript, WireData};
pub use verdict::{CaseResult, Failure, Verdict};

use judge::judge;
use transcript::Recorder;

use crate::scenario::{Case, Feature};

/// Runs one case against a target.
pub async fn run(case: &Case, target: &Target, options: &RunOptions) -> CaseResult {
    let started = Instant::now();
    let recorder = Recorder::new();
    let (verdict, failure) = judge(case, target, options, &recorder).await;
    CaseResult {
        id: case.id.clone(),
        verdict,
        failure,
        transcript: recorder.transcript(),
        elapsed: started.elapsed(),
    }
}

/// The first feature `case` needs that `target` does not declare: the case is UNSUPPORTED.
pub fn missing_feature(case: &Case, target: &Target) -> Option<Feature> {
    let declared = target.features.as_ref()?;
    case.required_features()
        .into_iter()
        .find(|feature| !declared.contains(feature))
}
