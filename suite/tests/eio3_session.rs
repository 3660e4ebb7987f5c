//! The engine's protocol 3 session against a small Engine.IO v3 echo server written here from
//! the v3 spec (not the reference implementation): polling (text payloads, and binary payloads
//! for binary packets, as the official server sends them without `b64`), WebSocket, and the
//! upgrade; it answers the client's pings and ends a session that sends nothing for
//! pingInterval + pingTimeout, as the official server does in v3. A variant frames its payload
//! lengths in bytes instead of characters (UTF-16 code units), which the engine must catch.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use sio_suite::engine::{self, CaseResult, RunOptions, Target, Verdict};
use sio_suite::scenario::{self, Case, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// The declared and served pingInterval and pingTimeout: short, so that the tests are fast.
const PING_INTERVAL: Duration = Duration::from_millis(100);
const PING_TIMEOUT: Duration = Duration::from_millis(100);

/// The message that has the server send a ping `2`, which no v3 server does by itself.
const SERVER_PING: &str = "4server-ping";

/// A packet the server queues for its client.
#[derive(Debug, Clone)]
enum Packet {
    /// A text packet, type included: `4hello`.
    Text(String),
    /// A binary message's data.
    Binary(Vec<u8>),
}

struct PollSession {
    queue: Vec<Packet>,
    /// The handshake asked for base64 (`b64=1`).
    b64: bool,
    /// When the session ends if no packet comes before.
    expires: Instant,
    /// Moved to a WebSocket: polling requests are refused.
    upgraded: bool,
}

/// What a held GET does next.
enum Poll {
    /// Answers with this status, content type and body.
    Answer(u16, &'static str, Vec<u8>),
    /// Waits for a change, at most until then.
    Wait(Instant),
}

struct Server {
    /// Payload lengths in UTF-16 code units (right) or in bytes (wrong).
    utf16_lengths: bool,
    sessions: Mutex<HashMap<String, PollSession>>,
    changed: Notify,
    next_sid: AtomicUsize,
}

fn open_packet(sid: &str) -> String {
    format!(
        r#"0{{"sid":"{sid}","upgrades":["websocket"],"pingInterval":{},"pingTimeout":{}}}"#,
        PING_INTERVAL.as_millis(),
        PING_TIMEOUT.as_millis()
    )
}

/// A request's head and body.
struct Request {
    method: String,
    query: HashMap<String, String>,
    websocket_key: Option<String>,
    body: Vec<u8>,
}

async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buffer = Vec::new();
    let mut chunk = [0_u8; 4096];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            break end;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(read) => buffer.extend_from_slice(&chunk[..read]),
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut body = buffer[head_end + 4..].to_vec();
    let mut lines = head.lines();
    let mut words = lines.next()?.split_whitespace();
    let method = words.next()?.to_owned();
    let target = words.next()?;
    let query = target
        .split_once('?')
        .map(|(_, query)| query)
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    let header = |wanted: &str| {
        head.lines().skip(1).find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case(wanted)
                .then(|| value.trim().to_owned())
        })
    };
    let length: usize = header("content-length")
        .and_then(|value| value.parse().ok())
        .unwrap_or(0);
    while body.len() < length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(read) => body.extend_from_slice(&chunk[..read]),
        }
    }
    Some(Request {
        method,
        query,
        websocket_key: header("sec-websocket-key"),
        body,
    })
}

async fn respond(mut stream: TcpStream, status: u16, content_type: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body).await;
    // Until the client has read it and closed.
    let mut chunk = [0_u8; 1024];
    while matches!(stream.read(&mut chunk).await, Ok(read) if read > 0) {}
}

const TEXT_PLAIN: &str = "text/plain; charset=UTF-8";

impl Server {
    fn length(&self, packet: &str) -> usize {
        if self.utf16_lengths {
            packet.encode_utf16().count()
        } else {
            packet.len()
        }
    }

