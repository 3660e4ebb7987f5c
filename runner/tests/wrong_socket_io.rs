//! The engine against a deliberately wrong Socket.IO server: correct Engine.IO (the reference
//! Engine.IO server), but acknowledgements with the wrong id. The ack cases must FAIL, over
//! every transport, and never hang.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sio_reference::engine_io::Data;
use sio_reference::server::engine_io::{Config, EngineIo};
use sio_suite::engine::{self, RunOptions, Target, Verdict};
use sio_suite::scenario;

/// A Socket.IO server that connects `/`, emits `auth`, and answers an event with id `N` with
/// an ACK of id `N + 1`. It handles text messages only; anything else ends the session.
async fn start_wrong_ack_server() -> SocketAddr {
    let config = Config {
        path: "/socket.io/".to_owned(),
        ping_interval: Duration::from_millis(300),
        ping_timeout: Duration::from_millis(200),
        ..Config::default()
    };
    let engine = EngineIo::with_acceptor(config, |mut socket| {
        tokio::spawn(async move {
            while let Some(Data::Text(text)) = socket.recv().await {
                let reply = match text.as_str() {
                    // Engine.IO messages carry the Socket.IO packet: `0` is CONNECT to `/`.
                    "0" => vec![
                        r#"0{"sid":"AAAAAAAAAAAAAAAAAAAA"}"#.to_owned(),
                        r#"2["auth",{}]"#.to_owned(),
                    ],
                    _ => wrong_ack(&text).into_iter().collect(),
                };
                for packet in reply {
                    let _ = socket.send(Data::Text(packet));
                }
            }
        });
    });
    let (address, serving) = engine.listen("127.0.0.1:0").await.expect("listen");
    tokio::spawn(serving);
    address
}

/// An EVENT `2<id>[…]` answered with the ACK `3<id + 1>[…]`, the arguments after the event
/// name.
fn wrong_ack(event: &str) -> Option<String> {
    let rest = event.strip_prefix('2')?;
    let digits = rest.find('[')?;
    let id: u64 = rest[..digits].parse().ok()?;
    let arguments: Vec<serde_json::Value> = serde_json::from_str(&rest[digits..]).ok()?;
    let answer = serde_json::Value::Array(arguments.into_iter().skip(1).collect());
    Some(format!("3{}{}", id + 1, answer))
}

#[test]
fn a_wrong_ack_id_fails_on_every_transport() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let address = start_wrong_ack_server().await;
        let path = scenario::default_dir().join("sio5/ack/plain.yaml");
        let loaded = scenario::load_file(&path).unwrap_or_else(|error| panic!("{error}"));
        let cases = scenario::expand([loaded]);
        assert_eq!(cases.len(), 3, "one case per transport");
        let options = RunOptions {
            step_timeout: Duration::from_millis(500),
            ..RunOptions::default()
        };
        for case in &cases {
            let started = Instant::now();
            let result = engine::run(case, &Target::fixture(address), &options).await;
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{} hung",
                case.id
            );
            assert_eq!(result.verdict, Verdict::Fail, "{}: {result:?}", case.id);
            let failure = result.failure.expect("a failure");
            assert!(
                failure.actual.contains("43457"),
                "{}: the failure shows what arrived: {failure:?}",
                case.id
            );
        }
    });
}
