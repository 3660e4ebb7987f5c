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
    assert!(failure.actual.contains("1 packet(s)"), "{result}");
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
