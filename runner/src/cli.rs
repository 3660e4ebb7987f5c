//! The command line: its arguments (`run`, `list`, `explain`, `coverage`, `matrix`,
//! `bench`, `soak`, `diff`, `vectors`), each command from its arguments to its output and exit code. Running a target
//! is [`crate::run`]'s.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use sio_suite::requirements::{self, SourcedRequirement};
use sio_suite::scenario::{self, Case, Feature, Transport};
use sio_suite::vectors;

use crate::baseline::Baseline;
use crate::error::Error;
use crate::explain;
use crate::matrix;
use crate::profile::TargetSpec;
use crate::report::{self, Format, Report};
use crate::run::{run_target, runtime, RunSettings};
use crate::select::{IdPattern, Selection};
use crate::url::BaseUrl;

/// The exit codes, as `--help` prints them.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  every verdict is as expected: PASS, INFORMATIONAL or UNSUPPORTED, or exactly the
     verdict the baseline expects of the case
  1  the run failed: an unexpected FAIL or NON-STRICT (a regression), or a case the
     baseline expects not to pass that passed or got another verdict (an unexpected pass)
  2  the run could not be judged: an ERROR verdict the baseline does not expect, a target
     that cannot be reached, invalid scenario, profile or baseline files, no case
     selected, or invalid arguments; 2 wins over 1 when both apply";

/// The Engine.IO and Socket.IO conformance suite.
#[derive(Debug, Parser)]
#[command(name = "sio-conformance", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the suite against a server: with no --target or --profile, against the embedded
    /// reference fixture server, started on 127.0.0.1.
    #[command(after_help = EXIT_CODES)]
    Run(RunArgs),
    /// List the cases, with the same filters as `run`: id, level, features, title.
    List(ListArgs),
    /// Explain a case (or a scenario): its metadata, the requirement it checks and those it
    /// covers, and its steps.
    Explain(ExplainArgs),
    /// Which requirements of suite/requirements/ the scenarios cover, per document and level,
    /// and those no scenario covers.
    Coverage(CoverageArgs),
    /// Run several targets, each against its baseline, and write the compatibility matrix:
    /// implementations × areas, with every non-pass linked to its reason
    #[command(after_help = EXIT_CODES)]
    Matrix(MatrixArgs),
    /// Measure a server under load: WebSocket and polling echo round trips, connection setup
    /// rate, broadcast fan-out, idle memory per connection; with its CPU and memory when its
    /// process is known. Several --profile and --repeat write the performance page (--output).
    Bench(crate::load::command::BenchArgs),
    /// Connect, echo and disconnect many WebSocket and polling connections in cycles; PASS
    /// (exit 0) when the server's memory and open descriptors come back within 10 % of the
    /// baseline, else FAIL (exit 1).
    Soak(crate::load::command::SoakArgs),
    /// A decoding proxy between a client and a server: carries the traffic unchanged, logs
    /// every Engine.IO and Socket.IO packet by session and namespace, flags protocol
    /// violations with the requirement they break; writes JSON Lines, an HTML transcript and
    /// draft scenarios. Exit 0 without violations, 1 with.
    Proxy(crate::proxy::ProxyArgs),
    /// Run the same cases against two targets and show where they differ: verdicts first,
    /// then the wire transcripts of the cases with equal verdicts, aligned step by step (ids,
    /// ports and dates masked). Exit 0: no difference, 1: differences, 2: could not run.
    Diff(crate::diff::DiffArgs),
    /// Work with the protocol vectors.
    Vectors {
        /// The vectors folder (default: this repository's `vectors/`).
        #[arg(long, global = true)]
        dir: Option<PathBuf>,
        /// What to do with them.
        #[command(subcommand)]
        action: VectorsAction,
    },
}

/// What to do with the vectors.
#[derive(Debug, Subcommand)]
pub enum VectorsAction {
    /// List every vector: id, kind and title.
    List,
    /// Regenerate the JSON mirror from the YAML files.
    Mirror,
    /// Load every vector file and check that the JSON mirror is up to date.
    Check,
}

/// Which cases.
#[derive(Debug, Clone, Args)]
pub struct SelectArgs {
    /// Only cases whose id matches: `*` and `?` match the whole id; a plain id selects that
    /// case and those under it (`eio4/polling`). Repeatable: any of them.
    #[arg(long, value_name = "GLOB")]
    pub filter: Vec<String>,
    /// Only cases that need this feature. Repeatable: any of them.
    #[arg(long, value_name = "FEATURE", value_parser = Feature::from_str)]
    pub feature: Vec<Feature>,
    /// Only cases over this transport (polling, websocket, upgrade). Repeatable.
    #[arg(long, value_name = "TRANSPORT", value_parser = Transport::from_str)]
    pub transport: Vec<Transport>,
    /// The scenarios folder (default: this repository's `suite/scenarios/`).
    #[arg(long, value_name = "DIR")]
    pub scenarios: Option<PathBuf>,
}

