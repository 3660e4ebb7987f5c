//! The `sio-conformance` binary, spawned as a user would: `run` against the embedded
//! reference fixture, against a server given by URL or profile, with baselines; the exit codes
//! 0, 1 and 2; `list`, `explain` and `vectors check`. Every spawn has a deadline.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sio_reference::fixture::{Fixture, Options};

mod support;
use support::{sio, Output};

/// A few quick cases, so that runs take a fraction of a second.
const QUICK: &str = "eio4/message/echo-text";

/// A fresh folder under cargo's temporary directory for tests.
fn scratch(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "cli-{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("written");
    path
}

/// The reference fixture with these options, on a background runtime; it serves while the
/// returned runtime lives.
fn server(options: Options) -> (tokio::runtime::Runtime, String) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let address: SocketAddr = runtime.block_on(async {
        let (address, serving) = Fixture::new(options)
            .listen("127.0.0.1:0")
            .await
            .expect("listens");
        tokio::spawn(serving);
        address
    });
    (runtime, format!("http://{address}"))
}

fn assert_code(output: &Output, code: i32) {
    assert_eq!(
        output.code, code,
        "exit code\n--- stdout\n{}\n--- stderr\n{}",
        output.stdout, output.stderr
    );
}

#[test]
fn run_against_the_embedded_fixture_passes() {
    let output = sio(&["run", "--filter", QUICK, "--filter", "eio4/polling/post-ok"]);
    assert_code(&output, 0);
    assert!(output.stdout.contains("the embedded reference fixture"));
    assert!(output
        .stdout
        .contains("PASS          eio4/message/echo-text[websocket]"));
    assert!(output.stdout.contains("4 cases in"), "{}", output.stdout);
    assert!(output.stdout.ends_with("result: as expected (exit 0)\n"));
}

#[test]
fn run_reports_json_lines_in_case_order() {
    let output = sio(&["run", "--filter", QUICK, "--format", "json", "--jobs", "2"]);
    assert_code(&output, 0);
    let lines: Vec<serde_json::Value> = output
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON"))
        .collect();
    let ids: Vec<&str> = lines
        .iter()
        .filter_map(|line| line["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "eio4/message/echo-text[polling]",
            "eio4/message/echo-text[websocket]",
            "eio4/message/echo-text[upgrade]"
        ]
    );
    let summary = lines.last().expect("a summary");
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["counts"]["PASS"], 3);
    assert_eq!(summary["exit_code"], 0);
    assert!(lines[0]["transcript"]
        .as_array()
        .is_some_and(|t| !t.is_empty()));
}

#[test]
fn a_target_url_and_the_example_profile_pass_against_the_reference() {
    let (_server, url) = server(Options::default());
    let output = sio(&["run", "--target", &url, "--filter", QUICK]);
    assert_code(&output, 0);
    assert!(output.stdout.contains(&url));
    let profile = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/reference.yaml");
    let profile = profile.to_str().expect("UTF-8 path");
    let output = sio(&[
        "run",
        "--profile",
        profile,
        "--target",
        &url,
        "--filter",
        QUICK,
    ]);
    assert_code(&output, 0);
    assert!(output.stdout.contains("(sio-reference fixture)"));
}

#[test]
fn a_server_that_breaks_its_declared_options_fails_with_1() {
    let (_server, url) = server(Options {
        ping_interval: Duration::from_millis(25_000),
        ..Options::default()
    });
    let output = sio(&[
        "run",
        "--target",
        &url,
        "--filter",
        "eio4/handshake/polling-open",
    ]);
    assert_code(&output, 1);
    let text = &output.stdout;
    assert!(
        text.contains("FAIL          eio4/handshake/polling-open"),
        "{text}"
    );
    assert!(text.contains("expected: "), "{text}");
    assert!(text.contains("25000, not 300"), "{text}");
    assert!(
        text.contains("requirement: engine.io-protocol, Handshake"),
        "{text}"
    );
    assert!(
        text.contains("> GET /engine.io/?EIO=4&transport=polling"),
        "{text}"
    );
    assert!(
        text.contains("result: failed: 1 regression (exit 1)"),
        "{text}"
    );
    let replay = format!(
        "replay: sio-conformance run --target {url} --filter 'eio4/handshake/polling-open'"
    );
    assert!(text.contains(&replay), "{text}");
}

