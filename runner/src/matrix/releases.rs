//! The releases of one implementation side by side: for the server columns whose profiles name
//! the same implementation in `release.of`, ordered by version, every case whose verdict is not
//! the same in all of them, with the release from which each new verdict was measured.
//!
//! Only verdicts are compared, as the rest of the page does, so the section is as stable as
//! the columns: the releases' baselines say why each verdict is what it is.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use sio_suite::engine::Verdict;
use sio_suite::scenario::Case;

use super::{anchor, shown, Column};
use crate::report::area_of;

/// Writes a section per implementation with at least two releases among `columns`; nothing
/// when there is none.
pub(super) fn render(out: &mut String, columns: &[&Column], cases: &[Case]) {
    let mut lineages: BTreeMap<&str, Vec<&Column>> = BTreeMap::new();
    for column in columns {
        if let Some(release) = &column.release {
            lineages
                .entry(release.of.as_str())
                .or_default()
                .push(column);
        }
    }
    for (of, mut releases) in lineages {
        if releases.len() < 2 {
            continue;
        }
        releases.sort_by_key(|column| column.release.as_ref().map(|r| r.sort_key()));
        lineage(out, of, &releases, cases);
    }
}

/// The verdict a release's column shows for each case; `None` for a column that could not run.
fn verdicts_of(column: &Column) -> Option<HashMap<&str, Verdict>> {
    let report = column.report.as_ref().ok()?;
    Some(
        report
            .cases
            .iter()
            .map(|case| (case.result.id.as_str(), shown(case)))
            .collect(),
    )
}

/// One row of the table: a case, or every case of a scenario when they all agree.
struct Row {
    /// The case id, or the scenario id with `[*]`.
    label: String,
    /// The area, for the links to each column's reasons.
    area: String,
    /// Each release's verdict, in release order; `None` where the release could not run or
    /// has no such case.
    verdicts: Vec<Option<Verdict>>,
}

fn lineage(out: &mut String, of: &str, releases: &[&Column], cases: &[Case]) {
    let verdicts: Vec<Option<HashMap<&str, Verdict>>> =
        releases.iter().map(|column| verdicts_of(column)).collect();
    let vector = |id: &str| -> Vec<Option<Verdict>> {
        verdicts
            .iter()
            .map(|column| column.as_ref().and_then(|map| map.get(id).copied()))
            .collect()
    };
    let rows = rows(cases, &vector);
    let versions: Vec<&str> = releases
        .iter()
        .filter_map(|column| column.release.as_ref().map(|r| r.version.as_str()))
        .collect();

    let _ = writeln!(out, "## Releases of {of}\n");
    let _ = writeln!(
        out,
        "{} releases of {of} side by side ({}): each case whose verdict is not the same in \
         all of them, once per scenario when all its cases agree. *Changed in* names the first \
         release measured with the new verdict: the change came between it and the release \
         before it, and the releases' baselines say what changed and where in that release's \
         source or changelog. {} of the {} server cases differ.\n",
        releases.len(),
        versions.join(", "),
        differing_cases(cases, &vector),
        cases.len(),
    );
    let _ = write!(out, "| case |");
    for column in releases {
        let version = column.release.as_ref().map_or("?", |r| r.version.as_str());
        let _ = write!(out, " [{version}](#{}) |", column.key);
    }
    let _ = write!(out, " changed in |\n|---|");
    for _ in releases {
        out.push_str("---|");
    }
    out.push_str("---|\n");
    for row in &rows {
        let _ = write!(out, "| `{}` |", row.label);
        for (column, verdict) in releases.iter().zip(&row.verdicts) {
            let _ = write!(out, " {} |", cell(column, &row.area, *verdict));
        }
        let _ = writeln!(out, " {} |", changed_in(&row.verdicts, &versions));
    }
    out.push('\n');
}

/// The rows, in the cases' order: a scenario whose cases all have the same verdicts is one
/// row, and a case whose verdict is the same in every release is left out.
fn rows(cases: &[Case], vector: &dyn Fn(&str) -> Vec<Option<Verdict>>) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut index = 0;
    while index < cases.len() {
        let scenario = cases[index].scenario.id.as_str();
        let end = cases[index..]
            .iter()
            .position(|case| case.scenario.id != scenario)
            .map_or(cases.len(), |offset| index + offset);
        let group = &cases[index..end];
        index = end;
        let vectors: Vec<Vec<Option<Verdict>>> =
            group.iter().map(|case| vector(&case.id)).collect();
        let area = area_of(&group[0].id).to_owned();
        if group.len() > 1 && vectors.iter().all(|v| *v == vectors[0]) {
            if !uniform(&vectors[0]) {
                rows.push(Row {
                    label: format!("{scenario}[*]"),
                    area,
                    verdicts: vectors[0].clone(),
                });
            }
            continue;
        }
        for (case, verdicts) in group.iter().zip(vectors) {
            if !uniform(&verdicts) {
                rows.push(Row {
                    label: case.id.clone(),
                    area: area.clone(),
                    verdicts,
                });
            }
        }
    }
    rows
}

fn differing_cases(cases: &[Case], vector: &dyn Fn(&str) -> Vec<Option<Verdict>>) -> usize {
    cases
        .iter()
        .filter(|case| !uniform(&vector(&case.id)))
        .count()
}

/// Whether every release has the same verdict.
fn uniform(verdicts: &[Option<Verdict>]) -> bool {
    verdicts.windows(2).all(|pair| pair[0] == pair[1])
}

/// A verdict, linked to the release's reasons for the area unless it is a pass.
fn cell(column: &Column, area: &str, verdict: Option<Verdict>) -> String {
    match verdict {
        None => "–".to_owned(),
        Some(Verdict::Pass) => "pass".to_owned(),
        Some(verdict) => format!("[{verdict}](#{})", anchor(&column.key, area)),
    }
}

/// The releases whose verdict differs from the one before.
fn changed_in(verdicts: &[Option<Verdict>], versions: &[&str]) -> String {
    verdicts
        .windows(2)
        .zip(versions.iter().skip(1))
        .filter(|(pair, _)| pair[0] != pair[1])
        .map(|(_, version)| *version)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_in_names_each_release_with_a_new_verdict() {
        let verdicts = [
            Some(Verdict::Fail),
            Some(Verdict::Fail),
            Some(Verdict::Pass),
            Some(Verdict::Informational),
        ];
        assert_eq!(
            changed_in(&verdicts, &["4.0.2", "4.4.1", "4.6.2", "4.8.4"]),
            "4.6.2, 4.8.4"
        );
        assert_eq!(changed_in(&verdicts[..2], &["4.0.2", "4.4.1"]), "");
    }

    #[test]
    fn uniform_verdicts_are_no_difference() {
        assert!(uniform(&[Some(Verdict::Pass), Some(Verdict::Pass)]));
        assert!(!uniform(&[Some(Verdict::Pass), None]));
    }
}
