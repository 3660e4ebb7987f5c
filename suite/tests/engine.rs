//! The engine against deliberately wrong servers: each must get FAIL (or NON-STRICT, or ERROR
//! when unreachable), never PASS and never a hang. The servers are a few lines of raw HTTP
//! over tokio, on 127.0.0.1.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sio_suite::engine::{self, CaseResult, RunOptions, Target, Verdict};
use sio_suite::scenario::{self, Case};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Short deadlines, so that stalls are detected quickly.
fn quick() -> RunOptions {
    RunOptions {
        step_timeout: Duration::from_millis(400),
        ..RunOptions::default()
    }
}

/// The cases of one scenario file.
fn cases(id: &str) -> Vec<Case> {
    let path = scenario::default_dir().join(format!("{id}.yaml"));
    let loaded = scenario::load_file(&path).unwrap_or_else(|error| panic!("{error}"));
    scenario::expand([loaded])
}

async fn run(id: &str, address: SocketAddr) -> CaseResult {
    let case = cases(id).remove(0);
    let started = std::time::Instant::now();
    let result = engine::run(&case, &Target::fixture(address), &quick()).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{id} took {:?}",
        started.elapsed()
    );
    result
}

/// What a scripted server does with a request.
enum Reply {
    /// Answers with this status and body.
    Respond(u16, &'static str),
    /// Never answers (the connection stays open).
    Hold,
    /// Writes these bytes, which are not HTTP, and closes.
    Garbage(&'static [u8]),
}

/// Serves every connection with `handler(method, target)`.
async fn serve(handler: impl Fn(&str, &str) -> Reply + Send + Sync + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let handler = Arc::new(handler);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handler = Arc::clone(&handler);
            tokio::spawn(async move { answer(stream, handler.as_ref()).await });
        }
    });
    address
}

async fn answer(mut stream: TcpStream, handler: &(dyn Fn(&str, &str) -> Reply + Send + Sync)) {
    let mut buffer = Vec::new();
    let mut chunk = [0_u8; 4096];
    while !buffer.windows(4).any(|window| window == b"\r\n\r\n") {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(read) => buffer.extend_from_slice(&chunk[..read]),
        }
    }
    let head = String::from_utf8_lossy(&buffer).into_owned();
    let mut words = head.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    match handler(method, target) {
        Reply::Respond(status, body) => {
            let response = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
            // Let the client read before the connection goes.
            let _ = stream.read(&mut chunk).await;
        }
        Reply::Hold => {
            let _ = stream.read(&mut chunk).await;
            std::future::pending::<()>().await;
        }
        Reply::Garbage(bytes) => {
            let _ = stream.write_all(bytes).await;
        }
    }
}

const OPEN: &str = r#"0{"sid":"abc","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#;

#[tokio::test]
async fn a_server_that_never_answers_fails_without_hanging() {
    let address = serve(|_, _| Reply::Hold).await;
    let result = run("eio4/handshake/polling-open", address).await;
    assert_eq!(result.verdict, Verdict::Fail, "{result}");
    let failure = result.failure.as_ref().expect("a failure");
    assert_eq!(failure.step, Some(1));
    assert!(failure.actual.contains("nothing within"), "{result}");
    assert!(failure
        .requirement
        .as_deref()
        .unwrap_or("")
        .contains("MUST respond with an `open` packet"));
}

#[tokio::test]
async fn a_server_that_never_answers_a_websocket_fails_without_hanging() {
    let address = serve(|_, _| Reply::Hold).await;
    let result = run("eio4/handshake/websocket-open", address).await;
    assert_eq!(result.verdict, Verdict::Fail, "{result}");
}

#[tokio::test]
async fn a_session_on_a_silent_server_fails_without_hanging() {
    let address = serve(|_, _| Reply::Hold).await;
    for case in cases("eio4/message/echo-text") {
        let result = engine::run(&case, &Target::fixture(address), &quick()).await;
        assert_eq!(result.verdict, Verdict::Fail, "{result}");
    }
}

#[tokio::test]
async fn an_unreachable_server_is_an_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener);
    let result = run("eio4/handshake/polling-open", address).await;
    assert_eq!(result.verdict, Verdict::Error, "{result}");
}