impl SelectArgs {
    fn selection(&self) -> Selection {
        Selection {
            filters: self.filter.iter().map(IdPattern::new).collect(),
            features: self.feature.clone(),
            transports: self.transport.clone(),
        }
    }

    fn dir(&self) -> PathBuf {
        self.scenarios.clone().unwrap_or_else(scenario::default_dir)
    }
}

/// When to colour the console report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// When stdout is a terminal and NO_COLOR is not set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// `run`'s arguments.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The server under test: http://host:port, following the fixture contract's paths
    /// (/engine.io/, /socket.io/) and options. With --profile, it replaces the profile's url.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// A target profile (YAML): url, paths, declared options, features, baseline.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Which cases.
    #[command(flatten)]
    pub select: SelectArgs,
    /// How many cases run at once [default: 16 per CPU].
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub jobs: Option<u32>,
    /// Multiplies every deadline and timing window's upper bound (2 for a slow machine).
    #[arg(long, value_name = "X", default_value_t = 1.0, value_parser = parse_time_scale)]
    pub time_scale: f64,
    /// The report's format.
    #[arg(long, value_enum, default_value_t = Format::Pretty)]
    pub format: Format,
    /// Write the report to this file instead of stdout (the console still shows progress
    /// and the summary).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// A baseline file of expected non-passes; replaces the profile's baseline.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Colours in the console report.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// No progress bar, even on a terminal.
    #[arg(long)]
    pub no_progress: bool,
}

pub(crate) fn parse_time_scale(text: &str) -> Result<f64, Error> {
    match text.parse::<f64>() {
        Ok(scale) if scale.is_finite() && scale > 0.0 && scale <= 1000.0 => Ok(scale),
        _ => Err(Error::TimeScale {
            given: text.to_owned(),
        }),
    }
}

/// `list`'s arguments.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Which cases.
    #[command(flatten)]
    pub select: SelectArgs,
}

/// `matrix`'s arguments.
#[derive(Debug, Clone, Args)]
pub struct MatrixArgs {
    /// A target profile, one per column, in order; repeatable. Each runs in turn, started and
    /// stopped by the runner when the profile has a `start` command. Default: every profile in
    /// `runner/profiles/`, the reference first.
    #[arg(long, value_name = "FILE")]
    pub profile: Vec<PathBuf>,
    /// The Markdown file to write (default: `docs/compatibility.md` in this repository).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write the matrix the profiles' features and baselines predict, without running
    /// anything: what a run writes when every target meets its baseline.
    #[arg(long)]
    pub expected: bool,
    /// Only cases whose id matches, as `run --filter` takes; repeatable.
    #[arg(long, value_name = "GLOB")]
    pub filter: Vec<String>,
    /// The scenarios folder (default: this repository's `suite/scenarios/`).
    #[arg(long, value_name = "DIR")]
    pub scenarios: Option<PathBuf>,
    /// How many cases run at once [default: 16 per CPU].
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub jobs: Option<u32>,
    /// Multiplies every deadline and timing window's upper bound.
    #[arg(long, value_name = "X", default_value_t = 1.0, value_parser = parse_time_scale)]
    pub time_scale: f64,
    /// No progress bar, even on a terminal.
    #[arg(long)]
    pub no_progress: bool,
}

/// `explain`'s arguments.
#[derive(Debug, Clone, Args)]
pub struct ExplainArgs {
    /// A case id (`eio4/message/echo-text[polling]`) or a scenario id.
    pub id: String,
    /// The scenarios folder (default: this repository's `suite/scenarios/`).
    #[arg(long, value_name = "DIR")]
    pub scenarios: Option<PathBuf>,
}

/// `coverage`'s arguments.
#[derive(Debug, Clone, Args)]
pub struct CoverageArgs {
    /// List every requirement with the scenarios that cover it, not only the uncovered ones.
    #[arg(long)]
    pub all: bool,
    /// The scenarios folder (default: this repository's `suite/scenarios/`).
    #[arg(long, value_name = "DIR")]
    pub scenarios: Option<PathBuf>,
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => exit(run_command(&args)),
        Command::List(args) => exit(list_command(&args)),
        Command::Explain(args) => exit(explain_command(&args)),
        Command::Coverage(args) => exit(coverage_command(&args)),
        Command::Matrix(args) => exit(matrix_command(&args)),
        Command::Bench(args) => exit(crate::load::command::bench_command(&args)),
        Command::Soak(args) => exit(crate::load::command::soak_command(&args)),
        Command::Proxy(args) => crate::proxy::command(&args),
        Command::Diff(args) => exit(crate::diff::diff_command(&args)),
        Command::Vectors { dir, action } => {
            let dir = dir.unwrap_or_else(vectors::default_dir);
            let outcome = match action {
                VectorsAction::List => crate::vectors::list(&dir),
                VectorsAction::Mirror => crate::vectors::write_mirror(&dir),
                VectorsAction::Check => crate::vectors::check(&dir),
            };
            outcome.unwrap_or_else(|error| {
                eprintln!("error: {error}");
                ExitCode::from(2)
            })
        }
    }
}

