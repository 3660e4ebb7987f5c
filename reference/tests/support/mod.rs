//! Shared helpers for the Engine.IO server tests: a server on 127.0.0.1:0, a raw HTTP/1.1
//! client over a TCP stream, and a raw WebSocket client. No Engine.IO client library is used.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use sio_reference::engine_io::Data;
use sio_reference::server::engine_io::{Config, EngineIo, Socket, Sockets};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

mod http;
pub use http::*;

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Timers short enough for heartbeat tests.
pub fn fast() -> Config {
    Config {
        ping_interval: Duration::from_millis(300),
        ping_timeout: Duration::from_millis(200),
        upgrade_timeout: Duration::from_millis(500),
        ..Config::default()
    }
}

/// Timers long enough that no ping interferes with a test.
pub fn quiet() -> Config {
    Config {
        ping_interval: Duration::from_millis(20_000),
        ping_timeout: Duration::from_millis(10_000),
        upgrade_timeout: Duration::from_millis(500),
        ..Config::default()
    }
}

/// Starts a server and hands its new sessions to the test.
pub async fn start_raw(config: Config) -> (SocketAddr, Sockets) {
    let (server, sockets) = EngineIo::new(config);
    let (address, serving) = server.listen("127.0.0.1:0").await.unwrap();
    tokio::spawn(serving);
    (address, sockets)
}

/// Starts an echo server: every message is sent back.
pub async fn start(config: Config) -> SocketAddr {
    let (address, sockets) = start_raw(config).await;
    tokio::spawn(echo(sockets));
    address
}

/// Echoes every message of every session of `sockets`.
pub async fn echo(mut sockets: Sockets) {
    while let Some(mut socket) = sockets.accept().await {
        tokio::spawn(async move {
            while let Some(data) = socket.recv().await {
                let _ = socket.send(data);
            }
        });
    }
}

/// The next session of a [`start_raw`] server.
pub async fn accept(sockets: &mut Sockets) -> Socket {
    within(sockets.accept()).await.unwrap()
}

/// A server with one polling session open: its address, the sid, and the application's end.
pub async fn polling_session(config: Config) -> (SocketAddr, String, Socket) {
    let (address, mut sockets) = start_raw(config).await;
    let sid = handshake(address).await;
    let socket = accept(&mut sockets).await;
    assert_eq!(socket.id(), sid);
    (address, sid, socket)
}

/// A server with one WebSocket-only session open: its address, the client's WebSocket (its
/// open packet read), and the application's end.
pub async fn ws_session(config: Config) -> (SocketAddr, Ws, Socket) {
    let (address, mut sockets) = start_raw(config).await;
    let (ws, _) = ws_handshake(address).await;
    let socket = accept(&mut sockets).await;
    (address, ws, socket)
}

/// Starts a polling GET in the background and returns once the server holds it open, so that
/// a request raced against it is certain to come second.
pub async fn held_poll(
    address: SocketAddr,
    sid: &str,
    socket: &Socket,
) -> JoinHandle<HttpResponse> {
    let mut activity = socket.activity();
    let held = activity.borrow().held_gets;
    let pending = poll_in_background(address, sid);
    within(activity.wait_for(|activity| activity.held_gets > held))
        .await
        .unwrap();
    pending
}

/// Starts a POST on the session whose body never completes, and returns once the server has
/// started reading it.
pub async fn stalled_post(address: SocketAddr, sid: &str, socket: &Socket) -> TcpStream {
    let mut activity = socket.activity();
    let posts = activity.borrow().posts;
    let stream = send_head(address, "POST", &session_target(sid), &[], Some(100), b"4a").await;
    within(activity.wait_for(|activity| activity.posts > posts))
        .await
        .unwrap();
    stream
}

/// Waits until the server has forgotten the session.
pub async fn released(socket: &Socket) {
    within(socket.activity().wait_for(|activity| activity.released))
        .await
        .unwrap();
}

/// `GET /engine.io/?<query>`.
pub async fn get(address: SocketAddr, query: &str) -> HttpResponse {
    request(address, "GET", &format!("/engine.io/?{query}"), &[], b"").await
}

/// `POST /engine.io/?<query>` with a text body.
pub async fn post(address: SocketAddr, query: &str, body: &str) -> HttpResponse {
    request(
        address,
        "POST",
        &format!("/engine.io/?{query}"),
        &[("Content-Type", "text/plain;charset=UTF-8")],
        body.as_bytes(),
    )
    .await
}

/// The query of a polling request on the session.
pub fn session_query(sid: &str) -> String {
    format!("EIO=4&transport=polling&sid={sid}")
}

/// The request target of a polling request on the session.
pub fn session_target(sid: &str) -> String {
    format!("/engine.io/?{}", session_query(sid))
}

/// The query of a WebSocket that upgrades the session.
pub fn upgrade_query(sid: &str) -> String {
    format!("EIO=4&transport=websocket&sid={sid}")
}

/// Asserts that the session is closed: a request with its sid gets `400 {"code":1,…}`.
pub async fn assert_session_gone(address: SocketAddr, sid: &str) {
    poll(address, sid)
        .await
        .assert_error(1, "Session ID unknown");
}

/// A polling GET on the session.
pub async fn poll(address: SocketAddr, sid: &str) -> HttpResponse {
    get(address, &session_query(sid)).await
}

/// A polling GET on the session, running in the background.
pub fn poll_in_background(address: SocketAddr, sid: &str) -> tokio::task::JoinHandle<HttpResponse> {
    let sid = sid.to_owned();
    tokio::spawn(async move { poll(address, &sid).await })
}