    /// A GET's body and its content type: a binary payload when there is binary data and the
    /// client did not ask for base64, a text payload otherwise.
    fn encode(&self, packets: &[Packet], b64: bool) -> (&'static str, Vec<u8>) {
        let binary = packets
            .iter()
            .any(|packet| matches!(packet, Packet::Binary(_)));
        if binary && !b64 {
            let mut body = Vec::new();
            for packet in packets {
                let (kind, bytes) = match packet {
                    Packet::Text(text) => (0, text.as_bytes().to_vec()),
                    Packet::Binary(data) => (1, [&[4][..], data].concat()),
                };
                body.push(kind);
                body.extend(bytes.len().to_string().bytes().map(|digit| digit - b'0'));
                body.push(0xFF);
                body.extend(bytes);
            }
            return ("application/octet-stream", body);
        }
        let mut body = String::new();
        for packet in packets {
            let packet = match packet {
                Packet::Text(text) => text.clone(),
                Packet::Binary(data) => format!(
                    "b4{}",
                    base64::engine::general_purpose::STANDARD.encode(data)
                ),
            };
            body.push_str(&format!("{}:{packet}", self.length(&packet)));
        }
        (TEXT_PLAIN, body.into_bytes())
    }

    async fn handle(self: Arc<Self>, mut stream: TcpStream) {
        let Some(request) = read_request(&mut stream).await else {
            return;
        };
        let sid = request.query.get("sid").cloned();
        if request.query.get("transport").map(String::as_str) == Some("websocket") {
            return self.websocket(stream, request, sid).await;
        }
        let Some(sid) = sid else {
            let sid = format!("s{}", self.next_sid.fetch_add(1, Ordering::SeqCst));
            let b64 = request
                .query
                .get("b64")
                .is_some_and(|value| !value.is_empty());
            self.sessions.lock().expect("sessions").insert(
                sid.clone(),
                PollSession {
                    queue: Vec::new(),
                    b64,
                    expires: Instant::now() + PING_INTERVAL + PING_TIMEOUT,
                    upgraded: false,
                },
            );
            let (content_type, body) = self.encode(&[Packet::Text(open_packet(&sid))], b64);
            return respond(stream, 200, content_type, &body).await;
        };
        if request.method == "POST" {
            let status = self.post(&sid, &request.body);
            return respond(stream, status, TEXT_PLAIN, b"ok").await;
        }
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let until = match self.poll(&sid) {
                Poll::Answer(status, content_type, body) => {
                    return respond(stream, status, content_type, &body).await;
                }
                Poll::Wait(until) => until,
            };
            tokio::select! {
                () = &mut changed => {}
                () = tokio::time::sleep_until(until) => {}
            }
        }
    }

    /// What a GET gets now: the queued packets, a close packet once the session has had
    /// nothing for pingInterval + pingTimeout, or nothing yet.
    fn poll(&self, sid: &str) -> Poll {
        let mut sessions = self.sessions.lock().expect("sessions");
        let Some(session) = sessions.get_mut(sid).filter(|session| !session.upgraded) else {
            return Poll::Answer(400, TEXT_PLAIN, b"unknown sid".to_vec());
        };
        if !session.queue.is_empty() {
            let packets = std::mem::take(&mut session.queue);
            let (content_type, body) = self.encode(&packets, session.b64);
            return Poll::Answer(200, content_type, body);
        }
        if Instant::now() >= session.expires {
            // The ping timeout: the session ends with a close packet.
            sessions.remove(sid);
            return Poll::Answer(200, TEXT_PLAIN, b"1:1".to_vec());
        }
        Poll::Wait(session.expires)
    }

    /// A POST's packets: a ping is answered, a message echoed; the status.
    fn post(&self, sid: &str, body: &[u8]) -> u16 {
        let mut sessions = self.sessions.lock().expect("sessions");
        let Some(session) = sessions.get_mut(sid).filter(|session| !session.upgraded) else {
            return 400;
        };
        let Some(packets) = std::str::from_utf8(body).ok().and_then(split_payload) else {
            return 400;
        };
        session.expires = Instant::now() + PING_INTERVAL + PING_TIMEOUT;
        for packet in packets {
            if packet == "2" {
                session.queue.push(Packet::Text("3".to_owned()));
            } else if packet == SERVER_PING {
                session.queue.push(Packet::Text("2".to_owned()));
            } else if packet.starts_with('4') {
                session.queue.push(Packet::Text(packet));
            } else if let Some(encoded) = packet.strip_prefix("b4") {
                let Ok(data) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
                    return 400;
                };
                session.queue.push(Packet::Binary(data));
            }
        }
        drop(sessions);
        self.changed.notify_waiters();
        200
    }

    async fn websocket(&self, mut stream: TcpStream, request: Request, sid: Option<String>) {
        let Some(key) = request.websocket_key else {
            return;
        };
        let response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
            derive_accept_key(key.as_bytes())
        );
        if stream.write_all(response.as_bytes()).await.is_err() {
            return;
        }
        let mut ws = WebSocketStream::from_raw_socket(stream, Role::Server, None).await;
        match sid {
            None => {
                let sid = format!("s{}", self.next_sid.fetch_add(1, Ordering::SeqCst));
                if ws.send(Message::text(open_packet(&sid))).await.is_err() {
                    return;
                }
            }
            Some(sid) => {
                // The upgrade: `2probe`, `3probe` and a noop for the pending GET, then `5`.
                let probe = ws.next().await;
                if !matches!(&probe, Some(Ok(Message::Text(text))) if text.as_str() == "2probe") {
                    return;
                }
                if ws.send(Message::text("3probe")).await.is_err() {
                    return;
                }
                self.queue(&sid, Packet::Text("6".to_owned()));
                let upgrade = ws.next().await;
                if !matches!(&upgrade, Some(Ok(Message::Text(text))) if text.as_str() == "5") {
                    return;
                }
                let left = match self.sessions.lock().expect("sessions").get_mut(&sid) {
                    Some(session) => {
                        session.upgraded = true;
                        std::mem::take(&mut session.queue)
                    }
                    None => return,
                };
                self.changed.notify_waiters();
                for packet in left {
                    if ws.send(frame(packet)).await.is_err() {
                        return;
                    }
                }
            }
        }
        echo(ws).await;
    }

    fn queue(&self, sid: &str, packet: Packet) {
        if let Some(session) = self.sessions.lock().expect("sessions").get_mut(sid) {
            session.queue.push(packet);
        }
        self.changed.notify_waiters();
    }
}

