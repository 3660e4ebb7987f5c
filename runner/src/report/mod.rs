//! Reports of a run: the results with what was expected of each, and the five formats they
//! are written in ([`pretty`], [`json`], [`junit`], [`markdown`], [`html`]).
//!
//! A [`Report`] holds everything a format prints, wall time and target included, so that the
//! same report always renders the same text.

pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod pretty;

use std::time::Duration;

use sio_suite::engine::{CaseResult, Verdict};
use sio_suite::scenario::{Case, Level};

use crate::baseline::{judge_result, Baseline, Expectation, Outcome};

/// The formats a report is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people at a console: a line per case, the details of each non-pass, a summary.
    Pretty,
    /// JSON Lines: an object per case (with its transcript), then a summary object.
    Json,
    /// JUnit XML: a test suite per area, a test case per case.
    Junit,
    /// Markdown: a table of areas by verdict, then the non-passes.
    Markdown,
    /// HTML: one self-contained page, every case with its whole wire transcript (requests,
    /// responses, frames, timings) and the quoted requirement beside the failing step.
    Html,
}

/// One case's result, with what the report needs to say about it.
#[derive(Debug, Clone)]
pub struct ReportedCase {
    /// The result.
    pub result: CaseResult,
    /// The scenario's title.
    pub title: String,
    /// The scenario's level.
    pub level: Level,
    /// The baseline's entry for it.
    pub expected: Option<Expectation>,
    /// How its verdict compares with what was expected.
    pub outcome: Outcome,
}

impl ReportedCase {
    /// The report entry of `case`'s `result`, judged against `baseline`.
    pub fn new(case: &Case, result: CaseResult, baseline: &Baseline) -> ReportedCase {
        let (outcome, expected) = judge_result(&result, baseline);
        ReportedCase {
            title: case.scenario.title.clone(),
            level: case.scenario.level,
            expected,
            outcome,
            result,
        }
    }

    /// The case's area: its scenario id without the last segment (`eio4/polling`).
    pub fn area(&self) -> &str {
        area_of(&self.result.id)
    }

    /// The verdict.
    pub fn verdict(&self) -> Verdict {
        self.result.verdict
    }
}

/// The area of a case id: `eio4/polling/post-ok[x]` → `eio4/polling`.
pub fn area_of(id: &str) -> &str {
    let scenario = id.split('[').next().unwrap_or(id);
    scenario
        .rsplit_once('/')
        .map(|(area, _)| area)
        .unwrap_or(scenario)
}

/// How a run ended, which decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Every verdict as expected: exit 0.
    AsExpected,
    /// An unexpected FAIL or NON-STRICT, or a baseline entry not met: exit 1.
    Failed,
    /// The run cannot be judged (an unexpected ERROR): exit 2.
    Unjudged,
}

impl RunStatus {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            RunStatus::AsExpected => 0,
            RunStatus::Failed => 1,
            RunStatus::Unjudged => 2,
        }
    }

    /// In words.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::AsExpected => "as expected",
            RunStatus::Failed => "failed",
            RunStatus::Unjudged => "could not be judged",
        }
    }
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct Report {
    /// What was tested, for people: `http://127.0.0.1:3000 (my server)`.
    pub target: String,
    /// The run's time scale.
    pub time_scale: f64,
    /// How many cases ran at once.
    pub jobs: usize,
    /// The wall time of the run.
    pub wall: Duration,
    /// The baseline's file, when it has one.
    pub baseline: Option<String>,
    /// The cases, in order.
    pub cases: Vec<ReportedCase>,
    /// Baseline entries that matched no case of the run.
    pub unused_baseline: Vec<Expectation>,
    /// The command that runs the same target again (`sio-conformance run --profile …`), to
    /// which `--filter '<id>'` is added to replay one case; `None` when there is none.
    pub replay: Option<String>,
}

impl Report {
    /// The command that replays one case of this run, when the run can be replayed.
    pub fn replay_command(&self, id: &str) -> Option<String> {
        let base = self.replay.as_ref()?;
        Some(format!("{base} --filter '{}'", id.replace('\'', "'\\''")))
    }

