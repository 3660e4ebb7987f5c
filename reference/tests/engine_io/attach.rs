//! Attaching the server to an existing application: the tower layer in an axum `Router`,
//! `EngineIo::handle` with bodies other than hyper's, and the server as a tower service.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::body::to_bytes;
use axum::extract::Request as AxumRequest;
use axum::routing::{get as get_route, post as post_route};
use axum::Router;
use bytes::Bytes;
use futures_util::stream;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody};
use sio_reference::server::engine_io::{Config, EngineIo, EngineIoLayer, TransportKind};

use crate::support::*;

/// Tells what the application received: method, URI, one header and the body.
async fn describe(request: AxumRequest) -> String {
    let (parts, body) = request.into_parts();
    let header = parts
        .headers
        .get("x-test")
        .map(|value| value.to_str().unwrap().to_owned());
    let body = to_bytes(body, 1024).await.unwrap();
    format!(
        "{} {} {:?} {}",
        parts.method,
        parts.uri,
        header,
        String::from_utf8_lossy(&body)
    )
}

/// An axum app with ordinary routes and the Engine.IO layer, served on 127.0.0.1:0, with an
/// echo application behind the engine.
async fn start_app(config: Config) -> SocketAddr {
    let (engine, sockets) = EngineIo::new(config);
    tokio::spawn(echo(sockets));
    let app = Router::new()
        .route("/hello", get_route(|| async { "hello" }))
        .route("/describe", post_route(describe))
        .layer(EngineIoLayer::new(engine));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

#[tokio::test]
async fn the_apps_own_routes_are_untouched() {
    let address = start_app(quiet()).await;
    let hello = request(address, "GET", "/hello", &[], b"").await;
    assert_eq!(hello.status, 200);
    assert_eq!(hello.text(), "hello");
    let described = request(
        address,
        "POST",
        "/describe?x=1",
        &[("X-Test", "passed through")],
        b"the body",
    )
    .await;
    assert_eq!(described.status, 200);
    assert_eq!(
        described.text(),
        r#"POST /describe?x=1 Some("passed through") the body"#
    );
    // The router's own fallback answers what neither knows.
    let missing = request(address, "GET", "/missing", &[], b"").await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.is_empty());
}

#[tokio::test]
async fn polling_works_through_the_layer() {
    let address = start_app(quiet()).await;
    let response = get(address, "EIO=4&transport=polling").await;
    let sid = sid_of(payload(&response));
    assert!(payload(&response).contains(r#""upgrades":["websocket"]"#));
    assert_ok(&send(address, &sid, "4through axum").await);
    assert_eq!(payload(&poll(address, &sid).await), "4through axum");
    // The engine's own errors, under its path.
    get(address, "EIO=4&transport=abc")
        .await
        .assert_error(0, "Transport unknown");
}

#[tokio::test]
async fn a_websocket_session_works_through_the_layer() {
    let address = start_app(quiet()).await;
    let (mut ws, open) = ws_handshake(address).await;
    assert!(open.contains(r#""upgrades":[]"#), "{open}");
    ws_send(&mut ws, "4over websocket").await;
    assert_eq!(next_text(&mut ws).await, "4over websocket");
    ws_send(&mut ws, "4again").await;
    assert_eq!(next_text(&mut ws).await, "4again");
}

#[tokio::test]
async fn the_upgrade_works_through_the_layer() {
    let address = start_app(quiet()).await;
    let sid = handshake(address).await;
    let mut ws = ws_connect(address, &upgrade_query(&sid)).await.unwrap();
    probe_and_upgrade(&mut ws).await;
    ws_send(&mut ws, "4upgraded").await;
    assert_eq!(next_text(&mut ws).await, "4upgraded");
    poll(address, &sid).await.assert_error(3, "Bad request");
}

fn engine_request<B>(method: Method, query: &str, body: B) -> Request<B> {
    Request::builder()
        .method(method)
        .uri(format!("/engine.io/?{query}"))
        .header("content-type", "text/plain;charset=UTF-8")
        .body(body)
        .unwrap()
}

async fn body_text(response: http::Response<sio_reference::server::engine_io::Body>) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn handle_takes_any_body_type() {
    let (engine, mut sockets) = EngineIo::new(quiet());
    let open = engine
        .handle(engine_request(
            Method::GET,
            "EIO=4&transport=polling",
            Full::new(Bytes::new()),
        ))
        .await;
    assert_eq!(open.status(), StatusCode::OK);
    let sid = sid_of(&body_text(open).await);
    let mut socket = accept(&mut sockets).await;
    assert_eq!(socket.transport(), TransportKind::Polling);

    // A body of another type, in chunks, with no Content-Length.
    let chunks = stream::iter(
        ["4hel", "lo\x1e4", "world"]
            .map(|chunk| Ok::<_, Infallible>(http_body::Frame::data(Bytes::from(chunk)))),
    );
    let posted = engine
        .handle(engine_request(
            Method::POST,
            &session_query(&sid),
            StreamBody::new(chunks),
        ))
        .await;
    assert_eq!(posted.status(), StatusCode::OK);
    assert_eq!(body_text(posted).await, "ok");
    assert_eq!(recv(&mut socket).await, Some(text("hello")));
    assert_eq!(recv(&mut socket).await, Some(text("world")));
}

#[tokio::test]
async fn the_size_limit_holds_for_any_body_type() {
    let (engine, _sockets) = EngineIo::new(Config {
        max_http_buffer_size: 100,
        ..quiet()
    });
    let open = engine
        .handle(engine_request(
            Method::GET,
            "EIO=4&transport=polling",
            Full::new(Bytes::new()),
        ))
        .await;
    let sid = sid_of(&body_text(open).await);
    // 30 chunks of 10 bytes, no Content-Length: only the count of bytes read can stop it.
    let chunks =
        stream::iter((0..30).map(|_| {
            Ok::<_, Infallible>(http_body::Frame::data(Bytes::from_static(b"4xxxxxxxxx")))
        }));
    let refused = engine
        .handle(engine_request(
            Method::POST,
            &session_query(&sid),
            StreamBody::new(chunks),
        ))
        .await;
    assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // The session stays open (PL-11).
    let posted = engine
        .handle(engine_request(
            Method::POST,
            &session_query(&sid),
            Full::new(Bytes::from("4small")),
        ))
        .await;
    assert_eq!(body_text(posted).await, "ok");
}

#[tokio::test]
async fn the_engine_is_a_tower_service_that_answers_404_outside_its_path() {
    use tower_service::Service;

    let (mut engine, _sockets) = EngineIo::new(quiet());
    std::future::poll_fn(|context| {
        Service::<Request<Full<Bytes>>>::poll_ready(&mut engine, context)
    })
    .await
    .unwrap();
    let outside = engine
        .call(
            Request::get("/elsewhere")
                .body(Full::new(Bytes::new()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(outside.status(), StatusCode::NOT_FOUND);
    let open = engine
        .call(engine_request(
            Method::GET,
            "EIO=4&transport=polling",
            Full::new(Bytes::new()),
        ))
        .await
        .unwrap();
    assert!(body_text(open).await.starts_with(r#"0{"sid":"#));
}
