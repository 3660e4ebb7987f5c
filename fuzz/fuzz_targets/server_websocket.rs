//! The reference server's WebSocket sessions: frames from the fuzz input, sent by a real
//! WebSocket client (tokio-tungstenite) over an in-memory duplex stream to the fixture server
//! (`sio_reference::fixture::Fixture`: the Socket.IO contract at `/socket.io/`, the Engine.IO
//! echoes at `/engine.io/` and `/engine.io-v3/`), served by hyper with upgrades, on a
//! current-thread tokio runtime whose time is paused.
//!
//! Input: a mode byte (its value modulo 4: a WebSocket session of the Socket.IO server, of the
//! Engine.IO echo in protocol 4, of the echo in protocol 3, or a polling session of the echo
//! upgraded to WebSocket, the probe being the fuzzer's to send), then messages, each a kind
//! byte (its value modulo 5: a text frame, a binary frame, a ping frame, a read of the server's
//! next frame, a close frame that ends the input) and a chunk. Asserts: no panic (in the
//! server's tasks either); the WebSocket handshake succeeds; every frame is taken within 60 s of
//! (paused) time.
#![no_main]

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use libfuzzer_sys::fuzz_target;
use sio_fuzz::Input;
use sio_reference::fixture::{Fixture, Options};
use tokio::io::DuplexStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// The most frames one input sends.
const MAX_MESSAGES: usize = 32;
/// Longer than any timer of the fixture.
const DEADLINE: Duration = Duration::from_secs(60);
/// How long a read waits for the server's next frame: the server need not answer.
const READ_WAIT: Duration = Duration::from_secs(1);

/// One connection to the fixture: hyper serves the server end, the other end is returned.
fn connect(fixture: &Fixture) -> DuplexStream {
    let (client, server) = tokio::io::duplex(1 << 20);
    let fixture = fixture.clone();
    let service = hyper::service::service_fn(move |request| {
        let fixture = fixture.clone();
        async move { Ok::<_, Infallible>(fixture.handle(request).await) }
    });
    tokio::spawn(async move {
        let connection = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(server), service)
            .with_upgrades();
        let _ = connection.await;
    });
    client
}

/// A polling handshake with the echo: the session's sid.
async fn polling_sid(fixture: &Fixture) -> String {
    let io = TokioIo::new(connect(fixture));
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .expect("an HTTP connection");
    tokio::spawn(connection);
    let request = Request::get("/engine.io/?EIO=4&transport=polling")
        .header("host", "localhost")
        .body(Full::<Bytes>::default())
        .expect("a request");
    let response = sender.send_request(request).await.expect("a response");
    let body = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    let text = String::from_utf8_lossy(&body);
    let (_, after) = text.split_once("\"sid\":\"").expect("an open packet");
    after.split('"').next().unwrap_or_default().to_owned()
}

async fn run(data: &[u8]) {
    let mut input = Input::new(data);
    let mode = input.byte() % 4;
    let fixture = Fixture::new(Options::default());
    let target = match mode {
        0 => "/socket.io/?EIO=4&transport=websocket".to_owned(),
        1 => "/engine.io/?EIO=4&transport=websocket".to_owned(),
        2 => "/engine.io-v3/?EIO=3&transport=websocket".to_owned(),
        _ => {
            let sid = polling_sid(&fixture).await;
            format!("/engine.io/?EIO=4&transport=websocket&sid={sid}")
        }
    };
    let request = format!("ws://localhost{target}")
        .into_client_request()
        .expect("a WebSocket request");
    let handshake = tokio_tungstenite::client_async(request, connect(&fixture));
    let (mut ws, _) = tokio::time::timeout(DEADLINE, handshake)
        .await
        .expect("the WebSocket handshake hangs")
        .expect("the WebSocket handshake fails");
    for _ in 0..MAX_MESSAGES {
        if input.is_empty() {
            break;
        }
        let kind = input.byte() % 5;
        let chunk = input.chunk();
        let message = match kind {
            0 => Message::text(String::from_utf8_lossy(chunk).into_owned()),
            1 => Message::binary(Bytes::copy_from_slice(chunk)),
            2 => Message::Ping(Bytes::copy_from_slice(&chunk[..chunk.len().min(125)])),
            3 => match tokio::time::timeout(READ_WAIT, ws.next()).await {
                Ok(None | Some(Err(_))) => break,
                Ok(Some(Ok(_))) | Err(_) => continue,
            },
            _ => Message::Close(None),
        };
        let sent = tokio::time::timeout(DEADLINE, ws.send(message))
            .await
            .expect("a frame is not taken");
        if sent.is_err() || kind == 4 {
            break;
        }
    }
    // Let the session's tasks go on a while (timers, closes) before the runtime drops them.
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
