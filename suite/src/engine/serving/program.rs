//! The client under test as a running program: started with its settings in the environment,
//! fed cues on standard input, its reports read from standard output, everything recorded;
//! killed when the case ends. The contract it follows is `docs/client-contract.md`.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufRead, AsyncWriteExt, BufReader};
use tokio::process::{ChildStdin, Command};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::super::error::{millis, StepError};
use super::super::transcript::{EventKind, Recorder};
use super::super::wire::AbortOnDrop;
use super::listener::ACTOR;
use crate::engine::lines::read_bounded_line;

/// How many reports may wait to be read; a program that writes more than that before the
/// steps read them waits (its pipe fills), so a flood costs no memory.
const QUEUED_REPORTS: usize = 4096;

/// How long a program may take to end once its standard input is closed, before it is killed.
const EXIT_GRACE: Duration = Duration::from_millis(500);

/// How to start a client under test (from its profile).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientProgram {
    /// The program and its arguments.
    pub command: Vec<String>,
    /// The working directory; the runner's own when `None`.
    pub cwd: Option<PathBuf>,
    /// Extra environment variables from the profile.
    pub env: Vec<(String, String)>,
    /// The Engine.IO protocol the client speaks: 4, or 3 (socket.io 2.x).
    pub eio: u8,
    /// The reconnection delay formula the client follows.
    pub backoff: Backoff,
    /// How long the program may take from its start to its first request, on top of the
    /// first step's own deadline: starting a runtime (Node.js, Python) takes a while on a
    /// loaded machine, and is not what a case judges.
    pub start_timeout: Duration,
}

impl ClientProgram {
    /// The default [`ClientProgram::start_timeout`].
    pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(10);
}

/// A reconnection delay formula, by which the engine judges the delays of a client's
/// reconnection attempts (`docs/client-contract.md`, "The profile of a client").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backoff {
    /// socket.io-client: `d·2^(n−1)`, moved by up to ±`f` of itself, then capped at the
    /// maximum delay.
    #[default]
    Official,
    /// python-socketio: `min(d·2^(n−1), max)`, plus a jitter of up to ±`f` seconds.
    Additive,
    /// rust_socketio (the `backoff` crate's `ExponentialBackoff`): attempt 1 at once, then
    /// before attempt `n ≥ 2` the delay `c`, moved by up to ±`f` of itself, with
    /// `c = min(d·1.5^(n−2), max)`: the cap applies before the jitter. Profile name
    /// `exponential-1.5`.
    Exponential1_5,
    /// socket_io_client: the same delay `d` before every attempt, the first included; no
    /// growth, no cap, no jitter.
    Fixed,
}

impl Backoff {
    /// The name used in profiles.
    pub fn as_str(self) -> &'static str {
        match self {
            Backoff::Official => "official",
            Backoff::Additive => "additive",
            Backoff::Exponential1_5 => "exponential-1.5",
            Backoff::Fixed => "fixed",
        }
    }

    /// The earliest and latest delay of attempt `attempt` (from 1), given the first delay,
    /// the cap and the randomization factor.
    pub fn window(
        self,
        attempt: u32,
        first: Duration,
        cap: Duration,
        factor: f64,
    ) -> (Duration, Duration) {
        let exponent = i32::try_from(attempt.saturating_sub(1).min(30)).unwrap_or(30);
        let base = first.as_secs_f64() * 2f64.powi(exponent);
        let cap = cap.as_secs_f64();
        let factor = factor.clamp(0.0, 1.0);
        let (low, high) = match self {
            Backoff::Official => (
                (base * (1.0 - factor)).min(cap),
                (base * (1.0 + factor)).min(cap),
            ),
            Backoff::Additive => {
                let delay = base.min(cap);
                ((delay - factor).max(0.0), delay + factor)
            }
            Backoff::Exponential1_5 if attempt <= 1 => (0.0, 0.0),
            Backoff::Exponential1_5 => {
                let exponent = i32::try_from(attempt.saturating_sub(2).min(60)).unwrap_or(60);
                let current = (first.as_secs_f64() * 1.5f64.powi(exponent)).min(cap);
                (current * (1.0 - factor), current * (1.0 + factor))
            }
            Backoff::Fixed => (first.as_secs_f64(), first.as_secs_f64()),
        };
        (
            Duration::from_secs_f64(low.max(0.0)),
            Duration::from_secs_f64(high.max(0.0)),
        )
    }
}