/// A command's outcome: an exit code, or why it could not run (exit 2).
type Outcome = Result<u8, Error>;

fn exit(outcome: Outcome) -> ExitCode {
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("sio-conformance: error: {error}");
            ExitCode::from(2)
        }
    }
}

pub(crate) fn load_cases(select: &SelectArgs) -> Result<Vec<Case>, Error> {
    let scenarios = scenario::load_dir(&select.dir())?;
    Ok(select.selection().apply(scenario::expand(scenarios)))
}

fn list_command(args: &ListArgs) -> Outcome {
    let cases = load_cases(&args.select)?;
    let mut stdout = std::io::stdout().lock();
    for case in &cases {
        let features: Vec<&str> = case
            .required_features()
            .into_iter()
            .map(Feature::as_str)
            .collect();
        let line = format!(
            "{}\t{}\t{}\t{}",
            case.id,
            case.scenario.level.as_str(),
            features.join(","),
            case.scenario.title
        );
        if writeln!(stdout, "{line}").is_err() {
            // A closed pipe (`| head`): nothing more to say.
            return Ok(0);
        }
    }
    if cases.is_empty() {
        eprintln!("no case matches");
    }
    Ok(0)
}

/// The requirements next to a scenarios folder, or this repository's.
fn load_requirements(scenarios_dir: &Path) -> Result<Vec<SourcedRequirement>, Error> {
    let requirements_dir = scenarios_dir
        .parent()
        .map(|parent| parent.join("requirements"))
        .filter(|candidate| candidate.is_dir())
        .unwrap_or_else(requirements::default_dir);
    Ok(requirements::load_dir(&requirements_dir)?)
}

fn coverage_command(args: &CoverageArgs) -> Outcome {
    let dir = args.scenarios.clone().unwrap_or_else(scenario::default_dir);
    let scenarios = scenario::load_dir(&dir)?;
    let catalogue = load_requirements(&dir)?;
    let coverage = crate::coverage::compute(&catalogue, &scenarios);
    print!("{}", crate::coverage::render(&coverage, args.all));
    Ok(0)
}

fn explain_command(args: &ExplainArgs) -> Outcome {
    let dir = args.scenarios.clone().unwrap_or_else(scenario::default_dir);
    let scenarios = scenario::load_dir(&dir)?;
    let cases = scenario::expand(scenarios);
    let catalogue = load_requirements(&dir)?;
    match explain::explain(&args.id, &cases, &catalogue) {
        Some(text) => {
            print!("{text}");
            Ok(0)
        }
        None => Err(Error::UnknownId {
            id: args.id.clone(),
            near: explain::suggestions(&args.id, &cases)
                .into_iter()
                .map(str::to_owned)
                .collect(),
        }),
    }
}

fn run_command(args: &RunArgs) -> Outcome {
    let mut spec = match &args.profile {
        Some(path) => TargetSpec::load(path)?,
        None => TargetSpec::embedded(),
    };
    if let Some(url) = &args.target {
        // A server the user runs: the profile's `start` is not needed.
        spec.url = Some(BaseUrl::parse(url)?);
        spec.start = None;
    }
    let baseline = match &args.baseline {
        Some(path) => Baseline::load(path)?,
        None => spec.baseline.clone().unwrap_or_default(),
    };
    let cases = load_cases(&args.select)?;
    if cases.is_empty() {
        return Err(Error::NoCaseSelected);
    }
    let settings = RunSettings::new(args.jobs, args.time_scale, !args.no_progress);
    let runtime = runtime()?;
    let report = runtime.block_on(run_target(&spec, &cases, &baseline, &settings));
    runtime.shutdown_timeout(Duration::from_millis(500));
    let mut report = report?;
    report.replay = Some(replay_base(args));
    write_report(args, &report)?;
    Ok(report.status().code())
}

/// The `run` command that runs the same target again, with the same baseline and time scale.
fn replay_base(args: &RunArgs) -> String {
    let mut command = vec!["sio-conformance run".to_owned()];
    let quoted = |path: &Path| format!("'{}'", path.display());
    if let Some(profile) = &args.profile {
        command.push(format!("--profile {}", quoted(profile)));
    }
    if let Some(target) = &args.target {
        command.push(format!("--target {target}"));
    }
    if let Some(baseline) = &args.baseline {
        command.push(format!("--baseline {}", quoted(baseline)));
    }
    if let Some(scenarios) = &args.select.scenarios {
        command.push(format!("--scenarios {}", quoted(scenarios)));
    }
    if args.time_scale != 1.0 {
        command.push(format!("--time-scale {}", args.time_scale));
    }
    command.join(" ")
}

