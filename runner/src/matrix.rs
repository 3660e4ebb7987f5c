//! The compatibility matrix: several targets, each run against its baseline, as one Markdown
//! document of implementations × areas with a link from every non-pass to its reason.
//!
//! The document holds no timing and no transcript, only verdicts and the baselines' reasons,
//! so that it is the same from one run to the next as long as every target meets its
//! baseline. That makes it checkable without a network: [`expected_column`] predicts a
//! target's verdicts from its declared features and its baseline alone, and a test compares
//! the committed document with the prediction, while CI's real runs fail on any verdict the
//! baseline does not expect.

mod releases;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use sio_suite::engine::{self, CaseResult, Failure, Transcript, Verdict};
use sio_suite::scenario::{Case, Feature, Role};

use crate::baseline::{Baseline, Outcome};
use crate::error::Error;
use crate::profile::{Release, TargetSpec};
use crate::report::{area_of, Report, ReportedCase, RunStatus};

/// The verdict the page shows for a case: the baseline's `verdict` when the case met its
/// entry (an entry may also accept other verdicts, for timing), else the measured one.
fn shown(case: &ReportedCase) -> Verdict {
    match (&case.expected, case.outcome) {
        (Some(entry), Outcome::AsExpected) => entry.verdict,
        _ => case.verdict(),
    }
}

fn counts(report: &Report) -> Vec<(Verdict, usize)> {
    Verdict::ALL
        .into_iter()
        .map(|verdict| {
            let count = report
                .cases
                .iter()
                .filter(|case| shown(case) == verdict)
                .count();
            (verdict, count)
        })
        .collect()
}

/// The profiles of the committed matrix: every profile in `runner/profiles/` (not the
/// `*.baseline.yaml` files), the reference first, then by file name.
pub fn default_profiles() -> Result<Vec<PathBuf>, Error> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles");
    let entries = std::fs::read_dir(&dir).map_err(|source| Error::ListDir {
        path: dir.clone(),
        source,
    })?;
    let mut profiles: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            let name = path.to_string_lossy();
            name.ends_with(".yaml") && !name.ends_with(".baseline.yaml")
        })
        .collect();
    profiles.sort_by_key(|path| (path.file_stem() != Some("reference".as_ref()), path.clone()));
    Ok(profiles)
}

/// Where the committed matrix lives: `docs/compatibility.md` at the repository's root.
pub fn default_output() -> PathBuf {
    let runner = Path::new(env!("CARGO_MANIFEST_DIR"));
    runner
        .parent()
        .unwrap_or(runner)
        .join("docs/compatibility.md")
}

/// One implementation's column: where it comes from and what it did.
#[derive(Debug)]
pub struct Column {
    /// The profile's file stem: `node-socket.io`.
    pub key: String,
    /// The profile's name, or the key.
    pub name: String,
    /// The profile file.
    pub profile: PathBuf,
    /// The baseline file, when the profile has one in a file.
    pub baseline: Option<PathBuf>,
    /// The features the profile declares; `None`, all.
    pub features: Option<BTreeSet<Feature>>,
    /// Which side of the implementation the column judges: its server (server-role cases) or
    /// its client (client-role cases).
    pub role: Role,
    /// For a client column, the Engine.IO protocol its client speaks; for a server column, the
    /// one protocol its server speaks, when it speaks only one.
    pub only_eio: Option<u8>,
    /// Which release of an implementation the target is, when its profile says.
    pub release: Option<Release>,
    /// The run's report, or why the target could not run.
    pub report: Result<Report, Error>,
}

impl Column {
    /// How the column's run ended: a target that could not run cannot be judged.
    pub fn status(&self) -> RunStatus {
        match &self.report {
            Ok(report) => report.status(),
            Err(_) => RunStatus::Unjudged,
        }
    }
}

