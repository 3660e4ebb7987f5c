//! Shared helpers for the Socket.IO server tests: a server on 127.0.0.1:0 and a raw Engine.IO
//! client, over HTTP long-polling (hand-written HTTP/1.1 on a TCP stream) or WebSocket
//! (tokio-tungstenite as a plain WebSocket). No Engine.IO or Socket.IO client library is used,
//! and nothing is encoded or decoded with the reference codec: what is sent and expected is
//! the text and the bytes on the wire.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use sio_reference::server::engine_io;
use sio_reference::server::socket_io::{Config, SocketIo};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

// The raw HTTP/1.1 client and the bound on every wait are the Engine.IO helpers'
// (`support/http.rs`), which the socket_io test binary declares once, for `attach` too.
pub use crate::support::{request, request_within, within, WAIT};

/// The Engine.IO record separator of a polling payload.
pub const SEPARATOR: char = '\u{1e}';

/// The next value a server-side handler reported on a test channel.
pub async fn next<T>(receiver: &mut mpsc::UnboundedReceiver<T>) -> T {
    within(receiver.recv())
        .await
        .expect("the reporting channel closed")
}

/// Asserts that no handler reports anything on the channel for `millis` milliseconds.
pub async fn nothing_reported<T: std::fmt::Debug>(
    receiver: &mut mpsc::UnboundedReceiver<T>,
    millis: u64,
) {
    if let Ok(Some(value)) =
        tokio::time::timeout(Duration::from_millis(millis), receiver.recv()).await
    {
        panic!("expected nothing reported, got {value:?}");
    }
}

/// A server with no heartbeat in the way of a test (pings every 20 s) and the default
/// connect timeout (45 s).
pub fn quiet() -> Config {
    Config {
        engine: engine_io::Config {
            path: "/socket.io/".to_owned(),
            ping_interval: Duration::from_millis(20_000),
            ping_timeout: Duration::from_millis(10_000),
            ..engine_io::Config::default()
        },
        ..Config::default()
    }
}

/// A server with short timers: ping every 300 ms, 200 ms to answer, 300 ms to CONNECT.
pub fn fast() -> Config {
    Config {
        engine: engine_io::Config {
            path: "/socket.io/".to_owned(),
            ping_interval: Duration::from_millis(300),
            ping_timeout: Duration::from_millis(200),
            ..engine_io::Config::default()
        },
        connect_timeout: Duration::from_millis(300),
        ..Config::default()
    }
}

/// Serves `io` on 127.0.0.1 with a port of the system's choosing.
pub async fn start(io: &SocketIo) -> SocketAddr {
    let (address, serving) = io.clone().listen("127.0.0.1:0").await.unwrap();
    tokio::spawn(serving);
    address
}

/// An unbounded test channel, for handlers to report what the application saw.
pub fn channel<T>() -> (mpsc::UnboundedSender<T>, mpsc::UnboundedReceiver<T>) {
    mpsc::unbounded_channel()
}

// ---- the raw client ----------------------------------------------------------------------------

/// The transport a [`Client`] speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// HTTP long-polling only: a GET always pending, one POST per send.
    Polling,
    /// WebSocket only, from the handshake on.
    WebSocket,
}

/// One Engine.IO message packet as the client receives it: the text of a text packet with
/// its Engine.IO type (`42["x"]`, `2`), or the bytes of a binary one (a binary WebSocket
/// frame, or a `b<base64>` record of a polling payload, decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Text(String),
    Binary(Vec<u8>),
}

/// What the client sends: an Engine.IO packet's text (`40`, `42["x"]`, `3`), or binary data
/// (a binary frame, or `b<base64>` in a polling payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    Text(String),
    Binary(Vec<u8>),
}

pub fn text(packet: &str) -> Out {
    Out::Text(packet.to_owned())
}

pub fn binary(bytes: &[u8]) -> Out {
    Out::Binary(bytes.to_vec())
}

