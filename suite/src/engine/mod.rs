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

mod error;
mod execute;
mod http;
mod inbox;
mod matching;
mod session;
mod target;
mod transcript;
mod vars;
mod verdict;
mod websocket;
mod wire;

use std::time::Duration;

use tokio::time::Instant;

pub use target::{DeclaredOptions, RunOptions, Target};
pub use transcript::{Event, EventKind, Transcript, WireData};
pub use verdict::{CaseResult, Failure, Verdict};

use error::StepError;
use execute::Execution;
use transcript::Recorder;
use wire::Wire;

use crate::scenario::{Case, Feature, Role, SpecDocument};

/// The longest a whole case may take before scaling, whatever its steps say: a guard that
/// should never fire, since every step has its own deadline.
const CASE_GUARD: Duration = Duration::from_secs(60);

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

async fn judge(
    case: &Case,
    target: &Target,
    options: &RunOptions,
    recorder: &Recorder,
) -> (Verdict, Option<Failure>) {
    if case.scenario.role == Role::Client {
        let why = "client-role scenarios are not replayed yet".to_owned();
        return (
            Verdict::Error,
            Some(failure(case, None, "a server-role case".to_owned(), why)),
        );
    }
    if let Some(feature) = missing_feature(case, target) {
        let why = format!("the target does not declare the feature {feature:?}");
        let expected = "the features the case needs".to_owned();
        return (
            Verdict::Unsupported,
            Some(failure(case, None, expected, why)),
        );
    }
    let wire = Wire::new(
        target.address,
        recorder.clone(),
        options.scaled(options.connect_timeout),
    );
    let guard = options.scaled(CASE_GUARD);
    let outcome = {
        let mut execution = Execution::new(case, target, options, wire);
        match tokio::time::timeout(guard, execution.run()).await {
            Ok(result) => result.map_err(|(index, error)| (Some(index), error)),
            Err(_) => Err((None, StepError::nothing_within("the case to finish", guard))),
        }
        // The execution is dropped here, and every task it started with it.
    };
    let Err((index, error)) = outcome else {
        return (Verdict::Pass, None);
    };
    let level = index
        .and_then(|index| case.scenario.steps.get(index))
        .and_then(|step| step.level)
        .unwrap_or(case.scenario.level);
    let (verdict, expected, actual) = match error {
        StepError::Unmet { expected, actual } => (Verdict::for_unmet(level), expected, actual),
        StepError::Unreachable(why) => (Verdict::Error, "a reachable target".to_owned(), why),
        StepError::Invalid(why) => (Verdict::Error, "a scenario that can run".to_owned(), why),
    };
    (verdict, Some(failure(case, index, expected, actual)))
}

/// The first feature `case` needs that `target` does not declare: the case is UNSUPPORTED.
pub fn missing_feature(case: &Case, target: &Target) -> Option<Feature> {
    let declared = target.features.as_ref()?;
    case.required_features()
        .into_iter()
        .find(|feature| !declared.contains(feature))
}

fn failure(case: &Case, index: Option<usize>, expected: String, actual: String) -> Failure {
    let step = index.and_then(|index| case.scenario.steps.get(index));
    Failure {
        step: index.map(|index| index + 1),
        keyword: step.map(|step| step.action.keyword().to_owned()),
        actor: step.map(|step| step.actor.clone()),
        expected,
        actual,
        requirement: case.scenario.spec.as_ref().map(|spec| {
            let document = match spec.doc {
                SpecDocument::EngineIoProtocol => "engine.io-protocol",
                SpecDocument::SocketIoProtocol => "socket.io-protocol",
            };
            format!("{document}, {}: \"{}\"", spec.section, spec.quote)
        }),
    }
}