/// The sides of an implementation a profile describes, each a column of its own: its server,
/// its client, or both.
pub fn roles(spec: &TargetSpec) -> Vec<Role> {
    let mut roles = Vec::new();
    if spec.has_server() {
        roles.push(Role::Server);
    }
    if spec.client.is_some() {
        roles.push(Role::Client);
    }
    roles
}

/// The cases of one role.
pub fn cases_of(cases: &[Case], role: Role) -> Vec<Case> {
    cases
        .iter()
        .filter(|case| case.scenario.role == role)
        .cloned()
        .collect()
}

/// The column a profile's target would get if every case of `role` met its baseline:
/// UNSUPPORTED where a feature is not declared (or, for a client, where the case speaks
/// another protocol version), the baseline's verdict where it has an entry, PASS elsewhere.
pub fn expected_column(profile: &Path, spec: &TargetSpec, cases: &[Case], role: Role) -> Column {
    let baseline = spec.baseline.clone().unwrap_or_default();
    let target = spec.target(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
    let other_version = |case: &Case| match role {
        Role::Client => target
            .client
            .as_ref()
            .is_some_and(|client| client.eio != case.variant.eio),
        Role::Server => target.server_eio.is_some_and(|eio| eio != case.variant.eio),
    };
    let reported = cases_of(cases, role)
        .iter()
        .map(|case| {
            let verdict = if engine::missing_feature(case, &target).is_some() || other_version(case)
            {
                Verdict::Unsupported
            } else {
                baseline
                    .expectation(&case.id)
                    .map_or(Verdict::Pass, |entry| entry.verdict)
            };
            let result = CaseResult {
                id: case.id.clone(),
                verdict,
                failure: None,
                transcript: Transcript::default(),
                elapsed: Duration::ZERO,
            };
            ReportedCase::new(case, result, &baseline)
        })
        .collect();
    column(
        profile,
        spec,
        role,
        Ok(report_of(spec, reported, &baseline)),
    )
}

/// A column from a profile and its run of the cases of `role`.
pub fn column(
    profile: &Path,
    spec: &TargetSpec,
    role: Role,
    report: Result<Report, Error>,
) -> Column {
    let stem = profile
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| profile.display().to_string());
    let name = spec.name.clone().unwrap_or_else(|| stem.clone());
    // A profile with both sides has two columns, told apart by their anchors and names.
    let both = roles(spec).len() > 1;
    let (key, name) = match role {
        Role::Client if both => (format!("{stem}-client"), format!("{name} (client)")),
        _ => (stem, name),
    };
    Column {
        name,
        key,
        profile: profile.to_owned(),
        baseline: spec.baseline.as_ref().and_then(|b| b.source.clone()),
        features: spec.features.clone(),
        role,
        only_eio: match role {
            Role::Client => spec.client.as_ref().map(|client| client.eio),
            Role::Server => spec.server_eio,
        },
        release: spec.release.clone(),
        report,
    }
}

fn report_of(spec: &TargetSpec, cases: Vec<ReportedCase>, baseline: &Baseline) -> Report {
    let ids: Vec<&str> = cases.iter().map(|case| case.result.id.as_str()).collect();
    let unused_baseline = baseline.unused(&ids).into_iter().cloned().collect();
    Report {
        target: spec.name.clone().unwrap_or_default(),
        time_scale: 1.0,
        jobs: 1,
        wall: Duration::ZERO,
        baseline: None,
        cases,
        unused_baseline,
        replay: None,
    }
}

/// Renders the document, written to `output` (links are relative to its folder): the
/// servers against the server-role cases, then the clients against the client-role cases.
pub fn render(columns: &[Column], cases: &[Case], output: &Path) -> String {
    let base = output.parent().unwrap_or(Path::new("."));
    let of_role = |role: Role| -> Vec<&Column> {
        columns
            .iter()
            .filter(|column| column.role == role)
            .collect()
    };
    let mut out = render_servers(&of_role(Role::Server), &cases_of(cases, Role::Server), base);
    let clients = of_role(Role::Client);
    if !clients.is_empty() {
        render_clients(&mut out, &clients, &cases_of(cases, Role::Client), base);
    }
    out
}

