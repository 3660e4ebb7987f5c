//! Baselines: the non-passes a target is expected to have, each with its reason, and how a
//! run's verdicts are judged against them.
//!
//! A baseline file (or a profile's inline `baseline`):
//!
//! ```yaml
//! expected:
//!   - case: eio4/heartbeat/pong-timeout        # an id pattern, as for --filter
//!     verdict: NON-STRICT
//!     reason: "closes the session 50 ms late: see issue 12"
//! ```
//!
//! A run then expects exactly that verdict of every case the entry matches: a regression (an
//! unexpected FAIL or NON-STRICT) fails the run, and so does an *unexpected pass* (the case now
//! passes, or gets another verdict), so that the baseline stays honest.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};
use sio_suite::engine::{CaseResult, Verdict};
use sio_suite::yaml::{line_of, parse_yaml, read_text, LoadError};

use crate::select::IdPattern;

/// An entry's `verdict`: any verdict but PASS, which needs no entry.
fn deserialize_verdict<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Verdict, D::Error> {
    let name = String::deserialize(deserializer)?;
    match name.parse::<Verdict>() {
        Ok(Verdict::Pass) => Err(serde::de::Error::custom(
            "a baseline lists expected non-passes: PASS needs no entry",
        )),
        Ok(verdict) => Ok(verdict),
        Err(_) => {
            let non_passes: Vec<&str> = Verdict::ALL
                .into_iter()
                .filter(|&verdict| verdict != Verdict::Pass)
                .map(Verdict::as_str)
                .collect();
            Err(serde::de::Error::custom(format!(
                "unknown verdict {name:?}: one of {}",
                non_passes.join(", ")
            )))
        }
    }
}

/// An entry's `also`: any verdicts, PASS included.
fn deserialize_verdicts<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Verdict>, D::Error> {
    let names: Vec<String> = Vec::deserialize(deserializer)?;
    names
        .iter()
        .map(|name| name.parse::<Verdict>().map_err(serde::de::Error::custom))
        .collect()
}

/// One expected non-pass.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// The case id, or a pattern over ids as `--filter` takes.
    pub case: String,
    /// The verdict expected.
    #[serde(deserialize_with = "deserialize_verdict")]
    pub verdict: Verdict,
    /// Other verdicts expected as well, PASS included, for a case whose verdict depends on
    /// timing (the reason says how): any of them meets the entry. Reports that count verdicts
    /// by what is expected (the compatibility matrix) count `verdict`.
    #[serde(default, deserialize_with = "deserialize_verdicts")]
    pub also: Vec<Verdict>,
    /// Why (mandatory): an issue, the deviation, the missing feature.
    pub reason: String,
}

/// A baseline file's content.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineFile {
    /// The expected non-passes.
    pub expected: Vec<Expectation>,
}

/// A loaded baseline.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Baseline {
    /// The entries, in file order.
    pub entries: Vec<Expectation>,
    /// Where they come from (for messages).
    pub source: Option<PathBuf>,
}

impl Baseline {
    /// Loads a baseline file.
    pub fn load(path: &Path) -> Result<Baseline, LoadError> {
        let text = read_text(path)?;
        let file: BaselineFile = parse_yaml(path, &text)?;
        Baseline::checked(file.expected, path, &text)
    }

    /// A baseline from entries read out of `text` (the file at `path`), checking that every
    /// entry has a reason.
    pub fn checked(
        entries: Vec<Expectation>,
        path: &Path,
        text: &str,
    ) -> Result<Baseline, LoadError> {
        for entry in &entries {
            if entry.reason.trim().is_empty() {
                let line = line_of(text, &entry.case);
                return Err(LoadError::at_line(
                    path,
                    line,
                    format!(
                        "the baseline entry for {:?} needs a `reason`: why the target is expected not to pass",
                        entry.case
                    ),
                ));
            }
            if entry.case.trim().is_empty() {
                return Err(LoadError::at_line(
                    path,
                    line_of(text, "case:"),
                    "a baseline entry names a case",
                ));
            }
        }
        Ok(Baseline {
            entries,
            source: Some(path.to_owned()),
        })
    }

    /// The entry for a case: one naming it exactly, or else the first pattern that matches.
    pub fn expectation(&self, id: &str) -> Option<&Expectation> {
        self.entries
            .iter()
            .find(|entry| entry.case == id)
            .or_else(|| {
                self.entries
                    .iter()
                    .find(|entry| IdPattern::new(entry.case.as_str()).matches(id))
            })
    }

    /// The entries that match none of `ids` (stale, or filtered out of this run).
    pub fn unused<'a>(&'a self, ids: &[&str]) -> Vec<&'a Expectation> {
        // An entry about the other side of the implementation is not unused by a run of one
        // side: client-role cases, and only they, live under `client/`.
        let has_client_cases = ids.iter().any(|id| id.starts_with(CLIENT_PREFIX));
        let has_server_cases = ids.iter().any(|id| !id.starts_with(CLIENT_PREFIX));
        self.entries
            .iter()
            .filter(|entry| {
                if entry.case.starts_with(CLIENT_PREFIX) {
                    has_client_cases
                } else {
                    has_server_cases
                }
            })
            .filter(|entry| {
                let pattern = IdPattern::new(entry.case.as_str());
                !ids.iter().any(|id| pattern.matches(id))
            })
            .collect()
    }
}