#[test]
fn a_baseline_that_expects_a_failure_of_a_passing_case_fails_with_1() {
    let dir = scratch("baseline");
    let baseline = write(
        &dir,
        "baseline.yaml",
        "expected:\n  - case: eio4/message/echo-text[polling]\n    verdict: FAIL\n    reason: fixed since\n",
    );
    let output = sio(&[
        "run",
        "--filter",
        QUICK,
        "--baseline",
        baseline.to_str().expect("UTF-8"),
    ]);
    assert_code(&output, 1);
    assert!(
        output.stdout.contains("(unexpected pass)"),
        "{}",
        output.stdout
    );
    assert!(output
        .stdout
        .contains("the baseline expects FAIL, not PASS: fixed since"));
}

#[test]
fn a_baseline_met_exactly_passes_and_unsupported_does_not_fail() {
    let dir = scratch("profile-ok");
    write(
        &dir,
        "server.baseline.yaml",
        "expected:\n  - case: eio4/message/echo-text[upgrade]\n    verdict: UNSUPPORTED\n    reason: no upgrade yet\n",
    );
    let (_server, url) = server(Options::default());
    let profile = write(
        &dir,
        "server.yaml",
        &format!(
            "url: {url}\nfeatures: [polling, websocket, binary]\nbaseline: {{ file: server.baseline.yaml }}\n"
        ),
    );
    let output = sio(&[
        "run",
        "--profile",
        profile.to_str().expect("UTF-8"),
        "--filter",
        QUICK,
        "--filter",
        "eio4/upgrade/probe",
    ]);
    assert_code(&output, 0);
    assert!(
        output.stdout.contains("UNSUPPORTED   eio4/upgrade/probe"),
        "{}",
        output.stdout
    );
    assert!(output.stdout.contains("(baseline)"), "{}", output.stdout);
}

#[test]
fn an_unreachable_target_is_exit_2() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("address").port()
    };
    let output = sio(&["run", "--target", &format!("http://127.0.0.1:{port}")]);
    assert_code(&output, 2);
    assert!(
        output.stderr.contains("cannot be reached"),
        "{}",
        output.stderr
    );
}

#[test]
fn a_profile_start_command_is_started_and_its_printed_url_used() {
    // The "adapter" prints the URL of a fixture this test serves, then waits to be killed.
    let (_server, url) = server(Options::default());
    let dir = scratch("start");
    let profile = write(
        &dir,
        "started.yaml",
        &format!(
            "name: started\nstart:\n  command: [sh, -c, 'echo starting; echo \"listening on {url}\"; exec sleep 120']\n"
        ),
    );
    let output = sio(&[
        "run",
        "--profile",
        profile.to_str().expect("UTF-8"),
        "--filter",
        QUICK,
    ]);
    assert_code(&output, 0);
    assert!(
        output.stdout.contains(&format!("{url} (started)")),
        "{}",
        output.stdout
    );
    assert!(
        output.stderr.is_empty(),
        "a clean stop says nothing: {}",
        output.stderr
    );

    // A program written with a `/` is relative to `cwd`, itself relative to the profile, even
    // when the profile is given by a relative path.
    std::fs::create_dir_all(dir.join("adapter/bin")).expect("folder");
    let script = dir.join("adapter/bin/serve");
    let body = format!("#!/bin/sh\necho \"listening on {url}\"\nexec sleep 120\n");
    std::fs::write(&script, body).expect("script");
    let mut permissions = std::fs::metadata(&script).expect("metadata").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&script, permissions).expect("chmod");
    let profile = "name: relative\nstart:\n  command: [bin/serve]\n  cwd: adapter\n";
    write(&dir, "relative.yaml", profile);
    let output = Command::new(env!("CARGO_BIN_EXE_sio-conformance"))
        .args([
            "run",
            "--profile",
            "relative.yaml",
            "--filter",
            QUICK,
            "--no-progress",
        ])
        .current_dir(&dir)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_start_command_that_fails_or_dies_is_explained() {
    let dir = scratch("start-fails");
    let profile = write(
        &dir,
        "fails.yaml",
        "start:\n  command: [sh, -c, 'echo booting; echo \"cannot bind\" >&2; exit 3']\n",
    );
    let output = sio(&["run", "--profile", profile.to_str().expect("UTF-8")]);
    assert_code(&output, 2);
    for expected in [
        "did not start",
        "exit status: 3",
        "| booting",
        "| cannot bind",
    ] {
        assert!(
            output.stderr.contains(expected),
            "{expected}: {}",
            output.stderr
        );
    }

    let profile = write(
        &dir,
        "silent.yaml",
        "start:\n  command: [sh, -c, 'exec sleep 120']\n  ready_timeout: 1\n",
    );
    let output = sio(&["run", "--profile", profile.to_str().expect("UTF-8")]);
    assert_code(&output, 2);
    assert!(output.stderr.contains("within 1 s"), "{}", output.stderr);

    // A target that prints its URL and then ends at once, while the cases run against the
    // URL it gave (a fixture this test serves, so that they take a while): the runner says
    // that it ended, with its last words.
    let (_server_runtime, url) = server(Options::default());
    let profile = write(
        &dir,
        "dies.yaml",
        &format!("start:\n  command: [sh, -c, 'echo \"listening on {url}\"; echo bye >&2']\n"),
    );
    let output = sio(&[
        "run",
        "--profile",
        profile.to_str().expect("UTF-8"),
        "--filter",
        "eio4/message",
    ]);
    assert!(
        output.stderr.contains("ended during the run"),
        "{}",
        output.stderr
    );
    assert!(output.stderr.contains("| bye"), "{}", output.stderr);
}

