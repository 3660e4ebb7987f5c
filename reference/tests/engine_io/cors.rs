//! The `cors` option (behaviors HS-27, HS-28, HS-29): off by default; when set, the preflight
//! and the headers of the npm `cors` package, on every engine response.

use std::net::SocketAddr;
use std::time::Duration;

use http::StatusCode;
use sio_reference::server::engine_io::{Config, Cors, CorsOrigin};

use crate::support::*;

const ORIGIN: &str = "https://example.com";

fn with_cors(cors: Cors) -> Config {
    Config {
        cors: Some(cors),
        ..quiet()
    }
}

fn listed() -> Cors {
    Cors {
        origin: CorsOrigin::List(vec![ORIGIN.to_owned(), "https://other.example".to_owned()]),
        credentials: true,
        ..Cors::default()
    }
}

async fn preflight(address: SocketAddr, target: &str, headers: &[(&str, &str)]) -> HttpResponse {
    request(address, "OPTIONS", target, headers, b"").await
}

/// A browser's preflight of a polling POST from `origin`.
async fn browser_preflight(address: SocketAddr, origin: &str) -> HttpResponse {
    preflight(
        address,
        "/engine.io/?EIO=4&transport=polling",
        &[
            ("Origin", origin),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type"),
        ],
    )
    .await
}

fn assert_no_cors(response: &HttpResponse) {
    let cors: Vec<_> = response
        .header_names()
        .into_iter()
        .filter(|name| name.starts_with("access-control-") || name == "vary")
        .collect();
    assert!(cors.is_empty(), "{cors:?} in {response:?}");
}

fn assert_empty_preflight(response: &HttpResponse) {
    assert_eq!(response.status, 204, "{response:?}");
    // The official server also sends `Content-Length: 0`, which RFC 9110 forbids on a 204
    // and hyper leaves out.
    assert_eq!(response.header("content-length"), None);
    assert!(response.body.is_empty());
}

#[tokio::test]
async fn off_by_default_so_a_preflight_fails() {
    let address = start(quiet()).await;
    let refused = browser_preflight(address, ORIGIN).await;
    refused.assert_error(2, "Bad handshake method");
    assert_no_cors(&refused);
    let sid = handshake(address).await;
    let refused = preflight(address, &session_target(&sid), &[("Origin", ORIGIN)]).await;
    assert_eq!(refused.status, 500);
    assert!(refused.body.is_empty());
    assert_no_cors(&refused);
    let response = handshake_with(address, &[("Origin", ORIGIN)]).await;
    payload(&response);
    assert_no_cors(&response);
}

#[tokio::test]
async fn any_origin_preflight_has_the_cors_package_headers() {
    let address = start(with_cors(Cors::default())).await;
    let response = browser_preflight(address, ORIGIN).await;
    assert_empty_preflight(&response);
    assert_eq!(response.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        response.header("access-control-allow-methods"),
        Some("GET,HEAD,PUT,PATCH,POST,DELETE")
    );
    assert_eq!(
        response.header("access-control-allow-headers"),
        Some("content-type")
    );
    assert_eq!(
        response.header_values("vary"),
        ["Access-Control-Request-Headers"]
    );
    assert_eq!(response.header("access-control-allow-credentials"), None);
    let order: Vec<_> = response
        .header_names()
        .into_iter()
        .filter(|name| name.starts_with("access-control-") || name == "vary")
        .collect();
    assert_eq!(
        order,
        [
            "access-control-allow-origin",
            "access-control-allow-methods",
            "vary",
            "access-control-allow-headers"
        ]
    );
}

#[tokio::test]
async fn every_options_request_under_the_path_is_a_preflight() {
    let address = start(with_cors(Cors::default())).await;
    // The `cors` middleware answers before the engine checks anything.
    for target in [
        "/engine.io/",
        "/engine.io/?EIO=4&transport=abc",
        "/engine.io/?EIO=4&transport=polling&sid=unknown",
    ] {
        let response = preflight(address, target, &[]).await;
        assert_empty_preflight(&response);
        assert_eq!(response.header("access-control-allow-origin"), Some("*"));
        // Nothing to echo without Access-Control-Request-Headers; Vary says it was looked at.
        assert_eq!(response.header("access-control-allow-headers"), None);
        assert_eq!(
            response.header("vary"),
            Some("Access-Control-Request-Headers")
        );
    }
}

