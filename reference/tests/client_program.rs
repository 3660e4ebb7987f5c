//! The client-contract program `sio-reference-client`: its one argument, `--eio`, picks the
//! protocol of the handshake, and a value other than 3 or 4 is refused with exit code 2.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::process::Command;

const PROGRAM: &str = env!("CARGO_BIN_EXE_sio-reference-client");
const WAIT: Duration = Duration::from_secs(10);

/// The request line of the program's first request, started with `args` against a listener
/// that never answers.
async fn first_request_line(args: &[&str]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let mut child = Command::new(PROGRAM)
        .args(args)
        .env("SIO_URL", format!("http://{address}"))
        .env("SIO_TRANSPORTS", "polling")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (mut stream, _) = tokio::time::timeout(WAIT, listener.accept())
        .await
        .expect("no request")
        .unwrap();
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.contains(&b'\n') {
        let read = tokio::time::timeout(WAIT, stream.read(&mut buffer))
            .await
            .expect("no request line")
            .unwrap();
        assert!(read > 0, "the connection ended before the request line");
        head.extend_from_slice(&buffer[..read]);
    }
    child.kill().await.unwrap();
    let text = String::from_utf8_lossy(&head).into_owned();
    text.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn protocol_4_by_default() {
    let line = first_request_line(&[]).await;
    assert!(line.contains("EIO=4&transport=polling"), "{line}");
}

#[tokio::test]
async fn eio_3_speaks_protocol_3() {
    let line = first_request_line(&["--eio", "3"]).await;
    assert!(line.contains("EIO=3&transport=polling"), "{line}");
}

#[tokio::test]
async fn other_protocols_are_refused_with_exit_code_2() {
    for value in ["5", "2", "x"] {
        let output = tokio::time::timeout(
            WAIT,
            Command::new(PROGRAM)
                .args(["--eio", value])
                .stdin(Stdio::null())
                .output(),
        )
        .await
        .expect("the program did not end")
        .unwrap();
        assert_eq!(output.status.code(), Some(2), "--eio {value}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("--eio"), "--eio {value}: {stderr}");
    }
}
