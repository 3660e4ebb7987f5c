//! The `bench` and `soak` commands: their arguments, the targets made ready (reached at a URL,
//! or started from a profile, whose process is then measured), and their output.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sio_suite::scenario::Feature;

use super::bench::{self, BenchSettings, Figure};
use super::page::{self, BenchReport, FigureOutcome, TargetRun};
use super::procfs;
use super::soak::{self, SoakSettings, Verdict};
use super::{Endpoint, LoadError};
use crate::error::Error;
use crate::launch::Launched;
use crate::profile::TargetSpec;
use crate::run::{reachable, runtime};
use crate::url::BaseUrl;

/// Where the load goes: the target's URL or profiles.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// The server under test, http://host:port, following the fixture contract. With one
    /// --profile, it replaces the profile's url (and its `start`).
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// The target's process id, for its CPU and memory figures when the runner did not start
    /// it (a started target's is known).
    #[arg(long, value_name = "PID")]
    pub pid: Option<u32>,
    /// No progress display, even on a terminal.
    #[arg(long)]
    pub no_progress: bool,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// `bench`'s arguments.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// The target.
    #[command(flatten)]
    pub target: TargetArgs,
    /// A target profile, started by the runner when it has `start`; repeatable: each is
    /// measured in turn.
    #[arg(long, value_name = "FILE")]
    pub profile: Vec<PathBuf>,
    /// Only this figure (websocket-echo, polling-echo, connection-setup, fanout,
    /// idle-memory); repeatable. Default: all.
    #[arg(long, value_name = "FIGURE", value_parser = parse_figure)]
    pub figure: Vec<Figure>,
    /// WebSocket echo: connections.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub connections: usize,
    /// WebSocket echo: round trips in flight per connection.
    #[arg(long, value_name = "K", default_value_t = 10)]
    pub in_flight: usize,
    /// How long each echo figure runs, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub duration: f64,
    /// Polling echo: sessions.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub polling_sessions: usize,
    /// Connection setup: connections in all.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub setup_connections: usize,
    /// How many connections are set up at once (every figure).
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub concurrency: usize,
    /// Fan-out: clients in the room (one emits, the others receive).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub fanout_clients: usize,
    /// Fan-out: emits.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub fanout_rounds: usize,
    /// Idle memory: connections.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub idle_connections: usize,
    /// Every single wait's deadline, in seconds: a target that does not answer in time fails
    /// the figure.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub timeout: f64,
    /// How many times each target's figures are measured (the page gives min, median, max).
    #[arg(long, value_name = "R", default_value_t = 1)]
    pub repeat: usize,
    /// Also write the performance page (Markdown) to this file, e.g. docs/performance.md.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `soak`'s arguments.
#[derive(Debug, Clone, Args)]
pub struct SoakArgs {
    /// The target.
    #[command(flatten)]
    pub target: TargetArgs,
    /// A target profile, started by the runner when it has `start`.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// WebSocket connections per cycle.
    #[arg(long, value_name = "N", default_value_t = 5000)]
    pub websocket: usize,
    /// Polling sessions per cycle.
    #[arg(long, value_name = "N", default_value_t = 5000)]
    pub polling: usize,
    /// Warm-up cycles before the baseline (at least 1). Two by default: after the first
    /// cycle an allocator may hand its memory back to the system, after later ones it keeps a
    /// steady pool, so one warm-up gives a baseline below the steady state.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub warm_up: usize,
    /// Measured cycles after the warm-up.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub cycles: usize,
    /// How many connections are set up at once.
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub concurrency: usize,
    /// How far above the baseline memory and descriptors may end, in percent.
    #[arg(long, value_name = "PERCENT", default_value_t = 10.0)]
    pub tolerance: f64,
    /// Every single wait's deadline, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub timeout: f64,
    /// How long the target may take to release a cycle's descriptors, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub settle: f64,
}

fn parse_figure(name: &str) -> Result<Figure, String> {
    Figure::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Figure::ALL.iter().map(|figure| figure.as_str()).collect();
        format!("unknown figure {name:?}; the figures: {}", names.join(", "))
    })
}

/// A positive number of seconds as a duration, or an argument error.
fn seconds(value: f64, flag: &'static str) -> Result<f64, Error> {
    if value.is_finite() && value > 0.0 && value <= 86_400.0 {
        Ok(value)
    } else {
        Err(Error::Driver(LoadError::Unexpected {
            step: flag,
            expected: "a number of seconds above 0 and at most 86400",
            got: value.to_string(),
        }))
    }
}

/// A target ready for load: its endpoint, its process if known, and what started it.
struct Ready {
    spec: TargetSpec,
    url: BaseUrl,
    endpoint: Endpoint,
    pid: Option<u32>,
    launched: Option<Launched>,
}