/// What the background reader reports.
#[derive(Debug)]
enum Incoming {
    Frame(Frame),
    /// The server closed the session; how, for failure messages.
    Closed(String),
    /// The server answered what no Engine.IO server should: the test fails.
    Broken(String),
}

type WsSink = SplitSink<WebSocketStream<MaybeTlsStream<TcpStream>>, Message>;

/// The client's way out, shared by the test and the background reader (which answers pings):
/// one send at a time, so that two POSTs never overlap.
enum Way {
    Polling { address: SocketAddr, sid: String },
    WebSocket(WsSink),
}

type SharedWay = Arc<tokio::sync::Mutex<Way>>;

impl Way {
    /// Sends the packets; the POST's status when it was not `200 ok`.
    async fn send(&mut self, packets: Vec<Out>) -> Option<u16> {
        match self {
            Way::Polling { address, sid } => {
                let body: Vec<String> = packets
                    .into_iter()
                    .map(|packet| match packet {
                        Out::Text(text) => text,
                        Out::Binary(bytes) => format!("b{}", BASE64.encode(bytes)),
                    })
                    .collect();
                let body = body.join(&SEPARATOR.to_string());
                let target = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
                let response = request(
                    *address,
                    "POST",
                    &target,
                    &[("Content-Type", "text/plain;charset=UTF-8")],
                    body.as_bytes(),
                )
                .await;
                if response.status == 200 {
                    assert_eq!(response.text(), "ok");
                    None
                } else {
                    Some(response.status)
                }
            }
            Way::WebSocket(sink) => {
                for packet in packets {
                    let message = match packet {
                        Out::Text(text) => Message::text(text),
                        Out::Binary(bytes) => Message::binary(bytes),
                    };
                    if within(sink.send(message)).await.is_err() {
                        break;
                    }
                }
                None
            }
        }
    }
}

/// Answers a ping in the background, when pongs are on.
async fn pong(way: &SharedWay, auto_pong: &AtomicBool) {
    if auto_pong.load(Ordering::Acquire) {
        let _ = way.lock().await.send(vec![text("3")]).await;
    }
}

/// A raw Engine.IO v4 client on `/socket.io/`: sends packets as written, and receives every
/// packet the server sends, in order, through a background reader (a GET always pending over
/// polling). The reader answers Engine.IO pings with pongs until
/// [`stop_pongs`](Client::stop_pongs); pings and noops are never handed to the test.
pub struct Client {
    pub transport: Transport,
    pub address: SocketAddr,
    /// The Engine.IO session id.
    pub sid: String,
    /// The open packet's JSON.
    pub open: serde_json::Value,
    auto_pong: Arc<AtomicBool>,
    way: SharedWay,
    incoming: mpsc::UnboundedReceiver<Incoming>,
    closed: Option<String>,
}

impl Client {
    /// Opens an Engine.IO session (no Socket.IO CONNECT yet).
    pub async fn open(address: SocketAddr, transport: Transport) -> Client {
        match transport {
            Transport::Polling => Client::open_polling(address).await,
            Transport::WebSocket => Client::open_websocket(address).await,
        }
    }

    /// Opens a session and joins the main namespace: `40` answered by `40{"sid":…}`.
    pub async fn connect(address: SocketAddr, transport: Transport) -> (Client, String) {
        let mut client = Client::open(address, transport).await;
        client.send("40").await;
        let sid = client.expect_connect("/").await;
        (client, sid)
    }

    async fn open_polling(address: SocketAddr) -> Client {
        let response = request(
            address,
            "GET",
            "/socket.io/?EIO=4&transport=polling",
            &[],
            b"",
        )
        .await;
        assert_eq!(response.status, 200, "{response:?}");
        let open = response
            .text()
            .strip_prefix('0')
            .expect("an open packet")
            .to_owned();
        let open: serde_json::Value = serde_json::from_str(&open).unwrap();
        let sid = open["sid"].as_str().unwrap().to_owned();
        let (incoming_tx, incoming) = mpsc::unbounded_channel();
        let way = Arc::new(tokio::sync::Mutex::new(Way::Polling {
            address,
            sid: sid.clone(),
        }));
        let auto_pong = Arc::new(AtomicBool::new(true));
        tokio::spawn(poll_forever(
            address,
            sid.clone(),
            incoming_tx,
            Arc::clone(&way),
            Arc::clone(&auto_pong),
        ));
        Client {
            transport: Transport::Polling,
            address,
            sid,
            open,
            auto_pong,
            way,
            incoming,
            closed: None,
        }
    }

