//! The engine against deliberately hostile servers: an endless body, a slowloris, a 10 MB
//! header, garbage, a WebSocket reset mid-frame, a WebSocket announcing a 100 MB frame, a
//! WebSocket session flooded with pings, and a server that never answers. Each, against a few
//! real cases, must end with a verdict other than PASS, in bounded time and in bounded memory:
//! the peak resident set of this process may grow by at most [`MOST_RSS_GROWTH`] during a
//! case. Where a limit of the engine is what ends the case, the failure must name it.
//!
//! The engine playing the server meets hostile clients the same way: this binary, started
//! again as the client program with `SIO_HOSTILE_CLIENT` naming a behaviour, POSTs an endless
//! body or sends a 100 MB WebSocket message, and the engine must cut it off at its limit (4 ×
//! the case's maxPayload + 1 MiB), in bounded memory.
//!
//! The trials run one at a time, each on a runtime of its own that is dropped with it (and
//! the server's tasks with it), in a test binary of their own, so that the memory measured is
//! the case's and its server's only.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use libtest_mimic::{Arguments, Failed, Trial};
use sio_suite::engine::{self, Backoff, CaseResult, ClientProgram, RunOptions, Target, Verdict};
use sio_suite::scenario::{self, Case};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

/// The step timeout of these runs: short, so that stalls end quickly.
const STEP_TIMEOUT: Duration = Duration::from_millis(500);

/// The longest a case may take against a hostile server.
const MOST_CASE_TIME: Duration = Duration::from_secs(10);

/// The most the process's peak resident set may grow during one case.
const MOST_RSS_GROWTH: u64 = 64 * 1024 * 1024;

/// What a hostile server does with every connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hostile {
    /// A 200 head without `Content-Length`, then bytes forever, as fast as it can.
    EndlessBody,
    /// A 200 head, then a body, one byte every 100 ms.
    Slowloris,
    /// A 200 head with a 10 MB header.
    HugeHeader,
    /// Bytes that are not HTTP, then the end of the connection.
    Garbage,
    /// Accepts a WebSocket, writes a frame header announcing 1 MB and a few bytes of it, then
    /// resets the connection.
    WsResetMidFrame,
    /// Accepts a WebSocket, writes a frame header announcing 100 MB, then streams its bytes.
    WsHugeFrame,
    /// Accepts a WebSocket, sends a valid open packet, then pings `2` as fast as it can: the
    /// engine answers them by itself, and the steps never see them.
    WsPingFlood,
    /// Accepts the TCP connection and never answers.
    Silent,
}

impl Hostile {
    const ALL: [Hostile; 8] = [
        Hostile::EndlessBody,
        Hostile::Slowloris,
        Hostile::HugeHeader,
        Hostile::Garbage,
        Hostile::WsResetMidFrame,
        Hostile::WsHugeFrame,
        Hostile::WsPingFlood,
        Hostile::Silent,
    ];

    fn name(self) -> &'static str {
        match self {
            Hostile::EndlessBody => "endless-body",
            Hostile::Slowloris => "slowloris",
            Hostile::HugeHeader => "huge-header",
            Hostile::Garbage => "garbage",
            Hostile::WsResetMidFrame => "ws-reset-mid-frame",
            Hostile::WsHugeFrame => "ws-huge-frame",
            Hostile::WsPingFlood => "ws-ping-flood",
            Hostile::Silent => "silent",
        }
    }

    /// The cases it is run against: the WebSocket servers only meet WebSocket cases, the
    /// others meet a hyper request, a raw request, a WebSocket request, and a polling session
    /// and a WebSocket session.
    fn cases(self) -> &'static [&'static str] {
        const HTTP: &[&str] = &[
            "eio4/handshake/polling-open",
            "eio4/handshake/invalid-origin",
            "eio4/handshake/websocket-open",
            "eio4/message/echo-text[polling]",
            "eio4/message/echo-text[websocket]",
        ];
        const WEBSOCKET: &[&str] = &[
            "eio4/handshake/websocket-open",
            "eio4/message/echo-text[websocket]",
        ];
        match self {
            Hostile::WsResetMidFrame | Hostile::WsHugeFrame => WEBSOCKET,
            Hostile::WsPingFlood => &["eio4/message/echo-text[websocket]"],
            _ => HTTP,
        }
    }

    /// What the failure of case `id` must say, when a limit of the engine ends it: the
    /// limits for the fixture contract's maxPayload of 1000000.
    fn names_the_limit(self, id: &str) -> Option<&'static str> {
        let websocket = id.contains("websocket");
        match self {
            // A WebSocket request answered with a body is refused with what came of it.
            Hostile::EndlessBody if !websocket => Some("the engine's limit of 5048576 bytes"),
            Hostile::HugeHeader => Some("65536 bytes"),
            Hostile::WsHugeFrame => Some("of 100000000 bytes longer than the engine's limit"),
            Hostile::WsPingFlood => Some("more than the engine reads in one case"),
            _ => None,
        }
    }
}

