//! `sio-conformance proxy`, in-process on 127.0.0.1: suite cases replayed through it against
//! the reference fixture still pass (and it sees no violation in them); traffic through it is
//! byte for byte the same (polling and WebSocket, text and binary, headers, close codes);
//! misbehaving clients and servers trigger each violation it knows; its log of a deterministic
//! exchange is pinned as a snapshot; a recorded session replays as a passing case.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use sio_reference::fixture::{Fixture, Options};
use sio_runner::proxy::journal::{EntryKind, Journal};
use sio_runner::proxy::{self, Limits, Monitor, Running};
use sio_suite::engine::{self, RunOptions, Target, Verdict};
use sio_suite::scenario;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

/// Every wait of these tests.
const DEADLINE: Duration = Duration::from_secs(10);

/// The live log, written into memory.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

async fn fixture(options: Options) -> SocketAddr {
    let (address, serving) = Fixture::new(options)
        .listen("127.0.0.1:0")
        .await
        .expect("the fixture listens");
    tokio::spawn(serving);
    address
}

async fn proxy_to(upstream: SocketAddr) -> (Running, Buffer) {
    let log = Buffer::default();
    let journal = Journal::new(Some(Box::new(log.clone())), false, None, true);
    let running = proxy::start("127.0.0.1:0", upstream, Limits::default(), journal)
        .await
        .expect("the proxy listens");
    (running, log)
}

fn lock(monitor: &Mutex<Monitor>) -> std::sync::MutexGuard<'_, Monitor> {
    monitor.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Waits (at most [`DEADLINE`]) until the monitor's journal meets `done`.
async fn until(monitor: &Arc<Mutex<Monitor>>, done: impl Fn(&Monitor) -> bool) -> bool {
    let mut changes = lock(monitor).journal().subscribe();
    let waited = tokio::time::timeout(DEADLINE, async {
        loop {
            if done(&lock(monitor)) {
                return;
            }
            if changes.changed().await.is_err() {
                return;
            }
        }
    })
    .await;
    waited.is_ok() && done(&lock(monitor))
}

/// The requirement ids of the violations so far, in order.
fn violations(monitor: &Monitor) -> Vec<String> {
    monitor
        .journal()
        .entries()
        .iter()
        .filter_map(|entry| match &entry.kind {
            EntryKind::Violation { requirement, .. } => Some(requirement.clone()),
            _ => None,
        })
        .collect()
}

fn has_violation(monitor: &Monitor, requirement: &str) -> bool {
    violations(monitor).iter().any(|found| found == requirement)
}

/// One HTTP request on a connection of its own: status, headers, body.
async fn http(
    address: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<(String, Vec<u8>)>, Vec<u8>) {
    let tcp = TcpStream::connect(address).await.expect("connects");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    let mut request = Request::builder()
        .method(method)
        .uri(target)
        .header("host", address.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(Bytes::copy_from_slice(body)))
        .expect("request");
    let response = tokio::time::timeout(DEADLINE, sender.send_request(request))
        .await
        .expect("answered in time")
        .expect("answered");
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
        .collect();
    let body = tokio::time::timeout(DEADLINE, response.into_body().collect())
        .await
        .expect("body in time")
        .expect("body")
        .to_bytes()
        .to_vec();
    (status, headers, body)
}

/// The sid of a protocol 4 handshake's body.
fn sid_of(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let open: serde_json::Value =
        serde_json::from_str(text.trim_start_matches('0')).expect("an open packet");
    open["sid"].as_str().expect("a sid").to_owned()
}

// ---------------------------------------------------------------------------------------------
// Suite cases through the proxy.

const CASES: &[&str] = &[
    "eio3/message/echo",
    "eio4/message/echo-text",
    "eio4/message/echo-binary",
    "sio4/binary/event",
    "sio4/ack/plain",
    "sio5/ack/plain",
    "sio5/binary/event-two-attachments",
    "sio5/binary/client-binary-ack",
];

