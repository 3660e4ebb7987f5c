//! JSON Lines: one object per case, in case order, then one summary object.
//!
//! A case: `{"type": "case", "id", "title", "level", "verdict", "outcome", "expected"
//! ({"verdict", "reason"} or null), "elapsed_ms", "failure" ({"step", "keyword", "actor",
//! "expected", "actual", "requirement"} or null), "transcript" (the events: "at" in ms,
//! "actor", "channel", and "kind", an object with its "type" and fields)}`. The summary: `{"type": "summary", "target",
//! "cases", "counts" (verdict → count), "regressions", "unexpected_passes",
//! "unexpected_errors", "unused_baseline", "wall_ms", "jobs", "time_scale", "status",
//! "exit_code"}`.

use serde_json::{json, Map, Value};

use super::{millis, Report, ReportedCase};
use crate::baseline::Outcome;

/// Renders the JSON Lines report.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for case in &report.cases {
        out.push_str(&case_object(case).to_string());
        out.push('\n');
    }
    out.push_str(&summary_object(report).to_string());
    out.push('\n');
    out
}

fn case_object(case: &ReportedCase) -> Value {
    let transcript = serde_json::to_value(&case.result.transcript.events).unwrap_or(Value::Null);
    let failure = serde_json::to_value(&case.result.failure).unwrap_or(Value::Null);
    json!({
        "type": "case",
        "id": case.result.id,
        "title": case.title,
        "level": case.level.as_str(),
        "verdict": case.verdict().as_str(),
        "outcome": case.outcome.as_str(),
        "expected": case.expected.as_ref().map(|entry| json!({
            "verdict": entry.verdict.as_str(),
            "reason": entry.reason,
        })),
        "elapsed_ms": millis(case.result.elapsed),
        "failure": failure,
        "transcript": transcript,
    })
}

fn summary_object(report: &Report) -> Value {
    let counts: Map<String, Value> = report
        .counts()
        .into_iter()
        .map(|(verdict, count)| (verdict.as_str().to_owned(), json!(count)))
        .collect();
    let unused: Vec<Value> = report
        .unused_baseline
        .iter()
        .map(|entry| {
            json!({
                "case": entry.case,
                "verdict": entry.verdict.as_str(),
                "reason": entry.reason,
            })
        })
        .collect();
    let status = report.status();
    json!({
        "type": "summary",
        "target": report.target,
        "baseline": report.baseline,
        "cases": report.cases.len(),
        "counts": counts,
        "regressions": report.count_outcome(Outcome::Regression),
        "unexpected_passes": report.count_outcome(Outcome::UnexpectedPass),
        "unexpected_errors": report.count_outcome(Outcome::Unjudged),
        "unused_baseline": unused,
        "wall_ms": millis(report.wall),
        "jobs": report.jobs,
        "time_scale": report.time_scale,
        "status": status.as_str(),
        "exit_code": status.code(),
    })
}
