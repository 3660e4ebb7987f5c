//! The fixture server on its own: the Socket.IO test-suite contract at `/socket.io/` (and with
//! connection state recovery at `/socket.io-recovery/`), an
//! Engine.IO echo at `/engine.io/` and one that also speaks protocol 3 at `/engine.io-v3/` (see
//! `sio_reference::fixture`). It prints one line, the address it listens on, and serves until
//! it is killed.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use sio_reference::fixture::{Fixture, Options};

/// The reference fixture server of the Socket.IO conformance suite.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Flags {
    /// The address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The port to bind; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// pingInterval, in milliseconds.
    #[arg(long, default_value_t = 300)]
    ping_interval: u64,
    /// pingTimeout, in milliseconds.
    #[arg(long, default_value_t = 200)]
    ping_timeout: u64,
    /// maxPayload (maxHttpBufferSize), in bytes.
    #[arg(long, default_value_t = 1_000_000)]
    max_payload: usize,
    /// connectTimeout, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    connect_timeout: u64,
    /// upgradeTimeout, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    upgrade_timeout: u64,
    /// An origin a browser page may connect from with credentials (`withCredentials: true`):
    /// CORS for the listed origins only, with `Access-Control-Allow-Credentials: true`, instead
    /// of any origin. Repeatable.
    #[arg(long, value_name = "ORIGIN")]
    cors_origin: Vec<String>,
    /// The `/socket.io/` handshake sets the session cookie `io=<sid>` (Path=/; HttpOnly;
    /// SameSite=Lax).
    #[arg(long)]
    cookie: bool,
}

impl Flags {
    fn options(&self) -> Options {
        Options {
            ping_interval: Duration::from_millis(self.ping_interval),
            ping_timeout: Duration::from_millis(self.ping_timeout),
            max_payload: self.max_payload,
            connect_timeout: Duration::from_millis(self.connect_timeout),
            upgrade_timeout: Duration::from_millis(self.upgrade_timeout),
            credentialed_origins: self.cors_origin.clone(),
            session_cookie: self.cookie,
            ..Options::default()
        }
    }
}

fn main() -> ExitCode {
    let flags = Flags::parse();
    // One thread, like the official server's event loop: a session's requests and WebSocket
    // frames are handled in the order they arrive, with no second worker thread to overtake
    // them (a GET sent right after `5` on the WebSocket must find the session upgraded).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("sio-fixture-server: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(&flags)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sio-fixture-server: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(flags: &Flags) -> std::io::Result<()> {
    let fixture = Fixture::new(flags.options());
    let (address, serving) = fixture.listen((flags.host.as_str(), flags.port)).await?;
    // One line, flushed at once: whoever started the server reads the port from it.
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on http://{address}")?;
    stdout.flush()?;
    drop(stdout);
    serving.await
}