#[tokio::test]
async fn a_server_that_answers_garbage_fails() {
    let address = serve(|_, _| Reply::Garbage(b"SSH-2.0-OpenSSH\r\n\r\nnot http at all")).await;
    let result = run("eio4/handshake/polling-open", address).await;
    assert_eq!(result.verdict, Verdict::Fail, "{result}");
}

#[tokio::test]
async fn a_server_that_answers_a_duplicate_get_with_200_fails() {
    let pending = Arc::new(AtomicBool::new(false));
    let address = serve(move |method, target| {
        if !target.contains("sid=") {
            return Reply::Respond(200, OPEN);
        }
        if method == "POST" {
            return Reply::Respond(200, "ok");
        }
        if pending.swap(true, Ordering::SeqCst) {
            Reply::Respond(200, "6")
        } else {
            Reply::Hold
        }
    })
    .await;
    let result = run("eio4/polling/duplicate-get", address).await;
    assert_eq!(result.verdict, Verdict::Fail, "{result}");
    let failure = result.failure.as_ref().expect("a failure");
    assert_eq!(failure.step, Some(4), "{result}");
    assert!(failure.actual.starts_with("200"), "{result}");
}

#[tokio::test]
async fn a_payload_without_separators_is_non_strict_where_batching_is_a_should() {
    let address = serve(|method, target| {
        if !target.contains("sid=") {
            Reply::Respond(200, OPEN)
        } else if method == "POST" {
            Reply::Respond(200, "ok")
        } else {
            Reply::Respond(200, "4a4b4c")
        }
    })
    .await;
    let result = run("eio4/polling/batch-get", address).await;
    assert_eq!(result.verdict, Verdict::NonStrict, "{result}");
    let failure = result.failure.as_ref().expect("a failure");
    assert!(failure.actual.contains("\"4a4b4c\""), "{result}");
    assert!(failure.actual.contains("does not match"), "{result}");
}

#[tokio::test]
async fn a_post_answered_without_ok_fails() {
    let address = serve(|_, target| {
        if target.contains("sid=") {
            Reply::Respond(200, "OK")
        } else {
            Reply::Respond(200, OPEN)
        }
    })
    .await;
    let result = run("eio4/polling/post-ok", address).await;
    assert_eq!(result.verdict, Verdict::Fail, "{result}");
}

#[tokio::test]
async fn the_transcript_has_every_request_and_response() {
    let address = serve(|_, _| Reply::Respond(200, OPEN)).await;
    let result = run("eio4/handshake/polling-open", address).await;
    let text = result.transcript.to_string();
    assert!(
        text.contains("> GET /engine.io/?EIO=4&transport=polling"),
        "{text}"
    );
    assert!(text.contains("< 200"), "{text}");
    assert!(
        text.contains("> POST /engine.io/?EIO=4&transport=polling&sid=abc"),
        "{text}"
    );
    let json = serde_json::to_value(&result).expect("serializable");
    assert!(json["transcript"]["events"]
        .as_array()
        .is_some_and(|events| events.len() >= 4));
}

#[tokio::test]
async fn a_target_without_a_feature_is_unsupported() {
    let mut target = Target::fixture("127.0.0.1:9".parse().expect("address"));
    target.features = Some([scenario::Feature::Polling].into_iter().collect());
    for case in cases("eio4/message/echo-text") {
        let result = engine::run(&case, &target, &quick()).await;
        let expected = match case.variant.transport {
            Some(scenario::Transport::Polling) => Verdict::Error,
            _ => Verdict::Unsupported,
        };
        assert_eq!(result.verdict, expected, "{result}");
    }
}

#[test]
fn a_case_run_can_be_spawned() {
    fn assert_send<T: Send>(_: &T) {}
    let case = cases("eio4/handshake/polling-open").remove(0);
    let target = Target::fixture("127.0.0.1:9".parse().expect("address"));
    let options = RunOptions::default();
    assert_send(&engine::run(&case, &target, &options));
}