fn matrix_command(args: &MatrixArgs) -> Outcome {
    let dir = args.scenarios.clone().unwrap_or_else(scenario::default_dir);
    let selection = Selection {
        filters: args.filter.iter().map(IdPattern::new).collect(),
        ..Selection::default()
    };
    let cases = selection.apply(scenario::expand(scenario::load_dir(&dir)?));
    if cases.is_empty() {
        return Err(Error::NoCaseSelected);
    }
    let profiles = match args.profile.as_slice() {
        [] => matrix::default_profiles()?,
        given => given.to_vec(),
    };
    let output = args.output.clone().unwrap_or_else(matrix::default_output);
    let specs = profiles
        .iter()
        .map(|path| TargetSpec::load(path).map(|spec| (path, spec)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut columns = Vec::new();
    if args.expected {
        for (path, spec) in &specs {
            for role in matrix::roles(spec) {
                columns.push(matrix::expected_column(path, spec, &cases, role));
            }
        }
    } else {
        let settings = RunSettings::new(args.jobs, args.time_scale, !args.no_progress);
        let runtime = runtime()?;
        for (path, spec) in &specs {
            for role in matrix::roles(spec) {
                println!(
                    "== {} ({role:?} side)",
                    spec.name.as_deref().unwrap_or(&path.display().to_string())
                );
                let baseline = spec.baseline.clone().unwrap_or_default();
                let role_cases = matrix::cases_of(&cases, role);
                let report = runtime
                    .block_on(run_target(spec, &role_cases, &baseline, &settings))
                    .map(|mut report| {
                        let profile = path.display();
                        report.replay = Some(format!("sio-conformance run --profile '{profile}'"));
                        report
                    });
                let column = matrix::column(path, spec, role, report);
                print_column_outcome(&column);
                columns.push(column);
            }
        }
        runtime.shutdown_timeout(Duration::from_millis(500));
    }
    write_file(&output, &matrix::render(&columns, &cases, &output))?;
    println!("matrix: {}", output.display());
    let worst = columns
        .iter()
        .map(|column| column.status().code())
        .max()
        .unwrap_or(0);
    Ok(worst)
}

/// A column's summary and every case whose verdict is not what its baseline expects.
fn print_column_outcome(column: &matrix::Column) {
    match &column.report {
        Err(why) => println!("could not run: {why}"),
        Ok(report) => {
            println!("{}", report.summary_line());
            for case in report
                .cases
                .iter()
                .filter(|case| case.outcome != crate::baseline::Outcome::AsExpected)
            {
                println!(
                    "  {}: {} {}",
                    case.outcome.as_str(),
                    case.verdict(),
                    case.result.id
                );
                if let Some(failure) = &case.result.failure {
                    println!("    expected: {}", failure.expected);
                    println!("    actual:   {}", failure.actual);
                }
                if let Some(entry) = &case.expected {
                    println!("    baseline: {} ({})", entry.verdict, entry.reason);
                }
            }
            println!("result: {}", report.status_line());
        }
    }
}

fn colour(args: &RunArgs, to_terminal: bool) -> bool {
    match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none(),
    }
}

fn write_report(args: &RunArgs, report: &Report) -> Result<(), Error> {
    match &args.output {
        Some(path) => {
            let text = report::render(
                report,
                args.format,
                colour(args, false) && args.color == ColorChoice::Always,
            );
            write_file(path, &text)?;
            let paint = colour(args, std::io::stdout().is_terminal());
            let status = report.status_line();
            let status = if paint {
                let code = match report.status().code() {
                    0 => "1;32",
                    1 => "1;31",
                    _ => "1;35",
                };
                format!("\x1b[{code}m{status}\x1b[0m")
            } else {
                status
            };
            println!("{}", report.summary_line());
            println!("result: {status}");
            println!("report: {}", path.display());
            Ok(())
        }
        None => {
            let text = report::render(
                report,
                args.format,
                colour(args, std::io::stdout().is_terminal()),
            );
            let mut stdout = std::io::stdout().lock();
            // A closed pipe is not the run's failure.
            let _ = stdout.write_all(text.as_bytes());
            let _ = stdout.flush();
            Ok(())
        }
    }
}

/// Writes `text` to `path`, creating its folder.
pub(crate) fn write_file(path: &Path, text: &str) -> Result<(), Error> {
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).map_err(|source| Error::CreateDir {
            path: parent.to_owned(),
            source,
        })?;
    }
    std::fs::write(path, text).map_err(|source| Error::WriteFile {
        path: path.to_owned(),
        source,
    })
}