    async fn open_websocket(address: SocketAddr) -> Client {
        let url = format!("ws://{address}/socket.io/?EIO=4&transport=websocket");
        let (ws, _) = within(tokio_tungstenite::connect_async(url)).await.unwrap();
        let (sink, mut stream) = ws.split();
        let way = Arc::new(tokio::sync::Mutex::new(Way::WebSocket(sink)));
        let auto_pong = Arc::new(AtomicBool::new(true));
        let (incoming_tx, mut incoming) = mpsc::unbounded_channel();
        let (reader_way, reader_pong) = (Arc::clone(&way), Arc::clone(&auto_pong));
        tokio::spawn(async move {
            let closed = loop {
                let frame = match stream.next().await {
                    Some(Ok(Message::Text(text))) if text.as_str() == "2" => {
                        pong(&reader_way, &reader_pong).await;
                        continue;
                    }
                    Some(Ok(Message::Text(text))) => Frame::Text(text.as_str().to_owned()),
                    Some(Ok(Message::Binary(bytes))) => Frame::Binary(bytes.to_vec()),
                    Some(Ok(Message::Close(frame))) => break format!("close frame {frame:?}"),
                    Some(Ok(_)) => continue,
                    Some(Err(error)) => break format!("websocket error: {error}"),
                    None => break "connection dropped".to_owned(),
                };
                if incoming_tx.send(Incoming::Frame(frame)).is_err() {
                    return;
                }
            };
            let _ = incoming_tx.send(Incoming::Closed(closed));
            // Let the closing handshake finish.
            while let Some(Ok(_)) = stream.next().await {}
        });
        let open = match within(incoming.recv()).await {
            Some(Incoming::Frame(Frame::Text(open))) => open,
            other => panic!("expected the open packet, got {other:?}"),
        };
        let open: serde_json::Value =
            serde_json::from_str(open.strip_prefix('0').expect("an open packet")).unwrap();
        let sid = open["sid"].as_str().unwrap().to_owned();
        Client {
            transport: Transport::WebSocket,
            address,
            sid,
            open,
            auto_pong,
            way,
            incoming,
            closed: None,
        }
    }

    /// From now on, pings go unanswered.
    pub fn stop_pongs(&self) {
        self.auto_pong.store(false, Ordering::Release);
    }

    /// Sends one Engine.IO text packet, such as `40` or `42["x"]`; asserts the server took it.
    pub async fn send(&mut self, packet: &str) {
        self.send_all(vec![text(packet)]).await;
    }

    /// Sends binary data in one Engine.IO message.
    pub async fn send_binary(&mut self, bytes: &[u8]) {
        self.send_all(vec![binary(bytes)]).await;
    }

    /// Sends packets in order: one POST with a payload of all of them over polling (binary as
    /// `b<base64>`), one frame each over WebSocket. Asserts `200 ok` for the POST.
    pub async fn send_all(&mut self, packets: Vec<Out>) {
        if let Some(status) = self.try_send_all(packets).await {
            panic!("the server refused the POST with {status}");
        }
    }

    /// Like [`send_all`](Client::send_all), for a session the server may be closing: returns
    /// the POST's status when it was not 200, and ignores WebSocket errors.
    pub async fn try_send_all(&mut self, packets: Vec<Out>) -> Option<u16> {
        within(self.way.lock()).await.send(packets).await
    }

