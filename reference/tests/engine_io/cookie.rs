//! The `cookie` option (behavior HS-23): the sid as a cookie on the polling handshake only.

use std::time::Duration;

use sio_reference::server::engine_io::{Config, Cookie, SameSite};

use crate::support::*;

fn with_cookie(cookie: Cookie) -> Config {
    Config {
        cookie: Some(cookie),
        ..quiet()
    }
}

#[tokio::test]
async fn no_cookie_by_default() {
    let address = start(quiet()).await;
    let response = get(address, "EIO=4&transport=polling").await;
    payload(&response);
    assert_eq!(response.header("set-cookie"), None);
}

#[tokio::test]
async fn the_default_cookie_is_the_official_one() {
    let address = start(with_cookie(Cookie::default())).await;
    let response = get(address, "EIO=4&transport=polling").await;
    let sid = sid_of(payload(&response));
    assert_eq!(
        response.header_values("set-cookie"),
        [format!("io={sid}; Path=/; HttpOnly; SameSite=Lax")]
    );
}

#[tokio::test]
async fn only_the_handshake_response_carries_it() {
    let address = start(with_cookie(Cookie::default())).await;
    let sid = handshake(address).await;
    let posted = send(address, &sid, "4x").await;
    assert_ok(&posted);
    assert_eq!(posted.header("set-cookie"), None);
    let polled = poll(address, &sid).await;
    assert_eq!(payload(&polled), "4x");
    assert_eq!(polled.header("set-cookie"), None);
}

#[tokio::test]
async fn a_websocket_handshake_gets_no_cookie() {
    let address = start(with_cookie(Cookie::default())).await;
    let (mut ws, response) = ws_connect_with(address, "/engine.io/?EIO=4&transport=websocket", &[])
        .await
        .unwrap();
    assert_eq!(response.status(), 101);
    assert!(response.headers().get("set-cookie").is_none());
    assert!(next_text(&mut ws).await.starts_with('0'));
}

#[tokio::test]
async fn every_attribute_can_be_changed() {
    let address = start(with_cookie(Cookie {
        name: "sticky".to_owned(),
        path: None,
        domain: Some("example.com".to_owned()),
        max_age: Some(Duration::from_millis(86_400_500)),
        http_only: false,
        secure: true,
        same_site: Some(SameSite::Strict),
    }))
    .await;
    let response = get(address, "EIO=4&transport=polling").await;
    let sid = sid_of(payload(&response));
    assert_eq!(
        response.header("set-cookie"),
        Some(
            format!("sticky={sid}; Max-Age=86400; Domain=example.com; Secure; SameSite=Strict")
                .as_str()
        )
    );
}

#[tokio::test]
async fn same_site_none_and_no_attributes() {
    let address = start(with_cookie(Cookie {
        path: None,
        http_only: false,
        same_site: Some(SameSite::None),
        ..Cookie::default()
    }))
    .await;
    let response = get(address, "EIO=4&transport=polling").await;
    let sid = sid_of(payload(&response));
    assert_eq!(
        response.header("set-cookie"),
        Some(format!("io={sid}; SameSite=None").as_str())
    );
    let address = start(with_cookie(Cookie {
        path: None,
        http_only: false,
        same_site: None,
        ..Cookie::default()
    }))
    .await;
    let response = get(address, "EIO=4&transport=polling").await;
    let sid = sid_of(payload(&response));
    assert_eq!(
        response.header("set-cookie"),
        Some(format!("io={sid}").as_str())
    );
}

#[tokio::test]
async fn an_invalid_cookie_is_left_out_and_the_handshake_succeeds() {
    for cookie in [
        Cookie {
            name: "bad name".to_owned(),
            ..Cookie::default()
        },
        Cookie {
            path: Some("/; Secure".to_owned()),
            ..Cookie::default()
        },
        Cookie {
            domain: Some("a\nb".to_owned()),
            ..Cookie::default()
        },
    ] {
        let address = start(with_cookie(cookie)).await;
        let response = get(address, "EIO=4&transport=polling").await;
        payload(&response);
        assert_eq!(response.header("set-cookie"), None);
    }
}