#[test]
fn suite_cases_pass_through_the_proxy_without_violations() {
    let runtime = runtime();
    runtime.block_on(async {
        let upstream = fixture(Options::default()).await;
        let (running, _log) = proxy_to(upstream).await;
        let cases: Vec<_> = scenario::expand(scenario::load_dir(&scenario::default_dir()).expect("scenarios"))
            .into_iter()
            .filter(|case| CASES.iter().any(|id| case.id.starts_with(&format!("{id}["))))
            .collect();
        assert_eq!(cases.len(), CASES.len() * 3, "each case over three transports");
        let target = Target::fixture(running.address);
        let options = RunOptions {
            time_scale: 3.0,
            ..RunOptions::default()
        };
        for case in &cases {
            let result = engine::run(case, &target, &options).await;
            assert_eq!(result.verdict, Verdict::Pass, "{}: {:?}", case.id, result.failure);
        }
        let monitor = lock(&running.monitor);
        assert_eq!(violations(&monitor), Vec::<String>::new());
        // Every session opened, and its Socket.IO packets were decoded.
        assert!(monitor.sessions().len() >= cases.len());
        let decoded = monitor
            .journal()
            .entries()
            .iter()
            .filter(|entry| matches!(entry.kind, EntryKind::SocketIo { ref attachments, .. } if attachments.len() == 2))
            .count();
        assert!(decoded >= 3, "the two-attachment events were reassembled");
    });
}

// ---------------------------------------------------------------------------------------------
// Bytes unchanged.

/// What the fake upstream saw of a request.
#[derive(Debug, Clone, Default)]
struct Seen {
    method: String,
    target: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

/// Every byte value, then text with the record separator and a character outside the BMP.
fn awkward_bytes() -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..=255).collect();
    bytes.extend_from_slice("4h\u{e9}llo\u{1e}b\u{1F600}".as_bytes());
    bytes
}

/// An HTTP server that records each request and answers with `awkward_bytes()` as
/// `application/octet-stream`, with headers of its own.
async fn recording_server() -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("listens");
    let address = listener.local_addr().expect("address");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let record = Arc::clone(&record);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                    let record = Arc::clone(&record);
                    async move {
                        let method = request.method().as_str().to_owned();
                        let target = request.uri().to_string();
                        let headers = request
                            .headers()
                            .iter()
                            .map(|(name, value)| {
                                (name.as_str().to_owned(), value.as_bytes().to_vec())
                            })
                            .collect();
                        let body = request.into_body().collect().await?.to_bytes().to_vec();
                        record
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .push(Seen {
                                method,
                                target,
                                headers,
                                body,
                            });
                        let response = Response::builder()
                            .header("content-type", "application/octet-stream")
                            .header("set-cookie", "a=1")
                            .header("set-cookie", "b=2")
                            .header("x-server", "fake")
                            .body(Full::new(Bytes::from(awkward_bytes())))
                            .unwrap_or_default();
                        Ok::<_, hyper::Error>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    (address, seen)
}

#[test]
fn polling_bytes_and_headers_cross_the_proxy_unchanged() {
    let runtime = runtime();
    runtime.block_on(async {
        let (upstream, seen) = recording_server().await;
        let (running, _log) = proxy_to(upstream).await;
        let body = awkward_bytes();
        let length = body.len().to_string();
        let target = "/engine.io/?EIO=3&transport=polling&sid=abc&x=%20y";
        let headers = [
            ("content-type", "application/octet-stream"),
            ("cookie", "io=abc; other=1"),
            ("x-custom", "Value With Case"),
            ("connection", "keep-alive, x-hop"),
            ("x-hop", "dropped: named by Connection"),
        ];
        let (status, answer_headers, answer) =
            http(running.address, "POST", target, &headers, &body).await;
        assert_eq!(status, 200);
        assert_eq!(answer, awkward_bytes(), "the response body is unchanged");
        let answered: Vec<(&str, &[u8])> = answer_headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_slice()))
            .filter(|(name, _)| *name != "date")
            .collect();
        assert_eq!(
            answered,
            vec![
                ("content-type", b"application/octet-stream".as_slice()),
                ("set-cookie", b"a=1".as_slice()),
                ("set-cookie", b"b=2".as_slice()),
                ("x-server", b"fake".as_slice()),
                ("content-length", length.as_bytes()),
            ]
        );
        let seen = seen.lock().unwrap_or_else(PoisonError::into_inner).clone();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].method, "POST");
        assert_eq!(seen[0].target, target);
        assert_eq!(seen[0].body, body, "the request body is unchanged");
        let forwarded: Vec<(&str, &[u8])> = seen[0]
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_slice()))
            .collect();
        let host = running.address.to_string();
        assert_eq!(
            forwarded,
            vec![
                ("host", host.as_bytes()),
                ("content-type", b"application/octet-stream".as_slice()),
                ("cookie", b"io=abc; other=1".as_slice()),
                ("x-custom", b"Value With Case".as_slice()),
                ("content-length", length.as_bytes()),
            ],
            "end-to-end headers in order; Connection and the header it names are hop-by-hop"
        );
        // The binary v3 payload was decoded: its framing is wrong for a payload, and said so.
        let monitor = lock(&running.monitor);
        assert!(
            has_violation(&monitor, "EIO3-PAYLOAD-BINARY"),
            "{:?}",
            violations(&monitor)
        );
    });
}

