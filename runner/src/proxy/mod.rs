//! `sio-conformance proxy`: a decoding proxy between any Engine.IO or Socket.IO client and any
//! server.
//!
//! ```sh
//! sio-conformance proxy --listen 127.0.0.1:4000 --upstream http://127.0.0.1:3000 \
//!     --jsonl exchange.jsonl --html exchange.html --record drafts/
//! ```
//!
//! The client connects to the proxy as if it were the server. The proxy carries the traffic
//! without changing a byte of what it carries ([`forward`]: HTTP requests and responses with
//! their end-to-end headers and bodies, WebSocket upgrades, frames one to one, close codes),
//! and decodes every packet in both directions with the suite's own protocol module
//! ([`monitor`]): polling payloads of protocol 3 and 4, WebSocket frames, Socket.IO packets
//! with their binary attachments reassembled. It prints a live log, one line per HTTP message,
//! frame, Engine.IO packet and Socket.IO packet, by session (sid) and namespace, coloured on a
//! terminal ([`journal`]), and flags protocol violations as they happen, each with the id of
//! the requirement it breaks (the table in [`monitor`]).
//!
//! - `--jsonl FILE`: every entry as a JSON line, written as it happens.
//! - `--html FILE`: when the proxy stops, the exchange as the HTML report's transcript view,
//!   one section per session.
//! - `--record DIR`: when the proxy stops, each session as draft scenarios ([`draft`]).
//!
//! The proxy runs until interrupted (Ctrl-C, SIGTERM), or for `--duration SECS`. Exit code: 0
//! when no violation was seen, 1 when one was, 2 when it could not run.

pub mod draft;
pub mod forward;
pub mod journal;
pub mod monitor;
pub mod tee;

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use clap::Args;
use sio_suite::engine::{Event, EventKind};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::cli::ColorChoice;
use crate::url::BaseUrl;
pub use forward::{Limits, Proxy};
use journal::{Entry, Journal, Side};
pub use monitor::Monitor;

/// `proxy`'s arguments.
#[derive(Debug, Clone, Args)]
pub struct ProxyArgs {
    /// Where the proxy listens, host:port (port 0: any free port, printed at start).
    #[arg(long, value_name = "ADDRESS", default_value = "127.0.0.1:0")]
    pub listen: String,
    /// The server: http://host:port.
    #[arg(long, value_name = "URL")]
    pub upstream: String,
    /// Write every entry as JSON Lines to this file, as it happens.
    #[arg(long, value_name = "FILE")]
    pub jsonl: Option<PathBuf>,
    /// Write the exchange as an HTML transcript to this file when the proxy stops.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write each session as draft scenarios under this folder when the proxy stops.
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,
    /// Stop after this many seconds (default: run until interrupted).
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// The largest HTTP body or WebSocket message carried, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().message)]
    pub max_message: usize,
    /// Colours in the log.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// No live log on stdout (the files are still written).
    #[arg(long)]
    pub quiet: bool,
}

/// Why the proxy could not run.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// `--upstream` is not a base URL.
    #[error(transparent)]
    Url(#[from] crate::url::UrlError),
    /// `--upstream`'s host gives no address.
    #[error(transparent)]
    Resolve(#[from] crate::url::ResolveError),
    /// The proxy cannot listen on `--listen`.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// The address given.
        address: String,
        /// Why.
        source: std::io::Error,
    },
    /// An output file cannot be written.
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The tokio runtime cannot be built.
    #[error("cannot start the tokio runtime: {0}")]
    Runtime(std::io::Error),
    /// `--duration` is not a positive number of seconds.
    #[error("--duration {0} is not a positive number of seconds")]
    Duration(f64),
}