    /// How many cases got each verdict, in verdict order, zeros included.
    pub fn counts(&self) -> Vec<(Verdict, usize)> {
        Verdict::ALL
            .into_iter()
            .map(|verdict| {
                let count = self
                    .cases
                    .iter()
                    .filter(|case| case.verdict() == verdict)
                    .count();
                (verdict, count)
            })
            .collect()
    }

    /// How many cases had this outcome.
    pub fn count_outcome(&self, outcome: Outcome) -> usize {
        self.cases
            .iter()
            .filter(|case| case.outcome == outcome)
            .count()
    }

    /// The areas of the cases (`eio4/polling`), in the order they first appear.
    pub fn areas(&self) -> Vec<&str> {
        let mut areas: Vec<&str> = Vec::new();
        for case in &self.cases {
            if !areas.contains(&case.area()) {
                areas.push(case.area());
            }
        }
        areas
    }

    /// How the run ended.
    pub fn status(&self) -> RunStatus {
        if self.count_outcome(Outcome::Unjudged) > 0 {
            RunStatus::Unjudged
        } else if self.count_outcome(Outcome::Regression) > 0
            || self.count_outcome(Outcome::UnexpectedPass) > 0
        {
            RunStatus::Failed
        } else {
            RunStatus::AsExpected
        }
    }

    /// `42 cases in 2.71 s: 40 PASS, 1 FAIL, 1 UNSUPPORTED`.
    pub fn summary_line(&self) -> String {
        let counts: Vec<String> = self
            .counts()
            .into_iter()
            .filter(|(_, count)| *count > 0)
            .map(|(verdict, count)| format!("{count} {verdict}"))
            .collect();
        let counts = if counts.is_empty() {
            "nothing ran".to_owned()
        } else {
            counts.join(", ")
        };
        format!(
            "{} case{} in {:.2} s: {counts}",
            self.cases.len(),
            if self.cases.len() == 1 { "" } else { "s" },
            self.wall.as_secs_f64()
        )
    }

    /// `as expected (exit 0)`, or what went wrong: `failed: 1 regression (exit 1)`.
    pub fn status_line(&self) -> String {
        let status = self.status();
        let mut problems = Vec::new();
        for (outcome, one, many) in [
            (Outcome::Regression, "regression", "regressions"),
            (
                Outcome::UnexpectedPass,
                "unexpected pass",
                "unexpected passes",
            ),
            (Outcome::Unjudged, "unexpected ERROR", "unexpected ERRORs"),
        ] {
            let count = self.count_outcome(outcome);
            if count > 0 {
                problems.push(format!("{count} {}", if count == 1 { one } else { many }));
            }
        }
        let expected = self
            .cases
            .iter()
            .filter(|case| case.expected.is_some() && case.outcome == Outcome::AsExpected)
            .count();
        if expected > 0 {
            problems.push(format!("{expected} as the baseline expects"));
        }
        if problems.is_empty() {
            format!("{} (exit {})", status.as_str(), status.code())
        } else {
            format!(
                "{}: {} (exit {})",
                status.as_str(),
                problems.join(", "),
                status.code()
            )
        }
    }
}

/// Renders a report in a format; `colour` only affects [`Format::Pretty`].
pub fn render(report: &Report, format: Format, colour: bool) -> String {
    match format {
        Format::Pretty => pretty::render(report, colour),
        Format::Json => json::render(report),
        Format::Junit => junit::render(report),
        Format::Markdown => markdown::render(report),
        Format::Html => html::render(report),
    }
}

/// Milliseconds, to the microsecond, as JSON and XML print them.
pub(crate) fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// Text with its control characters (other than newline and tab) made visible as
/// `\u{1e}`, as the console and Markdown print it.
pub(crate) fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// What the baseline says about a case, for people: `the baseline expects FAIL: reason`.
pub(crate) fn expectation_note(case: &ReportedCase) -> Option<String> {
    let entry = case.expected.as_ref()?;
    Some(match case.outcome {
        Outcome::AsExpected => format!("expected by the baseline: {}", entry.reason),
        _ => format!(
            "the baseline expects {}, not {}: {}",
            entry.verdict,
            case.verdict(),
            entry.reason
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas() {
        assert_eq!(area_of("eio4/polling/post-ok"), "eio4/polling");
        assert_eq!(area_of("eio4/message/echo-text[polling]"), "eio4/message");
        assert_eq!(area_of("a[b/c]"), "a");
    }
}