/// A WebSocket-only Engine.IO server that sends a noop `6` before each echo, and answers a
/// close packet `1` with one (then keeps the connection open).
async fn serve_noisy_websocket() -> SocketAddr {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
                    return;
                };
                let open = r#"0{"sid":"s1","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#;
                let _ = ws.send(Message::text(open)).await;
                while let Some(Ok(Message::Text(text))) = ws.next().await {
                    if text.as_str() == "1" {
                        let _ = ws.send(Message::text("1")).await;
                    } else if text.as_str().starts_with('4') {
                        let _ = ws.send(Message::text("6")).await;
                        let _ = ws.send(Message::text(text.as_str())).await;
                    }
                }
            });
        }
    });
    address
}

#[tokio::test]
async fn a_session_over_websocket_lets_noops_pass_and_ends_on_a_close_packet() {
    let address = serve_noisy_websocket().await;
    let case = cases("eio4/message/echo-text")
        .into_iter()
        .find(|case| case.id.ends_with("[websocket]"))
        .expect("the websocket case");
    let result = engine::run(&case, &Target::fixture(address), &quick()).await;
    assert_eq!(result.verdict, Verdict::Pass, "{result}");
    // The server's `1` over WebSocket is the session's end, as over polling.
    let case = cases("eio4/close/close-packet")
        .into_iter()
        .find(|case| case.id.ends_with("[websocket]"))
        .expect("the websocket case");
    let result = engine::run(&case, &Target::fixture(address), &quick()).await;
    assert_eq!(result.verdict, Verdict::Pass, "{result}");
}

/// What the WebSocket handshake request asked for: its `Sec-WebSocket-Key`.
async fn read_websocket_key(stream: &mut TcpStream) -> Option<String> {
    let mut buffer = Vec::new();
    let mut chunk = [0_u8; 4096];
    while !buffer.windows(4).any(|window| window == b"\r\n\r\n") {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(read) => buffer.extend_from_slice(&chunk[..read]),
        }
    }
    let head = String::from_utf8_lossy(&buffer).into_owned();
    head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("sec-websocket-key")
            .then(|| value.trim().to_owned())
    })
}

/// An unmasked server frame: FIN, the opcode, the payload.
fn server_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x80 | opcode];
    match payload.len() {
        length if length < 126 => frame.push(u8::try_from(length).expect("short")),
        length => {
            frame.push(126);
            frame.extend_from_slice(&u16::try_from(length).expect("medium").to_be_bytes());
        }
    }
    frame.extend_from_slice(payload);
    frame
}

const TEXT: u8 = 0x1;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xA;
const WS_OPEN: &str =
    r#"0{"sid":"s1","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#;

/// A WebSocket server written frame by frame: after the 101 and the open packet, `script` has
/// the connection (what the client sends is not decoded: tungstenite's automatic answers are
/// the client's part under test).
async fn serve_raw_websocket<F, Fut>(script: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let script = Arc::new(script);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let script = Arc::clone(&script);
            tokio::spawn(async move {
                let Some(key) = read_websocket_key(&mut stream).await else {
                    return;
                };
                let response = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
                    derive_accept_key(key.as_bytes())
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream
                    .write_all(&server_frame(TEXT, WS_OPEN.as_bytes()))
                    .await;
                script(stream).await;
            });
        }
    });
    address
}

/// Reads what the client sends until `count` bytes have come (or the connection ends).
async fn read_at_least(stream: &mut TcpStream, count: usize) {
    let mut chunk = vec![0_u8; 64 * 1024];
    let mut total = 0;
    while total < count {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(read) => total += read,
        }
    }
}

/// Reads until the client closes, so that closing never resets the connection.
async fn drain(mut stream: TcpStream) {
    let mut chunk = [0_u8; 4096];
    while matches!(stream.read(&mut chunk).await, Ok(read) if read > 0) {}
}

/// After the frame over maxPayload: a close frame with `code`, or none (`None`: the TCP
/// connection is shut down without one).
async fn serve_close_after_big_frame(code: Option<u16>) -> SocketAddr {
    serve_raw_websocket(move |mut stream| async move {
        read_at_least(&mut stream, 1_000_001).await;
        match code {
            Some(code) => {
                let _ = stream
                    .write_all(&server_frame(CLOSE, &code.to_be_bytes()))
                    .await;
            }
            None => {
                let _ = stream.shutdown().await;
            }
        }
        drain(stream).await;
    })
    .await
}