#[test]
fn a_broken_profile_is_exit_2_with_its_location() {
    let dir = scratch("broken-profile");
    let profile = write(
        &dir,
        "broken.yaml",
        "url: http://127.0.0.1:3000\noptions:\n  pingInterval: soon\n",
    );
    let output = sio(&["run", "--profile", profile.to_str().expect("UTF-8")]);
    assert_code(&output, 2);
    let location = format!("{}:3:17", profile.display());
    assert!(output.stderr.contains(&location), "{}", output.stderr);

    let profile = write(
        &dir,
        "unknown-key.yaml",
        "url: http://x:1\nfeature: [polling]\n",
    );
    let output = sio(&["run", "--profile", profile.to_str().expect("UTF-8")]);
    assert_code(&output, 2);
    assert!(
        output.stderr.contains("unknown-key.yaml:2:1"),
        "{}",
        output.stderr
    );

    let profile = write(
        &dir,
        "no-reason.yaml",
        "url: http://x:1\nbaseline:\n  expected:\n    - case: eio4/x\n      verdict: FAIL\n      reason: ''\n",
    );
    let output = sio(&["run", "--profile", profile.to_str().expect("UTF-8")]);
    assert_code(&output, 2);
    assert!(
        output.stderr.contains("no-reason.yaml:4"),
        "{}",
        output.stderr
    );
    assert!(
        output.stderr.contains("needs a `reason`"),
        "{}",
        output.stderr
    );
}

#[test]
fn invalid_scenarios_and_empty_selections_are_exit_2() {
    let dir = scratch("scenarios");
    write(&dir, "broken.yaml", "id: broken\ntitle: [\n");
    let output = sio(&["run", "--scenarios", dir.to_str().expect("UTF-8")]);
    assert_code(&output, 2);
    assert!(output.stderr.contains("broken.yaml:"), "{}", output.stderr);
    let output = sio(&["run", "--filter", "no/such/case"]);
    assert_code(&output, 2);
    assert!(
        output.stderr.contains("no case matches"),
        "{}",
        output.stderr
    );
}

#[test]
fn output_writes_the_report_to_a_file() {
    let dir = scratch("output");
    let path = dir.join("reports/junit.xml");
    let output = sio(&[
        "run",
        "--filter",
        QUICK,
        "--format",
        "junit",
        "--output",
        path.to_str().expect("UTF-8"),
    ]);
    assert_code(&output, 0);
    assert!(output.stdout.contains("3 cases in"), "{}", output.stdout);
    assert!(output.stdout.contains("report: "), "{}", output.stdout);
    let xml = std::fs::read_to_string(&path).expect("the report");
    assert!(xml.starts_with("<?xml"));
    assert!(xml.contains("<testsuites name=\"sio-conformance\" tests=\"3\" failures=\"0\""));
}

#[test]
fn list_selects_by_glob_feature_and_transport() {
    let output = sio(&["list", "--filter", "eio4/*[websocket]"]);
    assert_code(&output, 0);
    assert!(output.stdout.lines().count() >= 3);
    assert!(output
        .stdout
        .lines()
        .all(|line| line.contains("[websocket]\t")));
    let output = sio(&["list", "--feature", "heartbeat", "--transport", "polling"]);
    assert_code(&output, 0);
    // Cases over polling, and cases without a transport axis that need polling.
    for line in output.stdout.lines() {
        let features = line.split('\t').nth(2).unwrap_or_default();
        assert!(line.contains("heartbeat/"), "{line}");
        assert!(
            !line.contains("[websocket]") && !line.contains("[upgrade]"),
            "{line}"
        );
        assert!(features.split(',').any(|f| f == "polling"), "{line}");
    }
    assert!(output
        .stdout
        .contains("eio4/heartbeat/ping-interval[polling]\tMUST\theartbeat,polling\t"));
    let output = sio(&["list", "--feature", "telepathy"]);
    assert_code(&output, 2);
}

