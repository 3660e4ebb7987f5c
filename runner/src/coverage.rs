//! `coverage`: which requirements of `suite/requirements/` the scenarios check, and which they
//! do not, per document and level.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use sio_suite::requirements::SourcedRequirement;
use sio_suite::scenario::Scenario;

/// One requirement and the scenarios that cover it.
#[derive(Debug, Clone)]
pub struct Covered<'a> {
    /// The requirement.
    pub requirement: &'a SourcedRequirement,
    /// The ids of the scenarios whose `covers` names it.
    pub scenarios: Vec<&'a str>,
}

/// Every requirement with the scenarios that cover it, in catalogue order.
pub fn compute<'a>(
    requirements: &'a [SourcedRequirement],
    scenarios: &'a [Scenario],
) -> Vec<Covered<'a>> {
    requirements
        .iter()
        .map(|requirement| Covered {
            requirement,
            scenarios: scenarios
                .iter()
                .filter(|scenario| scenario.covers.contains(&requirement.requirement.id))
                .map(|scenario| scenario.id.as_str())
                .collect(),
        })
        .collect()
}

/// The report: a table of covered / total per document and level, then the requirements no
/// scenario covers, or every requirement with its scenarios when `all` is set.
pub fn render(coverage: &[Covered<'_>], all: bool) -> String {
    let mut out = String::new();
    let mut totals: BTreeMap<(String, String, String), (usize, usize)> = BTreeMap::new();
    for entry in coverage {
        let key = (
            entry.requirement.document.clone(),
            subject_name(entry.requirement),
            level_name(entry.requirement),
        );
        let counts = totals.entry(key).or_default();
        counts.1 += 1;
        if !entry.scenarios.is_empty() {
            counts.0 += 1;
        }
    }
    // The document column is as wide as the longest name, so that the table stays aligned
    // whatever documents the catalogue holds.
    let width = totals
        .keys()
        .map(|(document, _, _)| document.chars().count())
        .chain(std::iter::once("document".len()))
        .max()
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{:<width$} {:<8} {:<15} {:>8} {:>6}",
        "document", "subject", "level", "covered", "total"
    );
    for ((document, subject, level), (covered, total)) in &totals {
        let _ = writeln!(
            out,
            "{document:<width$} {subject:<8} {level:<15} {covered:>8} {total:>6}"
        );
    }
    let covered = coverage
        .iter()
        .filter(|entry| !entry.scenarios.is_empty())
        .count();
    let _ = writeln!(
        out,
        "\n{covered} of {} requirements have a scenario; {} have none.",
        coverage.len(),
        coverage.len() - covered
    );
    let listed: Vec<&Covered<'_>> = coverage
        .iter()
        .filter(|entry| all || entry.scenarios.is_empty())
        .collect();
    if !listed.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            if all { "all:" } else { "without a scenario:" }
        );
    }
    for entry in listed {
        let requirement = &entry.requirement.requirement;
        let _ = write!(
            out,
            "  {:<32} {:<7} {:<15} {}",
            requirement.id,
            subject_name(entry.requirement),
            level_name(entry.requirement),
            requirement.section
        );
        if all {
            let _ = write!(out, " <- {}", entry.scenarios.join(", "));
        }
        let _ = writeln!(out);
    }
    out
}

fn level_name(requirement: &SourcedRequirement) -> String {
    requirement.requirement.level.as_str().to_owned()
}

fn subject_name(requirement: &SourcedRequirement) -> String {
    requirement.requirement.subject.as_str().to_owned()
}