/// The variable that turns this binary into a hostile client program.
const HOSTILE_CLIENT: &str = "SIO_HOSTILE_CLIENT";

/// What a hostile client program does instead of following the client contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HostileClient {
    /// A polling handshake request whose chunked body never ends.
    EndlessPost,
    /// A WebSocket handshake, then one text message of 100 MB.
    HugeMessage,
}

impl HostileClient {
    const ALL: [HostileClient; 2] = [HostileClient::EndlessPost, HostileClient::HugeMessage];

    fn name(self) -> &'static str {
        match self {
            HostileClient::EndlessPost => "client-endless-post",
            HostileClient::HugeMessage => "client-huge-message",
        }
    }

    fn from_name(name: &str) -> Option<HostileClient> {
        Self::ALL.into_iter().find(|client| client.name() == name)
    }

    /// The case it meets, in the variant of its transport.
    fn case(self) -> &'static str {
        match self {
            HostileClient::EndlessPost => "client/sio5/connect/main-namespace[polling]",
            HostileClient::HugeMessage => "client/sio5/connect/main-namespace[websocket]",
        }
    }

    /// What the transcript must say: the limit for the case's maxPayload of 1000000.
    fn names_the_limit(self) -> &'static str {
        match self {
            HostileClient::EndlessPost => {
                "a request body longer than the engine's limit of 5048576 bytes"
            }
            HostileClient::HugeMessage => "5048576",
        }
    }
}

fn main() -> ExitCode {
    if let Some(client) = std::env::var(HOSTILE_CLIENT)
        .ok()
        .and_then(|name| HostileClient::from_name(&name))
    {
        return match tokio::runtime::Runtime::new() {
            Ok(runtime) => {
                runtime.block_on(hostile_client::run(client));
                ExitCode::SUCCESS
            }
            Err(_) => ExitCode::FAILURE,
        };
    }
    let mut arguments = Arguments::from_args();
    // One at a time: the memory measured must be one case's.
    arguments.test_threads = Some(1);
    let servers = Hostile::ALL.into_iter().flat_map(|hostile| {
        hostile.cases().iter().map(move |&id| {
            Trial::test(format!("{}: {id}", hostile.name()), move || {
                trial(hostile, id)
            })
        })
    });
    let clients = HostileClient::ALL.into_iter().map(|client| {
        Trial::test(format!("{}: {}", client.name(), client.case()), move || {
            client_trial(client)
        })
    });
    libtest_mimic::run(&arguments, servers.chain(clients).collect()).exit_code()
}

/// The case whose id is `id` (a scenario id, with its variant in brackets when it has one).
fn case(id: &str) -> Result<Case, Failed> {
    let file = id.split('[').next().unwrap_or(id);
    let path = scenario::default_dir().join(format!("{file}.yaml"));
    let loaded = scenario::load_file(&path).map_err(|error| error.to_string())?;
    scenario::expand([loaded])
        .into_iter()
        .find(|case| case.id == id)
        .ok_or_else(|| Failed::from(format!("no case {id}")))
}