fn frame(packet: Packet) -> Message {
    match packet {
        Packet::Text(text) => Message::text(text),
        Packet::Binary(data) => Message::binary([&[4][..], &data].concat()),
    }
}

/// Answers pings and echoes messages until the client is silent for pingInterval +
/// pingTimeout, then closes with a close packet.
async fn echo(mut ws: WebSocketStream<TcpStream>) {
    loop {
        let reply = match tokio::time::timeout(PING_INTERVAL + PING_TIMEOUT, ws.next()).await {
            Err(_) => {
                let _ = ws.send(Message::text("1")).await;
                let _ = ws.close(None).await;
                return;
            }
            Ok(Some(Ok(Message::Text(text)))) if text.as_str() == "2" => Message::text("3"),
            Ok(Some(Ok(Message::Text(text)))) if text.as_str() == SERVER_PING => Message::text("2"),
            Ok(Some(Ok(message @ Message::Text(_))))
                if message.to_text().is_ok_and(|text| text.starts_with('4')) =>
            {
                message
            }
            Ok(Some(Ok(message @ Message::Binary(_)))) => message,
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(_)) | None) => return,
        };
        if ws.send(reply).await.is_err() {
            return;
        }
    }
}

/// Splits a v3 text payload, lengths in UTF-16 code units; `None` when malformed.
fn split_payload(mut rest: &str) -> Option<Vec<String>> {
    let mut packets = Vec::new();
    while !rest.is_empty() {
        let (length, after) = rest.split_once(':')?;
        let length: usize = length.parse().ok()?;
        let mut units = 0;
        let end = after
            .char_indices()
            .find_map(|(offset, character)| {
                let at = (units == length).then_some(offset);
                units += character.len_utf16();
                at
            })
            .unwrap_or(after.len());
        if after[..end].encode_utf16().count() != length {
            return None;
        }
        packets.push(after[..end].to_owned());
        rest = &after[end..];
    }
    Some(packets)
}