fn render_clients(out: &mut String, columns: &[&Column], cases: &[Case], base: &Path) {
    let scenarios: BTreeSet<&str> = cases.iter().map(|case| case.scenario.id.as_str()).collect();
    let _ = writeln!(
        out,
        "# Clients
"
    );
    let _ = writeln!(
        out,
        "The suite's {} client-role cases ({} scenarios): the runner plays the server and \
         starts each client through its adapter under `runner/adapters/`, which follows the \
         [client contract](client-contract.md); each client is described by its profile under \
         `runner/profiles/`, and every case that does not pass is expected by its baseline, with \
         the reason.\n",
        cases.len(),
        scenarios.len()
    );
    summary_table(out, "Client implementations", columns, base);
    area_table(out, "Clients by area", columns, cases);
    for column in columns {
        deviations(out, column, cases, base);
    }
}

fn render_servers(columns: &[&Column], cases: &[Case], base: &Path) -> String {
    let mut out = String::new();
    let scenarios: BTreeSet<&str> = cases.iter().map(|case| case.scenario.id.as_str()).collect();
    let _ = writeln!(out, "# Compatibility matrix\n");
    let _ = writeln!(
        out,
        "<!-- Generated by `sio-conformance matrix` (scripts/compatibility.sh); do not edit.\n     \
         A test fails when this file no longer matches the profiles, baselines and scenarios. -->\n"
    );
    let _ = writeln!(
        out,
        "The suite's {} cases ({} scenarios) against each implementation, served by its adapter \
         under `runner/adapters/` and described by its profile under `runner/profiles/`. Every \
         case that does not pass is expected by the implementation's baseline, with the reason; \
         a run whose verdicts differ from its baseline fails CI, so this page is what CI last \
         measured.\n",
        cases.len(),
        scenarios.len()
    );
    summary_table(&mut out, "Implementations", columns, base);
    area_table(&mut out, "By area", columns, cases);
    releases::render(&mut out, columns, cases);
    for column in columns {
        deviations(&mut out, column, cases, base);
    }
    out
}

fn summary_table(out: &mut String, title: &str, columns: &[&Column], base: &Path) {
    let _ = writeln!(out, "## {title}\n");
    let _ = write!(out, "| implementation | profile |");
    for verdict in Verdict::ALL {
        let _ = write!(out, " {verdict} |");
    }
    let _ = write!(out, "\n|---|---|");
    for _ in Verdict::ALL {
        out.push_str("--:|");
    }
    out.push('\n');
    for column in columns {
        let profile = relative_link(base, &column.profile);
        let _ = write!(
            out,
            "| [{}](#{}) | [`{}`]({profile}) |",
            column.name,
            column.key,
            file_name(&column.profile)
        );
        match &column.report {
            Ok(report) => {
                for (_, count) in counts(report) {
                    let _ = write!(out, " {count} |");
                }
            }
            Err(_) => {
                let _ = write!(out, " could not run |");
                for _ in 1..Verdict::ALL.len() {
                    out.push_str(" |");
                }
            }
        }
        out.push('\n');
    }
    out.push('\n');
}

fn area_table(out: &mut String, title: &str, columns: &[&Column], cases: &[Case]) {
    let _ = writeln!(out, "## {title}\n");
    let _ = writeln!(
        out,
        "Each cell counts the cases that pass, then the others by verdict, each linked to its \
         reasons.\n"
    );
    let _ = write!(out, "| area | cases |");
    for column in columns {
        let _ = write!(out, " {} |", column.name);
    }
    let _ = write!(out, "\n|---|--:|");
    for _ in columns {
        out.push_str("---|");
    }
    out.push('\n');
    for area in areas(cases) {
        let total = cases
            .iter()
            .filter(|case| area_of(&case.id) == area)
            .count();
        let _ = write!(out, "| `{area}` | {total} |");
        for column in columns {
            let _ = write!(out, " {} |", area_cell(column, area));
        }
        out.push('\n');
    }
    out.push('\n');
}

