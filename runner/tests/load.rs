//! `sio-conformance bench` and `soak`, spawned as a user runs them, against the reference
//! fixture served by this test process (so `--pid` is ours) with tiny loads. They check that
//! the commands run, that their JSON has the expected shape, that the page is written, and that
//! a target that refuses or stalls gives a clear error in bounded time. Figures are never
//! asserted: they depend on the machine.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};

use std::thread;
use std::time::Duration;

use serde_json::Value;
use sio_reference::fixture::{Fixture, Options};

mod support;
use support::{sio, Output};

fn assert_code(output: &Output, code: i32) {
    assert_eq!(
        output.code, code,
        "exit code\n--- stdout\n{}\n--- stderr\n{}",
        output.stdout, output.stderr
    );
}

/// The reference fixture on a background runtime of this process; it serves while the
/// returned runtime lives.
fn server() -> (tokio::runtime::Runtime, String) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let address: SocketAddr = runtime.block_on(async {
        let (address, serving) = Fixture::new(Options::default())
            .listen("127.0.0.1:0")
            .await
            .expect("listens");
        tokio::spawn(serving);
        address
    });
    (runtime, format!("http://{address}"))
}

fn scratch(name: &str) -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("load-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

fn json(output: &Output) -> Value {
    serde_json::from_str(&output.stdout)
        .unwrap_or_else(|error| panic!("JSON ({error}):\n{}", output.stdout))
}

/// The tiniest load of every figure.
const TINY: &[&str] = &[
    "--duration",
    "0.3",
    "--connections",
    "4",
    "--in-flight",
    "2",
    "--polling-sessions",
    "2",
    "--setup-connections",
    "10",
    "--concurrency",
    "5",
    "--fanout-clients",
    "4",
    "--fanout-rounds",
    "3",
    "--idle-connections",
    "10",
    "--no-progress",
];

#[test]
fn bench_measures_every_figure_as_json_and_writes_the_page() {
    let (_server, url) = server();
    let pid = std::process::id().to_string();
    let page = scratch("page").join("performance.md");
    let page_arg = page.display().to_string();
    let mut args = vec!["bench", "--target", &url, "--pid", &pid, "--json"];
    args.extend_from_slice(TINY);
    args.extend_from_slice(&["--repeat", "2", "--output", &page_arg]);
    let output = sio(&args);
    assert_code(&output, 0);
    let report = json(&output);
    assert!(report["machine"]["cores"]
        .as_u64()
        .is_some_and(|cores| cores >= 1));
    assert!(report["command"]
        .as_str()
        .is_some_and(|command| command.starts_with("sio-conformance bench")));
    let target = &report["targets"][0];
    assert_eq!(target["pid"].as_u64(), Some(u64::from(std::process::id())));
    let repetitions = target["repetitions"].as_array().expect("repetitions");
    assert_eq!(repetitions.len(), 2);
    for repetition in repetitions {
        let figures: Vec<&str> = repetition
            .as_array()
            .expect("figures")
            .iter()
            .map(|outcome| outcome["figure"].as_str().expect("a figure name"))
            .collect();
        assert_eq!(
            figures,
            [
                "websocket-echo",
                "polling-echo",
                "connection-setup",
                "fanout",
                "idle-memory"
            ]
        );
        for outcome in repetition.as_array().expect("figures") {
            assert!(outcome["error"].is_null(), "{outcome}");
            let measured = &outcome["measured"];
            assert!(
                measured["operations"].as_u64().is_some_and(|n| n > 0),
                "{outcome}"
            );
            assert!(measured["rate_per_s"].is_number());
            assert!(measured["loader_cpu"]["us_per_operation"].is_number());
            assert!(measured["target"]["cpu"]["cpu_ms"].is_number(), "{outcome}");
            assert!(measured["target"]["rss_kib_after"]
                .as_u64()
                .is_some_and(|kib| kib > 0));
            if outcome["figure"] == "idle-memory" {
                assert_eq!(measured["per_connection"]["connections"].as_u64(), Some(10));
                assert!(measured["per_connection"]["kib_per_connection"].is_number());
            } else {
                let latency = &measured["latency"];
                for key in ["samples", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms"] {
                    assert!(latency[key].is_number(), "{key} in {outcome}");
                }
            }
        }
    }
    let page = std::fs::read_to_string(&page).expect("the page is written");
    for heading in [
        "# Performance",
        "## Machine",
        "## WebSocket echo round trips",
        "## Method",
    ] {
        assert!(page.contains(heading), "{heading} in\n{page}");
    }
    assert!(page.contains("sio-conformance bench --target"), "{page}");
}

#[test]
fn bench_without_a_pid_measures_the_load_only_and_says_so() {
    let (_server, url) = server();
    let mut args = vec!["bench", "--target", &url, "--figure", "websocket-echo"];
    args.extend_from_slice(TINY);
    let output = sio(&args);
    assert_code(&output, 0);
    assert!(
        output.stdout.contains("websocket-echo    round trips"),
        "{}",
        output.stdout
    );
    assert!(output.stdout.contains("no pid"), "{}", output.stdout);
    // Idle memory is the target's memory: without its pid the figure cannot be measured.
    let mut args = vec!["bench", "--target", &url, "--figure", "idle-memory"];
    args.extend_from_slice(TINY);
    let output = sio(&args);
    assert_code(&output, 2);
    assert!(
        output.stdout.contains("idle-memory       ERROR"),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains("the target's pid"),
        "{}",
        output.stdout
    );
}

#[test]
fn a_target_that_refuses_connections_stops_the_command() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("address").port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let output = sio(&["bench", "--target", &url, "--no-progress"]);
    assert_code(&output, 2);
    assert!(
        output.stderr.contains("cannot be reached"),
        "{}",
        output.stderr
    );
    let output = sio(&["soak", "--target", &url, "--pid", "1", "--no-progress"]);
    assert_code(&output, 2);
    assert!(
        output.stderr.contains("cannot be reached"),
        "{}",
        output.stderr
    );
}