async fn serve(utf16_lengths: bool) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let server = Arc::new(Server {
        utf16_lengths,
        sessions: Mutex::default(),
        changed: Notify::new(),
        next_sid: AtomicUsize::new(1),
    });
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            // Each frame out at once: the engine measures time.
            let _ = stream.set_nodelay(true);
            tokio::spawn(Arc::clone(&server).handle(stream));
        }
    });
    address
}

/// The cases of a scenario written here (the suite's own scenario files are not this test's
/// subject), for protocol 3 over every transport.
fn cases(name: &str, heartbeat: &str, steps: &str) -> Vec<Case> {
    let dir = std::env::temp_dir().join(format!("sio-suite-eio3-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let path: PathBuf = dir.join(format!("{}.yaml", name.replace('/', "-")));
    let text = format!(
        "id: {name}\n\
         title: a protocol 3 session\n\
         spec:\n  doc: engine.io-protocol\n  section: Payload\n  quote: \"length of the packet in characters\"\n\
         level: MUST\n\
         role: server\n\
         covers: [EIO3-TEST]\n\
         transports: [polling, websocket, upgrade]\n\
         eio: [3]\n\
         heartbeat: {heartbeat}\n\
         steps:\n{steps}"
    );
    std::fs::write(&path, text).expect("a scenario file");
    let loaded = scenario::load_file(&path).unwrap_or_else(|error| panic!("{error}"));
    let _ = std::fs::remove_file(&path);
    scenario::expand([loaded])
}

fn target(address: SocketAddr) -> Target {
    let mut target = Target::fixture(address);
    target.options.ping_interval = PING_INTERVAL;
    target.options.ping_timeout = PING_TIMEOUT;
    target
}

async fn run(case: &Case, address: SocketAddr) -> CaseResult {
    let options = RunOptions {
        step_timeout: Duration::from_millis(1000),
        ..RunOptions::default()
    };
    let started = std::time::Instant::now();
    let result = engine::run(case, &target(address), &options).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{} took {:?}",
        case.id,
        started.elapsed()
    );
    result
}

const ECHO: &str = r#"  - open:
  - send: "4hello"
  - receive: "4hello"
  - send: "4€"
  - receive: "4€"
  - send: ["4a", "4😀"]
  - receive: ["4a", "4😀"]
  - send: { base64: AQIDBA== }
  - receive: { base64: AQIDBA== }
  - send: ["4text", { base64: AQID }]
  - receive: ["4text", { base64: AQID }]
"#;

#[tokio::test]
async fn a_v3_session_passes_against_a_correct_v3_server_over_every_transport() {
    let address = serve(true).await;
    let cases = cases("v3/echo", "auto", ECHO);
    assert_eq!(cases.len(), 3);
    for case in &cases {
        assert_eq!(case.variant.eio, 3);
        let result = run(case, address).await;
        assert_eq!(result.verdict, Verdict::Pass, "{result}");
        let text = result.transcript.to_string();
        assert!(text.contains("/engine.io-v3/?EIO=3&transport="), "{text}");
        match case.variant.transport {
            // A binary message comes in a binary payload, the client having no `b64`.
            Some(Transport::Polling) => {
                assert!(text.contains(r#""2:4€""#), "{text}");
                assert!(
                    text.contains("[content-type: application/octet-stream]"),
                    "{text}"
                );
            }
            Some(Transport::Websocket) => assert!(text.contains("> binary BAECAwQ="), "{text}"),
            _ => assert!(text.contains("** upgraded"), "{text}"),
        }
    }
}

#[tokio::test]
async fn base64_binary_in_a_text_payload_is_a_binary_message() {
    let address = serve(true).await;
    let steps = r#"  - open: { query: b64=1 }
  - send: { base64: AQIDBA== }
  - receive: { base64: AQIDBA== }
"#;
    let case = cases("v3/b64", "auto", steps).remove(0);
    assert_eq!(case.variant.transport, Some(Transport::Polling));
    let result = run(&case, address).await;
    assert_eq!(result.verdict, Verdict::Pass, "{result}");
    assert!(
        result.transcript.to_string().contains(r#""10:b4AQIDBA==""#),
        "{result}"
    );
}

#[tokio::test]
async fn payload_lengths_in_bytes_fail() {
    let address = serve(false).await;
    let case = cases("v3/echo-bytes", "auto", ECHO).remove(0);
    assert_eq!(case.variant.transport, Some(Transport::Polling));
    let result = run(&case, address).await;
    assert_eq!(result.verdict, Verdict::Fail, "{result}");
    let failure = result.failure.as_ref().expect("a failure");
    assert_eq!(failure.step, Some(5), "{result}");
    assert!(failure.actual.contains("4:4€"), "{result}");
}

const SILENCE: &str = r#"  - open:
  - silence: pingInterval * 3
  - send: "4still here"
  - receive: "4still here"
"#;

#[tokio::test]
async fn the_automatic_pings_keep_a_v3_session_open_past_the_ping_timeout() {
    let address = serve(true).await;
    for case in cases("v3/heartbeat", "auto", SILENCE) {
        let result = run(&case, address).await;
        assert_eq!(result.verdict, Verdict::Pass, "{result}");
        let text = result.transcript.to_string();
        // The client pings; it never answers with a pong, and the pongs stay out of the steps.
        match case.variant.transport {
            Some(Transport::Polling) => assert!(text.contains(r#" "1:2""#), "{text}"),
            _ => assert!(text.contains(r#"> "2""#), "{text}"),
        }
        assert!(!text.contains(r#"> "3""#), "{text}");
        assert!(
            !text
                .lines()
                .any(|line| line.contains("> POST") && line.ends_with(r#""1:3""#)),
            "{text}"
        );
        if case.variant.transport == Some(Transport::Upgrade) {
            // After the upgrade, the pings go over the WebSocket.
            let upgraded = text.find("** upgraded").expect("upgraded");
            assert!(text[upgraded..].contains(r#"> "2""#), "{text}");
            assert!(!text[upgraded..].contains(r#""1:2""#), "{text}");
        }
    }
}

#[tokio::test]
async fn without_the_automatic_pings_the_server_ends_the_session() {
    // The server does end silent sessions, so the test above proves the pings keep them.
    let address = serve(true).await;
    for case in cases("v3/no-heartbeat", "manual", SILENCE) {
        let result = run(&case, address).await;
        assert_eq!(result.verdict, Verdict::Fail, "{result}");
        let failure = result.failure.as_ref().expect("a failure");
        assert_eq!(failure.step, Some(2), "{result}");
        assert!(failure.actual.contains("close packet"), "{result}");
        assert!(
            !result.transcript.to_string().contains(r#""1:2""#),
            "{result}"
        );
    }
}

#[tokio::test]
async fn a_ping_from_the_server_reaches_the_steps_unanswered() {
    let address = serve(true).await;
    let steps = format!("  - open:\n  - send: \"{SERVER_PING}\"\n  - receive: \"2\"\n");
    for case in cases("v3/server-ping", "auto", &steps) {
        let result = run(&case, address).await;
        assert_eq!(result.verdict, Verdict::Pass, "{result}");
        let text = result.transcript.to_string();
        assert!(!text.contains(r#"> "3""#), "{text}");
        assert!(
            !text
                .lines()
                .any(|line| line.contains("> POST") && line.ends_with(r#""1:3""#)),
            "{text}"
        );
    }
}