fn area_cell(column: &Column, area: &str) -> String {
    let Ok(report) = &column.report else {
        return "could not run".to_owned();
    };
    let in_area: Vec<&ReportedCase> = report
        .cases
        .iter()
        .filter(|case| case.area() == area)
        .collect();
    let mut parts = Vec::new();
    for verdict in Verdict::ALL {
        let count = in_area.iter().filter(|case| shown(case) == verdict).count();
        if count == 0 {
            continue;
        }
        parts.push(match verdict {
            Verdict::Pass => format!("{count} pass"),
            _ => format!("[{count} {verdict}](#{})", anchor(&column.key, area)),
        });
    }
    if parts.is_empty() {
        "–".to_owned()
    } else {
        parts.join(" · ")
    }
}

fn deviations(out: &mut String, column: &Column, cases: &[Case], base: &Path) {
    let _ = writeln!(out, "<a id=\"{}\"></a>\n", column.key);
    let _ = writeln!(out, "## {}\n", column.name);
    let _ = write!(
        out,
        "Profile [`{}`]({})",
        file_name(&column.profile),
        relative_link(base, &column.profile)
    );
    if let Some(baseline) = column.baseline.as_ref().filter(|b| **b != column.profile) {
        let _ = write!(
            out,
            ", baseline [`{}`]({})",
            file_name(baseline),
            relative_link(base, baseline)
        );
    }
    out.push_str(".\n\n");
    let report = match &column.report {
        Ok(report) => report,
        Err(why) => {
            let _ = writeln!(out, "The target could not run: {why}\n");
            return;
        }
    };
    let non_passes: Vec<&ReportedCase> = report
        .cases
        .iter()
        .filter(|case| shown(case) != Verdict::Pass || case.outcome != Outcome::AsExpected)
        .collect();
    if non_passes.is_empty() {
        let _ = writeln!(out, "Every case passes.\n");
        return;
    }
    let mut areas: Vec<&str> = Vec::new();
    for case in &non_passes {
        if !areas.contains(&case.area()) {
            areas.push(case.area());
        }
    }
    for area in areas {
        let _ = writeln!(out, "<a id=\"{}\"></a>\n", anchor(&column.key, area));
        let _ = writeln!(out, "### {} · `{area}`\n", column.name);
        for (verdict, reason, ids) in groups(column, &non_passes, cases, area) {
            let ids: Vec<String> = ids.iter().map(|id| format!("`{id}`")).collect();
            let _ = writeln!(out, "- **{verdict}** {}", ids.join(", "));
            let _ = writeln!(out, "  — {}", one_line(&reason));
        }
        out.push('\n');
    }
}

/// The non-passes of `area`, grouped by verdict and reason, in case order.
fn groups(
    column: &Column,
    non_passes: &[&ReportedCase],
    cases: &[Case],
    area: &str,
) -> Vec<(Verdict, String, Vec<String>)> {
    let mut groups: Vec<(Verdict, String, Vec<String>)> = Vec::new();
    for case in non_passes.iter().filter(|case| case.area() == area) {
        let reason = reason(column, case, cases);
        let id = case.result.id.clone();
        let verdict = shown(case);
        match groups
            .iter_mut()
            .find(|(shown, why, _)| *shown == verdict && *why == reason)
        {
            Some((_, _, ids)) => ids.push(id),
            None => groups.push((verdict, reason, vec![id])),
        }
    }
    groups
}

