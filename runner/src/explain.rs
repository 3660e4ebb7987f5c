//! `explain <id>`: a case (or a scenario, with all its cases), the requirement it checks and
//! the requirements it covers, and its steps as written.

use std::fmt::Write as _;

use sio_suite::requirements::SourcedRequirement;
use sio_suite::scenario::{Case, Feature};

/// Explains the case `id`, or the scenario `id` (then listing its cases); `None` when no case
/// or scenario has that id.
pub fn explain(id: &str, cases: &[Case], requirements: &[SourcedRequirement]) -> Option<String> {
    let matching: Vec<&Case> = match cases.iter().find(|case| case.id == id) {
        Some(case) => vec![case],
        None => cases.iter().filter(|case| case.scenario.id == id).collect(),
    };
    let first = matching.first()?;
    let scenario = &first.scenario;
    let mut out = String::new();
    if matching.len() == 1 {
        let _ = writeln!(out, "case:       {}", first.id);
    } else {
        let ids: Vec<&str> = matching.iter().map(|case| case.id.as_str()).collect();
        let _ = writeln!(out, "cases:      {}", ids.join(", "));
    }
    let _ = writeln!(out, "scenario:   {}", scenario.id);
    let _ = writeln!(out, "title:      {}", scenario.title);
    let _ = writeln!(out, "file:       {}", scenario.source.display());
    let _ = writeln!(
        out,
        "level:      {} (not met: {})",
        scenario.level.as_str(),
        sio_suite::engine::Verdict::for_unmet(scenario.level)
    );
    let _ = writeln!(out, "role:       {}", scenario.role.as_str());
    let features: Vec<&str> = first
        .required_features()
        .into_iter()
        .map(Feature::as_str)
        .collect();
    let _ = writeln!(
        out,
        "features:   {}",
        if features.is_empty() {
            "none".to_owned()
        } else {
            features.join(", ")
        }
    );
    if let Some(spec) = &scenario.spec {
        let _ = writeln!(
            out,
            "spec:       {}, section {:?}",
            spec.doc.as_str(),
            spec.section
        );
        let _ = writeln!(out, "quote:      \"{}\"", spec.quote);
    }
    if let Some(note) = &scenario.note {
        let _ = writeln!(out, "note:       {}", note.trim());
    }
    let _ = writeln!(out, "covers:");
    for id in &scenario.covers {
        match requirements.iter().find(|r| &r.requirement.id == id) {
            Some(sourced) => {
                let requirement = &sourced.requirement;
                let _ = writeln!(
                    out,
                    "  {id} ({}, {}, {:?}): \"{}\"",
                    requirement.level.as_str(),
                    sourced.document,
                    requirement.section,
                    requirement.quote
                );
            }
            None => {
                let _ = writeln!(out, "  {id} (not in the requirements catalogue)");
            }
        }
    }
    if let Some(steps) = steps_text(&scenario.source) {
        let _ = writeln!(out, "steps, as written:");
        out.push_str(&steps);
    }
    Some(out)
}

/// The `steps:` block of the scenario file, as written.
fn steps_text(path: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.lines().skip_while(|line| !line.starts_with("steps:"));
    lines.next()?;
    let mut out = String::new();
    for line in lines {
        let top_level_key =
            !line.is_empty() && !line.starts_with([' ', '#', '-']) && line.contains(':');
        if top_level_key {
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    Some(out)
}

/// Case ids close to `id`: those that start with its first path segments.
pub fn suggestions<'a>(id: &str, cases: &'a [Case]) -> Vec<&'a str> {
    let prefix = id.rsplit_once('/').map(|(prefix, _)| prefix).unwrap_or(id);
    let mut found: Vec<&str> = cases
        .iter()
        .map(|case| case.scenario.id.as_str())
        .filter(|scenario| scenario.starts_with(prefix))
        .collect();
    found.dedup();
    found.truncate(10);
    found
}
