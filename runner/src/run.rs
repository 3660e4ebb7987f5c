//! The run pipeline: a target made ready (reached at its URL, started from its profile's
//! `start` command, or the embedded reference fixture), its cases run concurrently on the
//! tokio runtime, at most `jobs` at a time, with the results returned in case order whatever
//! order they finish in, and judged against the baseline into a [`Report`].

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sio_reference::fixture::{Fixture, Options};
use sio_suite::engine::{self, CaseResult, Failure, RunOptions, Target, Transcript, Verdict};
use sio_suite::scenario::{Case, Role};
use tokio::sync::Semaphore;

use crate::baseline::Baseline;
use crate::error::{ConnectError, Error};
use crate::launch::Launched;
use crate::profile::TargetSpec;
use crate::report::{Report, ReportedCase};
use crate::url::BaseUrl;

/// The default number of cases run at once: sixteen per CPU, since cases mostly wait (for a
/// heartbeat, a silence, a held GET) rather than compute.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism()
        .map(|cpus| cpus.get())
        .unwrap_or(1)
        * 16
}

/// How many client-role cases run at once: two per CPU.
pub fn client_jobs() -> usize {
    std::thread::available_parallelism()
        .map(|cpus| cpus.get())
        .unwrap_or(1)
        * 2
}

/// Runs `cases` against `target`, at most `jobs` at once (and at most [`client_jobs`]
/// client-role cases), calling `on_done` as each one finishes; returns the results in the
/// order of `cases`.
pub async fn run_cases(
    cases: &[Case],
    target: &Target,
    options: &RunOptions,
    jobs: usize,
    on_done: impl Fn(&CaseResult) + Send + Sync + 'static,
) -> Vec<CaseResult> {
    let permits = Arc::new(Semaphore::new(jobs.max(1)));
    // A client-role case starts a program (a Node.js or Python runtime) and judges its timing:
    // a few at a time per CPU, so that they do not starve one another of CPU.
    let programs = Arc::new(Semaphore::new(client_jobs().min(jobs.max(1))));
    let on_done = Arc::new(on_done);
    let handles: Vec<_> = cases
        .iter()
        .map(|case| {
            let case = case.clone();
            let target = target.clone();
            let options = *options;
            let permits = Arc::clone(&permits);
            let programs = Arc::clone(&programs);
            let on_done = Arc::clone(&on_done);
            tokio::spawn(async move {
                // The semaphores are never closed, so acquiring only fails if one were.
                let _program = match case.scenario.role {
                    Role::Client => programs.acquire_owned().await.ok(),
                    Role::Server => None,
                };
                let _permit = permits.acquire_owned().await.ok();
                let result = engine::run(&case, &target, &options).await;
                on_done(&result);
                result
            })
        })
        .collect();
    let mut results = Vec::with_capacity(cases.len());
    for (handle, case) in handles.into_iter().zip(cases) {
        let result = match handle.await {
            Ok(result) => result,
            Err(error) => {
                let result = runner_error(case, format!("the case's task failed: {error}"));
                on_done(&result);
                result
            }
        };
        results.push(result);
    }
    results
}

/// An ERROR result for a case the runner itself could not run.
fn runner_error(case: &Case, why: String) -> CaseResult {
    CaseResult {
        id: case.id.clone(),
        verdict: Verdict::Error,
        failure: Some(Failure {
            step: None,
            keyword: None,
            actor: None,
            expected: "a case the runner can run".to_owned(),
            actual: why,
            requirement: None,
        }),
        transcript: Transcript::default(),
        elapsed: Duration::ZERO,
    }
}

/// Starts the reference fixture server on 127.0.0.1, on a free port, with the contract's
/// options; it serves until the runtime ends.
pub async fn start_fixture() -> std::io::Result<SocketAddr> {
    let (address, serving) = Fixture::new(Options::default())
        .listen("127.0.0.1:0")
        .await?;
    tokio::spawn(serving);
    Ok(address)
}

/// Checks that something accepts TCP connections at `address` within `timeout`.
pub async fn reachable(address: SocketAddr, timeout: Duration) -> Result<(), ConnectError> {
    match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(address)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(source)) => Err(ConnectError::Failed { address, source }),
        Err(_) => Err(ConnectError::NoAnswer { address, timeout }),
    }
}

/// How a run goes: how many cases at once, the engine's options, a progress bar or not.
#[derive(Debug, Clone, Copy)]
pub struct RunSettings {
    /// How many cases run at once.
    pub jobs: usize,
    /// The engine's options.
    pub options: RunOptions,
    /// Whether a progress bar may be shown (it is only on a terminal).
    pub progress: bool,
}

