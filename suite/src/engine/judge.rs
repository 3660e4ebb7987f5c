//! The verdict of a case: runs it (unless its role or its features rule it out) within a
//! guard, and turns the failing step's error into the verdict of the requirement's level, with
//! what was expected and what happened.

use std::time::Duration;

use super::error::StepError;
use super::missing_feature;
use super::serving;
use super::steps::Execution;
use super::target::{RunOptions, Target};
use super::transcript::Recorder;
use super::verdict::{Failure, Verdict};
use super::wire::{ReadLimits, Wire};
use crate::scenario::{Case, Role};

/// The longest a whole case may take before scaling, whatever its steps say: a guard that
/// should never fire, since every step has its own deadline.
const CASE_GUARD: Duration = Duration::from_secs(60);

/// The verdict of `case` against `target`, and the failure that decided it; what happened on
/// the wire goes to `recorder`.
pub(crate) async fn judge(
    case: &Case,
    target: &Target,
    options: &RunOptions,
    recorder: &Recorder,
) -> (Verdict, Option<Failure>) {
    if let Some(feature) = missing_feature(case, target) {
        let why = format!("the target does not declare the feature {feature}");
        let expected = "the features the case needs".to_owned();
        return (
            Verdict::Unsupported,
            Some(failure(case, None, expected, why)),
        );
    }
    if case.scenario.role == Role::Client {
        return judge_client(case, target, options, recorder).await;
    }
    if let Some(eio) = target.server_eio.filter(|eio| *eio != case.variant.eio) {
        let why = format!(
            "the server speaks Engine.IO protocol {eio} only, the case {}",
            case.variant.eio
        );
        let expected = "a server that speaks the case's protocol".to_owned();
        return (
            Verdict::Unsupported,
            Some(failure(case, None, expected, why)),
        );
    }
    let wire = Wire::new(
        target.address,
        recorder.clone(),
        options.scaled(options.connect_timeout),
        ReadLimits::for_max_payload(target.options.max_payload),
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
    match outcome {
        Ok(()) => (Verdict::Pass, None),
        Err((index, error)) => verdict_of(case, index, error),
    }
}

/// A client-role case: the engine serves the target's client program.
async fn judge_client(
    case: &Case,
    target: &Target,
    options: &RunOptions,
    recorder: &Recorder,
) -> (Verdict, Option<Failure>) {
    let unsupported = |why: String| {
        let expected = "a client under test that can run the case".to_owned();
        (
            Verdict::Unsupported,
            Some(failure(case, None, expected, why)),
        )
    };
    let Some(client) = &target.client else {
        return unsupported("the target names no client program".to_owned());
    };
    if client.eio != case.variant.eio {
        return unsupported(format!(
            "the client speaks Engine.IO protocol {}, the case {}",
            client.eio, case.variant.eio
        ));
    }
    let guard = options.scaled(CASE_GUARD);
    let outcome =
        match tokio::time::timeout(guard, serving::run(case, client, options, recorder)).await {
            Ok(outcome) => outcome,
            Err(_) => {
                let error = StepError::nothing_within("the case to finish", guard);
                return verdict_of(case, None, error);
            }
        };
    match (outcome.failure, outcome.unsupported) {
        (None, _) => (Verdict::Pass, None),
        (Some(_), Some(what)) => unsupported(format!("the client reported it cannot do {what}")),
        (Some((index, error)), None) => verdict_of(case, index, error),
    }
}

/// The verdict of a step that failed: by its level, or ERROR when the target could not be
/// judged.
fn verdict_of(case: &Case, index: Option<usize>, error: StepError) -> (Verdict, Option<Failure>) {
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

fn failure(case: &Case, index: Option<usize>, expected: String, actual: String) -> Failure {
    let step = index.and_then(|index| case.scenario.steps.get(index));
    Failure {
        step: index.map(|index| index + 1),
        keyword: step.map(|step| step.action.keyword().to_owned()),
        actor: step.map(|step| step.actor.clone()),
        expected,
        actual,
        requirement: case.scenario.spec.as_ref().map(|spec| {
            format!(
                "{}, {}: \"{}\"",
                spec.doc.as_str(),
                spec.section,
                spec.quote
            )
        }),
    }
}
