//! Markdown for CI pages: the summary, a table of areas by verdict, then every case that is
//! not a plain pass with its detail.

use std::fmt::Write as _;

use sio_suite::engine::Verdict;

use super::{expectation_note, visible, Report, ReportedCase};
use crate::baseline::Outcome;

/// Renders the Markdown report.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Conformance report\n");
    let _ = writeln!(out, "- target: {}", inline(&report.target));
    if let Some(baseline) = &report.baseline {
        let _ = writeln!(out, "- baseline: {}", code(baseline));
    }
    let _ = writeln!(out, "- {}", report.summary_line());
    let _ = writeln!(out, "- result: **{}**\n", report.status_line());

    let _ = write!(out, "| area |");
    for verdict in Verdict::ALL {
        let _ = write!(out, " {verdict} |");
    }
    let _ = write!(out, "\n|---|");
    for _ in Verdict::ALL {
        out.push_str("--:|");
    }
    out.push('\n');
    let mut areas: Vec<&str> = Vec::new();
    for case in &report.cases {
        if !areas.contains(&case.area()) {
            areas.push(case.area());
        }
    }
    for area in &areas {
        let _ = write!(out, "| {} |", code(area));
        for verdict in Verdict::ALL {
            let count = report
                .cases
                .iter()
                .filter(|case| case.area() == *area && case.verdict() == verdict)
                .count();
            let _ = write!(
                out,
                " {} |",
                if count == 0 {
                    String::new()
                } else {
                    count.to_string()
                }
            );
        }
        out.push('\n');
    }
    let _ = write!(out, "| **total** |");
    for (_, count) in report.counts() {
        let _ = write!(out, " **{count}** |");
    }
    out.push('\n');

    let listed: Vec<&ReportedCase> = report
        .cases
        .iter()
        .filter(|case| case.verdict() != Verdict::Pass || case.outcome != Outcome::AsExpected)
        .collect();
    if !listed.is_empty() {
        let _ = writeln!(out, "\n## Non-passes\n");
        for case in listed {
            item(&mut out, case, report.replay_command(&case.result.id));
        }
    }
    if !report.unused_baseline.is_empty() {
        let _ = writeln!(
            out,
            "\n## Baseline entries that match no case of this run\n"
        );
        for entry in &report.unused_baseline {
            let _ = writeln!(
                out,
                "- {} {}: {}",
                code(&entry.case),
                entry.verdict,
                inline(&entry.reason)
            );
        }
    }
    out
}

fn item(out: &mut String, case: &ReportedCase, replay: Option<String>) {
    let flag = match case.outcome {
        Outcome::AsExpected => "",
        Outcome::Regression => " (regression)",
        Outcome::UnexpectedPass => " (unexpected pass)",
        Outcome::Unjudged => " (unjudged)",
    };
    let _ = writeln!(
        out,
        "- **{}**{flag} {}: {} ({})",
        case.verdict(),
        code(&case.result.id),
        inline(&case.title),
        case.level.as_str()
    );
    if let Some(note) = expectation_note(case) {
        let _ = writeln!(out, "  - {}", inline(&note));
    }
    if let Some(failure) = &case.result.failure {
        if let (Some(step), Some(keyword)) = (failure.step, &failure.keyword) {
            let _ = writeln!(out, "  - step {step} ({})", code(keyword));
        }
        let _ = writeln!(out, "  - expected: {}", code(&failure.expected));
        let _ = writeln!(out, "  - actual: {}", code(&failure.actual));
        if let Some(requirement) = &failure.requirement {
            let _ = writeln!(out, "  - requirement: {}", inline(requirement));
        }
    }
    if let Some(replay) = replay.filter(|_| case.verdict() != Verdict::Unsupported) {
        let _ = writeln!(out, "  - replay: {}", code(&replay));
    }
}

/// An inline code span that holds any text: fenced with more backticks than it contains,
/// newlines shown as `⏎`.
fn code(text: &str) -> String {
    let text = visible(&text.replace("\r\n", "⏎").replace(['\n', '\r'], "⏎"));
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    if longest > 0 || text.starts_with(' ') || text.ends_with(' ') {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

/// Prose on one line, with the characters Markdown would read escaped.
fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in visible(text).chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' => {
                out.push('\\');
                out.push(c);
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
    fn code_spans_hold_backticks_and_newlines() {
        assert_eq!(code("4hello"), "`4hello`");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(code("a\nb"), "`a⏎b`");
        assert_eq!(inline("a|b *c*"), "a\\|b \\*c\\*");
    }
}
