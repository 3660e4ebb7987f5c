//! How a step goes wrong.

use std::time::Duration;

/// Why a step did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StepError {
    /// The peer under test did something else than expected (including nothing, or garbage):
    /// judged by the level of the step.
    Unmet {
        /// What was expected.
        expected: String,
        /// What happened.
        actual: String,
    },
    /// The peer under test could not be reached at all: ERROR.
    Unreachable(String),
    /// The scenario cannot run as written (an unknown variable, a step that needs what an
    /// earlier step did not make): ERROR.
    Invalid(String),
}

impl StepError {
    /// The step's requirement is unmet: `expected`, and what happened instead.
    pub(crate) fn unmet(expected: impl Into<String>, actual: impl Into<String>) -> StepError {
        StepError::Unmet {
            expected: expected.into(),
            actual: actual.into(),
        }
    }

    /// Nothing came before the deadline.
    pub(crate) fn nothing_within(expected: impl Into<String>, waited: Duration) -> StepError {
        StepError::unmet(expected, format!("nothing within {}", millis(waited)))
    }
}

/// A duration as `123 ms`.
pub(crate) fn millis(duration: Duration) -> String {
    format!("{:.0} ms", duration.as_secs_f64() * 1000.0)
}
