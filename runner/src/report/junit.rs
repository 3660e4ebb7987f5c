//! JUnit XML: a `testsuite` per area (`eio4/polling`), a `testcase` per case.
//!
//! - an unexpected FAIL or NON-STRICT is a `failure` (its `type` the verdict), and so is an
//!   unexpected pass against the baseline (`type="UNEXPECTED-PASS"`);
//! - an unexpected ERROR is an `error`;
//! - UNSUPPORTED, and a non-pass the baseline expects, are `skipped`, with the reason;
//! - PASS and INFORMATIONAL pass.
//!
//! Every case that is not a plain PASS carries the failure detail and its whole transcript in
//! `system-out`.

use std::fmt::Write as _;

use sio_suite::engine::Verdict;

use super::{expectation_note, millis, Report, ReportedCase};
use crate::baseline::Outcome;

/// Renders the JUnit XML report.
pub fn render(report: &Report) -> String {
    let mut areas: Vec<&str> = Vec::new();
    for case in &report.cases {
        if !areas.contains(&case.area()) {
            areas.push(case.area());
        }
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let totals = Totals::of(report.cases.iter());
    let _ = writeln!(
        out,
        "<testsuites name=\"sio-conformance\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
        totals.tests,
        totals.failures,
        totals.errors,
        totals.skipped,
        report.wall.as_secs_f64()
    );
    for area in areas {
        let cases: Vec<&ReportedCase> = report
            .cases
            .iter()
            .filter(|case| case.area() == area)
            .collect();
        let totals = Totals::of(cases.iter().copied());
        let time: f64 = cases
            .iter()
            .map(|case| case.result.elapsed.as_secs_f64())
            .sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{time:.3}\">",
            attribute(area),
            totals.tests,
            totals.failures,
            totals.errors,
            totals.skipped,
        );
        for case in cases {
            testcase(&mut out, case);
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[derive(Default)]
struct Totals {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl Totals {
    fn of<'a>(cases: impl Iterator<Item = &'a ReportedCase>) -> Totals {
        let mut totals = Totals::default();
        for case in cases {
            totals.tests += 1;
            match kind(case) {
                Kind::Failure => totals.failures += 1,
                Kind::Error => totals.errors += 1,
                Kind::Skipped => totals.skipped += 1,
                Kind::Passed => {}
            }
        }
        totals
    }
}

enum Kind {
    Passed,
    Failure,
    Error,
    Skipped,
}

fn kind(case: &ReportedCase) -> Kind {
    match case.outcome {
        Outcome::Regression | Outcome::UnexpectedPass => Kind::Failure,
        Outcome::Unjudged => Kind::Error,
        Outcome::AsExpected => match case.verdict() {
            Verdict::Pass | Verdict::Informational if case.expected.is_none() => Kind::Passed,
            _ => Kind::Skipped,
        },
    }
}

fn testcase(out: &mut String, case: &ReportedCase) {
    let _ = write!(
        out,
        "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\"",
        attribute(&case.result.id),
        attribute(&case.area().replace('/', ".")),
        millis(case.result.elapsed) / 1000.0
    );
    if case.verdict() == Verdict::Pass && case.outcome == Outcome::AsExpected {
        out.push_str("/>\n");
        return;
    }
    out.push_str(">\n");
    let message = message(case);
    match kind(case) {
        Kind::Failure => {
            let kind = match case.outcome {
                Outcome::UnexpectedPass => "UNEXPECTED-PASS",
                _ => case.verdict().as_str(),
            };
            let _ = writeln!(
                out,
                "      <failure message=\"{}\" type=\"{kind}\">{}</failure>",
                attribute(&message),
                text(&detail(case))
            );
        }
        Kind::Error => {
            let _ = writeln!(
                out,
                "      <error message=\"{}\" type=\"ERROR\">{}</error>",
                attribute(&message),
                text(&detail(case))
            );
        }
        Kind::Skipped => {
            let _ = writeln!(out, "      <skipped message=\"{}\"/>", attribute(&message));
        }
        Kind::Passed => {}
    }
    let mut system_out = detail(case);
    if !case.result.transcript.events.is_empty() {
        system_out.push_str("transcript:\n");
        system_out.push_str(&case.result.transcript.to_string());
    }
    let _ = writeln!(out, "      <system-out>{}</system-out>", text(&system_out));
    out.push_str("    </testcase>\n");
}

/// One line: the verdict, and the first thing wrong.
fn message(case: &ReportedCase) -> String {
    let mut message = case.verdict().as_str().to_owned();
    if let Some(note) = expectation_note(case) {
        let _ = write!(message, " ({note})");
    }
    if let Some(failure) = &case.result.failure {
        if let (Some(step), Some(keyword)) = (failure.step, &failure.keyword) {
            let _ = write!(message, ": step {step} (`{keyword}`)");
        } else {
            message.push(':');
        }
        let _ = write!(
            message,
            " expected {}, got {}",
            failure.expected, failure.actual
        );
    }
    message
}

/// The failure as text: the title, what the baseline says, the step, expected and actual,
/// and the requirement.
fn detail(case: &ReportedCase) -> String {
    let mut detail = format!(
        "{} {}: {} ({})\n",
        case.verdict(),
        case.result.id,
        case.title,
        case.level.as_str()
    );
    if let Some(note) = expectation_note(case) {
        let _ = writeln!(detail, "{note}");
    }
    if let Some(failure) = &case.result.failure {
        let _ = write!(detail, "{failure}");
    }
    detail
}

/// Escapes text content.
fn text(value: &str) -> String {
    escape(value, false)
}

/// Escapes an attribute value (double-quoted), newlines and tabs included.
fn attribute(value: &str) -> String {
    escape(value, true)
}

fn escape(value: &str, in_attribute: bool) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if in_attribute => out.push_str("&quot;"),
            '\n' if in_attribute => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' if in_attribute => out.push_str("&#9;"),
            '\t' | '\n' => out.push(c),
            // Characters XML 1.0 cannot carry at all, even as references: shown escaped.
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(text("a<b>&c\"'\n"), "a&lt;b&gt;&amp;c\"'\n");
        assert_eq!(attribute("\"x\"\n\t"), "&quot;x&quot;&#10;&#9;");
        assert_eq!(text("4a\u{1e}4b\u{0}"), "4a\\u{001e}4b\\u{0000}");
    }
}