#[test]
fn list_feature_eio3_selects_every_protocol_3_case() {
    // A protocol 3 case needs `eio3` whether or not its scenario lists it, so `--feature eio3`
    // selects exactly the cases whose variant is protocol 3 (no protocol 4 scenario lists it).
    let scenarios = sio_suite::scenario::load_dir(&sio_suite::scenario::default_dir())
        .expect("the scenarios load");
    let protocol_3: Vec<String> = sio_suite::scenario::expand(scenarios)
        .into_iter()
        .filter(|case| case.variant.eio == 3)
        .map(|case| case.id)
        .collect();
    assert!(
        protocol_3.len() >= 28,
        "{} protocol 3 cases",
        protocol_3.len()
    );
    let output = sio(&["list", "--feature", "eio3"]);
    assert_code(&output, 0);
    let listed: Vec<&str> = output
        .stdout
        .lines()
        .map(|line| line.split('\t').next().unwrap_or_default())
        .collect();
    assert_eq!(listed.len(), protocol_3.len(), "{}", output.stdout);
    assert_eq!(listed, protocol_3);
    for line in output.stdout.lines() {
        let features = line.split('\t').nth(2).unwrap_or_default();
        assert!(features.split(',').any(|f| f == "eio3"), "{line}");
    }
}

#[test]
fn explain_shows_the_case_and_its_requirement() {
    let output = sio(&["explain", "eio4/polling/duplicate-get"]);
    assert_code(&output, 0);
    assert!(output.stdout.contains("level:      MUST (not met: FAIL)"));
    assert!(output.stdout.contains("EIO4-POLL-GET-OVERLAP-400 (MUST"));
    assert!(output.stdout.contains("the server MUST return an HTTP 400"));
    assert!(output.stdout.contains("steps, as written:"));
    let output = sio(&["explain", "eio4/message/echo-text[websocket]"]);
    assert_code(&output, 0);
    assert!(
        output.stdout.contains("features:   websocket"),
        "{}",
        output.stdout
    );
    let output = sio(&["explain", "eio4/polling/nope"]);
    assert_code(&output, 2);
    assert!(output.stderr.contains("eio4/polling/duplicate-get"));
}

#[test]
fn help_documents_the_exit_codes() {
    let output = sio(&["run", "--help"]);
    assert_code(&output, 0);
    assert!(output.stdout.contains("Exit codes:"));
    assert!(output.stdout.contains("2  the run could not be judged"));
}

#[test]
fn the_vectors_commands_still_work() {
    let output = sio(&["vectors", "check"]);
    assert_code(&output, 0);
}

#[test]
fn the_profiles_and_baselines_are_valid_against_the_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("profile.schema.json")).expect("schema"),
    )
    .expect("JSON");
    let profile_validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let mut baseline_schema = schema["$defs"]["baselineFile"].clone();
    baseline_schema["$defs"] = schema["$defs"].clone();
    let baseline_validator =
        jsonschema::validator_for(&baseline_schema).expect("the baseline schema compiles");
    let (mut profiles, mut baselines) = (0, 0);
    for entry in std::fs::read_dir(root.join("profiles")).expect("profiles") {
        let path = entry.expect("entry").path();
        let name = path.to_string_lossy().into_owned();
        if !name.ends_with(".yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("profile");
        let value: serde_json::Value = yaml_serde::from_str(&text).expect("YAML");
        let is_baseline = name.ends_with(".baseline.yaml");
        let validator = if is_baseline {
            &baseline_validator
        } else {
            &profile_validator
        };
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}: {}", errors.join("\n"));
        if is_baseline {
            sio_runner::baseline::Baseline::load(&path).expect("the runner loads it");
            baselines += 1;
        } else {
            sio_runner::profile::TargetSpec::load(&path).expect("the runner loads it");
            profiles += 1;
        }
    }
    assert!(profiles > 0);
    let broken = serde_json::json!({"url": "http://x:1", "baseline": {"expected": [{"case": "a", "verdict": "FAIL"}]}});
    assert!(!profile_validator.is_valid(&broken), "a reason is required");
    let both = serde_json::json!({"url": "http://x:1", "start": {"command": ["x"]}});
    assert!(!profile_validator.is_valid(&both), "url or start, not both");
    assert!(!baseline_validator.is_valid(&serde_json::json!({"expected": [{"case": "a"}]})));
    let _ = baselines;
}