impl RunSettings {
    /// The settings of `--jobs` (default [`default_jobs`]), `--time-scale` and whether a
    /// progress bar may show.
    pub fn new(jobs: Option<u32>, time_scale: f64, progress: bool) -> RunSettings {
        RunSettings {
            jobs: jobs.map_or_else(default_jobs, |jobs| jobs as usize),
            options: RunOptions {
                time_scale,
                ..RunOptions::default()
            },
            progress,
        }
    }
}

/// A multi-threaded tokio runtime for a run.
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)
}

/// A target ready for cases: where it listens, how reports name it, and the process the
/// runner started to serve it, if any.
struct ReadyTarget {
    address: SocketAddr,
    description: String,
    launched: Option<Launched>,
}

/// Makes the target `spec` describes ready: reached at its URL, started from its `start`
/// command, or the embedded reference fixture started.
async fn ready(spec: &TargetSpec, options: &RunOptions) -> Result<ReadyTarget, Error> {
    match (&spec.url, &spec.start) {
        (Some(url), _) => {
            let address = url.resolve()?;
            reachable(address, options.scaled(options.connect_timeout))
                .await
                .map_err(|source| Error::Unreachable {
                    url: url.clone(),
                    source,
                })?;
            Ok(ReadyTarget {
                address,
                description: describe(url, spec),
                launched: None,
            })
        }
        (None, Some(start)) => {
            let started = start.launch().await?;
            Ok(ReadyTarget {
                address: started.url.resolve()?,
                description: describe(&started.url, spec),
                launched: Some(started),
            })
        }
        // A client under test alone: the engine listens for it case by case, and no server
        // is needed (the address is never dialled: client-role cases do not reach a server).
        (None, None) if !spec.has_server() => Ok(ReadyTarget {
            address: SocketAddr::from(([127, 0, 0, 1], 9)),
            description: describe_client(spec),
            launched: None,
        }),
        (None, None) => {
            let address = start_fixture().await.map_err(Error::Fixture)?;
            Ok(ReadyTarget {
                address,
                description: format!("the embedded reference fixture (http://{address})"),
                launched: None,
            })
        }
    }
}

/// Runs `cases` against the target `spec` describes (started first when it has a `start`
/// command, and stopped after), and judges the results against `baseline`.
pub async fn run_target(
    spec: &TargetSpec,
    cases: &[Case],
    baseline: &Baseline,
    settings: &RunSettings,
) -> Result<Report, Error> {
    let options = settings.options;
    // Server-role cases judge the target's server, client-role cases its client.
    let cases: Vec<Case> = cases
        .iter()
        .filter(|case| spec.runs(case))
        .cloned()
        .collect();
    let cases = cases.as_slice();
    let ReadyTarget {
        address,
        description,
        launched,
    } = ready(spec, &options).await?;
    let target = spec.target(address);
    let progress = progress_bar(settings.progress, cases.len());
    let bar = progress.clone();
    let started = Instant::now();
    let results = run_cases(cases, &target, &options, settings.jobs, move |result| {
        if let Some(bar) = &bar {
            if result.verdict != Verdict::Pass {
                bar.println(format!("{:<13} {}", result.verdict.as_str(), result.id));
            }
            bar.set_message(result.id.clone());
            bar.inc(1);
        }
    })
    .await;
    let wall = started.elapsed();
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    if let Some(launched) = launched {
        if let Err(why) = launched.stop().await {
            eprintln!("sio-conformance: {why}");
        }
    }
    let ids: Vec<&str> = cases.iter().map(|case| case.id.as_str()).collect();
    let unused_baseline = baseline.unused(&ids).into_iter().cloned().collect();
    Ok(Report {
        target: description,
        time_scale: options.time_scale,
        jobs: settings.jobs,
        wall,
        baseline: baseline
            .source
            .as_ref()
            .map(|path| path.display().to_string()),
        cases: cases
            .iter()
            .zip(results)
            .map(|(case, result)| ReportedCase::new(case, result, baseline))
            .collect(),
        unused_baseline,
        replay: None,
    })
}

/// A client-only target by its name, or else by its command.
fn describe_client(spec: &TargetSpec) -> String {
    let command = spec
        .client
        .as_ref()
        .map(|client| client.command.join(" "))
        .unwrap_or_default();
    match &spec.name {
        Some(name) => format!("the client {name} (`{command}`)"),
        None => format!("the client `{command}`"),
    }
}

fn describe(url: &BaseUrl, spec: &TargetSpec) -> String {
    match &spec.name {
        Some(name) => format!("{url} ({name})"),
        None => url.to_string(),
    }
}

/// A progress bar on standard error, when wanted and standard error is a terminal.
fn progress_bar(wanted: bool, cases: usize) -> Option<ProgressBar> {
    if !wanted || !std::io::stderr().is_terminal() {
        return None;
    }
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {wide_msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    let bar = ProgressBar::with_draw_target(Some(cases as u64), ProgressDrawTarget::stderr())
        .with_style(style);
    bar.enable_steady_tick(Duration::from_millis(100));
    Some(bar)
}
