//! Verdicts and what a case run returns.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::transcript::Transcript;
use crate::scenario::Level;
use crate::term::{self, UnknownTerm, Vocabulary};

/// The verdict on one case (`docs/verdicts.md` has the model: what each verdict means, how a
/// level maps to one, and how baselines and exit codes judge them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING-KEBAB-CASE")]
pub enum Verdict {
    /// Every expectation was met.
    Pass,
    /// A MUST was broken.
    Fail,
    /// A SHOULD was broken.
    NonStrict,
    /// The target differs where the spec leaves it open (a MAY, or the official server's
    /// behaviour).
    Informational,
    /// The target declared a feature the case needs absent; nothing was run.
    Unsupported,
    /// The case could not be judged: the target is unreachable, or the scenario cannot run.
    Error,
}

impl Verdict {
    /// Every verdict, in report order.
    pub const ALL: [Verdict; 6] = [
        Verdict::Pass,
        Verdict::Fail,
        Verdict::NonStrict,
        Verdict::Informational,
        Verdict::Unsupported,
        Verdict::Error,
    ];

    /// The verdict when an expectation of this level is not met.
    pub fn for_unmet(level: Level) -> Verdict {
        match level {
            Level::Must => Verdict::Fail,
            Level::Should => Verdict::NonStrict,
            Level::May | Level::Implementation => Verdict::Informational,
        }
    }

    /// The verdict as reports print it: `PASS`, `NON-STRICT`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::NonStrict => "NON-STRICT",
            Verdict::Informational => "INFORMATIONAL",
            Verdict::Unsupported => "UNSUPPORTED",
            Verdict::Error => "ERROR",
        }
    }
}

impl FromStr for Verdict {
    type Err = UnknownTerm;

    /// Reads a verdict as [`Verdict::as_str`] writes it (`NON-STRICT`).
    fn from_str(name: &str) -> Result<Verdict, UnknownTerm> {
        term::parse(Vocabulary::Verdict, &Verdict::ALL, Verdict::as_str, name)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a case did not pass: the failing step, what was expected and what happened, and the
/// requirement at stake.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    /// The 1-based number of the failing step, when a step failed.
    pub step: Option<usize>,
    /// The failing step's keyword (`receive`, `request`, …).
    pub keyword: Option<String>,
    /// The failing step's actor.
    pub actor: Option<String>,
    /// What was expected.
    pub expected: String,
    /// What happened.
    pub actual: String,
    /// The requirement quoted by the scenario, when it quotes one.
    pub requirement: Option<String>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (Some(step), Some(keyword)) = (self.step, &self.keyword) {
            write!(f, "step {step} (`{keyword}`")?;
            if let Some(actor) = &self.actor {
                write!(f, ", {actor}")?;
            }
            writeln!(f, ")")?;
        }
        writeln!(f, "  expected: {}", self.expected)?;
        writeln!(f, "  actual:   {}", self.actual)?;
        if let Some(requirement) = &self.requirement {
            writeln!(f, "  requirement: {requirement}")?;
        }
        Ok(())
    }
}

/// The outcome of running one case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// The case id.
    pub id: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Why it did not pass.
    pub failure: Option<Failure>,
    /// Everything that went over the wire.
    pub transcript: Transcript,
    /// How long the case took.
    #[serde(serialize_with = "super::transcript::serialize_millis")]
    pub elapsed: Duration,
}

impl fmt::Display for CaseResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} {} ({:.0} ms)",
            self.verdict,
            self.id,
            self.elapsed.as_secs_f64() * 1000.0
        )?;
        if let Some(failure) = &self.failure {
            write!(f, "{failure}")?;
        }
        writeln!(f, "transcript:")?;
        write!(f, "{}", self.transcript)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::term::tests::spelled_alike;

    #[test]
    fn verdicts_are_spelled_alike_by_as_str_from_str_and_serde() {
        spelled_alike(Vocabulary::Verdict, &Verdict::ALL, Verdict::as_str);
    }

    #[test]
    fn an_unmet_level_gives_its_verdict() {
        assert_eq!(Verdict::for_unmet(Level::Must), Verdict::Fail);
        assert_eq!(Verdict::for_unmet(Level::Should), Verdict::NonStrict);
        assert_eq!(Verdict::for_unmet(Level::May), Verdict::Informational);
        assert_eq!(
            Verdict::for_unmet(Level::Implementation),
            Verdict::Informational
        );
    }
}
