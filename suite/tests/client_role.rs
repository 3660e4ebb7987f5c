//! The engine playing the server (client-role cases) against small clients of this test's own:
//! this binary, started again by the engine as the client program with `SIO_TEST_CLIENT`
//! naming a behaviour. A client that follows the contract (`docs/client-contract.md`) and the
//! spec passes; each deliberately wrong one (never pongs, reconnects without delay, acks with
//! the wrong id, CONNECTs twice, exits at once, never connects) must not, and nothing hangs.
//!
//! The test client speaks WebSocket only, so the cases run in their `[websocket]` variant; the
//! other transports are exercised by the real clients of the compatibility matrix.

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::{json, Value};
use sio_suite::engine::{self, Backoff, ClientProgram, RunOptions, Target, Verdict};
use sio_suite::scenario::{self, Case};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// The variable that turns this binary into a test client.
const BEHAVIOUR: &str = "SIO_TEST_CLIENT";

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("no tokio runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Ok(behaviour) = std::env::var(BEHAVIOUR) {
        runtime.block_on(client::run(&behaviour));
        return ExitCode::SUCCESS;
    }
    let arguments = Arguments::from_args();
    let runtime = std::sync::Arc::new(runtime);
    let trials = expectations()
        .into_iter()
        .map(|(behaviour, id, wanted)| {
            let runtime = std::sync::Arc::clone(&runtime);
            let name = format!("{behaviour}: {id}");
            Trial::test(name, move || runtime.block_on(judge(behaviour, id, wanted)))
        })
        .collect();
    libtest_mimic::run(&arguments, trials).exit_code()
}

/// What a verdict must be.
#[derive(Debug, Clone, Copy)]
enum Wanted {
    Pass,
    /// Anything but PASS (FAIL for a MUST, INFORMATIONAL for an implementation behaviour).
    NotPass(Verdict),
}

/// Each behaviour of the test client, a case, and the verdict it must get.
fn expectations() -> Vec<(&'static str, &'static str, Wanted)> {
    use Wanted::{NotPass, Pass};
    vec![
        ("good", "client/sio5/connect/main-namespace", Pass),
        ("good", "client/sio5/connect/auth-payload", Pass),
        ("good", "client/sio5/connect/once", Pass),
        ("good", "client/eio4/heartbeat/pong", Pass),
        ("good", "client/sio5/ack/server-event", Pass),
        ("good", "client/sio5/reconnect/first-attempt", Pass),
        (
            "never-pong",
            "client/eio4/heartbeat/pong",
            NotPass(Verdict::Fail),
        ),
        (
            "no-delay",
            "client/sio5/reconnect/first-attempt",
            NotPass(Verdict::Informational),
        ),
        (
            "wrong-ack-id",
            "client/sio5/ack/server-event",
            NotPass(Verdict::Fail),
        ),
        (
            "ack-as-event",
            "client/sio5/ack/server-event",
            NotPass(Verdict::Fail),
        ),
        (
            "double-connect",
            "client/sio5/connect/once",
            NotPass(Verdict::Informational),
        ),
        (
            "exit",
            "client/sio5/connect/main-namespace",
            NotPass(Verdict::Fail),
        ),
        (
            "mute",
            "client/sio5/connect/main-namespace",
            NotPass(Verdict::Fail),
        ),
    ]
}

async fn judge(behaviour: &str, id: &str, wanted: Wanted) -> Result<(), Failed> {
    let case = websocket_case(id)?;
    let executable = std::env::current_exe().map_err(|error| error.to_string())?;
    let target = Target {
        client: Some(ClientProgram {
            command: vec![executable.to_string_lossy().into_owned()],
            cwd: None,
            env: vec![(BEHAVIOUR.to_owned(), behaviour.to_owned())],
            eio: 4,
            backoff: Backoff::Official,
            start_timeout: Duration::from_secs(1),
        }),
        ..Target::fixture(([127, 0, 0, 1], 9).into())
    };
    let options = RunOptions {
        step_timeout: Duration::from_millis(1500),
        ..RunOptions::default()
    };
    let started = std::time::Instant::now();
    let result = engine::run(&case, &target, &options).await;
    let elapsed = started.elapsed();
    if elapsed > Duration::from_secs(8) {
        return Err(format!("{} took {elapsed:?}\n{result}", case.id).into());
    }
    let verdict_ok = match wanted {
        Wanted::Pass => result.verdict == Verdict::Pass,
        Wanted::NotPass(verdict) => result.verdict == verdict,
    };
    if verdict_ok {
        Ok(())
    } else {
        Err(format!("wanted {wanted:?}, got:\n{result}").into())
    }
}

fn websocket_case(id: &str) -> Result<Case, Failed> {
    let path = scenario::default_dir().join(format!("{id}.yaml"));
    let loaded = scenario::load_file(&path).map_err(|error| error.to_string())?;
    scenario::expand([loaded])
        .into_iter()
        .find(|case| case.id.ends_with("[websocket]"))
        .ok_or_else(|| Failed::from(format!("{id} has no [websocket] case")))
}

/// The test client: WebSocket only, Engine.IO 4, Socket.IO 5, the contract's mirror
/// behaviours and cues, and one deliberate fault per behaviour.
mod client {
    use super::*;

    /// How a session ended.
    enum Ended {
        /// The server sent DISCONNECT: no reconnection.
        ByServer,
        /// The connection ended: reconnect.
        Transport,
        /// Standard input ended: exit.
        Done,
    }

    fn report(value: Value) {
        println!("{value}");
    }