/// Runs `sio-conformance proxy`.
pub fn command(args: &ProxyArgs) -> ExitCode {
    match run(args) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("sio-conformance: error: {error}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &ProxyArgs) -> Result<u8, ProxyError> {
    let upstream = BaseUrl::parse(&args.upstream)?;
    let address = upstream.resolve()?;
    let duration = match args.duration {
        Some(secs) if secs.is_finite() && secs > 0.0 => Some(Duration::from_secs_f64(secs)),
        Some(secs) => return Err(ProxyError::Duration(secs)),
        None => None,
    };
    let colour = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let jsonl = match &args.jsonl {
        Some(path) => Some(Box::new(create(path)?) as Box<dyn Write + Send>),
        None => None,
    };
    let log = (!args.quiet).then(|| Box::new(std::io::stdout()) as Box<dyn Write + Send>);
    let keep = args.html.is_some() || args.record.is_some();
    let journal = Journal::new(log, colour, jsonl, keep);
    let limits = Limits {
        message: args.max_message,
        ..Limits::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ProxyError::Runtime)?;
    let monitor = runtime.block_on(async {
        let running = start(&args.listen, address, limits, journal).await?;
        eprintln!(
            "proxy listening on http://{} → upstream http://{address}",
            running.address
        );
        wait_for_stop(duration).await;
        Ok::<_, ProxyError>(running.stop())
    })?;
    let monitor = monitor.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(path) = &args.html {
        write_file(path, &html_page(&args.upstream, &monitor))?;
    }
    if let Some(dir) = &args.record {
        let written = draft::write_drafts(dir, &monitor.sessions(), monitor.journal().entries())
            .map_err(|source| ProxyError::Write {
                path: dir.clone(),
                source,
            })?;
        eprintln!(
            "recorded {} draft scenario(s) under {}",
            written.len(),
            dir.display()
        );
    }
    let violations = monitor.journal().violations();
    eprintln!(
        "{} session(s), {violations} violation(s)",
        monitor.sessions().len()
    );
    runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(u8::from(violations > 0))
}

/// Waits for Ctrl-C, SIGTERM, or the duration.
async fn wait_for_stop(duration: Option<Duration>) {
    let interrupted = async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            match signal(SignalKind::terminate()) {
                Ok(mut terminate) => {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = terminate.recv() => {}
                    }
                }
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    };
    match duration {
        Some(duration) => {
            let _ = tokio::time::timeout(duration, interrupted).await;
        }
        None => interrupted.await,
    }
}

fn create(path: &Path) -> Result<std::fs::File, ProxyError> {
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).map_err(|source| ProxyError::Write {
            path: path.to_owned(),
            source,
        })?;
    }
    std::fs::File::create(path).map_err(|source| ProxyError::Write {
        path: path.to_owned(),
        source,
    })
}

fn write_file(path: &Path, text: &str) -> Result<(), ProxyError> {
    let mut file = create(path)?;
    file.write_all(text.as_bytes())
        .map_err(|source| ProxyError::Write {
            path: path.to_owned(),
            source,
        })
}

/// A proxy serving in the background.
#[derive(Debug)]
pub struct Running {
    /// Where it listens.
    pub address: SocketAddr,
    /// What it saw.
    pub monitor: Arc<Mutex<Monitor>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Stops accepting connections (those open end with the runtime) and gives the monitor.
    pub fn stop(self) -> Arc<Mutex<Monitor>> {
        self.task.abort();
        self.monitor
    }
}

/// Starts a proxy listening on `listen`, to `upstream`, writing to `journal`.
pub async fn start(
    listen: &str,
    upstream: SocketAddr,
    limits: Limits,
    journal: Journal,
) -> Result<Running, ProxyError> {
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|source| ProxyError::Listen {
            address: listen.to_owned(),
            source,
        })?;
    let address = listener.local_addr().map_err(|source| ProxyError::Listen {
        address: listen.to_owned(),
        source,
    })?;
    let monitor = Arc::new(Mutex::new(Monitor::new(journal)));
    let proxy = Arc::new(Proxy::new(upstream, limits, Arc::clone(&monitor)));
    let task = tokio::spawn(proxy.serve(listener));
    Ok(Running {
        address,
        monitor,
        task,
    })
}