impl std::str::FromStr for Backoff {
    type Err = String;

    fn from_str(text: &str) -> Result<Backoff, String> {
        match text {
            "official" => Ok(Backoff::Official),
            "additive" => Ok(Backoff::Additive),
            "exponential-1.5" => Ok(Backoff::Exponential1_5),
            "fixed" => Ok(Backoff::Fixed),
            other => Err(format!(
                "unknown backoff {other:?}: expected official, additive, exponential-1.5 or fixed"
            )),
        }
    }
}

/// A report line the program wrote: a JSON object with an `event` kind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Report {
    pub(crate) kind: String,
    pub(crate) value: Value,
}

/// What waiting for a report gave.
pub(crate) enum NextReport {
    Report(Report),
    Timeout,
    /// The program ended: how.
    Ended(String),
}

/// A running client program.
pub(crate) struct Program {
    stdin: Option<ChildStdin>,
    reports: mpsc::Receiver<Report>,
    /// Reports taken off the channel while looking for another kind, in order.
    set_aside: VecDeque<Report>,
    /// The first `unsupported` report, if any.
    unsupported: Arc<Mutex<Option<String>>>,
    /// Turns `Some` with the exit status once the program has ended.
    ended: watch::Receiver<Option<String>>,
    recorder: Recorder,
    _tasks: Vec<AbortOnDrop<()>>,
}