    pub(super) async fn run(behaviour: &str) {
        if behaviour == "exit" {
            return;
        }
        let (cues_sender, mut cues) = mpsc::unbounded_channel::<Value>();
        tokio::spawn(async move {
            let mut lines = BufReader::new(tokio::io::stdin()).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(cue) = serde_json::from_str(&line) {
                    let _ = cues_sender.send(cue);
                }
            }
        });
        if behaviour == "mute" {
            while cues.recv().await.is_some() {}
            return;
        }
        let options: Value = std::env::var("SIO_OPTIONS")
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_else(|| json!({}));
        let delay = options["reconnectionDelay"].as_u64().unwrap_or(1000);
        let mut attempt = 0;
        loop {
            match session(behaviour, &mut cues).await {
                Ended::Transport => {
                    attempt += 1;
                    report(json!({"event": "reconnect_attempt", "attempt": attempt}));
                    if behaviour != "no-delay" {
                        // The middle of the official window: the delay itself, no jitter.
                        tokio::time::sleep(Duration::from_millis(delay << (attempt - 1))).await;
                    }
                }
                Ended::ByServer => {
                    while cues.recv().await.is_some() {}
                    return;
                }
                Ended::Done => return,
            }
        }
    }

    async fn session(behaviour: &str, cues: &mut mpsc::UnboundedReceiver<Value>) -> Ended {
        let origin = std::env::var("SIO_URL").unwrap_or_default();
        let path = std::env::var("SIO_PATH").unwrap_or_else(|_| "/socket.io/".to_owned());
        let url = format!(
            "{}{path}?EIO=4&transport=websocket",
            origin.replacen("http://", "ws://", 1)
        );
        let Ok((mut socket, _)) = tokio_tungstenite::connect_async(url.as_str()).await else {
            return Ended::Transport;
        };
        let connect = match std::env::var("SIO_AUTH") {
            Ok(auth) => format!("40{auth}"),
            Err(_) => "40".to_owned(),
        };
        let mut acks: HashMap<u64, Value> = HashMap::new();
        let mut next_id = 0;
        loop {
            tokio::select! {
                message = socket.next() => {
                    let text = match message {
                        Some(Ok(Message::Text(text))) => text.as_str().to_owned(),
                        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                            report(json!({"event": "disconnect", "namespace": "/", "reason": "transport close"}));
                            return Ended::Transport;
                        }
                        Some(Ok(_)) => continue,
                    };
                    let mut replies = Vec::new();
                    if text.starts_with('0') {
                        replies.push(connect.clone());
                        if behaviour == "double-connect" {
                            replies.push(connect.clone());
                        }
                    } else if text == "2" {
                        if behaviour != "never-pong" {
                            replies.push("3".to_owned());
                        }
                    } else if let Some(payload) = text.strip_prefix("40") {
                        let sid = serde_json::from_str::<Value>(payload).unwrap_or(Value::Null);
                        report(json!({"event": "connect", "namespace": "/", "id": sid["sid"]}));
                    } else if text == "41" {
                        report(json!({"event": "disconnect", "namespace": "/", "reason": "io server disconnect"}));
                        return Ended::ByServer;
                    } else if let Some(rest) = text.strip_prefix("42") {
                        replies.extend(on_event(behaviour, rest));
                    } else if let Some(rest) = text.strip_prefix("43") {
                        let (id, args) = split_id(rest);
                        if let Some(cue) = id.and_then(|id| acks.remove(&id)) {
                            report(json!({"event": "ack", "cue": cue, "args": args}));
                        }
                    }
                    for reply in replies {
                        if socket.send(Message::text(reply)).await.is_err() {
                            return Ended::Transport;
                        }
                    }
                }
                cue = cues.recv() => {
                    let Some(cue) = cue else { return Ended::Done };
                    if cue["cue"] == "emit" {
                        let mut packet = vec![cue["event"].clone()];
                        packet.extend(cue["args"].as_array().cloned().unwrap_or_default());
                        let mut text = "42".to_owned();
                        if cue["ack"] == true {
                            acks.insert(next_id, cue["id"].clone());
                            text.push_str(&next_id.to_string());
                            next_id += 1;
                        }
                        text.push_str(&Value::Array(packet).to_string());
                        if socket.send(Message::text(text)).await.is_err() {
                            return Ended::Transport;
                        }
                    }
                }
            }
        }
    }

    /// An EVENT's id (if any) and its JSON array.
    fn split_id(rest: &str) -> (Option<u64>, Value) {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let id = rest[..digits].parse().ok();
        let array = serde_json::from_str(&rest[digits..]).unwrap_or(Value::Null);
        (id, array)
    }

    /// The contract's mirror behaviours for an EVENT: report it, echo `echo`, ack when asked.
    fn on_event(behaviour: &str, rest: &str) -> Vec<String> {
        let (id, array) = split_id(rest);
        let items = array.as_array().cloned().unwrap_or_default();
        let Some((name, args)) = items.split_first() else {
            return Vec::new();
        };
        report(json!({"event": "event", "namespace": "/", "name": name, "args": args}));
        let mut replies = Vec::new();
        if name == "echo" {
            let mut echoed = vec![json!("echo-back")];
            echoed.extend(args.iter().cloned());
            replies.push(format!("42{}", Value::Array(echoed)));
        }
        if let Some(id) = id {
            let args = Value::Array(args.to_vec());
            replies.push(match behaviour {
                "wrong-ack-id" => format!("43{}{args}", id + 1),
                "ack-as-event" => format!("42{id}{args}"),
                _ => format!("43{id}{args}"),
            });
        }
        replies
    }
}
