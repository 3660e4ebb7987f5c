//! `sio-conformance diff`: the same cases against two targets, and where they differ: first the
//! cases whose verdicts differ, then, among the cases with equal verdicts, those whose wire
//! transcripts differ, aligned step by step ([`align`]) once the values that differ from run
//! to run by design are masked ([`normalise`]).
//!
//! The two sides are given as `run` gives one target: `--profile FILE` (started by the runner
//! when it has a `start` command) or `--target URL`, twice in all; the profiles come first,
//! then the URLs, and a side not given is the embedded reference fixture. The sides run one
//! after the other, each with an empty baseline: a diff compares verdicts, it does not judge
//! them.
//!
//! Exit codes: 0 no difference, 1 differences, 2 the diff could not be made (a side that
//! cannot be reached or started, invalid arguments or files, no case selected).

pub mod align;
pub mod normalise;
pub mod render;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde::Serialize;
use sio_suite::scenario::Case;

use crate::baseline::Baseline;
use crate::cli::{load_cases, parse_time_scale, ColorChoice, SelectArgs};
use crate::error::Error;
use crate::profile::TargetSpec;
use crate::report::{Report, ReportedCase};
use crate::run::{run_target, runtime, RunSettings};
use crate::url::BaseUrl;

pub use align::Hunk;

/// The exit codes of `diff`, as `--help` prints them.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  no difference: every case has the same verdict and the same transcript on both sides
  1  differences: a verdict, a transcript, or a case that runs on one side only
  2  the diff could not be made: a side that cannot be reached or started, invalid
     arguments, profile or scenario files, no case selected";

/// `diff`'s arguments.
#[derive(Debug, Clone, Args)]
#[command(after_help = EXIT_CODES)]
pub struct DiffArgs {
    /// A side's target profile (YAML); at most two. The profiles are the first sides, in order.
    #[arg(long, value_name = "FILE")]
    pub profile: Vec<PathBuf>,
    /// A side's server, http://host:port, following the fixture contract; at most two in all
    /// with the profiles, taken after them. A side not given is the embedded reference.
    #[arg(long, value_name = "URL")]
    pub target: Vec<String>,
    /// Which cases.
    #[command(flatten)]
    pub select: SelectArgs,
    /// How many cases run at once on each side [default: 16 per CPU].
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub jobs: Option<u32>,
    /// Multiplies every deadline and timing window's upper bound.
    #[arg(long, value_name = "X", default_value_t = 1.0, value_parser = parse_time_scale)]
    pub time_scale: f64,
    /// Compare heartbeats too (Engine.IO pings and pongs, and the polls that carried only
    /// them): their number follows the timing of each run, so they are left out by default.
    #[arg(long)]
    pub heartbeats: bool,
    /// The differences as one JSON object on stdout instead of the console report.
    #[arg(long)]
    pub json: bool,
    /// Colours in the console report.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// No progress bar, even on a terminal.
    #[arg(long)]
    pub no_progress: bool,
}

/// The differences between two runs of the same cases.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Side A's target, as its report names it.
    pub a: String,
    /// Side B's target.
    pub b: String,
    /// How many cases ran on either side.
    pub cases: usize,
    /// Cases whose verdicts differ, in case order, with their transcripts' differences.
    pub verdict_differences: Vec<CaseDifference>,
    /// Cases with equal verdicts whose transcripts differ, in case order.
    pub transcript_differences: Vec<CaseDifference>,
    /// Cases that ran on side A only (a client-role case against a server-only profile).
    pub only_a: Vec<String>,
    /// Cases that ran on side B only.
    pub only_b: Vec<String>,
    /// Cases with the same verdict and the same transcript.
    pub same: usize,
}

/// One case that differs.
#[derive(Debug, Clone, Serialize)]
pub struct CaseDifference {
    /// The case id.
    pub id: String,
    /// Side A's verdict (`PASS`, `FAIL`, …).
    pub verdict_a: String,
    /// Side B's verdict.
    pub verdict_b: String,
    /// Why side A did not pass, when it did not.
    pub failure_a: Option<String>,
    /// Why side B did not pass.
    pub failure_b: Option<String>,
    /// Where the transcripts differ, in step order.
    pub hunks: Vec<Hunk>,
}

impl Comparison {
    /// The exit code: 0 when nothing differs, 1 otherwise.
    pub fn code(&self) -> u8 {
        u8::from(!self.is_empty())
    }

    /// Whether nothing differs.
    pub fn is_empty(&self) -> bool {
        self.verdict_differences.is_empty()
            && self.transcript_differences.is_empty()
            && self.only_a.is_empty()
            && self.only_b.is_empty()
    }
}

