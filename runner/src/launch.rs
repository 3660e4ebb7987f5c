//! Starting a target the runner runs itself: a profile's `start` command (an adapter program
//! that serves a library under test), its URL read from the line it prints once listening,
//! and its end when the run is over.
//!
//! The adapter contract: listen on 127.0.0.1 on a port the OS picks (or the one in `PORT`),
//! then print `listening on http://127.0.0.1:<port>` on standard output. Everything the program
//! writes on standard error is kept (the last [`KEPT_LINES`] lines) to explain a failed start or
//! a target that died during the run.
//!
//! What the program prints is read within bounds, whatever it prints: lines are cut at
//! [`MOST_LINE_BYTES`], only the last [`KEPT_LINES`] of each stream are kept, and what it
//! prints on standard output once listening is read and dropped.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, BufReader};
use tokio::process::{Child, Command};

use sio_suite::engine::lines::read_bounded_line;

use crate::url::{BaseUrl, UrlError};

/// How many of the target's last standard-error lines are kept (and of its standard output
/// before it is listening).
pub const KEPT_LINES: usize = 40;

/// The most of one line of the target's output that is kept (a `listening on` line is far
/// shorter): the engine's bound on the lines of a program.
pub use sio_suite::engine::lines::MOST_LINE_BYTES;

/// The words that precede the URL on the line a started target prints once listening.
pub const READY_PREFIX: &str = "listening on ";

/// Why a started target could not be used: it did not start, or it ended during the run.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The directory to run it in cannot be made absolute.
    #[error("cannot resolve {}: {source}", .cwd.display())]
    Cwd {
        /// The directory, as the profile gives it.
        cwd: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The command names no program.
    #[error("the start command is empty")]
    EmptyCommand,
    /// The program cannot be started.
    #[error("cannot start `{command}` in {}: {source}", .cwd.display())]
    Spawn {
        /// The command line, joined with spaces.
        command: String,
        /// The directory it was to run in.
        cwd: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The program's standard output could not be read.
    #[error("the start command's standard output is not piped")]
    StdoutNotPiped,
    /// The program ran but never said where it listens; it has been stopped.
    #[error(
        "the target `{command}` (in {}) did not start: {why}{}{}",
        .cwd.display(),
        quoted("its standard output", .stdout),
        quoted("its standard error", .stderr)
    )]
    NotReady {
        /// The command line, joined with spaces.
        command: String,
        /// The directory it ran in.
        cwd: PathBuf,
        /// What went wrong.
        why: NotReady,
        /// What it printed on standard output before.
        stdout: Vec<String>,
        /// The last lines it printed on standard error.
        stderr: Vec<String>,
    },
    /// The program ended on its own before the run was over: that explains the run's errors.
    #[error(
        "the target ended during the run ({status}){}",
        quoted("its standard error", .stderr)
    )]
    EndedDuringRun {
        /// How it ended.
        status: ExitStatus,
        /// The last lines it printed on standard error.
        stderr: Vec<String>,
    },
}

/// Why a started program gave no URL.
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    /// It printed a `listening on` line whose URL does not parse.
    #[error("it printed {line:?}, but {source}")]
    BadUrl {
        /// The line.
        line: String,
        /// Why the URL does not parse.
        source: UrlError,
    },
    /// It printed a `listening on` line with port 0, where nothing can listen.
    #[error("it printed {line:?}, whose port is 0")]
    PortZero {
        /// The line.
        line: String,
    },
    /// It ended first.
    #[error("it ended ({}) before printing `{READY_PREFIX}http://…`", describe_status(*.status))]
    Ended {
        /// How it ended, when known.
        status: Option<ExitStatus>,
    },
    /// It printed no such line in time.
    #[error("it printed no `{READY_PREFIX}http://…` line within {} s", .timeout.as_secs())]
    Silent {
        /// How long it had.
        timeout: Duration,
    },
}