/// A WebSocket server that records the upgrade's headers, echoes every data frame, then,
/// after the client's text `close-me`, sends a binary frame and closes with 4001 "bye".
async fn echo_websocket_server() -> (SocketAddr, Arc<Mutex<Vec<(String, String)>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("listens");
    let address = listener.local_addr().expect("address");
    let headers = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&headers);
    tokio::spawn(async move {
        let Ok((tcp, _)) = listener.accept().await else {
            return;
        };
        // The callback's error type is tungstenite's.
        #[allow(clippy::result_large_err)]
        let callback = |request: &tokio_tungstenite::tungstenite::handshake::server::Request,
                        mut response: tokio_tungstenite::tungstenite::handshake::server::Response| {
            let mut record = record.lock().unwrap_or_else(PoisonError::into_inner);
            for (name, value) in request.headers() {
                record.push((name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()));
            }
            response
                .headers_mut()
                .insert("set-cookie", "ws=1".parse().expect("header value"));
            Ok(response)
        };
        let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(tcp, callback).await else {
            return;
        };
        while let Some(Ok(message)) = socket.next().await {
            match message {
                Message::Text(text) if text.as_str() == "close-me" => {
                    let _ = socket
                        .send(Message::Binary(Bytes::from_static(&[4, 0, 255])))
                        .await;
                    let close = CloseFrame {
                        code: CloseCode::from(4001),
                        reason: "bye".into(),
                    };
                    let _ = socket.send(Message::Close(Some(close))).await;
                }
                Message::Text(_) | Message::Binary(_) => {
                    let echoed = socket.send(message).await;
                    if echoed.is_err() {
                        return;
                    }
                }
                _ => {}
            }
        }
    });
    (address, headers)
}