impl Ready {
    async fn new(spec: TargetSpec, given_pid: Option<u32>) -> Result<Ready, Error> {
        let (url, launched) = match (&spec.url, &spec.start) {
            (Some(url), _) => (url.clone(), None),
            (None, Some(start)) => {
                let launched = start.launch().await?;
                (launched.url.clone(), Some(launched))
            }
            (None, None) => return Err(Error::NoTarget),
        };
        let address = url.resolve()?;
        reachable(address, Duration::from_secs(2))
            .await
            .map_err(|source| Error::Unreachable {
                url: url.clone(),
                source,
            })?;
        let pid = launched.as_ref().and_then(Launched::pid).or(given_pid);
        let endpoint = Endpoint {
            address,
            host: format!("{}:{}", url.host, url.port),
            path: spec.paths.socket_io.clone(),
        };
        Ok(Ready {
            spec,
            url,
            endpoint,
            pid,
            launched,
        })
    }

    async fn stop(self) {
        if let Some(launched) = self.launched {
            if let Err(why) = launched.stop().await {
                eprintln!("sio-conformance: {why}");
            }
        }
    }

    /// The feature a figure needs that the target does not declare, if any.
    fn missing_feature(&self, figure: Figure) -> Option<(Feature, &'static str)> {
        let needed: &[(Feature, &'static str)] = match figure {
            Figure::PollingEcho => &[(Feature::Polling, "polling")],
            Figure::Fanout => &[(Feature::Websocket, "websocket"), (Feature::Rooms, "rooms")],
            _ => &[(Feature::Websocket, "websocket")],
        };
        let declared = self.spec.features.as_ref()?;
        needed
            .iter()
            .find(|(feature, _)| !declared.contains(feature))
            .copied()
    }
}

/// The targets of `--target` and `--profile`s.
fn target_specs(
    target: Option<&str>,
    profiles: &[PathBuf],
) -> Result<Vec<(Option<PathBuf>, TargetSpec)>, Error> {
    let mut specs = Vec::new();
    for path in profiles {
        specs.push((Some(path.clone()), TargetSpec::load(path)?));
    }
    if let Some(url) = target {
        let url = BaseUrl::parse(url)?;
        match specs.as_mut_slice() {
            [] => specs.push((None, TargetSpec::at_url(url))),
            [(_, spec)] => {
                spec.url = Some(url);
                spec.start = None;
            }
            _ => return Err(Error::NoTarget),
        }
    }
    if specs.is_empty() {
        return Err(Error::NoTarget);
    }
    Ok(specs)
}

/// A spinner on standard error, when wanted and it is a terminal.
fn spinner(wanted: bool) -> Option<ProgressBar> {
    if !wanted || !std::io::stderr().is_terminal() {
        return None;
    }
    let style = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(style);
    bar.enable_steady_tick(Duration::from_millis(100));
    Some(bar)
}

/// The command line as run, for the page.
fn command_line() -> String {
    let mut words = vec!["sio-conformance".to_owned()];
    for word in std::env::args().skip(1) {
        let plain = word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,".contains(c));
        words.push(if plain {
            word
        } else {
            format!("'{}'", word.replace('\'', r"'\''"))
        });
    }
    words.join(" ")
}

/// `bench`: exit 0 when every figure was measured, 2 when one could not be (each error said).
pub fn bench_command(args: &BenchArgs) -> Result<u8, Error> {
    let settings = BenchSettings {
        figures: if args.figure.is_empty() {
            Figure::ALL.to_vec()
        } else {
            let mut figures = args.figure.clone();
            figures.sort();
            figures.dedup();
            figures
        },
        connections: args.connections.max(1),
        in_flight: args.in_flight.max(1),
        duration_s: seconds(args.duration, "--duration")?,
        polling_sessions: args.polling_sessions.max(1),
        setup_connections: args.setup_connections.max(1),
        concurrency: args.concurrency.max(1),
        fanout_clients: args.fanout_clients.max(2),
        fanout_rounds: args.fanout_rounds.max(1),
        idle_connections: args.idle_connections.max(1),
        timeout_s: seconds(args.timeout, "--timeout")?,
    };
    let specs = target_specs(args.target.target.as_deref(), &args.profile)?;
    let runtime = runtime()?;
    let progress = spinner(!args.target.no_progress);
    let mut targets = Vec::new();
    for (path, spec) in specs {
        let measured =
            runtime.block_on(bench_target(path, spec, args, &settings, progress.as_ref()));
        match measured {
            Ok(target) => targets.push(target),
            Err(error) => {
                if let Some(bar) = &progress {
                    bar.finish_and_clear();
                }
                runtime.shutdown_timeout(Duration::from_millis(500));
                return Err(error);
            }
        }
    }
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    runtime.shutdown_timeout(Duration::from_millis(500));
    let report = BenchReport {
        command: command_line(),
        machine: procfs::machine(),
        settings,
        targets,
    };
    print_output(args.target.json, &report, page::render_table(&report));
    if let Some(output) = &args.output {
        crate::cli::write_file(output, &page::render_page(&report))?;
        eprintln!("performance page: {}", output.display());
    }
    Ok(if report.complete() { 0 } else { 2 })
}

fn print_output(json: bool, value: &impl serde::Serialize, table: String) {
    let text = if json {
        serde_json::to_string_pretty(value).unwrap_or_else(|error| {
            format!("{{\"error\": \"cannot serialise the report: {error}\"}}")
        }) + "\n"
    } else {
        table
    };
    let mut stdout = std::io::stdout().lock();
    // A closed pipe is not the command's failure.
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

async fn bench_target(
    path: Option<PathBuf>,
    spec: TargetSpec,
    args: &BenchArgs,
    settings: &BenchSettings,
    progress: Option<&ProgressBar>,
) -> Result<TargetRun, Error> {
    let ready = Ready::new(spec, args.target.pid).await?;
    let name = ready
        .spec
        .name
        .clone()
        .unwrap_or_else(|| ready.url.to_string());
    let mut repetitions = Vec::new();
    for repetition in 1..=args.repeat.max(1) {
        let mut outcomes = Vec::new();
        for figure in &settings.figures {
            if let Some(bar) = progress {
                bar.set_message(format!(
                    "{name}: {} (repetition {repetition} of {})",
                    figure.as_str(),
                    args.repeat.max(1)
                ));
            }
            let outcome = match ready.missing_feature(*figure) {
                Some((_, feature)) => FigureOutcome {
                    figure: *figure,
                    measured: None,
                    error: Some(
                        LoadError::MissingFeature {
                            figure: figure.as_str(),
                            feature,
                        }
                        .to_string(),
                    ),
                },
                None => match bench::measure(*figure, &ready.endpoint, ready.pid, settings).await {
                    Ok(measured) => FigureOutcome {
                        figure: *figure,
                        measured: Some(measured),
                        error: None,
                    },
                    Err(error) => FigureOutcome {
                        figure: *figure,
                        measured: None,
                        error: Some(error.to_string()),
                    },
                },
            };
            outcomes.push(outcome);
        }
        repetitions.push(outcomes);
    }
    let run = TargetRun {
        name,
        profile: path.map(|path| path.display().to_string()),
        url: ready.url.to_string(),
        pid: ready.pid,
        repetitions,
    };
    ready.stop().await;
    Ok(run)
}

/// `soak`: exit 0 on PASS, 1 on FAIL, 2 when it cannot run.
pub fn soak_command(args: &SoakArgs) -> Result<u8, Error> {
    let settings = SoakSettings {
        websocket: args.websocket,
        polling: args.polling,
        warm_up: args.warm_up.max(1),
        cycles: args.cycles.max(1),
        concurrency: args.concurrency.max(1),
        tolerance_percent: args.tolerance.max(0.0),
        timeout_s: seconds(args.timeout, "--timeout")?,
        settle_s: seconds(args.settle, "--settle")?,
    };
    let profiles: Vec<PathBuf> = args.profile.iter().cloned().collect();
    let (_, spec) = target_specs(args.target.target.as_deref(), &profiles)?
        .into_iter()
        .next()
        .ok_or(Error::NoTarget)?;
    let runtime = runtime()?;
    let progress = spinner(!args.target.no_progress);
    let outcome = runtime.block_on(async {
        let ready = Ready::new(spec, args.target.pid).await?;
        let Some(pid) = ready.pid else {
            ready.stop().await;
            return Err(Error::NoPid);
        };
        let cycles = settings.warm_up + settings.cycles;
        let report = soak::soak(&ready.endpoint, pid, &settings, |cycle| {
            let line = format!(
                "cycle {}/{cycles}: {} completed, {} failed, peak {} KiB, {} fds",
                cycle.cycle + 1,
                cycle.completed,
                cycle.failed,
                cycle.peak.rss_kib,
                cycle.peak.fds
            );
            match progress.as_ref() {
                Some(bar) => bar.set_message(line),
                None if !args.target.json => eprintln!("{line}"),
                None => {}
            }
        })
        .await;
        ready.stop().await;
        Ok(report?)
    });
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    runtime.shutdown_timeout(Duration::from_millis(500));
    let report = outcome?;
    print_output(args.target.json, &report, page::render_soak(&report));
    Ok(match report.verdict {
        Verdict::Pass => 0,
        Verdict::Fail => 1,
    })
}