/// A profile's `start`: the program that serves the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartCommand {
    /// The program and its arguments. A program written with a `/` is relative to `cwd`.
    pub command: Vec<String>,
    /// The directory it runs in.
    pub cwd: PathBuf,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// How long it may take to print its URL.
    pub ready_timeout: Duration,
}

/// A started target: its URL, and the process, killed when this is dropped.
#[derive(Debug)]
pub struct Launched {
    /// The URL it printed.
    pub url: BaseUrl,
    child: Child,
    stderr: Arc<Mutex<VecDeque<String>>>,
}

impl StartCommand {
    /// The program's path: as written when it is a bare name (looked up in `PATH`), else
    /// joined to `cwd`.
    fn program(&self) -> Option<PathBuf> {
        let program = self.command.first()?;
        Some(if program.contains('/') {
            self.cwd.join(program)
        } else {
            PathBuf::from(program)
        })
    }

    /// Starts the program and waits for the line that gives its URL.
    pub async fn launch(&self) -> Result<Launched, LaunchError> {
        // Absolute, so that a program relative to `cwd` is not resolved against it twice.
        let cwd = std::path::absolute(&self.cwd).map_err(|source| LaunchError::Cwd {
            cwd: self.cwd.clone(),
            source,
        })?;
        let absolute = StartCommand {
            cwd,
            ..self.clone()
        };
        absolute.spawn_and_wait().await
    }