#[tokio::test]
async fn a_listed_origin_is_echoed_with_credentials() {
    let address = start(with_cors(listed())).await;
    let response = browser_preflight(address, ORIGIN).await;
    assert_empty_preflight(&response);
    assert_eq!(response.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(
        response.header("access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(
        response.header_values("vary"),
        ["Origin, Access-Control-Request-Headers"]
    );

    let handshake = handshake_with(address, &[("Origin", ORIGIN)]).await;
    payload(&handshake);
    assert_eq!(
        handshake.header("access-control-allow-origin"),
        Some(ORIGIN)
    );
    assert_eq!(
        handshake.header("access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(handshake.header_values("vary"), ["Origin"]);
    // Preflight-only headers stay on the preflight.
    assert_eq!(handshake.header("access-control-allow-methods"), None);
}

#[tokio::test]
async fn an_unlisted_origin_gets_no_allow_origin() {
    let address = start(with_cors(listed())).await;
    let response = browser_preflight(address, "https://evil.example").await;
    // Still 204: the browser is the one to refuse (HS-28).
    assert_empty_preflight(&response);
    assert_eq!(response.header("access-control-allow-origin"), None);
    assert_eq!(
        response.header_values("vary"),
        ["Origin, Access-Control-Request-Headers"]
    );
    let handshake = handshake_with(address, &[("Origin", "https://evil.example")]).await;
    payload(&handshake);
    assert_eq!(handshake.header("access-control-allow-origin"), None);
    assert_eq!(handshake.header("vary"), Some("Origin"));
    // Origins are compared exactly.
    let near = browser_preflight(address, "https://example.com/").await;
    assert_eq!(near.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn mirror_echoes_any_origin_and_none_without_one() {
    let address = start(with_cors(Cors {
        origin: CorsOrigin::Mirror,
        ..Cors::default()
    }))
    .await;
    let response = browser_preflight(address, "https://anywhere.example").await;
    assert_eq!(
        response.header("access-control-allow-origin"),
        Some("https://anywhere.example")
    );
    let without = get(address, "EIO=4&transport=polling").await;
    payload(&without);
    assert_eq!(without.header("access-control-allow-origin"), None);
    assert_eq!(without.header("vary"), Some("Origin"));
}

#[tokio::test]
async fn every_engine_response_carries_the_headers() {
    let address = start(with_cors(listed())).await;
    let origin = [("Origin", ORIGIN)];
    let check = |response: &HttpResponse| {
        assert_eq!(
            response.header("access-control-allow-origin"),
            Some(ORIGIN),
            "{response:?}"
        );
        assert_eq!(
            response.header("access-control-allow-credentials"),
            Some("true")
        );
    };
    // JSON errors (HS-29).
    let error = request(
        address,
        "GET",
        "/engine.io/?EIO=4&transport=abc",
        &origin,
        b"",
    )
    .await;
    error.assert_error(0, "Transport unknown");
    check(&error);
    // A POST's ok, a GET's payload, an empty 500.
    let sid = handshake(address).await;
    let posted = request(
        address,
        "POST",
        &session_target(&sid),
        &[("Origin", ORIGIN), ("Content-Type", "text/plain")],
        b"4x",
    )
    .await;
    assert_ok(&posted);
    check(&posted);
    let polled = request(address, "GET", &session_target(&sid), &origin, b"").await;
    assert_eq!(payload(&polled), "4x");
    check(&polled);
    let other = request(address, "PUT", &session_target(&sid), &origin, b"").await;
    assert_eq!(other.status, 500);
    check(&other);
    // The 101 of a WebSocket.
    let (mut ws, switching) = ws_connect_with(
        address,
        "/engine.io/?EIO=4&transport=websocket",
        &[("Origin", ORIGIN)],
    )
    .await
    .unwrap();
    assert_eq!(switching.status(), 101);
    assert_eq!(
        switching
            .headers()
            .get("access-control-allow-origin")
            .unwrap(),
        ORIGIN
    );
    assert!(next_text(&mut ws).await.starts_with('0'));
    // But not a refused WebSocket, which the official server writes raw (HS-18).
    let refused = raw_ws_request(
        address,
        "EIO=4&transport=websocket&sid=unknown",
        &[("Origin", ORIGIN)],
    )
    .await;
    assert_eq!(refused.status_line, "HTTP/1.1 400 Bad Request");
    assert_eq!(refused.text(), "Session ID unknown");
    assert_no_cors(&refused);
}

#[tokio::test]
async fn the_other_options_shape_the_preflight() {
    let address = start(with_cors(Cors {
        methods: "GET,POST".to_owned(),
        allowed_headers: Some(vec!["content-type".to_owned(), "x-token".to_owned()]),
        exposed_headers: vec!["x-trace".to_owned()],
        max_age: Some(Duration::from_secs(600)),
        options_success_status: StatusCode::OK,
        ..Cors::default()
    }))
    .await;
    let response = browser_preflight(address, ORIGIN).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-length"), Some("0"));
    assert!(response.body.is_empty());
    assert_eq!(
        response.header("access-control-allow-methods"),
        Some("GET,POST")
    );
    assert_eq!(
        response.header("access-control-allow-headers"),
        Some("content-type,x-token")
    );
    // A fixed list is not an echo of the request, so nothing varies with it.
    assert_eq!(response.header("vary"), None);
    assert_eq!(response.header("access-control-max-age"), Some("600"));
    assert_eq!(
        response.header("access-control-expose-headers"),
        Some("x-trace")
    );
    let handshake = get(address, "EIO=4&transport=polling").await;
    payload(&handshake);
    assert_eq!(
        handshake.header("access-control-expose-headers"),
        Some("x-trace")
    );
    assert_eq!(handshake.header("access-control-max-age"), None);
}

#[tokio::test]
async fn requests_outside_the_path_are_not_engine_requests() {
    let address = start(with_cors(Cors::default())).await;
    let response = preflight(address, "/other/", &[("Origin", ORIGIN)]).await;
    assert_eq!(response.status, 404);
    assert_no_cors(&response);
}
