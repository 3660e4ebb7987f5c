//! The vector files themselves: valid against the JSON Schema, mirrored in JSON, covering every
//! packet type and error class, and loaded with errors that say where.

use std::collections::BTreeSet;
use std::path::Path;

use sio_suite::vectors::{self, mirror, Protocol, VectorKind};

fn vectors_dir() -> std::path::PathBuf {
    vectors::default_dir()
}

#[test]
fn every_file_is_valid_against_the_schema() {
    let dir = vectors_dir();
    let schema_text = std::fs::read_to_string(dir.join("vectors.schema.json")).expect("schema");
    let schema: serde_json::Value = serde_json::from_str(&schema_text).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let files = mirror::expected(&dir).expect("vector files load");
    assert!(
        !files.is_empty(),
        "no vector files found in {}",
        dir.display()
    );
    let mut failures = Vec::new();
    for file in &files {
        let instance: serde_json::Value = serde_json::from_str(&file.content).expect("JSON");
        for error in validator.iter_errors(&instance) {
            failures.push(format!(
                "{}: {} at {}",
                file.source.display(),
                error,
                error.instance_path()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_json_mirror_is_up_to_date() {
    let dir = vectors_dir();
    let files = mirror::expected(&dir).expect("vector files load");
    let mut stale: Vec<String> = files
        .iter()
        .filter(|file| std::fs::read_to_string(&file.path).ok().as_deref() != Some(&file.content))
        .map(|file| file.path.display().to_string())
        .collect();
    stale.extend(
        mirror::stale_files(&dir, &files)
            .iter()
            .map(|path| format!("{} (no YAML source)", path.display())),
    );
    assert!(
        stale.is_empty(),
        "the JSON mirror is out of date; run `cargo run -p sio-runner -- vectors mirror`:\n{}",
        stale.join("\n")
    );
}

#[test]
fn vectors_cover_every_packet_type_and_error_class() {
    let loaded = vectors::load_dir(&vectors_dir()).expect("vectors load");
    let mut seen = BTreeSet::new();
    for vector in &loaded {
        let prefix = vector.protocol.id_prefix(vector.version);
        match &vector.kind {
            VectorKind::EngineIoPacket { packet, .. } => {
                seen.insert(format!("{prefix} {:?}", packet.packet_type));
            }
            VectorKind::EngineIoPayload { packets, .. } => {
                for packet in packets {
                    seen.insert(format!("{prefix} {:?}", packet.packet_type));
                }
            }
            VectorKind::SocketIoPacket { packet, .. } => {
                seen.insert(format!("{prefix} {:?}", packet.packet_type));
            }
            VectorKind::Reject { reject, .. } => {
                seen.insert(format!(
                    "{} error {}",
                    protocol_name(vector.protocol),
                    reject.error
                ));
            }
        }
    }
    let mut missing = Vec::new();
    for prefix in ["eio3", "eio4"] {
        for packet_type in [
            "Open", "Close", "Ping", "Pong", "Message", "Upgrade", "Noop",
        ] {
            missing.push(format!("{prefix} {packet_type}"));
        }
    }
    for prefix in ["sio4", "sio5"] {
        for packet_type in [
            "Connect",
            "Disconnect",
            "Event",
            "Ack",
            "BinaryEvent",
            "BinaryAck",
        ] {
            missing.push(format!("{prefix} {packet_type}"));
        }
    }
    missing.extend(["sio4 Error".to_owned(), "sio5 ConnectError".to_owned()]);
    let engine_io_errors = [
        "empty-packet",
        "unknown-packet-type",
        "invalid-base64",
        "empty-payload",
        "invalid-length",
        "length-mismatch",
        "invalid-utf8",
    ];
    let socket_io_errors = [
        "empty-packet",
        "unknown-packet-type",
        "invalid-attachment-count",
        "too-many-attachments",
        "invalid-json",
        "invalid-payload",
        "missing-payload",
        "reserved-event-name",
        "invalid-placeholder",
        "unexpected-binary",
        "unexpected-text",
    ];
    missing.extend(
        engine_io_errors
            .iter()
            .map(|e| format!("engine.io error {e}")),
    );
    missing.extend(
        socket_io_errors
            .iter()
            .map(|e| format!("socket.io error {e}")),
    );
    missing.retain(|wanted| !seen.contains(wanted));
    assert!(missing.is_empty(), "no vector for: {missing:?}");
}

fn protocol_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::EngineIo => "engine.io",
        Protocol::SocketIo => "socket.io",
    }
}

fn write_temp(name: &str, content: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sio-suite-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("vectors.yaml");
    std::fs::write(&path, content).expect("write");
    path
}

#[test]
fn a_yaml_syntax_error_names_the_file_line_and_column() {
    let path = write_temp(
        "syntax",
        "protocol: engine.io\nversion: 4\nvectors:\n  - id: eio4/x\n    title: [unclosed\n",
    );
    let error = vectors::load_file(&path).expect_err("broken YAML must not load");
    assert_eq!(error.path, path);
    assert!(error.line.is_some() && error.column.is_some(), "{error}");
    assert!(error
        .to_string()
        .starts_with(&format!("{}:", path.display())));
}

#[test]
fn an_unknown_field_names_the_field_and_line() {
    let path = write_temp(
        "field",
        "protocol: engine.io\nversion: 4\nvectors:\n  - id: eio4/x\n    title: t\n    pakcet: {type: ping}\n",
    );
    let error = vectors::load_file(&path).expect_err("a misspelt field must not load");
    assert!(error.message.contains("pakcet"), "{error}");
    assert_eq!(error.line, Some(6), "{error}");
}

#[test]
fn an_id_of_another_protocol_is_refused_at_its_line() {
    let path = write_temp(
        "prefix",
        "protocol: socket.io\nversion: 5\nvectors:\n  - id: sio5/ok\n    title: t\n    packet: {type: CONNECT}\n    encodings: [{text: '0', canonical: true}]\n  - id: eio4/wrong\n    title: t\n    reject: {inputs: [{text: ''}], error: empty-packet}\n",
    );
    let error = vectors::load_file(&path).expect_err("a wrong prefix must not load");
    assert_eq!(error.line, Some(8), "{error}");
    assert!(error.message.contains("sio5/"), "{error}");
}

#[test]
fn a_vector_of_two_kinds_is_refused() {
    let path = write_temp(
        "kinds",
        "protocol: engine.io\nversion: 4\nvectors:\n  - id: eio4/both\n    title: t\n    packet: {type: ping}\n    encodings: [{transports: [polling], text: '2', canonical: true}]\n    reject: {inputs: [{text: ''}], error: empty-packet}\n",
    );
    let error = vectors::load_file(&path).expect_err("two kinds must not load");
    assert!(error.message.contains("exactly one kind"), "{error}");
}

#[test]
fn duplicate_ids_across_files_are_refused() {
    let dir = std::env::temp_dir().join(format!("sio-suite-{}-dup", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = "protocol: engine.io\nversion: 4\nvectors:\n  - id: eio4/same\n    title: t\n    packet: {type: ping}\n    encodings: [{transports: [polling], text: '2', canonical: true}]\n";
    std::fs::write(dir.join("a.yaml"), file).expect("write");
    std::fs::write(dir.join("b.yaml"), file).expect("write");
    let error = vectors::load_dir(Path::new(&dir)).expect_err("duplicates must not load");
    assert!(error.message.contains("eio4/same"), "{error}");
}