#[test]
fn the_schema_names_every_feature() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("profile.schema.json")).expect("schema"),
    )
    .expect("JSON");
    let in_schema: Vec<String> = schema["$defs"]["feature"]["enum"]
        .as_array()
        .expect("an enum")
        .iter()
        .map(|name| name.as_str().expect("a name").to_owned())
        .collect();
    let in_code: Vec<&str> = sio_suite::scenario::Feature::ALL
        .into_iter()
        .map(sio_suite::scenario::Feature::as_str)
        .collect();
    assert_eq!(in_schema, in_code);
}

#[test]
fn matrix_runs_each_profile_and_writes_what_the_baselines_predict() {
    let (_server, url) = server(Options::default());
    let dir = scratch("matrix");
    let start =
        format!("start:\n  command: [sh, -c, 'echo \"listening on {url}\"; exec sleep 120']\n");
    let good = write(&dir, "good.yaml", &format!("name: good\n{start}"));
    let partial = write(
        &dir,
        "partial.yaml",
        &format!(
            "name: partial\n{start}features: [polling, websocket]\nbaseline:\n  expected:\n    \
             - case: eio4/message/echo-text[websocket]\n      verdict: FAIL\n      \
             reason: 'pretends to fail'\n"
        ),
    );
    let (good, partial) = (
        good.to_str().expect("UTF-8"),
        partial.to_str().expect("UTF-8"),
    );
    let measured = dir.join("measured.md");
    let output = sio(&[
        "matrix",
        "--profile",
        good,
        "--profile",
        partial,
        "--filter",
        QUICK,
        "--output",
        measured.to_str().expect("UTF-8"),
        "--no-progress",
    ]);
    // The partial target's websocket case passes though its baseline expects FAIL.
    assert_code(&output, 1);
    assert!(
        output
            .stdout
            .contains("unexpected-pass: PASS eio4/message/echo-text[websocket]"),
        "{}",
        output.stdout
    );
    let text = std::fs::read_to_string(&measured).expect("the matrix is written");
    assert!(
        text.contains(
            "| `eio4/message` | 3 | 3 pass | 2 pass · [1 UNSUPPORTED](#partial--eio4-message) |"
        ),
        "{text}"
    );
    assert!(
        text.contains("NOT AS THE BASELINE EXPECTS (FAIL pretends to fail)"),
        "{text}"
    );
    assert!(
        text.contains("needs `upgrade`, which the profile does not declare"),
        "{text}"
    );

    // What the baselines predict, without running: the websocket case as a FAIL.
    let predicted = dir.join("predicted.md");
    let output = sio(&[
        "matrix",
        "--expected",
        "--profile",
        good,
        "--profile",
        partial,
        "--filter",
        QUICK,
        "--output",
        predicted.to_str().expect("UTF-8"),
    ]);
    assert_code(&output, 0);
    let text = std::fs::read_to_string(&predicted).expect("the matrix is written");
    assert!(text.contains("| `eio4/message` | 3 | 3 pass | 1 pass · [1 FAIL](#partial--eio4-message) · [1 UNSUPPORTED](#partial--eio4-message) |"), "{text}");

    // With a baseline the run meets, the run writes exactly the prediction.
    std::fs::write(
        dir.join("partial.yaml"),
        format!("name: partial\n{start}features: [polling, websocket]\n"),
    )
    .expect("rewrite");
    let output = sio(&[
        "matrix",
        "--profile",
        good,
        "--profile",
        partial,
        "--filter",
        QUICK,
        "--output",
        measured.to_str().expect("UTF-8"),
        "--no-progress",
    ]);
    assert_code(&output, 0);
    let output = sio(&[
        "matrix",
        "--expected",
        "--profile",
        good,
        "--profile",
        partial,
        "--filter",
        QUICK,
        "--output",
        predicted.to_str().expect("UTF-8"),
    ]);
    assert_code(&output, 0);
    assert_eq!(
        std::fs::read_to_string(&measured).expect("measured"),
        std::fs::read_to_string(&predicted).expect("predicted")
    );
}
