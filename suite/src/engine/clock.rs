//! A step's time: when it started, by when it must be done (the step timeout, or the `within`
//! window's end, scaled), and how early its event may come (the window's start, never scaled:
//! too early is wrong on any machine).

use std::time::Duration;

use tokio::time::Instant;

use super::error::{millis, StepError};
use super::target::{RunOptions, Target};
use crate::scenario::{TimingOptions, Window};

/// When a step started, by when it must be done, and how early its event may come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StepClock {
    started: Instant,
    deadline: Instant,
    min: Option<Duration>,
}

impl StepClock {
    /// Starts a step's clock now: `window` (the step's `within`) in the target's options, its
    /// end scaled by the run's time scale; without one, the run's step timeout.
    pub(crate) fn start(
        options: &RunOptions,
        target: &Target,
        window: Option<&Window>,
    ) -> StepClock {
        StepClock::start_in(options, &target.options, window)
    }

    /// [`StepClock::start`] with the window in `timing`'s options (a client-role case's are
    /// the ones the engine serves with).
    pub(crate) fn start_in(
        options: &RunOptions,
        timing: &impl TimingOptions,
        window: Option<&Window>,
    ) -> StepClock {
        let started = Instant::now();
        let max = window
            .and_then(|window| window.max.as_ref())
            .map(|max| max.eval(timing))
            .unwrap_or(options.step_timeout);
        StepClock {
            started,
            deadline: started + options.scaled(max),
            min: window
                .and_then(|window| window.min.as_ref())
                .map(|min| min.eval(timing)),
        }
    }

    /// When the step started.
    pub(crate) fn started(&self) -> Instant {
        self.started
    }

    /// A clock that runs for `duration` from now, as is (for a silence, whose length is what
    /// is checked).
    pub(crate) fn lasting(duration: Duration) -> StepClock {
        let started = Instant::now();
        StepClock {
            started,
            deadline: started + duration,
            min: None,
        }
    }

    /// By when the step must be done.
    pub(crate) fn deadline(&self) -> Instant {
        self.deadline
    }

    /// How long since the step started.
    pub(crate) fn waited(&self) -> Duration {
        self.started.elapsed()
    }

    /// Fails when the awaited event came before the window opened.
    pub(crate) fn check_min(&self) -> Result<(), StepError> {
        match self.min {
            Some(min) if self.waited() < min => Err(StepError::unmet(
                format!("not before {}", millis(min)),
                format!("after {}", millis(self.waited())),
            )),
            _ => Ok(()),
        }
    }

    /// The failure of a step whose `expected` event did not come by the deadline.
    pub(crate) fn nothing(&self, expected: impl Into<String>) -> StepError {
        StepError::nothing_within(expected, self.waited())
    }
}