/// The exchange as an HTML page: one section per session (in the order they opened), then
/// what belongs to none.
pub fn html_page(upstream: &str, monitor: &Monitor) -> String {
    let entries = monitor.journal().entries();
    let sessions = monitor.sessions();
    let mut sections = Vec::new();
    for session in &sessions {
        let events = entries
            .iter()
            .filter(|entry| entry.sid.as_deref() == Some(session.sid.as_str()))
            .map(event)
            .collect();
        let kind = if session.socket_io {
            "Socket.IO over Engine.IO"
        } else {
            "Engine.IO"
        };
        sections.push((
            format!(
                "session {}: {kind} {} on {}",
                session.sid, session.eio, session.path
            ),
            events,
        ));
    }
    let known: Vec<&str> = sessions
        .iter()
        .map(|session| session.sid.as_str())
        .collect();
    let other: Vec<Event> = entries
        .iter()
        .filter(|entry| entry.sid.as_deref().is_none_or(|sid| !known.contains(&sid)))
        .map(event)
        .collect();
    if !other.is_empty() {
        sections.push(("outside any session".to_owned(), other));
    }
    let mut facts = vec![
        ("upstream", upstream.to_owned()),
        ("sessions", sessions.len().to_string()),
        ("violations", monitor.journal().violations().to_string()),
    ];
    if monitor.journal().dropped() > 0 {
        facts.push((
            "not shown",
            format!(
                "{} entries over the {} kept",
                monitor.journal().dropped(),
                Journal::KEPT
            ),
        ));
    }
    crate::report::html::render_exchange("Proxy transcript", &facts, &sections)
}

/// A journal entry as a transcript event: the wire as the engine's events are (`→` the
/// client's, `←` the server's), packets and violations as notes.
fn event(entry: &Entry) -> Event {
    use journal::EntryKind as Kind;
    let client = entry.from == Some(Side::Client);
    let kind = match &entry.kind {
        Kind::HttpRequest {
            method,
            target,
            headers,
            body,
        } => EventKind::HttpRequest {
            method: method.clone(),
            target: target.clone(),
            headers: headers.clone(),
            body: body.clone(),
        },
        Kind::HttpResponse {
            status,
            headers,
            body,
        } => EventKind::HttpResponse {
            status: *status,
            headers: headers.clone(),
            body: body.clone(),
        },
        Kind::HttpFailed { status, error } => EventKind::HttpFailed {
            error: format!("the proxy answered {status}: {error}"),
        },
        Kind::WsRequest { target } => EventKind::WsRequest {
            target: target.clone(),
        },
        Kind::WsAccepted => EventKind::WsAccepted,
        Kind::WsRefused { status, detail } => EventKind::WsRefused {
            status: *status,
            detail: detail.clone(),
        },
        Kind::Frame { frame } if client => EventKind::FrameSent {
            frame: frame.clone(),
        },
        Kind::Frame { frame } => EventKind::FrameReceived {
            frame: frame.clone(),
        },
        Kind::Control { control, payload } => match (control.as_str(), client) {
            ("ping", true) => EventKind::PingSent {
                payload: payload.clone(),
            },
            ("ping", false) => EventKind::PingReceived {
                payload: payload.clone(),
            },
            (_, true) => EventKind::PongSent {
                payload: payload.clone(),
            },
            (_, false) => EventKind::PongReceived {
                payload: payload.clone(),
            },
        },
        Kind::Close { code, .. } if client => EventKind::CloseSent { code: *code },
        Kind::Close { code, .. } => EventKind::CloseReceived { code: *code },
        Kind::Ended { detail } => EventKind::Ended {
            detail: detail.clone(),
        },
        Kind::Packet { .. }
        | Kind::SocketIo { .. }
        | Kind::Violation { .. }
        | Kind::Note { .. } => {
            let arrow = entry.from.map_or("", Side::arrow);
            EventKind::Note {
                text: format!("{arrow} {}", entry.text()).trim_start().to_owned(),
            }
        }
    };
    Event {
        at: entry.at,
        actor: match (&entry.sid, &entry.nsp) {
            (Some(sid), Some(nsp)) => format!("{sid} {nsp}"),
            (Some(sid), None) => sid.clone(),
            (None, _) => "-".to_owned(),
        },
        channel: entry.channel.clone(),
        kind,
    }
}