/// A polling POST of `body` on the session.
pub async fn send(address: SocketAddr, sid: &str, body: &str) -> HttpResponse {
    post(address, &session_query(sid), body).await
}

/// Asserts `200 ok` for a POST.
pub fn assert_ok(response: &HttpResponse) {
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.text(), "ok");
    assert_eq!(response.header("content-type"), Some("text/html"));
    assert_eq!(response.header("cache-control"), Some("no-store"));
}

/// Asserts a 200 polling payload and returns its text.
pub fn payload(response: &HttpResponse) -> &str {
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; charset=UTF-8")
    );
    assert_eq!(response.header("cache-control"), Some("no-store"));
    response.text()
}

/// The sid out of an open packet `0{"sid":"…",…}`.
pub fn sid_of(open: &str) -> String {
    let json: serde_json::Value =
        serde_json::from_str(open.strip_prefix('0').expect("an open packet")).unwrap();
    json["sid"].as_str().unwrap().to_owned()
}

/// A polling handshake request with extra headers; returns the response.
pub async fn handshake_with(address: SocketAddr, headers: &[(&str, &str)]) -> HttpResponse {
    let target = "/engine.io/?EIO=4&transport=polling";
    request(address, "GET", target, headers, b"").await
}

/// A polling handshake; returns the sid.
pub async fn handshake(address: SocketAddr) -> String {
    let response = get(address, "EIO=4&transport=polling").await;
    sid_of(payload(&response))
}

/// Opens a WebSocket on `/engine.io/?<query>`; `Err(status)` when the server refuses it.
pub async fn ws_connect(address: SocketAddr, query: &str) -> Result<Ws, u16> {
    ws_connect_with(address, &format!("/engine.io/?{query}"), &[])
        .await
        .map(|(ws, _)| ws)
}

/// The head of the server's answer to a WebSocket request.
pub type WsResponse = tokio_tungstenite::tungstenite::handshake::client::Response;

/// Opens a WebSocket on `target` with extra request headers; returns it with the `101`
/// response, or `Err(status)` when the server refuses it.
pub async fn ws_connect_with(
    address: SocketAddr,
    target: &str,
    headers: &[(&'static str, &str)],
) -> Result<(Ws, WsResponse), u16> {
    let mut request = format!("ws://{address}{target}")
        .into_client_request()
        .unwrap();
    for (name, value) in headers {
        request
            .headers_mut()
            .insert(*name, HeaderValue::from_str(value).unwrap());
    }
    match within(tokio_tungstenite::connect_async(request)).await {
        Ok(connected) => Ok(connected),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(error) => panic!("websocket connect failed: {error}"),
    }
}

/// A WebSocket request written by hand, for the exact bytes of a refusal: the response up to
/// the server's close.
pub async fn raw_ws_request(
    address: SocketAddr,
    query: &str,
    extra_headers: &[(&str, &str)],
) -> HttpResponse {
    let mut headers = vec![
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];
    headers.extend_from_slice(extra_headers);
    let target = format!("/engine.io/?{query}");
    let stream = send_head(address, "GET", &target, &headers, None, b"").await;
    read_response(stream).await
}

/// A WebSocket-only session; returns it with its open packet.
pub async fn ws_handshake(address: SocketAddr) -> (Ws, String) {
    let mut ws = ws_connect(address, "EIO=4&transport=websocket")
        .await
        .unwrap();
    let open = next_text(&mut ws).await;
    (ws, open)
}

/// The next data frame (text or binary), skipping control frames; `None` on close.
pub async fn next_frame(ws: &mut Ws) -> Option<Message> {
    loop {
        match within(ws.next()).await {
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(message)) => return Some(message),
            Some(Err(_)) | None => return None,
        }
    }
}

/// The next frame, which must be text.
pub async fn next_text(ws: &mut Ws) -> String {
    match next_frame(ws).await {
        Some(Message::Text(text)) => text.as_str().to_owned(),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

/// Asserts that no data frame arrives on the WebSocket for `duration`.
pub async fn assert_silent(ws: &mut Ws, duration: Duration) {
    if let Ok(frame) = tokio::time::timeout(duration, next_frame(ws)).await {
        panic!("expected silence for {duration:?}, got {frame:?}");
    }
}

/// Asserts the server closes the WebSocket: a close frame (with no status) or the end.
pub async fn assert_closed(ws: &mut Ws) {
    loop {
        match next_frame(ws).await {
            None | Some(Message::Close(None)) => return,
            Some(Message::Close(Some(frame))) => panic!("close frame with a status: {frame:?}"),
            // Frames already in flight (a ping) may come first.
            Some(Message::Text(text)) if text.as_str() == "2" => continue,
            Some(other) => panic!("expected the close, got {other:?}"),
        }
    }
}

/// Completes an upgrade on a probing WebSocket: `2probe`, `3probe` back, then `5`.
pub async fn probe_and_upgrade(ws: &mut Ws) {
    ws_send(ws, "2probe").await;
    assert_eq!(next_text(ws).await, "3probe");
    ws_send(ws, "5").await;
}

pub async fn ws_send(ws: &mut Ws, text: &str) {
    within(ws.send(Message::text(text))).await.unwrap();
}

/// Receives the application's next message, or `None` once the session closed.
pub async fn recv(socket: &mut Socket) -> Option<Data> {
    within(socket.recv()).await
}

pub fn text(data: &str) -> Data {
    Data::Text(data.to_owned())
}