impl Program {
    /// Starts `program` with `settings` in its environment.
    pub(crate) fn start(
        program: &ClientProgram,
        settings: &[(String, String)],
        recorder: &Recorder,
    ) -> Result<Program, StepError> {
        let Some((executable, arguments)) = program.command.split_first() else {
            return Err(StepError::Invalid(
                "the client profile's command is empty".to_owned(),
            ));
        };
        let mut command = Command::new(executable);
        command
            .args(arguments)
            .envs(program.env.iter().cloned())
            .envs(settings.iter().cloned())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(cwd) = &program.cwd {
            command.current_dir(cwd);
        }
        let mut child = command.spawn().map_err(|error| {
            StepError::Unreachable(format!(
                "cannot start the client {:?}: {error}",
                program.command.join(" ")
            ))
        })?;
        recorder.record(
            ACTOR,
            "process",
            EventKind::ProgramStarted {
                command: program.command.join(" "),
            },
        );
        let stdin = child.stdin.take();
        let (report_sender, reports) = mpsc::channel(QUEUED_REPORTS);
        let unsupported = Arc::new(Mutex::new(None));
        let (ended_sender, ended) = watch::channel(None);
        let mut tasks = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            let reader = ReportReader {
                recorder: recorder.clone(),
                reports: report_sender,
                unsupported: Arc::clone(&unsupported),
            };
            tasks.push(AbortOnDrop(tokio::spawn(
                reader.run(BufReader::new(stdout)),
            )));
        }
        if let Some(stderr) = child.stderr.take() {
            let recorder = recorder.clone();
            tasks.push(AbortOnDrop(tokio::spawn(async move {
                let mut lines = BufReader::new(stderr);
                while let Some(line) = read_bounded_line(&mut lines).await {
                    recorder.record(
                        ACTOR,
                        "stderr",
                        EventKind::Output {
                            stream: "stderr".to_owned(),
                            line,
                        },
                    );
                }
            })));
        }
        let recorder_for_exit = recorder.clone();
        // The child is owned by this task: dropping the program aborts it, and dropping the
        // child kills the process.
        tasks.push(AbortOnDrop(tokio::spawn(async move {
            let status = match child.wait().await {
                Ok(status) => status.to_string(),
                Err(error) => format!("unknown ({error})"),
            };
            recorder_for_exit.record(
                ACTOR,
                "process",
                EventKind::ProgramEnded {
                    status: status.clone(),
                },
            );
            let _ = ended_sender.send(Some(status));
        })));
        Ok(Program {
            stdin,
            reports,
            set_aside: VecDeque::new(),
            unsupported,
            ended,
            recorder: recorder.clone(),
            _tasks: tasks,
        })
    }

    /// Writes a cue, one JSON line, on the program's standard input.
    pub(crate) async fn cue(&mut self, cue: &Value, deadline: Instant) -> Result<(), StepError> {
        let line = cue.to_string();
        self.recorder
            .record(ACTOR, "stdin", EventKind::Cue { line: line.clone() });
        let Some(stdin) = self.stdin.as_mut() else {
            return Err(StepError::unmet(
                "a client reading its cues",
                "its standard input is closed",
            ));
        };
        let write = async {
            stdin.write_all(line.as_bytes()).await?;
            stdin.write_all(b"\n").await?;
            stdin.flush().await
        };
        match tokio::time::timeout_at(deadline, write).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(StepError::unmet(
                "a client reading its cues",
                format!("writing the cue failed: {error} ({})", self.describe_end()),
            )),
            Err(_) => Err(StepError::unmet(
                "a client reading its cues",
                "it did not read the cue in time",
            )),
        }
    }

    /// The first report of kind `kind`, waiting until `deadline`; reports of other kinds
    /// that come first are kept, in order, for later.
    pub(crate) async fn next_report(&mut self, kind: &str, deadline: Instant) -> NextReport {
        if let Some(position) = self.set_aside.iter().position(|report| report.kind == kind) {
            if let Some(report) = self.set_aside.remove(position) {
                return NextReport::Report(report);
            }
        }
        loop {
            match tokio::time::timeout_at(deadline, self.reports.recv()).await {
                Ok(Some(report)) if report.kind == kind => return NextReport::Report(report),
                Ok(Some(other)) => self.set_aside.push_back(other),
                Ok(None) => {
                    // Standard output is closed: the program is ending; say how, if it has.
                    let ended = self.await_end(deadline).await;
                    return NextReport::Ended(ended);
                }
                Err(_) => return NextReport::Timeout,
            }
        }
    }

    /// What the program said it cannot do, if it did.
    pub(crate) fn unsupported(&self) -> Option<String> {
        self.unsupported
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Whether the program has ended, and how.
    pub(crate) fn exit_status(&self) -> Option<String> {
        self.ended.borrow().clone()
    }

    /// Waits until the program has ended; its exit status.
    pub(crate) async fn ended(&self) -> String {
        let mut ended = self.ended.clone();
        let status = ended
            .wait_for(Option::is_some)
            .await
            .map(|status| status.clone());
        status
            .ok()
            .flatten()
            .unwrap_or_else(|| "unknown".to_owned())
    }

    /// Closes the program's standard input, the contract's signal to end, and gives it a
    /// moment to do so; the process is killed when the program is dropped. Returns what the
    /// program said it cannot do, if it did, with everything it wrote before it ended read:
    /// an `unsupported` line written before the request that failed a step may still be in
    /// the pipe when the step fails.
    pub(crate) async fn finish(mut self) -> Option<String> {
        self.stdin = None;
        let grace = Instant::now() + EXIT_GRACE;
        // The reader ends, and closes the channel, at the end of standard output.
        while let Ok(Some(_)) = tokio::time::timeout_at(grace, self.reports.recv()).await {}
        let _ = tokio::time::timeout_at(grace, self.ended.wait_for(Option::is_some)).await;
        self.unsupported()
    }

    async fn await_end(&mut self, deadline: Instant) -> String {
        let waited = tokio::time::timeout_at(deadline, self.ended.wait_for(Option::is_some)).await;
        match waited {
            Ok(Ok(status)) => format!("the client ended: {}", status.clone().unwrap_or_default()),
            _ => "the client closed its standard output".to_owned(),
        }
    }

    fn describe_end(&self) -> String {
        match self.exit_status() {
            Some(status) => format!("the client ended: {status}"),
            None => "the client is still running".to_owned(),
        }
    }
}