#[tokio::test]
async fn ws_closed_with_a_code_needs_a_close_frame_with_that_code() {
    let address = serve_close_after_big_frame(Some(1009)).await;
    let result = run("eio4/websocket/frame-over-max-payload", address).await;
    assert_eq!(result.verdict, Verdict::Pass, "{result}");

    let address = serve_close_after_big_frame(Some(1000)).await;
    let result = run("eio4/websocket/frame-over-max-payload", address).await;
    assert_eq!(result.verdict, Verdict::Informational, "{result}");
    let failure = result.failure.as_ref().expect("a failure");
    assert_eq!(failure.step, Some(4), "{result}");
    assert!(failure.expected.contains("code 1009"), "{result}");
    assert!(failure.actual.contains("code 1000"), "{result}");

    // No close frame at all: the connection's end never meets an expected code.
    let address = serve_close_after_big_frame(None).await;
    let result = run("eio4/websocket/frame-over-max-payload", address).await;
    assert_eq!(result.verdict, Verdict::Informational, "{result}");
    let failure = result.failure.as_ref().expect("a failure");
    assert!(
        failure.actual.contains("without a close frame")
            || failure.actual.contains("without closing handshake"),
        "{result}"
    );
}

#[tokio::test]
async fn a_server_ping_control_frame_is_seen_only_where_control_frames_are_queued() {
    let address = serve_raw_websocket(|mut stream| async move {
        let _ = stream.write_all(&server_frame(PING, b"beat")).await;
        let _ = stream.write_all(&server_frame(TEXT, b"2")).await;
        drain(stream).await;
    })
    .await;
    let result = run("eio4/websocket/no-control-ping", address).await;
    assert_eq!(result.verdict, Verdict::Informational, "{result}");
    let failure = result.failure.as_ref().expect("a failure");
    assert_eq!(failure.step, Some(3), "{result}");
    assert!(
        failure.actual.contains("a ping control frame \"beat\""),
        "{result}"
    );
    // Without `control_frames`, the ping is recorded (and answered by tungstenite), and the
    // steps see the data frames only.
    let result = run("eio4/handshake/websocket-open", address).await;
    assert_eq!(result.verdict, Verdict::Pass, "{result}");
    let text = result.transcript.to_string();
    assert!(text.contains("< ping control frame \"beat\""), "{text}");
    assert!(text.contains("> pong control frame \"beat\""), "{text}");
}

#[tokio::test]
async fn a_client_ping_must_be_answered_by_a_pong_with_the_same_data() {
    // Never answered.
    let address = serve_raw_websocket(drain).await;
    let result = run("eio4/websocket/control-ping-answered", address).await;
    assert_eq!(result.verdict, Verdict::Informational, "{result}");
    let failure = result.failure.as_ref().expect("a failure");
    assert_eq!(failure.step, Some(4), "{result}");
    assert!(failure.actual.contains("nothing within"), "{result}");
    assert!(
        result
            .transcript
            .to_string()
            .contains("> ping control frame \"conformance\""),
        "{result}"
    );

    // Answered with other data.
    let address = serve_raw_websocket(|mut stream| async move {
        read_at_least(&mut stream, 1).await;
        let _ = stream.write_all(&server_frame(PONG, b"other")).await;
        drain(stream).await;
    })
    .await;
    let result = run("eio4/websocket/control-ping-answered", address).await;
    assert_eq!(result.verdict, Verdict::Informational, "{result}");
    let failure = result.failure.as_ref().expect("a failure");
    assert!(
        failure.actual.contains("a pong control frame \"other\""),
        "{result}"
    );

    // Answered by a WebSocket library, as RFC 6455 asks.
    let address = serve_tungstenite(None).await;
    let result = run("eio4/websocket/control-ping-answered", address).await;
    assert_eq!(result.verdict, Verdict::Pass, "{result}");
}