#[test]
fn a_target_that_never_answers_fails_each_figure_in_bounded_time() {
    // Accepts every connection and holds it, answering nothing.
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(1000) {
            held.push(stream);
        }
    });
    let output = sio(&[
        "bench",
        "--target",
        &url,
        "--figure",
        "websocket-echo",
        "--figure",
        "polling-echo",
        "--connections",
        "2",
        "--polling-sessions",
        "1",
        "--timeout",
        "1",
        "--no-progress",
    ]);
    assert_code(&output, 2);
    assert!(
        output
            .stdout
            .contains("websocket-echo    ERROR: the WebSocket upgrade: no answer within 1000 ms"),
        "{}",
        output.stdout
    );
    assert!(
        output
            .stdout
            .contains("polling-echo      ERROR: the handshake: no answer within 1000 ms"),
        "{}",
        output.stdout
    );
    assert!(
        output.elapsed < Duration::from_secs(30),
        "{:?}",
        output.elapsed
    );
}

#[test]
fn soak_cycles_connections_and_gives_a_verdict_with_its_figures() {
    let (_server, url) = server();
    let pid = std::process::id().to_string();
    let output = sio(&[
        "soak",
        "--target",
        &url,
        "--pid",
        &pid,
        "--websocket",
        "10",
        "--polling",
        "10",
        "--warm-up",
        "1",
        "--cycles",
        "2",
        "--settle",
        "2",
        "--json",
        "--no-progress",
    ]);
    // The verdict depends on this process's memory, which other tests share: either is an
    // answer; what matters is that it is given with its figures.
    assert!(
        [0, 1].contains(&output.code),
        "{}\n{}",
        output.stdout,
        output.stderr
    );
    let report = json(&output);
    let verdict = report["verdict"].as_str().expect("a verdict");
    assert_eq!(verdict == "PASS", output.code == 0, "{report}");
    let cycles = report["cycles"].as_array().expect("cycles");
    assert_eq!(cycles.len(), 3);
    assert_eq!(cycles[0]["warm_up"], true);
    for cycle in cycles {
        assert_eq!(cycle["completed"].as_u64(), Some(20), "{cycle}");
        assert_eq!(cycle["failed"].as_u64(), Some(0), "{cycle}");
        assert!(
            cycle["peak"]["fds"].as_u64().is_some_and(|fds| fds >= 20),
            "{cycle}"
        );
    }
    for sample in ["baseline", "after"] {
        assert!(report[sample]["rss_kib"]
            .as_u64()
            .is_some_and(|kib| kib > 0));
        assert!(report[sample]["fds"].as_u64().is_some_and(|fds| fds > 0));
    }
    assert!(report["rss_change_percent"].is_number());
    assert!(report["fds_change_percent"].is_number());
}

#[test]
fn soak_needs_the_targets_process() {
    let (_server, url) = server();
    let output = sio(&["soak", "--target", &url, "--no-progress"]);
    assert_code(&output, 2);
    assert!(
        output.stderr.contains("the target's process is unknown"),
        "{}",
        output.stderr
    );
}