/// Reads the program's standard output: JSON objects are reports, the rest is recorded.
struct ReportReader {
    recorder: Recorder,
    reports: mpsc::Sender<Report>,
    unsupported: Arc<Mutex<Option<String>>>,
}

impl ReportReader {
    async fn run(self, mut stdout: impl AsyncBufRead + Unpin) {
        while let Some(line) = read_bounded_line(&mut stdout).await {
            match parse_report(&line) {
                Some(report) => {
                    self.recorder
                        .record(ACTOR, "stdout", EventKind::Report { line });
                    if report.kind == "unsupported" {
                        let what = report.value["what"].to_string();
                        let mut unsupported = self
                            .unsupported
                            .lock()
                            .unwrap_or_else(|poisoned| poisoned.into_inner());
                        unsupported.get_or_insert(what);
                    }
                    if self.reports.send(report).await.is_err() {
                        return;
                    }
                }
                None => self.recorder.record(
                    ACTOR,
                    "stdout",
                    EventKind::Output {
                        stream: "stdout".to_owned(),
                        line,
                    },
                ),
            }
        }
    }
}

/// A report: a JSON object whose `event` is a string.
fn parse_report(line: &str) -> Option<Report> {
    let value: Value = serde_json::from_str(line.trim()).ok()?;
    let kind = value.get("event")?.as_str()?.to_owned();
    Some(Report { kind, value })
}

/// A duration as milliseconds, for messages.
pub(crate) fn describe_window(low: Duration, high: Duration) -> String {
    format!("between {} and {}", millis(low), millis(high))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_json_objects_with_a_kind() {
        let report = parse_report(r#"{"event":"disconnect","reason":"io server disconnect"}"#);
        assert_eq!(
            report.map(|report| report.kind).as_deref(),
            Some("disconnect")
        );
        assert!(parse_report("listening").is_none());
        assert!(parse_report(r#"{"event":3}"#).is_none());
        assert!(parse_report("[1]").is_none());
    }

    #[test]
    fn backoff_windows_follow_each_formula() {
        let ms = Duration::from_millis;
        let official = |attempt| Backoff::Official.window(attempt, ms(100), ms(500), 0.5);
        assert_eq!(official(1), (ms(50), ms(150)));
        assert_eq!(official(2), (ms(100), ms(300)));
        assert_eq!(official(3), (ms(200), ms(500)));
        assert_eq!(official(5), (ms(500), ms(500)));
        let additive = |attempt| Backoff::Additive.window(attempt, ms(1000), ms(5000), 0.5);
        assert_eq!(additive(1), (ms(500), ms(1500)));
        assert_eq!(additive(4), (ms(4500), ms(5500)));
        assert_eq!(additive(9), (ms(4500), ms(5500)));
        let exponential = |attempt| Backoff::Exponential1_5.window(attempt, ms(200), ms(400), 0.5);
        assert_eq!(exponential(1), (ms(0), ms(0)));
        assert_eq!(exponential(2), (ms(100), ms(300)));
        assert_eq!(exponential(3), (ms(150), ms(450)));
        assert_eq!(exponential(4), (ms(200), ms(600)));
        let fixed = |attempt| Backoff::Fixed.window(attempt, ms(1000), ms(5000), 0.5);
        assert_eq!(fixed(1), (ms(1000), ms(1000)));
        assert_eq!(fixed(7), (ms(1000), ms(1000)));
    }
}