fn reason(column: &Column, case: &ReportedCase, cases: &[Case]) -> String {
    let failure = case.result.failure.as_ref();
    match (case.outcome, &case.expected) {
        (Outcome::AsExpected, Some(entry)) if entry.also.is_empty() => entry.reason.clone(),
        (Outcome::AsExpected, Some(entry)) => {
            let also: Vec<&str> = entry.also.iter().map(|verdict| verdict.as_str()).collect();
            format!("(or {}, by timing) {}", also.join(" or "), entry.reason)
        }
        (Outcome::AsExpected, None)
            if shown(case) == Verdict::Unsupported
                && column.only_eio.is_some_and(|eio| {
                    cases.iter().any(|candidate| {
                        candidate.id == case.result.id && candidate.variant.eio != eio
                    })
                }) =>
        {
            let side = match column.role {
                Role::Client => "client",
                Role::Server => "server",
            };
            format!(
                "the {side} speaks Engine.IO protocol {}, not the case's",
                column.only_eio.unwrap_or_default()
            )
        }
        (Outcome::AsExpected, None) if shown(case) == Verdict::Unsupported => {
            let needed = cases
                .iter()
                .find(|candidate| candidate.id == case.result.id)
                .map(Case::required_features)
                .unwrap_or_default();
            let missing: Vec<String> = needed
                .into_iter()
                .filter(|feature| {
                    column
                        .features
                        .as_ref()
                        .is_some_and(|declared| !declared.contains(feature))
                })
                .map(|feature| format!("`{feature}`"))
                .collect();
            if missing.is_empty() {
                // Every feature is declared: the client itself said it cannot.
                return failure.map(describe_failure).unwrap_or_default();
            }
            format!(
                "needs {}, which the profile does not declare",
                missing.join(" and ")
            )
        }
        (Outcome::AsExpected, None) => failure.map(describe_failure).unwrap_or_default(),
        (_, Some(entry)) => format!(
            "NOT AS THE BASELINE EXPECTS ({} {}){}",
            entry.verdict,
            entry.reason,
            failure
                .map(|failure| format!(": {}", describe_failure(failure)))
                .unwrap_or_default()
        ),
        (_, None) => format!(
            "NOT IN THE BASELINE: {}",
            failure.map(describe_failure).unwrap_or_default()
        ),
    }
}

fn describe_failure(failure: &Failure) -> String {
    format!("expected {}; got {}", failure.expected, failure.actual)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn areas(cases: &[Case]) -> Vec<&str> {
    let mut areas: Vec<&str> = Vec::new();
    for case in cases {
        let area = area_of(&case.id);
        if !areas.contains(&area) {
            areas.push(area);
        }
    }
    areas
}

fn anchor(key: &str, area: &str) -> String {
    format!("{key}--{}", area.replace('/', "-"))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// `target` as a link from the folder `base`, both taken from the current directory.
fn relative_link(base: &Path, target: &Path) -> String {
    let absolute = |path: &Path| {
        let joined = std::env::current_dir()
            .map(|cwd| cwd.join(path))
            .unwrap_or_else(|_| path.to_owned());
        normalise(&joined)
    };
    let (base, target) = (absolute(base), absolute(target));
    let base: Vec<Component> = base.components().collect();
    let target: Vec<Component> = target.components().collect();
    let common = base.iter().zip(&target).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_owned(); base.len() - common];
    parts.extend(
        target[common..]
            .iter()
            .map(|part| part.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

/// `a/./b/../c` → `a/c`, without touching the file system.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_relative_to_the_document() {
        assert_eq!(
            relative_link(
                Path::new("/r/docs"),
                Path::new("/r/runner/profiles/../profiles/x.yaml")
            ),
            "../runner/profiles/x.yaml"
        );
        assert_eq!(relative_link(Path::new("/r"), Path::new("/r/a.md")), "a.md");
    }

    #[test]
    fn anchors_are_stable() {
        assert_eq!(
            anchor("node-socket.io", "eio4/close"),
            "node-socket.io--eio4-close"
        );
    }
}