fn trial(hostile: Hostile, id: &str) -> Result<(), Failed> {
    let case = case(id)?;
    let run = measured(|| async {
        let address = serve(hostile).await?;
        let options = RunOptions {
            step_timeout: STEP_TIMEOUT,
            ..RunOptions::default()
        };
        Ok(engine::run(&case, &Target::fixture(address), &options).await)
    })?;
    let actual = run
        .result
        .failure
        .as_ref()
        .map(|failure| failure.actual.chars().take(300).collect::<String>())
        .unwrap_or_default();
    run.report(hostile.name(), id, &actual);
    run.bounded(id, &format!("the {} server", hostile.name()))?;
    if let Some(words) = hostile.names_the_limit(id) {
        if !actual.contains(words) {
            return Err(format!("the failure does not say {words:?}: {actual}").into());
        }
    }
    Ok(())
}

/// A client-role case against a hostile client program: a verdict other than PASS, in bounded
/// time and memory, and a transcript that names the limit that cut the client off.
fn client_trial(client: HostileClient) -> Result<(), Failed> {
    let id = client.case();
    let case = case(id)?;
    let executable = std::env::current_exe().map_err(|error| error.to_string())?;
    let target = Target {
        client: Some(ClientProgram {
            command: vec![executable.to_string_lossy().into_owned()],
            cwd: None,
            env: vec![(HOSTILE_CLIENT.to_owned(), client.name().to_owned())],
            eio: 4,
            backoff: Backoff::Official,
            start_timeout: Duration::from_secs(2),
        }),
        ..Target::fixture(([127, 0, 0, 1], 9).into())
    };
    let options = RunOptions {
        step_timeout: Duration::from_millis(1500),
        ..RunOptions::default()
    };
    let run = measured(|| async { Ok(engine::run(&case, &target, &options).await) })?;
    run.report(client.name(), id, "");
    run.bounded(id, &format!("the {} client", client.name()))?;
    let words = client.names_the_limit();
    if !format!("{:?}", run.result.transcript.events).contains(words) {
        let result = &run.result;
        return Err(format!("the transcript does not say {words:?}:\n{result}").into());
    }
    Ok(())
}

/// One case's result, with its time and the growth of the peak resident set while it ran.
struct Measured {
    result: CaseResult,
    elapsed: Duration,
    growth: u64,
}

/// Runs a case on a runtime of its own, dropped afterwards with every task the case and its
/// hostile peer started, and measures it.
fn measured<F, Fut>(run: F) -> Result<Measured, Failed>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<CaseResult, Failed>>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;
    let before = Memory::reset();
    let started = std::time::Instant::now();
    let result = runtime.block_on(run())?;
    let elapsed = started.elapsed();
    let growth = Memory::peak_growth(before);
    runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(Measured {
        result,
        elapsed,
        growth,
    })
}

impl Measured {
    /// Prints the figures of the run, for the test's output.
    fn report(&self, peer: &str, id: &str, actual: &str) {
        println!(
            "{peer}: {id}: {:?} in {} ms, peak RSS +{:.1} MiB, {} events: {actual}",
            self.result.verdict,
            self.elapsed.as_millis(),
            self.growth as f64 / (1024.0 * 1024.0),
            self.result.transcript.events.len(),
        );
    }

    /// A verdict other than PASS, within [`MOST_CASE_TIME`] and [`MOST_RSS_GROWTH`].
    fn bounded(&self, id: &str, against: &str) -> Result<(), Failed> {
        if self.result.verdict == Verdict::Pass {
            return Err(format!("{id} passed against {against}").into());
        }
        if self.elapsed > MOST_CASE_TIME {
            return Err(format!("{id} took {:?}", self.elapsed).into());
        }
        if self.growth > MOST_RSS_GROWTH {
            let growth = self.growth;
            return Err(format!("the peak resident set grew by {growth} bytes").into());
        }
        Ok(())
    }
}

/// The hostile client programs. Each gives up after a bounded amount of sending.
mod hostile_client {
    use super::*;
    use tokio_tungstenite::tungstenite::Message;

    /// The most an endless POST sends before it stops: far above the engine's limit.
    const MOST_SENT: usize = 512 * 1024 * 1024;