    async fn spawn_and_wait(&self) -> Result<Launched, LaunchError> {
        let program = self.program().ok_or(LaunchError::EmptyCommand)?;
        let described = self.command.join(" ");
        let mut child = Command::new(&program)
            .args(&self.command[1..])
            .current_dir(&self.cwd)
            .envs(self.env.iter().map(|(key, value)| (key, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| LaunchError::Spawn {
                command: described.clone(),
                cwd: self.cwd.clone(),
                source,
            })?;
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        let stderr_reader = child
            .stderr
            .take()
            .map(|pipe| tokio::spawn(keep_last_lines(pipe, Arc::clone(&stderr))));
        let stdout = child.stdout.take().ok_or(LaunchError::StdoutNotPiped)?;
        let mut lines = BufReader::new(stdout);
        let mut seen = VecDeque::new();
        let waited = tokio::time::timeout(self.ready_timeout, async {
            while let Some(line) = read_bounded_line(&mut lines).await {
                if let Some(url) = ready_url(&line) {
                    return Some(url);
                }
                keep(&mut seen, line);
            }
            None
        })
        .await;
        let why = match waited {
            Ok(Some(Ok(url))) => {
                // Drain what it prints afterwards, so that a full pipe never blocks it.
                tokio::spawn(
                    async move { tokio::io::copy(&mut lines, &mut tokio::io::sink()).await },
                );
                return Ok(Launched { url, child, stderr });
            }
            Ok(Some(Err(why))) => why,
            Ok(None) => NotReady::Ended {
                status: child.wait().await.ok(),
            },
            Err(_) => NotReady::Silent {
                timeout: self.ready_timeout,
            },
        };
        let _ = child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
        if let Some(reader) = stderr_reader {
            // The pipe closes when the program ends, unless a child of its own holds it.
            let _ = tokio::time::timeout(Duration::from_secs(1), reader).await;
        }
        Err(LaunchError::NotReady {
            command: described,
            cwd: self.cwd.clone(),
            why,
            stdout: seen.into(),
            stderr: last_lines(&stderr),
        })
    }
}

impl Launched {
    /// The started program's process id (`None` once it has been reaped). For a profile whose
    /// command is a launcher (`cargo run`), the server is among its descendants.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Stops the target: a no-op when it has ended; otherwise it is killed. Returns an error
    /// when it had ended on its own, since a target that dies during a run explains the
    /// run's errors.
    pub async fn stop(mut self) -> Result<(), LaunchError> {
        match self.child.try_wait() {
            Ok(Some(status)) => Err(LaunchError::EndedDuringRun {
                status,
                stderr: last_lines(&self.stderr),
            }),
            _ => {
                let _ = self.child.start_kill();
                let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
                Ok(())
            }
        }
    }
}

/// The URL on a `listening on http://…` line.
fn ready_url(line: &str) -> Option<Result<BaseUrl, NotReady>> {
    let (_, after) = line.split_once(READY_PREFIX)?;
    let url = after.split_whitespace().next()?;
    Some(
        BaseUrl::parse(url)
            .map_err(|source| NotReady::BadUrl {
                line: line.to_owned(),
                source,
            })
            .and_then(|url| match url.port {
                0 => Err(NotReady::PortZero {
                    line: line.to_owned(),
                }),
                _ => Ok(url),
            }),
    )
}

async fn keep_last_lines(pipe: impl AsyncRead + Unpin, kept: Arc<Mutex<VecDeque<String>>>) {
    let mut lines = BufReader::new(pipe);
    while let Some(line) = read_bounded_line(&mut lines).await {
        if let Ok(mut kept) = kept.lock() {
            keep(&mut kept, line);
        }
    }
}

/// Keeps `line` among the last [`KEPT_LINES`].
fn keep(kept: &mut VecDeque<String>, line: String) {
    if kept.len() == KEPT_LINES {
        kept.pop_front();
    }
    kept.push_back(line);
}

fn last_lines(kept: &Mutex<VecDeque<String>>) -> Vec<String> {
    kept.lock()
        .map(|kept| kept.iter().cloned().collect())
        .unwrap_or_default()
}

fn describe_status(status: Option<ExitStatus>) -> String {
    match status {
        Some(status) => status.to_string(),
        None => "exit status unknown".to_owned(),
    }
}

fn quoted(what: &str, lines: &[String]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let mut text = format!("\n{what} (last lines):");
    for line in lines.iter().rev().take(KEPT_LINES).rev() {
        text.push_str("\n  | ");
        text.push_str(line);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn lines_are_cut_at_the_limit() {
        let long = tokio::io::repeat(b'a').take(10 * 1024 * 1024);
        let rest = &b"\r\nlistening on http://127.0.0.1:41234\nlast"[..];
        let mut reader = BufReader::new(long.chain(rest));
        let cut = read_bounded_line(&mut reader).await.expect("the long line");
        assert_eq!(cut.len(), MOST_LINE_BYTES + " [cut at 65536 bytes]".len());
        assert!(cut.ends_with(" [cut at 65536 bytes]"));
        let ready = read_bounded_line(&mut reader)
            .await
            .expect("the ready line");
        assert!(ready_url(&ready).is_some_and(|url| url.is_ok()));
        assert_eq!(
            read_bounded_line(&mut reader).await.as_deref(),
            Some("last")
        );
        assert_eq!(read_bounded_line(&mut reader).await, None);
    }

    #[test]
    fn only_the_last_lines_are_kept() {
        let mut kept = VecDeque::new();
        for number in 0..100 {
            keep(&mut kept, number.to_string());
        }
        assert_eq!(kept.len(), KEPT_LINES);
        assert_eq!(kept.front().map(String::as_str), Some("60"));
    }

    #[test]
    fn the_ready_line_gives_the_url() {
        let url = ready_url("listening on http://127.0.0.1:41234")
            .expect("a ready line")
            .expect("a URL");
        assert_eq!((url.host.as_str(), url.port), ("127.0.0.1", 41234));
        let url = ready_url("[fixture] listening on http://[::1]:5000/ (pid 7)")
            .expect("a ready line")
            .expect("a URL");
        assert_eq!(url.port, 5000);
        assert!(ready_url("starting").is_none());
        assert!(matches!(
            ready_url("listening on http://127.0.0.1:0").expect("a ready line"),
            Err(NotReady::PortZero { .. })
        ));
        assert!(matches!(
            ready_url("listening on 127.0.0.1:3000").expect("a ready line"),
            Err(NotReady::BadUrl {
                source: UrlError::NotHttp { .. },
                ..
            })
        ));
    }
}