/// Compares two reports of the same cases, case by case; heartbeats too when `heartbeats`.
pub fn compare(a: &Report, b: &Report, heartbeats: bool) -> Comparison {
    let mut comparison = Comparison {
        a: a.target.clone(),
        b: b.target.clone(),
        cases: 0,
        verdict_differences: Vec::new(),
        transcript_differences: Vec::new(),
        only_a: Vec::new(),
        only_b: Vec::new(),
        same: 0,
    };
    let find = |report: &'_ Report, id: &str| -> Option<usize> {
        report.cases.iter().position(|case| case.result.id == id)
    };
    for case_a in &a.cases {
        comparison.cases += 1;
        let Some(index) = find(b, &case_a.result.id) else {
            comparison.only_a.push(case_a.result.id.clone());
            continue;
        };
        let difference = compare_case(case_a, &b.cases[index], heartbeats);
        match difference {
            None => comparison.same += 1,
            Some(difference) if difference.verdict_a != difference.verdict_b => {
                comparison.verdict_differences.push(difference);
            }
            Some(difference) => comparison.transcript_differences.push(difference),
        }
    }
    for case_b in &b.cases {
        if find(a, &case_b.result.id).is_none() {
            comparison.cases += 1;
            comparison.only_b.push(case_b.result.id.clone());
        }
    }
    comparison
}

/// How one case differs between the sides, or `None` when it does not.
fn compare_case(a: &ReportedCase, b: &ReportedCase, heartbeats: bool) -> Option<CaseDifference> {
    let hunks = align::hunks(
        &normalise::lines(&a.result.transcript, heartbeats),
        &normalise::lines(&b.result.transcript, heartbeats),
    );
    if a.verdict() == b.verdict() && hunks.is_empty() {
        return None;
    }
    let failure = |case: &ReportedCase| {
        let failure = case.result.failure.as_ref()?;
        Some(normalise::mask_text(
            &case.result.transcript,
            &failure.to_string(),
        ))
    };
    Some(CaseDifference {
        id: a.result.id.clone(),
        verdict_a: a.verdict().as_str().to_owned(),
        verdict_b: b.verdict().as_str().to_owned(),
        failure_a: failure(a),
        failure_b: failure(b),
        hunks,
    })
}

/// The two sides' targets: the profiles, then the URLs, then the embedded reference.
fn sides(args: &DiffArgs) -> Result<[TargetSpec; 2], Error> {
    if args.profile.len() + args.target.len() > 2 {
        return Err(Error::DiffSides {
            given: args.profile.len() + args.target.len(),
        });
    }
    let mut specs = Vec::with_capacity(2);
    for path in &args.profile {
        specs.push(TargetSpec::load(path)?);
    }
    for url in &args.target {
        specs.push(TargetSpec::at_url(BaseUrl::parse(url)?));
    }
    while specs.len() < 2 {
        specs.push(TargetSpec::embedded());
    }
    let b = specs.pop();
    let a = specs.pop();
    match (a, b) {
        (Some(a), Some(b)) => Ok([a, b]),
        _ => Err(Error::DiffSides { given: 0 }),
    }
}

/// Runs the selected cases on both sides, A then B, and compares them.
pub fn diff_targets(
    sides: &[TargetSpec; 2],
    cases: &[Case],
    settings: &RunSettings,
    heartbeats: bool,
) -> Result<Comparison, Error> {
    let runtime = runtime()?;
    let baseline = Baseline::default();
    let reports = runtime.block_on(async {
        let a = run_target(&sides[0], cases, &baseline, settings).await?;
        let b = run_target(&sides[1], cases, &baseline, settings).await?;
        Ok::<_, Error>((a, b))
    });
    runtime.shutdown_timeout(Duration::from_millis(500));
    let (a, b) = reports?;
    Ok(compare(&a, &b, heartbeats))
}

/// `sio-conformance diff`: its exit code, or why it could not run.
pub fn diff_command(args: &DiffArgs) -> Result<u8, Error> {
    let sides = sides(args)?;
    let cases = load_cases(&args.select)?;
    if cases.is_empty() {
        return Err(Error::NoCaseSelected);
    }
    let settings = RunSettings::new(args.jobs, args.time_scale, !args.no_progress);
    let comparison = diff_targets(&sides, &cases, &settings, args.heartbeats)?;
    let text = if args.json {
        render::json(&comparison)
    } else {
        let colour = match args.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        };
        render::console(&comparison, colour)
    };
    let mut stdout = std::io::stdout().lock();
    // A closed pipe is not the diff's failure.
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
    Ok(comparison.code())
}
