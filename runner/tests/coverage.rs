//! Coverage of the requirements catalogue by the scenarios.

use sio_runner::coverage;
use sio_suite::requirements::{self, RequirementLevel, Subject};
use sio_suite::scenario;

/// Every MUST, MUST NOT and SHOULD of the specs that binds a server is checked by at least one
/// scenario: removing the last scenario of one fails here.
#[test]
fn every_server_requirement_of_the_specs_has_a_scenario() {
    let catalogue = requirements::load_dir(&requirements::default_dir()).expect("requirements");
    let scenarios = scenario::load_dir(&scenario::default_dir()).expect("scenarios");
    let uncovered: Vec<&str> = coverage::compute(&catalogue, &scenarios)
        .into_iter()
        .filter(|entry| entry.scenarios.is_empty())
        .map(|entry| &entry.requirement.requirement)
        .filter(|requirement| requirement.subject == Subject::Server)
        .filter(|requirement| {
            matches!(
                requirement.level,
                RequirementLevel::Must | RequirementLevel::MustNot | RequirementLevel::Should
            )
        })
        .map(|requirement| requirement.id.as_str())
        .collect();
    assert!(uncovered.is_empty(), "no scenario covers {uncovered:?}");
}

#[test]
fn the_report_counts_covered_and_uncovered_requirements() {
    let catalogue = requirements::load_dir(&requirements::default_dir()).expect("requirements");
    let scenarios = scenario::load_dir(&scenario::default_dir()).expect("scenarios");
    let entries = coverage::compute(&catalogue, &scenarios);
    let covered = entries
        .iter()
        .filter(|entry| !entry.scenarios.is_empty())
        .count();
    let report = coverage::render(&entries, false);
    let summary = format!(
        "{covered} of {} requirements have a scenario; {} have none.",
        entries.len(),
        entries.len() - covered
    );
    assert!(report.contains(&summary), "{report}");
    for entry in entries.iter().filter(|entry| entry.scenarios.is_empty()) {
        assert!(
            report.contains(&entry.requirement.requirement.id),
            "{report}"
        );
    }
}

/// The table's columns line up for every document name, the longest included.
#[test]
fn the_report_table_is_aligned() {
    let catalogue = requirements::load_dir(&requirements::default_dir()).expect("requirements");
    let scenarios = scenario::load_dir(&scenario::default_dir()).expect("scenarios");
    let report = coverage::render(&coverage::compute(&catalogue, &scenarios), false);
    let table: Vec<&str> = report.lines().take_while(|line| !line.is_empty()).collect();
    assert!(table.len() > 1, "{report}");
    let widths: Vec<usize> = table.iter().map(|line| line.chars().count()).collect();
    assert!(
        widths.iter().all(|width| *width == widths[0]),
        "{widths:?}\n{report}"
    );
}
