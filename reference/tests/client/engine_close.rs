//! The close after a failure over polling: a scripted polling server (the open packet, then the
//! CONNECT answer, then what the test gives or nothing at all) records every POST body, and the
//! client must close the session it gave up on with a POST `1`, as it does over WebSocket with
//! a close frame.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use http::Uri;
use sio_reference::client::{DisconnectReason, SocketEvent, TransportKind};
use tokio::sync::{mpsc, Mutex};

use crate::support::*;

/// What the scripted server answers the session's GETs with, in order; once they are used up,
/// the GET is held and never answered (the server is silent: no ping, no packet).
struct Script {
    answers: Mutex<Vec<&'static str>>,
    posts: mpsc::UnboundedSender<String>,
}

async fn on_get(State(script): State<Arc<Script>>, uri: Uri) -> String {
    let query = uri.query().unwrap_or_default();
    if !query.contains("sid=") {
        return r#"0{"sid":"s","upgrades":[],"pingInterval":200,"pingTimeout":100,"maxPayload":100000}"#.to_owned();
    }
    let next = {
        let mut answers = script.answers.lock().await;
        (!answers.is_empty()).then(|| answers.remove(0))
    };
    match next {
        Some(answer) => answer.to_owned(),
        None => std::future::pending().await,
    }
}

async fn on_post(State(script): State<Arc<Script>>, body: String) -> &'static str {
    let _ = script.posts.send(body);
    "ok"
}

/// Serves `answers` (after the CONNECT answer) and returns the address and the POST bodies.
async fn scripted(
    answers: Vec<&'static str>,
) -> (std::net::SocketAddr, mpsc::UnboundedReceiver<String>) {
    let (posts, bodies) = mpsc::unbounded_channel();
    let mut all = vec![r#"40{"sid":"a"}"#];
    all.extend(answers);
    let script = Arc::new(Script {
        answers: Mutex::new(all),
        posts,
    });
    let router = Router::new()
        .route("/socket.io/", get(on_get).post(on_post))
        .with_state(script);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (address, bodies)
}

/// Connects over polling, then expects the disconnection for `reason` and a POST `1`.
async fn closes_with_a_close_packet(answers: Vec<&'static str>, reason: DisconnectReason) {
    let (address, mut bodies) = scripted(answers).await;
    let (_socket, mut events) = builder(address)
        .transports([TransportKind::Polling])
        .reconnection(false)
        .connect("/")
        .unwrap();
    connected(&mut events).await;
    match next(&mut events).await {
        SocketEvent::Disconnect { reason: found } => assert_eq!(found, reason),
        other => panic!("expected a disconnection, got {other:?}"),
    }
    loop {
        let body = within(bodies.recv()).await.expect("the server ended");
        // The CONNECT `40` comes first; the close is the last word.
        if body == "1" {
            break;
        }
        assert_eq!(body, "40", "unexpected POST");
    }
}

#[tokio::test]
async fn a_ping_timeout_over_polling_posts_a_close_packet() {
    // pingInterval 200 + pingTimeout 100, and the server never pings.
    let started = tokio::time::Instant::now();
    closes_with_a_close_packet(Vec::new(), DisconnectReason::PingTimeout).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn an_unknown_packet_type_over_polling_posts_a_close_packet() {
    closes_with_a_close_packet(vec!["9"], DisconnectReason::TransportError).await;
}

#[tokio::test]
async fn an_empty_payload_over_polling_posts_a_close_packet() {
    closes_with_a_close_packet(vec![""], DisconnectReason::TransportError).await;
}