#[test]
fn websocket_frames_cross_the_proxy_unchanged() {
    let runtime = runtime();
    runtime.block_on(async {
        let (upstream, upgrade_headers) = echo_websocket_server().await;
        let (running, _log) = proxy_to(upstream).await;
        let url = format!(
            "ws://{}/engine.io/?EIO=4&transport=websocket&q=1",
            running.address
        );
        let mut request =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url)
                .expect("request");
        request
            .headers_mut()
            .insert("x-custom", "Kept".parse().expect("header value"));
        let (mut client, answer) =
            tokio::time::timeout(DEADLINE, tokio_tungstenite::connect_async(request))
                .await
                .expect("in time")
                .expect("accepted");
        assert_eq!(
            answer
                .headers()
                .get("set-cookie")
                .map(|value| value.as_bytes()),
            Some(b"ws=1".as_slice()),
            "the upstream's 101 headers come back"
        );
        let sent = [
            Message::Text("4h\u{e9}llo\u{1e}\u{1F600}".into()),
            Message::Binary(Bytes::from((0..=255).collect::<Vec<u8>>())),
            Message::Text("bAQID".into()),
            Message::Binary(Bytes::new()),
        ];
        for message in &sent {
            client.send(message.clone()).await.expect("sent");
            let echoed = tokio::time::timeout(DEADLINE, client.next())
                .await
                .expect("in time")
                .expect("a frame")
                .expect("readable");
            assert_eq!(&echoed, message, "same type, same bytes");
        }
        client
            .send(Message::Text("close-me".into()))
            .await
            .expect("sent");
        let binary = tokio::time::timeout(DEADLINE, client.next())
            .await
            .expect("in time");
        assert!(
            matches!(binary, Some(Ok(Message::Binary(ref bytes))) if bytes.as_ref() == [4, 0, 255])
        );
        let close = tokio::time::timeout(DEADLINE, client.next())
            .await
            .expect("in time");
        match close {
            Some(Ok(Message::Close(Some(frame)))) => {
                assert_eq!(u16::from(frame.code), 4001);
                assert_eq!(frame.reason.as_str(), "bye");
            }
            other => panic!("expected the close frame 4001, got {other:?}"),
        }
        let headers = upgrade_headers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        assert!(
            headers.contains(&("x-custom".to_owned(), "Kept".to_owned())),
            "{headers:?}"
        );
        assert!(
            headers.contains(&("host".to_owned(), running.address.to_string())),
            "{headers:?}"
        );
        // The relay saw the frames as they are: the binary one as binary.
        let monitor = lock(&running.monitor);
        let frames: Vec<bool> = monitor
            .journal()
            .entries()
            .iter()
            .filter_map(|entry| match &entry.kind {
                EntryKind::Frame { frame } => {
                    Some(matches!(frame, sio_suite::engine::WireData::Binary(_)))
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            frames.len(),
            10,
            "four frames each way, close-me, the binary one"
        );
        assert_eq!(&frames[..4], &[false, false, true, true]);
    });
}

// ---------------------------------------------------------------------------------------------
// Violations.

#[test]
fn misbehaving_clients_trigger_each_violation() {
    let runtime = runtime();
    runtime.block_on(async {
        let options = Options {
            max_payload: 100,
            ..Options::default()
        };
        let upstream = fixture(options).await;
        let (running, _log) = proxy_to(upstream).await;
        let address = running.address;
        let monitor = Arc::clone(&running.monitor);
        let post = |sid: String, body: Vec<u8>| async move {
            let target = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
            http(
                address,
                "POST",
                &target,
                &[("content-type", "text/plain;charset=UTF-8")],
                &body,
            )
            .await
        };
        let handshake = || async move {
            let (_, _, body) = http(
                address,
                "GET",
                "/socket.io/?EIO=4&transport=polling",
                &[],
                b"",
            )
            .await;
            sid_of(&body)
        };

        // A packet before CONNECT, an ACK nobody asked for, a payload framed as protocol 3.
        let sid = handshake().await;
        post(sid.clone(), b"42[\"early\"]".to_vec()).await;
        assert!(until(&monitor, |m| has_violation(m, "SIO5-CONNECT-CLIENT-FIRST")).await);
        let sid = handshake().await;
        post(sid.clone(), b"40".to_vec()).await;
        post(sid.clone(), b"43999[\"x\"]".to_vec()).await;
        assert!(until(&monitor, |m| has_violation(m, "SIO5-ACK-SAME-ID")).await);
        post(sid.clone(), b"7:42[\"a\"]".to_vec()).await;
        assert!(
            until(&monitor, |m| has_violation(
                m,
                "EIO4-POLL-PAYLOAD-SEPARATOR"
            ))
            .await
        );

        // A POST and a frame over maxPayload (100 here).
        let sid = handshake().await;
        post(sid.clone(), [b"4".as_slice(), &[b'a'; 150]].concat()).await;
        assert!(
            until(&monitor, |m| has_violation(
                m,
                "EIO4-POLL-CLIENT-MAX-PAYLOAD"
            ))
            .await
        );
        let url = format!("ws://{address}/socket.io/?EIO=4&transport=websocket");
        let (mut socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("accepted");
        let open = socket.next().await;
        assert!(matches!(open, Some(Ok(Message::Text(_)))));
        socket
            .send(Message::Text(format!("4{}", "a".repeat(150)).into()))
            .await
            .expect("sent");
        assert!(until(&monitor, |m| has_violation(m, "WS-04")).await);

        // An undecodable frame.
        let url = format!("ws://{address}/socket.io/?EIO=4&transport=websocket");
        let (mut socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("accepted");
        let _open = socket.next().await;
        socket
            .send(Message::Text("abc".into()))
            .await
            .expect("sent");
        assert!(until(&monitor, |m| has_violation(m, "EIO4-WS-FRAME-PER-PACKET")).await);

        // A ping left unanswered past pingTimeout: the client waits for the violation, then
        // answers late.
        let url = format!("ws://{address}/engine.io/?EIO=4&transport=websocket");
        let (mut socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("accepted");
        let _open = socket.next().await;
        let ping = tokio::time::timeout(DEADLINE, socket.next())
            .await
            .expect("a ping in time");
        assert!(matches!(ping, Some(Ok(Message::Text(ref text))) if text.as_str() == "2"));
        assert!(
            until(&monitor, |m| has_violation(
                m,
                "EIO4-HEARTBEAT-PING-INTERVAL"
            ))
            .await
        );
    });
}

/// A scripted WebSocket server: sends `script` after the handshake, then reads until the
/// client goes.
async fn scripted_server(script: Vec<Message>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("listens");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let script = script.clone();
            tokio::spawn(async move {
                let Ok(mut socket) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                for message in script {
                    if socket.send(message).await.is_err() {
                        return;
                    }
                }
                while let Some(Ok(_)) = socket.next().await {}
            });
        }
    });
    address
}

#[test]
fn misbehaving_servers_trigger_each_violation() {
    let runtime = runtime();
    runtime.block_on(async {
        let open = r#"0{"sid":"fake","upgrades":[],"pingInterval":60000,"pingTimeout":60000,"maxPayload":1000}"#;
        let script = vec![
            Message::Text(open.into()),
            // An event before the server answered the CONNECT.
            Message::Text(r#"42["too soon"]"#.into()),
            Message::Text(r#"40{"sid":"s1"}"#.into()),
            // Binary data that nothing announced.
            Message::Binary(Bytes::from_static(&[1, 2, 3])),
            // An ACK for an id the client never used, and an EVENT whose payload is no array.
            Message::Text(r#"437["x"]"#.into()),
            Message::Text(r#"42{"not":"an array"}"#.into()),
            // A text packet in the middle of a binary event's attachments.
            Message::Text(r#"451-["bin",{"_placeholder":true,"num":0}]"#.into()),
            Message::Text(r#"42["interloper"]"#.into()),
            // Not a Socket.IO packet at all.
            Message::Text("4/oops".into()),
        ];
        let upstream = scripted_server(script).await;
        let (running, _log) = proxy_to(upstream).await;
        let url = format!("ws://{}/socket.io/?EIO=4&transport=websocket", running.address);
        let (mut socket, _) = tokio_tungstenite::connect_async(url).await.expect("accepted");
        socket.send(Message::Text("40".into())).await.expect("sent");
        let expected = [
            "SIO5-EXCHANGE-AFTER-CONNECT",
            "SIO5-ENCODING-ATTACHMENTS",
            "SIO5-ACK-SAME-ID",
            "SIO5-EVENT-PAYLOAD",
            "SIO5-ENCODING-ATTACHMENTS",
            "SIO5-ENCODING-FORMAT",
        ];
        let monitor = Arc::clone(&running.monitor);
        assert!(
            until(&monitor, |m| violations(m).len() >= expected.len()).await,
            "{:?}",
            violations(&lock(&monitor))
        );
        assert_eq!(violations(&lock(&monitor)), expected);
    });
}

// ---------------------------------------------------------------------------------------------
// The log, pinned.

/// The log with what changes from run to run written as names: times dropped, sids and
/// socket ids numbered in order of appearance.
fn normalised(log: &str, monitor: &Monitor) -> String {
    let mut ids: Vec<String> = monitor
        .sessions()
        .into_iter()
        .map(|session| session.sid)
        .collect();
    for entry in monitor.journal().entries() {
        if let EntryKind::SocketIo {
            data: Some(data),
            packet,
            ..
        } = &entry.kind
        {
            if packet == "CONNECT" {
                if let Some(socket) = data.get("sid").and_then(|sid| sid.as_str()) {
                    ids.push(socket.to_owned());
                }
            }
        }
    }
    log.lines()
        .map(|line| {
            let mut line = line
                .trim_start()
                .split_once("ms ")
                .map_or(line, |(_, rest)| rest)
                .to_owned();
            for (index, id) in ids.iter().enumerate() {
                line = line.replace(id.as_str(), &format!("<id{}>", index + 1));
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_log_of_a_deterministic_exchange() {
    let runtime = runtime();
    runtime.block_on(async {
        // No heartbeat during the exchange.
        let options = Options {
            ping_interval: Duration::from_secs(60),
            ping_timeout: Duration::from_secs(60),
            ..Options::default()
        };
        let upstream = fixture(options).await;
        let (running, log) = proxy_to(upstream).await;
        let address = running.address;
        let monitor = Arc::clone(&running.monitor);
        let (_, _, body) = http(address, "GET", "/socket.io/?EIO=4&transport=polling", &[], b"").await;
        let sid = sid_of(&body);
        let target = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
        let text = [("content-type", "text/plain;charset=UTF-8")];
        http(address, "POST", &target, &text, b"40").await;
        // The CONNECT answer and the fixture's `auth` event.
        let (_, _, answer) = http(address, "GET", &target, &[], b"").await;
        if !String::from_utf8_lossy(&answer).contains("auth") {
            http(address, "GET", &target, &[], b"").await;
        }
        http(address, "POST", &target, &text, b"427[\"message-with-ack\",1,\"two\"]\x1e431[\"unasked\"]").await;
        assert!(until(&monitor, |m| has_violation(m, "SIO5-ACK-SAME-ID")).await);
        http(
            address,
            "POST",
            &target,
            &text,
            b"451-[\"message\",{\"_placeholder\":true,\"num\":0}]\x1ebAQID",
        )
        .await;
        let (_, _, _) = http(address, "GET", &target, &[], b"").await;
        http(address, "POST", &target, &text, b"41").await;
        assert!(until(&monitor, |m| m.journal().entries().iter().any(|entry| matches!(&entry.kind, EntryKind::SocketIo { packet, .. } if packet == "DISCONNECT"))).await);
        let monitor = lock(&monitor);
        insta::assert_snapshot!(normalised(&log.text(), &monitor));
        // The HTML transcript: the session's section, its packets, the violation marked.
        let page = proxy::html_page("http://upstream", &monitor);
        assert!(page.contains(&format!("session {sid}: Socket.IO over Engine.IO 4 on /socket.io/")));
        assert!(page.contains("sio BINARY_EVENT"));
        assert_eq!(page.matches("<tr class=\"step failing\"").count(), 1, "one violation row");
    });
}

// ---------------------------------------------------------------------------------------------
// Recording.

fn scratch(name: &str) -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("proxy-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// The engine plays cases through the proxy; each recorded session, loaded with the suite's
/// loader, replays as a PASS against the reference fixture directly.
#[test]
fn recorded_sessions_replay_as_passing_cases() {
    let runtime = runtime();
    runtime.block_on(async {
        let upstream = fixture(Options::default()).await;
        let (running, _log) = proxy_to(upstream).await;
        let recorded = [
            "sio5/binary/client-binary-ack[websocket]",
            "sio5/ack/plain[upgrade]",
            "sio5/binary/event-two-attachments[polling]",
            "eio4/message/echo-binary[polling]",
            "eio3/message/echo[websocket]",
        ];
        let cases: Vec<_> =
            scenario::expand(scenario::load_dir(&scenario::default_dir()).expect("scenarios"))
                .into_iter()
                .filter(|case| recorded.contains(&case.id.as_str()))
                .collect();
        assert_eq!(cases.len(), recorded.len());
        let options = RunOptions {
            time_scale: 3.0,
            ..RunOptions::default()
        };
        for case in &cases {
            let result = engine::run(case, &Target::fixture(running.address), &options).await;
            assert_eq!(
                result.verdict,
                Verdict::Pass,
                "{}: {:?}",
                case.id,
                result.failure
            );
        }
        let dir = scratch("record");
        let written = {
            let monitor = lock(&running.monitor);
            proxy::draft::write_drafts(&dir, &monitor.sessions(), monitor.journal().entries())
                .expect("drafts written")
        };
        assert_eq!(
            written.len(),
            2 * recorded.len(),
            "a server and a client draft per session"
        );
        let drafts = scenario::load_dir(&dir).expect("the drafts load");
        let replayed: Vec<_> = scenario::expand(drafts)
            .into_iter()
            .filter(|case| case.id.starts_with("recorded/"))
            .collect();
        assert_eq!(replayed.len(), recorded.len());
        let direct = Target::fixture(upstream);
        for case in &replayed {
            let result = engine::run(case, &direct, &options).await;
            let yaml = std::fs::read_to_string(&case.scenario.source).unwrap_or_default();
            assert_eq!(
                result.verdict,
                Verdict::Pass,
                "{}: {:?}\n{yaml}",
                case.id,
                result.failure
            );
        }
    });
}

// ---------------------------------------------------------------------------------------------
// The command.

/// `sio-conformance proxy` as a user runs it: it prints its address, carries a session, and
/// on SIGINT writes the JSON Lines, the HTML page and the drafts, and exits 0 (no violation).
#[cfg(unix)]
#[test]
fn the_command_writes_its_files_when_interrupted() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let runtime = runtime();
    let upstream = runtime.block_on(fixture(Options::default()));
    let dir = scratch("command");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sio-conformance"))
        .args([
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            &format!("http://{upstream}"),
        ])
        .arg("--jsonl")
        .arg(dir.join("exchange.jsonl"))
        .arg("--html")
        .arg(dir.join("exchange.html"))
        .arg("--record")
        .arg(dir.join("drafts"))
        .args(["--duration", "60", "--color", "never"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the proxy starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut first = String::new();
    stderr.read_line(&mut first).expect("its first line");
    let address: SocketAddr = first
        .strip_prefix("proxy listening on http://")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|address| address.parse().ok())
        .unwrap_or_else(|| panic!("the address line, not {first:?}"));
    runtime.block_on(async {
        let (status, _, body) = http(
            address,
            "GET",
            "/engine.io/?EIO=4&transport=polling",
            &[],
            b"",
        )
        .await;
        assert_eq!(status, 200);
        let sid = sid_of(&body);
        let target = format!("/engine.io/?EIO=4&transport=polling&sid={sid}");
        http(address, "POST", &target, &[], b"4hello").await;
        http(address, "GET", &target, &[], b"").await;
    });
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(interrupted.success());
    let status = child.wait().expect("the proxy ends");
    let mut rest = String::new();
    let _ = std::io::Read::read_to_string(&mut stderr, &mut rest);
    assert_eq!(status.code(), Some(0), "{rest}");
    assert!(rest.contains("recorded 2 draft scenario(s)"), "{rest}");
    let mut stdout = String::new();
    let _ = std::io::Read::read_to_string(&mut child.stdout.take().expect("stdout"), &mut stdout);
    assert!(stdout.contains("eio message hello"), "{stdout}");
    let jsonl = std::fs::read_to_string(dir.join("exchange.jsonl")).expect("the JSON lines");
    let types: Vec<String> = jsonl
        .lines()
        .map(|line| {
            let entry: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            assert!(entry["at"].is_number());
            entry["type"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    for kind in ["http_request", "http_response", "packet", "note"] {
        assert!(
            types.iter().any(|found| found == kind),
            "{kind} in {types:?}"
        );
    }
    let html = std::fs::read_to_string(dir.join("exchange.html")).expect("the HTML page");
    assert!(html.contains("4hello"));
    let drafts = scenario::load_dir(&dir.join("drafts")).expect("the drafts load");
    assert_eq!(drafts.len(), 2);
}
