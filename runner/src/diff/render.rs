//! The diff for people (the console, coloured on a terminal) and for programs (one JSON
//! object).

use std::fmt::Write as _;

use super::{CaseDifference, Comparison};

/// How many transcript lines the console shows per case; the JSON has them all.
pub const SHOWN_LINES_PER_CASE: usize = 40;

/// The comparison as one pretty-printed JSON object, with the exit code.
pub fn json(comparison: &Comparison) -> String {
    let mut value = serde_json::to_value(comparison).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        object.insert("exit_code".to_owned(), comparison.code().into());
    }
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
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
    fn a(self, text: &str) -> String {
        self.wrap("31", text)
    }
    fn b(self, text: &str) -> String {
        self.wrap("32", text)
    }
    fn bold(self, text: &str) -> String {
        self.wrap("1", text)
    }
    fn dim(self, text: &str) -> String {
        self.wrap("2", text)
    }
}

/// The console report: the sides, the verdict differences, the transcript differences, the
/// cases one side has only, and a closing line.
pub fn console(comparison: &Comparison, colour: bool) -> String {
    let paint = Paint(colour);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "sio-conformance diff: {} case{}",
        comparison.cases,
        if comparison.cases == 1 { "" } else { "s" }
    );
    let _ = writeln!(out, "  {} {}", paint.a("A"), comparison.a);
    let _ = writeln!(out, "  {} {}", paint.b("B"), comparison.b);
    if !comparison.verdict_differences.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            paint.bold(&format!(
                "verdicts differ ({}):",
                comparison.verdict_differences.len()
            ))
        );
        for difference in &comparison.verdict_differences {
            let _ = writeln!(
                out,
                "\n{}  {} {}  {} {}",
                paint.bold(&difference.id),
                paint.a("A"),
                difference.verdict_a,
                paint.b("B"),
                difference.verdict_b
            );
            for (side, failure) in [("A", &difference.failure_a), ("B", &difference.failure_b)] {
                if let Some(failure) = failure {
                    let side = if side == "A" {
                        paint.a(side)
                    } else {
                        paint.b(side)
                    };
                    let _ = writeln!(out, "  {side} {}", one_line(failure));
                }
            }
            write_hunks(&mut out, difference, paint);
        }
    }
    if !comparison.transcript_differences.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            paint.bold(&format!(
                "transcripts differ, verdicts equal ({}):",
                comparison.transcript_differences.len()
            ))
        );
        for difference in &comparison.transcript_differences {
            let _ = writeln!(
                out,
                "\n{}  {}",
                paint.bold(&difference.id),
                difference.verdict_a
            );
            write_hunks(&mut out, difference, paint);
        }
    }
    for (side, ids) in [("A", &comparison.only_a), ("B", &comparison.only_b)] {
        if !ids.is_empty() {
            let _ = writeln!(
                out,
                "\n{}",
                paint.bold(&format!("only on {side} ({}):", ids.len()))
            );
            for id in ids {
                let _ = writeln!(out, "  {id}");
            }
        }
    }
    let differing = comparison.verdict_differences.len()
        + comparison.transcript_differences.len()
        + comparison.only_a.len()
        + comparison.only_b.len();
    let _ = writeln!(
        out,
        "\ndifferent verdicts: {}, different transcripts: {}, on one side only: {}, the same: {}",
        comparison.verdict_differences.len(),
        comparison.transcript_differences.len(),
        comparison.only_a.len() + comparison.only_b.len(),
        comparison.same
    );
    let result = if differing == 0 {
        paint.wrap("1;32", "no difference")
    } else {
        paint.wrap("1;31", "different")
    };
    let _ = writeln!(out, "result: {result}");
    out
}

/// A failure's text on one line.
fn one_line(text: &str) -> String {
    text.split('\n')
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" / ")
}

/// A case's hunks, each under its step and lane, at most [`SHOWN_LINES_PER_CASE`] lines.
fn write_hunks(out: &mut String, difference: &CaseDifference, paint: Paint) {
    let mut shown = 0;
    let total: usize = difference
        .hunks
        .iter()
        .map(|hunk| hunk.a.len() + hunk.b.len())
        .sum();
    for hunk in &difference.hunks {
        if shown >= SHOWN_LINES_PER_CASE {
            break;
        }
        let _ = writeln!(
            out,
            "  {}",
            paint.dim(&format!("{} · {}", hunk.step, hunk.lane))
        );
        let a_side = if hunk.a.is_empty() {
            vec![String::from("(nothing)")]
        } else {
            hunk.a.clone()
        };
        let b_side = if hunk.b.is_empty() {
            vec![String::from("(nothing)")]
        } else {
            hunk.b.clone()
        };
        for line in &a_side {
            let _ = writeln!(out, "    {} {line}", paint.a("A"));
            shown += 1;
        }
        for line in &b_side {
            let _ = writeln!(out, "    {} {line}", paint.b("B"));
            shown += 1;
        }
    }
    if total > shown {
        let _ = writeln!(
            out,
            "  {}",
            paint.dim(&format!(
                "… {} more lines (--json has them all)",
                total - shown
            ))
        );
    }
}