/// The folder of the client-role scenarios, and so the prefix of their case ids.
pub const CLIENT_PREFIX: &str = "client/";

/// How a case's verdict compares with what was expected of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// As expected: PASS, INFORMATIONAL or UNSUPPORTED with no baseline entry, or the verdict
    /// the baseline expects.
    AsExpected,
    /// An unexpected FAIL or NON-STRICT: the run fails (exit 1).
    Regression,
    /// The baseline expects a non-pass and the case passed or got another verdict that is
    /// not a failure: the run fails (exit 1) until the baseline is updated.
    UnexpectedPass,
    /// An unexpected ERROR: the run cannot be judged (exit 2).
    Unjudged,
}

impl Outcome {
    /// How reports name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::AsExpected => "as-expected",
            Outcome::Regression => "regression",
            Outcome::UnexpectedPass => "unexpected-pass",
            Outcome::Unjudged => "unjudged",
        }
    }
}

impl Expectation {
    /// Whether `verdict` meets this entry.
    pub fn accepts(&self, verdict: Verdict) -> bool {
        self.verdict == verdict || self.also.contains(&verdict)
    }
}

/// Judges one verdict against its expectation.
pub fn judge(verdict: Verdict, expected: Option<&Expectation>) -> Outcome {
    if expected.is_some_and(|entry| entry.accepts(verdict)) {
        return Outcome::AsExpected;
    }
    match verdict {
        Verdict::Fail | Verdict::NonStrict => Outcome::Regression,
        Verdict::Error => Outcome::Unjudged,
        Verdict::Pass | Verdict::Informational | Verdict::Unsupported => match expected {
            Some(_) => Outcome::UnexpectedPass,
            None => Outcome::AsExpected,
        },
    }
}

/// Judges a result against a baseline.
pub fn judge_result(result: &CaseResult, baseline: &Baseline) -> (Outcome, Option<Expectation>) {
    let expected = baseline.expectation(&result.id).cloned();
    (judge(result.verdict, expected.as_ref()), expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(case: &str, verdict: Verdict) -> Expectation {
        Expectation {
            case: case.to_owned(),
            verdict,
            also: Vec::new(),
            reason: "because".to_owned(),
        }
    }

    #[test]
    fn an_entry_with_also_accepts_each_verdict_it_names() {
        let timed = Expectation {
            also: vec![Verdict::Informational],
            ..entry("a", Verdict::NonStrict)
        };
        assert_eq!(judge(Verdict::NonStrict, Some(&timed)), Outcome::AsExpected);
        assert_eq!(
            judge(Verdict::Informational, Some(&timed)),
            Outcome::AsExpected
        );
        assert_eq!(judge(Verdict::Pass, Some(&timed)), Outcome::UnexpectedPass);
        assert_eq!(judge(Verdict::Fail, Some(&timed)), Outcome::Regression);
        let racy = Expectation {
            also: vec![Verdict::Pass],
            ..entry("b", Verdict::Informational)
        };
        assert_eq!(judge(Verdict::Pass, Some(&racy)), Outcome::AsExpected);
        assert_eq!(
            judge(Verdict::Informational, Some(&racy)),
            Outcome::AsExpected
        );
    }

    #[test]
    fn outcomes() {
        let fail = entry("a", Verdict::Fail);
        assert_eq!(judge(Verdict::Pass, None), Outcome::AsExpected);
        assert_eq!(judge(Verdict::Informational, None), Outcome::AsExpected);
        assert_eq!(judge(Verdict::Unsupported, None), Outcome::AsExpected);
        assert_eq!(judge(Verdict::Fail, None), Outcome::Regression);
        assert_eq!(judge(Verdict::NonStrict, None), Outcome::Regression);
        assert_eq!(judge(Verdict::Error, None), Outcome::Unjudged);
        assert_eq!(judge(Verdict::Fail, Some(&fail)), Outcome::AsExpected);
        assert_eq!(judge(Verdict::Pass, Some(&fail)), Outcome::UnexpectedPass);
        assert_eq!(
            judge(Verdict::Informational, Some(&fail)),
            Outcome::UnexpectedPass
        );
        let non_strict = entry("a", Verdict::NonStrict);
        assert_eq!(judge(Verdict::Fail, Some(&non_strict)), Outcome::Regression);
        let error = entry("a", Verdict::Error);
        assert_eq!(judge(Verdict::Error, Some(&error)), Outcome::AsExpected);
    }

    #[test]
    fn exact_entries_win_over_patterns() {
        let baseline = Baseline {
            entries: vec![
                entry("eio4/heartbeat", Verdict::Unsupported),
                entry("eio4/heartbeat/ping[polling]", Verdict::Fail),
            ],
            source: None,
        };
        let found = baseline.expectation("eio4/heartbeat/ping[polling]");
        assert_eq!(found.map(|e| e.verdict), Some(Verdict::Fail));
        let found = baseline.expectation("eio4/heartbeat/ping[websocket]");
        assert_eq!(found.map(|e| e.verdict), Some(Verdict::Unsupported));
        assert!(baseline.unused(&["eio4/heartbeat/x"]).len() == 1);
    }
}
