//! The console report: a line per case in case order, then the detail of every case that is
//! not a plain pass (the failing step, expected and actual, the quoted requirement, and the
//! transcript's tail), then the counts per verdict, the wall time, and the result.

use std::fmt::Write as _;

use sio_suite::engine::Verdict;

use super::{expectation_note, visible, Report, ReportedCase};
use crate::baseline::Outcome;

/// How many transcript events the detail of a case shows, from the end.
pub const TRANSCRIPT_TAIL: usize = 30;

/// Renders the console report.
pub fn render(report: &Report, colour: bool) -> String {
    let paint = Paint(colour);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "sio-conformance: {} case{} against {} (jobs {}, time scale {})",
        report.cases.len(),
        if report.cases.len() == 1 { "" } else { "s" },
        report.target,
        report.jobs,
        report.time_scale
    );
    if let Some(baseline) = &report.baseline {
        let _ = writeln!(out, "baseline: {baseline}");
    }
    out.push('\n');
    let width = report
        .cases
        .iter()
        .map(|case| case.result.id.chars().count())
        .max()
        .unwrap_or(0);
    for case in &report.cases {
        let marker = match case.outcome {
            Outcome::AsExpected if case.expected.is_some() => " (baseline)",
            Outcome::AsExpected => "",
            Outcome::Regression => " (regression)",
            Outcome::UnexpectedPass => " (unexpected pass)",
            Outcome::Unjudged => " (unjudged)",
        };
        let _ = writeln!(
            out,
            "{} {:<width$} {:>7.1} ms{}",
            paint.verdict(case.verdict()),
            case.result.id,
            case.result.elapsed.as_secs_f64() * 1000.0,
            paint.outcome(case.outcome, marker),
        );
    }
    let detailed: Vec<&ReportedCase> = report
        .cases
        .iter()
        .filter(|case| case.verdict() != Verdict::Pass || case.outcome != Outcome::AsExpected)
        .collect();
    for case in detailed {
        out.push('\n');
        detail(
            &mut out,
            case,
            report.replay_command(&case.result.id),
            paint,
        );
    }
    if !report.unused_baseline.is_empty() {
        out.push('\n');
        let _ = writeln!(out, "baseline entries that match no case of this run:");
        for entry in &report.unused_baseline {
            let _ = writeln!(out, "  {} {}: {}", entry.verdict, entry.case, entry.reason);
        }
    }
    out.push('\n');
    let _ = writeln!(out, "{}", report.summary_line());
    let status = report.status();
    let _ = writeln!(
        out,
        "result: {}",
        paint.status(status.code(), &report.status_line())
    );
    out
}

fn detail(out: &mut String, case: &ReportedCase, replay: Option<String>, paint: Paint) {
    let _ = writeln!(
        out,
        "{} {} -- {} ({})",
        paint.verdict(case.verdict()),
        paint.bold(&case.result.id),
        case.title,
        case.level.as_str()
    );
    if let Some(note) = expectation_note(case) {
        let _ = writeln!(out, "  {note}");
    }
    let Some(failure) = &case.result.failure else {
        return;
    };
    if let (Some(step), Some(keyword)) = (failure.step, &failure.keyword) {
        let actor = failure
            .actor
            .as_deref()
            .map(|actor| format!(", {actor}"))
            .unwrap_or_default();
        let _ = writeln!(out, "  step {step} (`{keyword}`{actor})");
    }
    let _ = writeln!(out, "  expected: {}", indent(&failure.expected));
    let _ = writeln!(out, "  actual:   {}", indent(&failure.actual));
    if let Some(requirement) = &failure.requirement {
        let _ = writeln!(out, "  requirement: {}", indent(requirement));
    }
    if let Some(replay) = replay.filter(|_| case.verdict() != Verdict::Unsupported) {
        let _ = writeln!(out, "  replay: {replay}");
    }
    if case.verdict() == Verdict::Unsupported {
        return;
    }
    let events = &case.result.transcript.events;
    if events.is_empty() {
        return;
    }
    let skip = events.len().saturating_sub(TRANSCRIPT_TAIL);
    if skip > 0 {
        let _ = writeln!(
            out,
            "  transcript (the last {TRANSCRIPT_TAIL} of {} events):",
            events.len()
        );
    } else {
        let _ = writeln!(out, "  transcript:");
    }
    for event in &events[skip..] {
        let _ = writeln!(out, "  {}", indent(&event.to_string()));
    }
}

/// Indents continuation lines so that multi-line text stays under its label.
fn indent(text: &str) -> String {
    visible(text).replace('\n', "\n            ")
}

/// ANSI colours, or none.
#[derive(Debug, Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn wrap(self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn verdict(self, verdict: Verdict) -> String {
        let code = match verdict {
            Verdict::Pass => "32",
            Verdict::Fail => "1;31",
            Verdict::NonStrict => "33",
            Verdict::Informational => "36",
            Verdict::Unsupported => "2",
            Verdict::Error => "1;35",
        };
        self.wrap(code, &format!("{:<13}", verdict.as_str()))
    }

    fn outcome(self, outcome: Outcome, text: &str) -> String {
        match outcome {
            Outcome::AsExpected => self.wrap("2", text),
            _ => self.wrap("1;31", text),
        }
    }

    fn status(self, code: u8, text: &str) -> String {
        match code {
            0 => self.wrap("1;32", text),
            1 => self.wrap("1;31", text),
            _ => self.wrap("1;35", text),
        }
    }

    fn bold(self, text: &str) -> String {
        self.wrap("1", text)
    }
}
