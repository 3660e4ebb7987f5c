//! The reference server's request path: HTTP requests built from the fuzz input, fed in
//! process to the tower stack an application mounts (`SocketIo::layer()` over an Engine.IO
//! echo's `EngineIo::layer()` over a 404 service), on a current-thread tokio runtime whose time
//! is paused, so that a request waiting for a timer (a polling `GET` waits for the next ping)
//! is answered at once and one waiting for nothing is a hang.
//!
//! Input: a configuration byte (bit 0: CORS, bit 1: the sid cookie, bit 2: no upgrades,
//! bit 3: polling only, bit 4: WebSocket only), then requests, each a method and path byte, a
//! query byte, a header byte (see `sio_fuzz::http_request`), a chunk of raw query bytes
//! appended to the query, and a chunk of body. The sids of the sessions opened so far can be
//! named in later requests. Asserts: no panic (in the request or in any task it spawned); every
//! request is answered, its body included, within 60 s of (paused) time; the status is one the
//! server writes.
#![no_main]

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use libfuzzer_sys::fuzz_target;
use sio_fuzz::http_request::{EIO, METHODS, PATHS, TRANSPORTS};
use sio_fuzz::Input;
use sio_reference::fixture::{Fixture, Options};
use sio_reference::server::engine_io::{Config, Cookie, Cors, EngineIo, TransportKind};
use tower_layer::Layer;
use tower_service::Service;

/// The most requests one input sends.
const MAX_REQUESTS: usize = 24;
/// Longer than any timer of the servers: a request still unanswered then hangs.
const DEADLINE: Duration = Duration::from_secs(60);

/// The service under the layers: `404` for every request that reaches it.
#[derive(Clone)]
struct NotFound;

impl Service<Request<Full<Bytes>>> for NotFound {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<Full<Bytes>>) -> Self::Future {
        Box::pin(async {
            let mut response = Response::new(Full::default());
            *response.status_mut() = StatusCode::NOT_FOUND;
            Ok(response)
        })
    }
}

fn echo_config(flags: u8) -> Config {
    let transports = match (flags & 8 == 8, flags & 16 == 16) {
        (true, false) => vec![TransportKind::Polling],
        (false, true) => vec![TransportKind::WebSocket],
        _ => vec![TransportKind::Polling, TransportKind::WebSocket],
    };
    Config {
        path: "/engine.io/".to_owned(),
        ping_interval: Duration::from_millis(300),
        ping_timeout: Duration::from_millis(200),
        allow_eio3: true,
        allow_upgrades: flags & 4 == 0,
        cors: (flags & 1 == 1).then(Cors::default),
        cookie: (flags & 2 == 2).then(Cookie::default),
        transports,
        ..Config::default()
    }
}

/// The request the input describes next; `None` when its bytes make no valid request.
fn request(input: &mut Input<'_>, sids: &[String]) -> Option<Request<Full<Bytes>>> {
    let route = input.byte();
    let query_byte = input.byte();
    let headers = input.byte();
    let extra = input.chunk();
    let body = Bytes::copy_from_slice(input.chunk());
    let method = METHODS[usize::from(route & 7)];
    let path = PATHS[usize::from(route >> 3 & 7)];
    let mut query = Vec::new();
    if let Some(eio) = EIO[usize::from(query_byte & 3)] {
        query.push(format!("EIO={eio}"));
    }
    if let Some(transport) = TRANSPORTS[usize::from(query_byte >> 2 & 3)] {
        query.push(format!("transport={transport}"));
    }
    let sid = match query_byte >> 4 & 3 {
        1 => sids.first().cloned(),
        2 => sids.last().cloned(),
        3 => Some("AAAAAAAAAAAAAAAAAAAA".to_owned()),
        _ => None,
    };
    if let Some(sid) = &sid {
        query.push(format!("sid={sid}"));
    }
    if query_byte & 64 == 64 {
        query.push("b64=1".to_owned());
    }
    if query_byte & 128 == 128 {
        query.push("t=PzXq2".to_owned());
    }
    let mut target = format!("{path}?{}", query.join("&"));
    target.push_str(&String::from_utf8_lossy(extra));
    let uri: http::Uri = target.parse().ok()?;
    let mut builder = Request::builder().method(method).uri(uri);
    let named = [
        (1, "upgrade", "websocket"),
        (2, "connection", "Upgrade"),
        (4, "sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        (4, "sec-websocket-version", "13"),
        (8, "origin", "http://example.com"),
        (16, "content-type", "text/plain;charset=UTF-8"),
        (32, "content-type", "application/octet-stream"),
        (128, "access-control-request-method", "POST"),
    ];
    for (bit, name, value) in named {
        if headers & bit == bit {
            builder = builder.header(name, value);
        }
    }
    if headers & 64 == 64 {
        let cookie = format!("io={}", sid.as_deref().unwrap_or("x"));
        builder = builder.header("cookie", cookie);
    }
    builder.body(Full::new(body)).ok()
}

/// The sid of an open packet in a handshake's body, if it has one.
fn sid_of(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let (_, after) = text.split_once("\"sid\":\"")?;
    let (sid, _) = after.split_once('"')?;
    Some(sid.to_owned())
}

fn allowed(status: StatusCode, method: &http::Method) -> bool {
    match status.as_u16() {
        101 | 200 | 204 | 400 | 403 | 404 | 413 => true,
        // A session's request of another method than GET and POST (PL-10).
        500 => method != http::Method::GET && method != http::Method::POST,
        _ => false,
    }
}

async fn run(data: &[u8]) {
    let mut input = Input::new(data);
    let flags = input.byte();
    let fixture = Fixture::new(Options::default());
    let echo = EngineIo::with_acceptor(echo_config(flags), |mut socket| {
        tokio::spawn(async move {
            while let Some(data) = socket.recv().await {
                if socket.send(data).is_err() {
                    break;
                }
            }
        });
    });
    let mut service = fixture
        .socket_io()
        .layer()
        .layer(echo.layer().layer(NotFound));
    let mut sids: Vec<String> = Vec::new();
    for _ in 0..MAX_REQUESTS {
        if input.is_empty() {
            break;
        }
        let Some(request) = request(&mut input, &sids) else {
            continue;
        };
        let method = request.method().clone();
        let called = tokio::time::timeout(DEADLINE, async {
            std::future::poll_fn(|context| service.poll_ready(context))
                .await
                .expect("the stack is always ready");
            let response = service.call(request).await.expect("infallible");
            let (parts, body) = response.into_parts();
            let body = body.collect().await.expect("a full body").to_bytes();
            (parts.status, body)
        });
        let (status, body) = called.await.expect("a request hangs");
        assert!(allowed(status, &method), "status {status}");
        if status == StatusCode::OK {
            if let Some(sid) = sid_of(&body) {
                sids.push(sid);
            }
        }
    }
    // Let the sessions' tasks run on a while (timers, closes) before the runtime drops them.
    tokio::time::sleep(Duration::from_secs(2)).await;
}

fuzz_target!(|data: &[u8]| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime");
    runtime.block_on(run(data));
});
