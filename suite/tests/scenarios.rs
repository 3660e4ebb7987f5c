//! The scenario files themselves: valid against the JSON Schema, ids unique and equal to their
//! paths, metadata complete, every requirement they cover written down in
//! `suite/requirements/`; and loading errors that say where and what.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use sio_suite::requirements::{self, RequirementLevel, Subject};
use sio_suite::scenario::{self, Level};
use sio_suite::yaml;

fn schema_validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios.schema.json");
    let text = std::fs::read_to_string(path).expect("schema");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

#[test]
fn every_file_is_valid_against_the_schema() {
    let validator = schema_validator();
    let dir = scenario::default_dir();
    let files = yaml::yaml_files(&dir).expect("scenario files");
    assert!(!files.is_empty(), "no scenario in {}", dir.display());
    let mut failures = Vec::new();
    for path in files {
        let text = yaml::read_text(&path).expect("readable");
        let instance: serde_json::Value =
            yaml::parse_yaml(&path, &text).unwrap_or_else(|error| panic!("{error}"));
        for error in validator.iter_errors(&instance) {
            failures.push(format!(
                "{}: {error} at {}",
                path.display(),
                error.instance_path()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn scenarios_load_with_unique_ids_equal_to_their_paths() {
    let scenarios = scenario::load_dir(&scenario::default_dir()).unwrap_or_else(|e| panic!("{e}"));
    let cases = scenario::expand(scenarios);
    let mut seen = HashSet::new();
    for case in &cases {
        assert!(seen.insert(case.id.clone()), "case id {} twice", case.id);
    }
}

#[test]
fn every_covered_requirement_exists_and_fits_the_level() {
    let requirements = requirements::load_dir(&requirements::default_dir())
        .unwrap_or_else(|error| panic!("{error}"));
    let levels: HashMap<&str, (RequirementLevel, Subject)> = requirements
        .iter()
        .map(|sourced| {
            let requirement = &sourced.requirement;
            (
                requirement.id.as_str(),
                (requirement.level, requirement.subject),
            )
        })
        .collect();
    let scenarios = scenario::load_dir(&scenario::default_dir()).unwrap_or_else(|e| panic!("{e}"));
    let mut problems = Vec::new();
    for scenario in &scenarios {
        let mut covered = Vec::new();
        for id in &scenario.covers {
            match levels.get(id.as_str()) {
                Some(level) => covered.push(*level),
                None => problems.push(format!("{}: no requirement {id}", scenario.id)),
            }
        }
        let fitting: &[RequirementLevel] = match scenario.level {
            Level::Must => &[
                RequirementLevel::Must,
                RequirementLevel::MustNot,
                RequirementLevel::Definition,
            ],
            Level::Should => &[RequirementLevel::Should],
            // What the spec permits: a MAY, what a definition allows (the close packet
            // "indicate[s] that a transport can be closed"), or the server's answer to a
            // client that breaks one of the client's MUSTs.
            Level::May => &[
                RequirementLevel::May,
                RequirementLevel::Definition,
                RequirementLevel::Must,
                RequirementLevel::MustNot,
            ],
            Level::Implementation => &[RequirementLevel::Implementation],
        };
        let fits = |(level, subject): &(RequirementLevel, Subject)| {
            let peer_must = matches!(level, RequirementLevel::Must | RequirementLevel::MustNot);
            fitting.contains(level)
                && (scenario.level != Level::May || !peer_must || *subject == Subject::Client)
        };
        if !covered.iter().any(fits) {
            problems.push(format!(
                "{}: a {} scenario covers no requirement of a fitting level ({fitting:?})",
                scenario.id,
                scenario.level.as_str()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_schema_refuses_malformed_scenarios() {
    let validator = schema_validator();
    let valid = serde_json::json!({
        "id": "x/case", "title": "t", "level": "implementation", "role": "server",
        "covers": ["HS-09"], "steps": [{"wait": "1ms"}]
    });
    assert!(validator.is_valid(&valid));
    let mut broken = Vec::new();
    for (pointer, value) in [
        ("/level", serde_json::json!("MUST")),
        (
            "/steps/0",
            serde_json::json!({"wait": "1ms", "closed": null}),
        ),
        (
            "/steps/0",
            serde_json::json!({"request": {"query": "EIO=4", "expct": {}}}),
        ),
        (
            "/steps/0",
            serde_json::json!({"receive": {"regex": "a", "text": "b"}}),
        ),
        ("/covers", serde_json::json!([])),
        ("/steps/0", serde_json::json!({"connect": "custom"})),
        (
            "/steps/0",
            serde_json::json!({"connect": {"namespace": "/a", "auht": {}}}),
        ),
        (
            "/steps/0",
            serde_json::json!({"receive": {"sio": {"type": 2, "name": "x"}}}),
        ),
        (
            "/steps/0",
            serde_json::json!({"receive": {"sio": {"nsp": "/"}}}),
        ),
    ] {
        let mut instance = valid.clone();
        if let Some(slot) = instance.pointer_mut(pointer) {
            *slot = value;
        }
        if validator.is_valid(&instance) {
            broken.push(format!("{pointer} accepted: {instance}"));
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn requirement_ids_are_unique_and_quoted() {
    let requirements = requirements::load_dir(&requirements::default_dir())
        .unwrap_or_else(|error| panic!("{error}"));
    let documents: BTreeSet<&str> = requirements
        .iter()
        .map(|sourced| sourced.document.as_str())
        .collect();
    for document in [
        "engine.io-protocol",
        "engine.io-protocol (revision 3)",
        "socket.io-protocol",
        "official-server",
        "official-server-socket-io",
        "official-client",
    ] {
        assert!(documents.contains(document), "{document} in {documents:?}");
    }
    assert!(
        requirements.len() >= 30,
        "{} requirements",
        requirements.len()
    );
}

/// A scratch folder of scenario files for the error tests.
fn scratch(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("sio-suite-scenarios-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    dir
}

const HEADER: &str = "title: t\nlevel: implementation\nrole: server\ncovers: [HS-09]\n";

fn load_error(name: &str, id: &str, body: &str) -> yaml::LoadError {
    let text = format!("id: {id}\n{HEADER}{body}");
    let dir = scratch(name, &[("x/case.yaml", &text)]);
    let error = scenario::load_dir(&dir).expect_err("must not load");
    let _ = std::fs::remove_dir_all(&dir);
    error
}

#[test]
fn an_unknown_key_is_located_and_the_expected_keys_listed() {
    let error = load_error(
        "unknown-key",
        "x/case",
        "steps:\n  - request:\n      query: EIO=4\n      expct: { status: 400 }\n",
    );
    assert!(error.path.ends_with("x/case.yaml"), "{error}");
    assert_eq!(error.line, Some(9), "{error}");
    assert!(error.column.is_some(), "{error}");
    assert!(error.message.contains("unknown field `expct`"), "{error}");
    assert!(error.message.contains("expect"), "{error}");
}

#[test]
fn a_bad_duration_says_what_was_expected() {
    let error = load_error(
        "bad-duration",
        "x/case",
        "transports: [polling]\nsteps:\n  - open:\n  - silence: pingIntervall\n",
    );
    assert_eq!(error.line, Some(9), "{error}");
    assert!(error.message.contains("pingInterval"), "{error}");
}

#[test]
fn a_step_with_two_actions_is_refused() {
    let error = load_error(
        "two-actions",
        "x/case",
        "steps:\n  - wait: 1ms\n    ws_send: \"4a\"\n",
    );
    assert!(error.line.is_some(), "{error}");
    assert!(error.message.contains("exactly one of"), "{error}");
}

#[test]
fn an_id_that_is_not_the_path_is_refused() {
    let error = load_error("wrong-id", "x/other", "steps:\n  - wait: 1ms\n");
    assert_eq!(error.line, Some(1), "{error}");
    assert!(error.message.contains("\"x/case\""), "{error}");
}

#[test]
fn a_session_step_needs_transports() {
    let error = load_error("no-transports", "x/case", "steps:\n  - open:\n");
    assert!(error.message.contains("transports"), "{error}");
}

#[test]
fn connect_and_sio_matchers_are_checked_at_load_time() {
    let error = load_error(
        "connect-namespace",
        "x/case",
        "transports: [polling]\nsteps:\n  - connect: custom\n",
    );
    assert!(error.message.contains("starts with `/`"), "{error}");
    let error = load_error(
        "sio-keys",
        "x/case",
        "transports: [polling]\nsteps:\n  - open:\n  - receive: { sio: { type: 2, ack: 1 } }\n",
    );
    assert!(error.message.contains("\"ack\""), "{error}");
    let error = load_error("connect-transports", "x/case", "steps:\n  - connect: /\n");
    assert!(error.message.contains("transports"), "{error}");
}

#[test]
fn an_unknown_background_request_is_located_at_its_step() {
    let error = load_error(
        "unknown-request",
        "x/case",
        "steps:\n  - wait: 1ms\n  - response: { request: nope }\n",
    );
    assert_eq!(error.line, Some(8), "{error}");
    assert!(error.message.contains("step 2"), "{error}");
}