    /// Closes the session from the client's side: a close frame over WebSocket, the close
    /// packet `1` over polling.
    pub async fn close(&mut self) {
        let mut way = within(self.way.lock()).await;
        match &mut *way {
            Way::Polling { .. } => {
                let _ = way.send(vec![text("1")]).await;
            }
            Way::WebSocket(sink) => {
                let _ = within(sink.send(Message::Close(None))).await;
            }
        }
    }

    /// The next packet from the server, or why the session closed; `None` when `deadline`
    /// (at most [`WAIT`] away) passes first. Noops are skipped.
    async fn next_incoming(
        &mut self,
        deadline: Option<tokio::time::Instant>,
    ) -> Option<Result<Frame, String>> {
        let ceiling = tokio::time::Instant::now() + WAIT;
        let deadline = deadline.map_or(ceiling, |deadline| deadline.min(ceiling));
        loop {
            if let Some(closed) = &self.closed {
                return Some(Err(closed.clone()));
            }
            let incoming = match tokio::time::timeout_at(deadline, self.incoming.recv()).await {
                Ok(incoming) => incoming,
                Err(_) => return None,
            };
            match incoming {
                Some(Incoming::Frame(Frame::Text(text))) if text == "6" => {}
                Some(Incoming::Frame(frame)) => return Some(Ok(frame)),
                Some(Incoming::Closed(how)) => self.closed = Some(how),
                Some(Incoming::Broken(what)) => panic!("over {:?}: {what}", self.transport),
                None => self.closed = Some("the reader stopped".to_owned()),
            }
        }
    }

    /// The next packet from the server; fails if the session closes first.
    pub async fn recv(&mut self) -> Frame {
        match self.next_incoming(None).await {
            Some(Ok(frame)) => frame,
            Some(Err(how)) => panic!("expected a packet, but the session closed ({how})"),
            None => panic!("timed out waiting for a packet over {:?}", self.transport),
        }
    }

    /// The next packet, which must be text.
    pub async fn recv_text(&mut self) -> String {
        match self.recv().await {
            Frame::Text(text) => text,
            Frame::Binary(bytes) => panic!("expected a text packet, got binary {bytes:?}"),
        }
    }

    /// Asserts the next packet is exactly `expected`.
    pub async fn expect(&mut self, expected: &str) {
        assert_eq!(
            self.recv_text().await,
            expected,
            "over {:?}",
            self.transport
        );
    }

    /// Asserts the next packet is binary with exactly these bytes.
    pub async fn expect_binary(&mut self, expected: &[u8]) {
        assert_eq!(
            self.recv().await,
            Frame::Binary(expected.to_vec()),
            "over {:?}",
            self.transport
        );
    }

    /// Asserts the next packet is the CONNECT answer for `namespace`, `40{"sid":"…"}` or
    /// `40/admin,{"sid":"…"}`, whose payload is an object with only a `sid`: 20 base64url
    /// characters, not the Engine.IO sid. Returns the sid.
    pub async fn expect_connect(&mut self, namespace: &str) -> String {
        let packet = self.recv_text().await;
        let prefix = if namespace == "/" {
            "40".to_owned()
        } else {
            format!("40{namespace},")
        };
        let json = packet
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("expected {prefix}{{\"sid\":…}}, got {packet:?}"));
        let payload: serde_json::Value = serde_json::from_str(json)
            .unwrap_or_else(|error| panic!("CONNECT payload {json:?}: {error}"));
        let object = payload.as_object().expect("an object payload");
        assert_eq!(object.len(), 1, "only a sid in {packet:?}");
        let sid = object["sid"].as_str().expect("a string sid");
        assert_eq!(sid.len(), 20, "a 20-character sid: {sid:?}");
        assert!(
            sid.bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'),
            "a base64url sid: {sid:?}"
        );
        assert_ne!(sid, self.sid, "the Socket.IO sid is not the Engine.IO sid");
        sid.to_owned()
    }

    /// Asserts that the server closes the session next (a close frame or a dropped connection
    /// over WebSocket; over polling the close packet `1`, or `400 {"code":1,…}` for a GET that
    /// came after the close), with no packet before.
    pub async fn expect_closed(&mut self) {
        match self.next_incoming(None).await {
            Some(Err(_)) => {}
            Some(Ok(frame)) => panic!(
                "expected the session to close, got {frame:?} over {:?}",
                self.transport
            ),
            None => panic!("timed out waiting for the close over {:?}", self.transport),
        }
    }

    /// Asserts that the server sends nothing, and does not close, for `millis` milliseconds.
    pub async fn expect_silence(&mut self, millis: u64) {
        assert!(
            Duration::from_millis(millis) < WAIT,
            "a silence longer than WAIT"
        );
        let deadline = tokio::time::Instant::now() + Duration::from_millis(millis);
        match self.next_incoming(Some(deadline)).await {
            None => {}
            Some(Ok(frame)) => panic!("expected silence, got {frame:?} over {:?}", self.transport),
            Some(Err(how)) => panic!(
                "expected silence, but the session closed ({how}) over {:?}",
                self.transport
            ),
        }
    }

    /// Whether the session is known to be closed (a close was received).
    pub fn is_closed(&self) -> bool {
        self.closed.is_some()
    }
}