    pub(super) async fn run(client: HostileClient) {
        let origin = std::env::var("SIO_URL").unwrap_or_default();
        let path = std::env::var("SIO_PATH").unwrap_or_else(|_| "/socket.io/".to_owned());
        match client {
            HostileClient::EndlessPost => endless_post(&origin, &path).await,
            HostileClient::HugeMessage => huge_message(&origin, &path).await,
        }
    }

    async fn endless_post(origin: &str, path: &str) {
        let host = origin.trim_start_matches("http://").trim_end_matches('/');
        let Ok(mut stream) = TcpStream::connect(host).await else {
            return;
        };
        let head = format!(
            "POST {path}?EIO=4&transport=polling HTTP/1.1\r\nHost: {host}\r\n\
             Content-Type: text/plain;charset=UTF-8\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        if stream.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let mut chunk = format!("{:x}\r\n", 64 * 1024).into_bytes();
        chunk.extend(std::iter::repeat_n(b'4', 64 * 1024));
        chunk.extend_from_slice(b"\r\n");
        let mut sent = 0;
        while sent < MOST_SENT && stream.write_all(&chunk).await.is_ok() {
            sent += chunk.len();
        }
    }

    async fn huge_message(origin: &str, path: &str) {
        let url = format!(
            "{}{path}?EIO=4&transport=websocket",
            origin.replacen("http://", "ws://", 1)
        );
        let Ok((mut socket, _)) = tokio_tungstenite::connect_async(url.as_str()).await else {
            return;
        };
        // The open packet first, so that the session is the engine's before the message.
        if socket.next().await.is_none() {
            return;
        }
        let message = "4".repeat(100_000_000);
        let _ = socket.send(Message::text(message)).await;
        while let Some(Ok(_)) = socket.next().await {}
    }
}

/// The process's resident set, from `/proc/self/status`.
struct Memory;

impl Memory {
    /// Resets the peak resident set to the current one (`/proc/self/clear_refs`, Linux 4.0
    /// and later) and returns the current one. Where the reset fails, the peak measured
    /// afterwards is the process's whole, so that the growth is overestimated, never under.
    fn reset() -> u64 {
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        Self::status_kib("VmRSS:") * 1024
    }

    /// How far the peak resident set has risen above `before`.
    fn peak_growth(before: u64) -> u64 {
        (Self::status_kib("VmHWM:") * 1024).saturating_sub(before)
    }

    fn status_kib(field: &str) -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find_map(|line| line.strip_prefix(field))
                    .and_then(|rest| rest.split_whitespace().next())
                    .and_then(|kib| kib.parse().ok())
            })
            .unwrap_or(0)
    }
}

/// Starts the server on 127.0.0.1.
async fn serve(hostile: Hostile) -> Result<SocketAddr, Failed> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|error| error.to_string())?;
    let address = listener.local_addr().map_err(|error| error.to_string())?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(answer(hostile, stream));
        }
    });
    Ok(address)
}

/// A generous bound on how long a server goes on: the engine is done long before.
const SERVER_LIFETIME: Duration = Duration::from_secs(30);

async fn answer(hostile: Hostile, mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let _ = tokio::time::timeout(SERVER_LIFETIME, async {
        if hostile == Hostile::Silent {
            // Reads and drops whatever comes, and never answers.
            let mut sink = [0_u8; 4096];
            while matches!(stream.read(&mut sink).await, Ok(read) if read > 0) {}
            std::future::pending::<()>().await;
        }
        let Some(head) = read_head(&mut stream).await else {
            return;
        };
        match hostile {
            Hostile::EndlessBody => {
                let _ = endless_body(&mut stream).await;
            }
            Hostile::Slowloris => {
                let _ = slowloris(&mut stream).await;
            }
            Hostile::HugeHeader => {
                let _ = huge_header(&mut stream).await;
            }
            Hostile::Garbage => {
                let _ = stream
                    .write_all(
                        b"\x00\xff\x13SSH-2.0-not-http\r\n\x16\x03\x01\x02\x00\x01garbage\r\n\r\n",
                    )
                    .await;
            }
            Hostile::WsResetMidFrame => {
                if accept_websocket(&mut stream, &head).await.is_ok() {
                    reset_mid_frame(stream).await;
                }
            }
            Hostile::WsHugeFrame => {
                if accept_websocket(&mut stream, &head).await.is_ok() {
                    let _ = huge_frame(&mut stream).await;
                }
            }
            Hostile::WsPingFlood => {
                if accept_websocket(&mut stream, &head).await.is_ok() {
                    let _ = ping_flood(&mut stream).await;
                }
            }
            Hostile::Silent => {}
        }
    })
    .await;
}