/// A WebSocket-only Engine.IO server on tungstenite (which answers pings) that sends the open
/// packet and reads; its 101 carries `extension` as `Sec-WebSocket-Extensions` when given.
async fn serve_tungstenite(extension: Option<&'static str>) -> SocketAddr {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
    use tokio_tungstenite::tungstenite::Message;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                // The callback's signature, and its large error type, are tungstenite's.
                #[allow(clippy::result_large_err)]
                let callback = move |_: &Request, mut response: Response| {
                    if let Some(extension) = extension {
                        let value = extension.parse().expect("a header value");
                        response
                            .headers_mut()
                            .insert("Sec-WebSocket-Extensions", value);
                    }
                    Ok(response)
                };
                let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
                    return;
                };
                let _ = ws.send(Message::text(WS_OPEN)).await;
                while let Some(Ok(_)) = ws.next().await {}
            });
        }
    });
    address
}

#[tokio::test]
async fn the_headers_of_a_101_are_checked() {
    let address = serve_tungstenite(None).await;
    let result = run("eio4/websocket/no-permessage-deflate", address).await;
    assert_eq!(result.verdict, Verdict::Pass, "{result}");

    let address = serve_tungstenite(Some("permessage-deflate")).await;
    let result = run("eio4/websocket/no-permessage-deflate", address).await;
    assert_eq!(result.verdict, Verdict::Informational, "{result}");
    let failure = result.failure.as_ref().expect("a failure");
    assert_eq!(failure.step, Some(1), "{result}");
    assert!(
        failure
            .actual
            .contains("Sec-WebSocket-Extensions: permessage-deflate"),
        "{result}"
    );
}

/// A polling server whose session ends `delay` after the connection of a held request (a GET,
/// or a POST whose body is incomplete) is closed by the client; `None`: it never ends.
async fn serve_session_ending_on_abort(delay: Option<Duration>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let gone = Arc::new(AtomicBool::new(false));
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let gone = Arc::clone(&gone);
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                let mut chunk = [0_u8; 4096];
                while !buffer.windows(4).any(|window| window == b"\r\n\r\n") {
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => buffer.extend_from_slice(&chunk[..read]),
                    }
                }
                let head = String::from_utf8_lossy(&buffer).into_owned();
                let held = head.contains("Content-Length: 20")
                    || head.starts_with("GET /engine.io/?EIO=4&transport=polling&sid=");
                let (status, body) = if !head.contains("sid=") {
                    (200, OPEN)
                } else if gone.load(Ordering::SeqCst) {
                    (400, r#"{"code":1,"message":"Session ID unknown"}"#)
                } else if held {
                    // Held until the client closes the connection.
                    while matches!(stream.read(&mut chunk).await, Ok(read) if read > 0) {}
                    if let Some(delay) = delay {
                        tokio::time::sleep(delay).await;
                        gone.store(true, Ordering::SeqCst);
                    }
                    return;
                } else {
                    (200, "ok")
                };
                let response = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                drain(stream).await;
            });
        }
    });
    address
}

#[tokio::test]
async fn abort_closes_the_connection_of_a_held_request() {
    for id in [
        "eio4/polling/aborted-get-closes",
        "eio4/polling/aborted-post-closes",
    ] {
        // The session ends some time after the abort: `retry` tries until it has.
        let address = serve_session_ending_on_abort(Some(Duration::from_millis(30))).await;
        let result = run(id, address).await;
        assert_eq!(result.verdict, Verdict::Pass, "{result}");
        let text = result.transcript.to_string();
        assert!(text.contains("** aborted"), "{text}");
        assert!(
            text.matches("> POST").count() >= 2,
            "the first POST comes before the session ends: {text}"
        );

        // It never ends: the retried POST is never refused, within the step's window.
        let address = serve_session_ending_on_abort(None).await;
        let result = run(id, address).await;
        assert_eq!(result.verdict, Verdict::Informational, "{result}");
        let failure = result.failure.as_ref().expect("a failure");
        assert_eq!(failure.step, Some(5), "{result}");
        assert!(failure.actual.starts_with("200"), "{result}");
        assert!(failure.actual.contains("the last of"), "{result}");
    }
}
