//! The `allow_request` hook (behaviors HS-14, HS-16, HS-17): the application's say on each
//! handshake, its place among the server's own checks, and the official refusals.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use sio_reference::server::engine_io::{AllowRequest, Config, Refusal, RemoteAddr};
use tokio::sync::{mpsc, oneshot};

use crate::support::*;

/// A hook that lets a request through when it carries `x-pass: yes`, refuses it otherwise with
/// `refusal`, and counts its calls.
fn gate(refusal: Refusal) -> (AllowRequest, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let hook = AllowRequest::new(move |request| {
        counted.fetch_add(1, Ordering::SeqCst);
        let pass = request
            .headers
            .get("x-pass")
            .is_some_and(|value| value == "yes");
        let refusal = refusal.clone();
        async move {
            if pass {
                Ok(())
            } else {
                Err(refusal)
            }
        }
    });
    (hook, calls)
}

fn with_hook(hook: AllowRequest) -> Config {
    Config {
        allow_request: Some(hook),
        ..quiet()
    }
}

fn assert_forbidden(response: &HttpResponse, body: &str) {
    assert_eq!(response.status, 403, "{response:?}");
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.header("cache-control"), None);
    assert_eq!(response.text(), body);
}

#[tokio::test]
async fn a_refused_polling_handshake_is_403_with_the_message() {
    let (hook, _) = gate(Refusal::with_message("Thou shall not pass"));
    let (address, mut sockets) = start_raw(with_hook(hook)).await;
    let refused = handshake_with(address, &[]).await;
    assert_forbidden(&refused, r#"{"code":4,"message":"Thou shall not pass"}"#);
    // No session was opened for it: the first the application sees is the allowed one.
    let allowed = handshake_with(address, &[("x-pass", "yes")]).await;
    let sid = sid_of(payload(&allowed));
    assert_eq!(accept(&mut sockets).await.id(), sid);
}

#[tokio::test]
async fn without_a_message_the_refusal_says_forbidden() {
    for refusal in [Refusal::new(), Refusal::with_message("")] {
        let (hook, _) = gate(refusal);
        let address = start(with_hook(hook)).await;
        assert_forbidden(
            &handshake_with(address, &[]).await,
            r#"{"code":4,"message":"Forbidden"}"#,
        );
    }
}

#[tokio::test]
async fn the_message_is_escaped_as_json() {
    let (hook, _) = gate(Refusal::with_message("say \"no\"\n\\ é"));
    let address = start(with_hook(hook)).await;
    assert_forbidden(
        &handshake_with(address, &[]).await,
        r#"{"code":4,"message":"say \"no\"\n\\ é"}"#,
    );
}

#[tokio::test]
async fn a_refused_websocket_gets_the_official_plain_400() {
    let (hook, _) = gate(Refusal::with_message("Thou shall not pass"));
    let address = start(with_hook(hook)).await;
    let refused = raw_ws_request(address, "EIO=4&transport=websocket", &[]).await;
    // Not 403, and not JSON (HS-17).
    assert_eq!(refused.status_line, "HTTP/1.1 400 Bad Request");
    assert_eq!(refused.header("connection"), Some("close"));
    assert_eq!(refused.header("content-type"), Some("text/html"));
    assert_eq!(refused.header("content-length"), Some("19"));
    assert_eq!(refused.text(), "Thou shall not pass");
    assert_eq!(
        ws_connect(address, "EIO=4&transport=websocket").await.err(),
        Some(400)
    );
}

#[tokio::test]
async fn an_allowed_websocket_opens_its_session() {
    let (hook, calls) = gate(Refusal::new());
    let address = start(with_hook(hook)).await;
    let (mut ws, _) = ws_connect_with(
        address,
        "/engine.io/?EIO=4&transport=websocket",
        &[("x-pass", "yes")],
    )
    .await
    .unwrap();
    assert!(next_text(&mut ws).await.starts_with(r#"0{"sid":"#));
    ws_send(&mut ws, "4hi").await;
    assert_eq!(next_text(&mut ws).await, "4hi");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn only_handshakes_are_put_to_the_hook() {
    let (hook, calls) = gate(Refusal::new());
    let address = start(with_hook(hook)).await;
    let sid = sid_of(payload(
        &handshake_with(address, &[("x-pass", "yes")]).await,
    ));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // Requests on the session, the upgrade included, carry no x-pass and are not refused.
    assert_ok(&send(address, &sid, "4on the session").await);
    assert_eq!(payload(&poll(address, &sid).await), "4on the session");
    let mut ws = ws_connect(address, &upgrade_query(&sid)).await.unwrap();
    ws_send(&mut ws, "2probe").await;
    assert_eq!(next_text(&mut ws).await, "3probe");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_hook_comes_after_the_servers_checks_and_before_the_version() {
    let (hook, calls) = gate(Refusal::new());
    let address = start(with_hook(hook)).await;
    // Transport, method and websocket-without-upgrade are checked first (HS-14) ...
    get(address, "EIO=4&transport=abc")
        .await
        .assert_error(0, "Transport unknown");
    poll(address, "AAAAAAAAAAAAAAAAAAAA")
        .await
        .assert_error(1, "Session ID unknown");
    request(
        address,
        "POST",
        "/engine.io/?EIO=4&transport=polling",
        &[],
        b"",
    )
    .await
    .assert_error(2, "Bad handshake method");
    get(address, "EIO=4&transport=websocket")
        .await
        .assert_error(3, "Bad request");
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    // ... the protocol version after: a refused EIO=3 handshake is 403, not code 5.
    assert_forbidden(
        &get(address, "EIO=3&transport=polling").await,
        r#"{"code":4,"message":"Forbidden"}"#,
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

/// What the hook saw of a request.
#[derive(Debug)]
struct Seen {
    method: String,
    uri: String,
    user_agent: Option<String>,
    remote: Option<SocketAddr>,
}

#[tokio::test]
async fn the_hook_sees_the_request_head_and_the_remote_address() {
    let seen = Arc::new(Mutex::new(None));
    let recorded = Arc::clone(&seen);
    let hook = AllowRequest::new(move |request| {
        *recorded.lock().unwrap() = Some(Seen {
            method: request.method.to_string(),
            uri: request.uri.to_string(),
            user_agent: request
                .headers
                .get("user-agent")
                .map(|value| value.to_str().unwrap().to_owned()),
            remote: request
                .extensions
                .get::<RemoteAddr>()
                .map(|RemoteAddr(address)| *address),
        });
        async { Ok(()) }
    });
    let address = start(with_hook(hook)).await;
    let stream = send_head(
        address,
        "GET",
        "/engine.io/?EIO=4&transport=polling&token=abc",
        &[("User-Agent", "conformance")],
        None,
        b"",
    )
    .await;
    let local = stream.local_addr().unwrap();
    payload(&read_response(stream).await);
    let seen = seen.lock().unwrap().take().unwrap();
    assert_eq!(seen.method, "GET");
    assert_eq!(seen.uri, "/engine.io/?EIO=4&transport=polling&token=abc");
    assert_eq!(seen.user_agent.as_deref(), Some("conformance"));
    assert_eq!(seen.remote, Some(local));
}

#[tokio::test]
async fn an_async_hook_holds_the_handshake_until_it_decides() {
    // The hook tells the test it was called and waits for the test's verdict.
    let (called_tx, mut called) = mpsc::unbounded_channel::<oneshot::Sender<bool>>();
    let hook = AllowRequest::new(move |_| {
        let (verdict_tx, verdict) = oneshot::channel();
        let _ = called_tx.send(verdict_tx);
        async move {
            match verdict.await {
                Ok(true) => Ok(()),
                _ => Err(Refusal::with_message("no")),
            }
        }
    });
    let address = start(with_hook(hook)).await;

    let pending = tokio::spawn(async move { get(address, "EIO=4&transport=polling").await });
    let verdict = within(called.recv()).await.unwrap();
    assert!(!pending.is_finished(), "answered before the hook decided");
    verdict.send(true).unwrap();
    payload(&within(pending).await.unwrap());

    let pending = tokio::spawn(async move { get(address, "EIO=4&transport=polling").await });
    within(called.recv()).await.unwrap().send(false).unwrap();
    assert_forbidden(
        &within(pending).await.unwrap(),
        r#"{"code":4,"message":"no"}"#,
    );
}