/// The request head, as text; `None` when the connection ends first.
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut chunk = [0_u8; 4096];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(read) => head.extend_from_slice(&chunk[..read]),
        }
        if head.len() > 1024 * 1024 {
            return None;
        }
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// 64 KiB of body, written again and again.
fn block() -> Vec<u8> {
    vec![b'a'; 64 * 1024]
}

async fn endless_body(stream: &mut TcpStream) -> std::io::Result<()> {
    stream
        .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n")
        .await?;
    let block = block();
    loop {
        stream.write_all(&block).await?;
    }
}

async fn slowloris(stream: &mut TcpStream) -> std::io::Result<()> {
    let head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n";
    for byte in head.iter().chain(std::iter::repeat(&b'a')) {
        stream.write_all(&[*byte]).await?;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

async fn huge_header(stream: &mut TcpStream) -> std::io::Result<()> {
    stream.write_all(b"HTTP/1.1 200 OK\r\nX-Huge: ").await?;
    let block = block();
    for _ in 0..(10 * 1024 * 1024 / block.len()) {
        stream.write_all(&block).await?;
    }
    stream
        .write_all(b"\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok")
        .await?;
    std::future::pending().await
}

/// Answers a WebSocket request with 101 (RFC 6455 §4.2.2).
async fn accept_websocket(stream: &mut TcpStream, head: &str) -> std::io::Result<()> {
    let key = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("sec-websocket-key"))
        .map(|(_, value)| value.trim().to_owned());
    let Some(key) = key else {
        // Not a WebSocket request: a 400 ends it.
        return stream
            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await
            .and(Err(std::io::ErrorKind::InvalidInput.into()));
    };
    let accept = derive_accept_key(key.as_bytes());
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    stream.write_all(response.as_bytes()).await
}

/// An unmasked binary frame header (RFC 6455 §5.2) announcing `length` bytes.
fn frame_header(opcode: u8, length: u64) -> Vec<u8> {
    let mut header = vec![0x80 | opcode, 127];
    header.extend_from_slice(&length.to_be_bytes());
    header
}

async fn reset_mid_frame(mut stream: TcpStream) {
    let mut frame = frame_header(0x2, 1_000_000);
    frame.extend_from_slice(b"a few bytes");
    let _ = stream.write_all(&frame).await;
    let _ = stream.flush().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    // A zero linger: the drop sends a reset, not a FIN.
    #[allow(deprecated)]
    let _ = stream.set_linger(Some(Duration::ZERO));
}

async fn huge_frame(stream: &mut TcpStream) -> std::io::Result<()> {
    stream.write_all(&frame_header(0x1, 100_000_000)).await?;
    let block = block();
    loop {
        stream.write_all(&block).await?;
    }
}

/// An unmasked frame header with a short length (RFC 6455 §5.2).
fn short_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x80 | opcode, payload.len() as u8];
    frame.extend_from_slice(payload);
    frame
}

async fn ping_flood(stream: &mut TcpStream) -> std::io::Result<()> {
    let open = br#"0{"sid":"flood","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#;
    stream.write_all(&short_frame(0x1, open)).await?;
    // Reads and drops what the engine sends (its pongs), so that it never blocks.
    let (mut reader, mut writer) = stream.split();
    let draining = async {
        let mut sink = [0_u8; 4096];
        while matches!(reader.read(&mut sink).await, Ok(read) if read > 0) {}
    };
    let pings = short_frame(0x1, b"2").repeat(4096);
    let flooding = async {
        loop {
            writer.write_all(&pings).await?;
        }
    };
    tokio::select! {
        () = draining => Ok(()),
        result = flooding => result,
    }
}
