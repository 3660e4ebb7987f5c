//! Requests and frames of one session sent at once are handled in the order they arrived, as on
//! the official server's single event loop. Each case repeats its race against the fixture
//! server program (`sio-fixture-server`, as the suites run it), and all but a few rounds (see
//! [`TOLERATED`]) must end the way the official server ends them.

use std::process::Stdio;
use std::time::Duration;

use futures_util::{FutureExt, StreamExt};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;

use crate::support::*;

/// Rounds of each race.
const ROUNDS: usize = 300;

/// Rounds of a race that may be lost. The server keeps the order the bytes arrived in, but on a
/// loaded machine the kernel may hand it two connections' bytes in another order than they were
/// written in: one round in a thousand or so. With a server that reorders (a multi-threaded
/// runtime, the last connection spawned run first), 1.5 to 15 rounds in a hundred were lost.
const TOLERATED: usize = 3;

/// How long the fixture server may take to print its address.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// The fixture server program on a port of its choosing; killed when dropped.
struct FixtureProgram {
    address: std::net::SocketAddr,
    _child: Child,
}

impl FixtureProgram {
    async fn start() -> FixtureProgram {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sio-fixture-server"))
            .args(["--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(READY_TIMEOUT, lines.next_line())
            .await
            .expect("the fixture server printed no address in time")
            .unwrap()
            .expect("the fixture server ended before printing its address");
        let address = line
            .strip_prefix("listening on http://")
            .and_then(|address| address.parse().ok())
            .unwrap_or_else(|| panic!("not an address line: {line:?}"));
        FixtureProgram {
            address,
            _child: child,
        }
    }
}

/// A WebSocket that upgrades the session `sid`, each frame written at once, as the official
/// suite's client (`ws`) does: with Nagle's algorithm a second small frame would wait for the
/// server's ACK of the first, and the GET sent after it on its own connection overtake it.
async fn ws_connect_without_nagle(address: std::net::SocketAddr, sid: &str) -> Ws {
    let url = format!("ws://{address}/engine.io/?{}", upgrade_query(sid));
    let (ws, _) = within(tokio_tungstenite::connect_async_with_config(
        url, None, true,
    ))
    .await
    .unwrap();
    ws
}

/// Runs `round` [`ROUNDS`] times; fails when more than [`TOLERATED`] rounds end another way than
/// on the official server, listing how they ended.
async fn race<F, Fut>(name: &str, mut round: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut lost = Vec::new();
    for number in 0..ROUNDS {
        if let Err(outcome) = round().await {
            lost.push(format!("round {number}: {outcome}"));
        }
    }
    eprintln!("{name}: {} of {ROUNDS} rounds lost", lost.len());
    assert!(lost.len() <= TOLERATED, "{name}: {lost:#?}");
}

/// A GET and a POST `1` sent at once, the GET first: the GET is pending when the close arrives
/// and is released with a noop (CL-01); the session is then gone.
#[tokio::test]
async fn a_get_then_a_post_of_close_sent_at_once() {
    let fixture = FixtureProgram::start().await;
    let address = fixture.address;
    race("GET then POST 1", || async move {
        let sid = handshake(address).await;
        let target = session_target(&sid);
        let get = send_head(address, "GET", &target, &[], None, b"").await;
        let post = send_head(address, "POST", &target, &[], Some(1), b"1").await;
        let (get, post) = tokio::join!(read_response(get), read_response(post));
        assert_ok(&post);
        assert_session_gone(address, &sid).await;
        match (get.status, get.text()) {
            (200, "6") => Ok(()),
            (status, text) => Err(format!("the GET got {status} {text}")),
        }
    })
    .await;
}

/// `2probe` and `5` sent on the WebSocket, then a GET at once: the GET finds the session
/// upgraded and gets 400 code 3 (UP-10), not a noop as if the upgrade had not happened; and
/// `3probe`, the answer to the frame sent before the GET, is written before the GET's answer,
/// as the official server, which writes each answer as it handles each event, does (the
/// official suite's "ignores HTTP requests with same sid after upgrade" loses `3probe` to a
/// listener that waits for the echo of the next message otherwise).
#[tokio::test]
async fn a_get_right_after_the_upgrade_packet_finds_the_session_upgraded() {
    let fixture = FixtureProgram::start().await;
    let address = fixture.address;
    race("GET after 5", || async move {
        let sid = handshake(address).await;
        let mut ws = ws_connect_without_nagle(address, &sid).await;
        ws_send(&mut ws, "2probe").await;
        ws_send(&mut ws, "5").await;
        let response = poll(address, &sid).await;
        upgraded_after(&mut ws, &response).await
    })
    .await;
}

/// The same race with the GET on a connection opened before the WebSocket, as a client with a
/// keep-alive pool sends it (the official suite's `fetch`): the server is already reading that
/// connection when the frames arrive, and may read the GET before the probe's task has read
/// `2probe` and `5`.
#[tokio::test]
async fn a_get_on_an_open_connection_right_after_the_upgrade_packet() {
    let fixture = FixtureProgram::start().await;
    let address = fixture.address;
    race("GET on an open connection after 5", || async move {
        let sid = handshake(address).await;
        let mut connection = within(tokio::net::TcpStream::connect(address))
            .await
            .unwrap();
        connection.set_nodelay(true).unwrap();
        let mut ws = ws_connect_without_nagle(address, &sid).await;
        ws_send(&mut ws, "2probe").await;
        ws_send(&mut ws, "5").await;
        let head = format!(
            "GET {} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n",
            session_target(&sid)
        );
        connection.write_all(head.as_bytes()).await.unwrap();
        let response = read_response(connection).await;
        upgraded_after(&mut ws, &response).await
    })
    .await;
}

/// How a round of the upgrade races ended: `Ok` when the GET's answer (read in full) is 400
/// code 3 and `3probe` had arrived before it, then the session echoes over the WebSocket.
///
/// "Arrived before": the WebSocket yields `3probe` without waiting. The bytes of two
/// connections reach this runtime's reactor in the order the server wrote them (loopback
/// delivers a write at once, and the reactor's readiness events come in arrival order), so a
/// `3probe` written before the GET's answer is readable by the time that answer is read.
async fn upgraded_after(ws: &mut Ws, response: &HttpResponse) -> Result<(), String> {
    let first = ws.next().now_or_never();
    let probe_first =
        matches!(&first, Some(Some(Ok(Message::Text(text)))) if text.as_str() == "3probe");
    match (response.status, response.text()) {
        (400, r#"{"code":3,"message":"Bad request"}"#) if probe_first => {}
        (400, r#"{"code":3,"message":"Bad request"}"#) => {
            return Err(format!(
                "the GET's 400 came before 3probe (the WebSocket had {first:?})"
            ));
        }
        (status, text) => return Err(format!("the GET got {status} {text}")),
    }
    ws_send(ws, "4upgraded").await;
    match next_text(ws).await.as_str() {
        "4upgraded" => Ok(()),
        other => Err(format!("the WebSocket echoed {other}")),
    }
}
