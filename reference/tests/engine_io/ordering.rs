//! Requests and frames of one session sent at once are handled in the order they arrived, as on
//! the official server's single event loop. Each case repeats its race against the fixture
//! server program (`sio-fixture-server`, as the suites run it), and all but a few rounds (see
//! [`TOLERATED`]) must end the way the official server ends them.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

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
/// upgraded and gets 400 code 3 (UP-10), not a noop as if the upgrade had not happened.
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
        assert_eq!(next_text(&mut ws).await, "3probe");
        ws_send(&mut ws, "4upgraded").await;
        assert_eq!(next_text(&mut ws).await, "4upgraded");
        match (response.status, response.text()) {
            (400, r#"{"code":3,"message":"Bad request"}"#) => Ok(()),
            (status, text) => Err(format!("the GET got {status} {text}")),
        }
    })
    .await;
}