/// Keeps a GET pending on the session, reporting each packet of each payload in order and
/// answering pings, until the close packet or a refusal.
async fn poll_forever(
    address: SocketAddr,
    sid: String,
    incoming: mpsc::UnboundedSender<Incoming>,
    way: SharedWay,
    auto_pong: Arc<AtomicBool>,
) {
    let target = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    loop {
        // Tests last seconds; this bound only stops a forgotten poller.
        let response =
            request_within(address, "GET", &target, &[], b"", Duration::from_secs(60)).await;
        if response.status != 200 {
            // A GET that came after the session was closed and forgotten.
            let gone = response.status == 400
                && response.text() == r#"{"code":1,"message":"Session ID unknown"}"#;
            let how = format!("GET answered {} {}", response.status, response.text());
            let _ = incoming.send(if gone {
                Incoming::Closed(how)
            } else {
                Incoming::Broken(how)
            });
            return;
        }
        for record in response.text().split(SEPARATOR) {
            let frame = match record.strip_prefix('b') {
                Some(base64) => match BASE64.decode(base64) {
                    Ok(bytes) => Frame::Binary(bytes),
                    Err(error) => {
                        let what = format!("bad base64 in {record:?}: {error}");
                        let _ = incoming.send(Incoming::Broken(what));
                        return;
                    }
                },
                None if record == "1" => {
                    let _ = incoming.send(Incoming::Closed("close packet 1".to_owned()));
                    return;
                }
                None if record == "2" => {
                    pong(&way, &auto_pong).await;
                    continue;
                }
                None => Frame::Text(record.to_owned()),
            };
            if incoming.send(Incoming::Frame(frame)).is_err() {
                return;
            }
        }
    }
}

/// The payload of a CONNECT answer as JSON, for tests that look inside.
pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|error| panic!("invalid JSON {text:?}: {error}"))
}

/// Defines, for each named `async fn name(transport: Transport)`, one test per transport:
/// `polling::name` and `websocket::name`.
#[macro_export]
macro_rules! on_both_transports {
    ($($name:ident),* $(,)?) => {
        mod polling {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::sio_support::Transport::Polling).await;
                }
            )*
        }
        mod websocket {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::sio_support::Transport::WebSocket).await;
                }
            )*
        }
    };
}

/// The application-side arguments a JSON array stands for, to compare with what a handler saw.
pub fn values(json_array: &str) -> Vec<sio_reference::socket_io::Value> {
    match json(json_array) {
        serde_json::Value::Array(items) => items
            .into_iter()
            .map(sio_reference::socket_io::Value::from)
            .collect(),
        other => panic!("not an array: {other}"),
    }
}

/// The application-side value of a JSON text.
pub fn value(json_text: &str) -> sio_reference::socket_io::Value {
    sio_reference::socket_io::Value::from(json(json_text))
}
