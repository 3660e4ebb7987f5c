//! Writes the seed corpus of every fuzz target from the protocol vectors (`vectors/*.yaml`):
//! each vector's wire forms, framed as the target reads its input, one file per seed under
//! `corpus/<target>/` (or the folder given as the first argument).
//!
//! `fuzz/seed.sh` runs it; existing seeds are overwritten, other corpus files are left alone.
//! It is a crate of its own, on stable, because everything in the fuzz crate is built with the
//! fuzzer's instrumentation, which only a fuzz target links.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// The input format the targets read, shared with them.
#[allow(dead_code)]
#[path = "../../src/lib.rs"]
mod format;

use format::http_request::query_byte;
use format::Seed;
use sio_suite::vectors::{self, Input, Protocol, Vector, VectorKind, Wire};

/// The seeds of every target, by target name.
#[derive(Default)]
struct Corpus {
    seeds: BTreeMap<&'static str, Vec<(String, Vec<u8>)>>,
}

impl Corpus {
    fn add(&mut self, target: &'static str, id: &str, seed: Seed) {
        let seeds = self.seeds.entry(target).or_default();
        let name = format!(
            "seed-{}-{}",
            id.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
            seeds.len()
        );
        seeds.push((name, seed.into_bytes()));
    }
}

fn wire_bytes(wire: &Wire) -> &[u8] {
    match wire {
        Wire::Text(text) => text.as_bytes(),
        Wire::Bytes(bytes) => bytes,
    }
}

/// The request bytes of `server_http`: route (method index, path index), query byte, header
/// byte, extra query, body.
fn request(seed: Seed, method: u8, path: u8, query: u8, headers: u8, body: &[u8]) -> Seed {
    seed.byte(method | path << 3)
        .byte(query)
        .byte(headers)
        .chunk(b"")
        .chunk(body)
}

/// A polling session at `path` (index in `PATHS`) of protocol `eio` (index in `EIO`): the
/// handshake, then a `POST` of each body, each followed by a `GET`.
fn polling_session(path: u8, eio: u8, bodies: &[(&[u8], bool)]) -> Seed {
    let mut seed = Seed::new().byte(1);
    seed = request(seed, 0, path, query_byte(eio, 1, 0, false, true), 0, b"");
    for (body, binary) in bodies {
        let content_type = if *binary { 32 } else { 16 };
        let session = query_byte(eio, 1, 1, false, true);
        seed = request(seed, 1, path, session, content_type, body);
        seed = request(seed, 0, path, session, 0, b"");
    }
    seed
}

/// The WebSocket messages of `server_websocket` after its mode byte: each a kind (0 text, 1
/// binary) and a chunk, then a read (kind 3).
fn websocket(mode: u8, messages: &[(bool, &[u8])]) -> Seed {
    let mut seed = Seed::new().byte(mode).byte(3).chunk(b"");
    for (binary, message) in messages {
        seed = seed
            .byte(u8::from(*binary))
            .chunk(message)
            .byte(3)
            .chunk(b"");
    }
    seed
}

fn engine_io(corpus: &mut Corpus, vector: &Vector) {
    let v3 = vector.version == 3;
    let version_flag = u8::from(v3);
    let eio = if v3 { 2 } else { 1 };
    let echo_mode = if v3 { 2 } else { 1 };
    match &vector.kind {
        VectorKind::EngineIoPacket { encodings, .. } => {
            for encoding in encodings {
                let wire = wire_bytes(&encoding.wire);
                let binary = matches!(encoding.wire, Wire::Bytes(_));
                let packet_flags = version_flag | if binary { 2 } else { 0 };
                corpus.add(
                    "eio_packet",
                    &vector.id,
                    Seed::new().byte(packet_flags).raw(wire),
                );
                let suite_mode = match (v3, binary) {
                    (false, _) => 0,
                    (true, false) => 2,
                    (true, true) => 5,
                };
                corpus.add(
                    "suite_engine_io",
                    &vector.id,
                    Seed::new().byte(suite_mode).raw(wire),
                );
                corpus.add(
                    "server_websocket",
                    &vector.id,
                    websocket(echo_mode, &[(binary, wire)]),
                );
                if let Wire::Text(text) = &encoding.wire {
                    if text.starts_with('0') {
                        let seed = Seed::new().byte(version_flag | 2).raw(wire);
                        corpus.add("client_handshake", &vector.id, seed);
                        let json = Seed::new().byte(version_flag).raw(&wire[1..]);
                        corpus.add("client_handshake", &vector.id, json);
                    }
                    let state = Seed::new()
                        .byte(version_flag)
                        .chunk(b"")
                        .byte(1)
                        .chunk(wire)
                        .byte(2)
                        .chunk(wire)
                        .byte(0)
                        .raw(&[0xff, 0xff]);
                    corpus.add("client_state", &vector.id, state);
                }
            }
        }
        VectorKind::EngineIoPayload { encodings, .. } => {
            for encoding in encodings {
                let wire = wire_bytes(&encoding.wire);
                let binary = matches!(encoding.wire, Wire::Bytes(_));
                let (reference_mode, suite_mode) = match (v3, binary) {
                    (false, _) => (0, 1),
                    (true, false) => (1, 3),
                    (true, true) => (2, 4),
                };
                corpus.add(
                    "eio_payload",
                    &vector.id,
                    Seed::new().byte(reference_mode).raw(wire),
                );
                corpus.add(
                    "suite_engine_io",
                    &vector.id,
                    Seed::new().byte(suite_mode).raw(wire),
                );
                // A client's POST: protocol 3 clients post text payloads only.
                if !binary {
                    corpus.add(
                        "server_http",
                        &vector.id,
                        polling_session(1, eio, &[(wire, false)]),
                    );
                }
            }
        }
        VectorKind::Reject { reject, .. } => {
            let payload = matches!(reject.decoder, Some(vectors::DecoderKind::Payload));
            for Input(wire) in &reject.inputs {
                let bytes = wire_bytes(wire);
                let binary = matches!(wire, Wire::Bytes(_));
                if payload {
                    let mode = match (v3, binary) {
                        (false, _) => 0,
                        (true, false) => 1,
                        (true, true) => 2,
                    };
                    corpus.add("eio_payload", &vector.id, Seed::new().byte(mode).raw(bytes));
                    let body = [(bytes, binary)];
                    corpus.add("server_http", &vector.id, polling_session(1, eio, &body));
                } else {
                    let flags = version_flag | if binary { 2 } else { 0 };
                    corpus.add("eio_packet", &vector.id, Seed::new().byte(flags).raw(bytes));
                    let messages = [(binary, bytes)];
                    corpus.add(
                        "server_websocket",
                        &vector.id,
                        websocket(echo_mode, &messages),
                    );
                }
            }
        }
        VectorKind::SocketIoPacket { .. } => {}
    }
}

/// The Engine.IO messages a Socket.IO packet travels in: its text after `4`, then its
/// attachments (protocol 5 over Engine.IO 4: binary frames as they are).
fn socket_io_messages(text: &str, attachments: &[Vec<u8>]) -> Vec<(bool, Vec<u8>)> {
    let mut messages = vec![(false, format!("4{text}").into_bytes())];
    messages.extend(attachments.iter().map(|bytes| (true, bytes.clone())));
    messages
}

fn socket_io(corpus: &mut Corpus, vector: &Vector) {
    let v4 = vector.version == 4;
    let flags = u8::from(v4);
    let mut inputs: Vec<(String, Vec<Vec<u8>>)> = Vec::new();
    let mut rejected: Vec<Vec<(bool, Vec<u8>)>> = Vec::new();
    match &vector.kind {
        VectorKind::SocketIoPacket { encodings, .. } => {
            for encoding in encodings {
                let attachments = encoding
                    .attachments
                    .iter()
                    .map(|hex| hex.0.clone())
                    .collect();
                inputs.push((encoding.text.clone(), attachments));
            }
        }
        VectorKind::Reject { reject, .. } => {
            let messages = reject
                .inputs
                .iter()
                .map(|Input(wire)| (matches!(wire, Wire::Bytes(_)), wire_bytes(wire).to_vec()))
                .collect();
            rejected.push(messages);
        }
        _ => {}
    }
    for (text, attachments) in &inputs {
        let mut decoder = Seed::new().byte(flags).byte(0).chunk(text.as_bytes());
        for attachment in attachments {
            decoder = decoder.byte(1).chunk(attachment);
        }
        corpus.add("sio_decoder", &vector.id, decoder);
        corpus.add(
            "suite_socket_io",
            &vector.id,
            Seed::new().byte(0).raw(text.as_bytes()),
        );
        let message = format!("4{text}");
        corpus.add(
            "suite_socket_io",
            &vector.id,
            Seed::new().byte(1).raw(message.as_bytes()),
        );
        let mut state = Seed::new()
            .byte(flags)
            .chunk(b"")
            .byte(10)
            .chunk(b"sid")
            .byte(6)
            .chunk(br#"0{"sid":"abc"}"#)
            .byte(9)
            .chunk(b"hello")
            .byte(3)
            .raw(&100_u16.to_le_bytes())
            .byte(6)
            .chunk(text.as_bytes());
        for attachment in attachments {
            state = state.byte(8).chunk(attachment);
        }
        corpus.add("client_state", &vector.id, state.byte(0).raw(&[0xe8, 0x03]));
        // Protocol 5 only: the server speaks Socket.IO 5 over Engine.IO 4.
        if !v4 {
            let mut messages = vec![(false, b"40".to_vec())];
            messages.extend(socket_io_messages(text, attachments));
            let frames: Vec<(bool, &[u8])> = messages
                .iter()
                .map(|(binary, bytes)| (*binary, &bytes[..]))
                .collect();
            corpus.add("server_websocket", &vector.id, websocket(0, &frames));
            if attachments.is_empty() {
                let message = format!("40\u{1e}4{text}");
                let body = [(message.as_bytes(), false)];
                corpus.add("server_http", &vector.id, polling_session(0, 1, &body));
            }
        }
    }
    for messages in rejected {
        let mut decoder = Seed::new().byte(flags);
        for (binary, bytes) in &messages {
            decoder = decoder.byte(u8::from(*binary)).chunk(bytes);
        }
        corpus.add("sio_decoder", &vector.id, decoder);
        if let Some((false, text)) = messages.last() {
            corpus.add("suite_socket_io", &vector.id, Seed::new().byte(0).raw(text));
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus"));
    let vectors = vectors::load_dir(&vectors::default_dir())?;
    let mut corpus = Corpus::default();
    for vector in &vectors {
        match vector.protocol {
            Protocol::EngineIo => engine_io(&mut corpus, vector),
            Protocol::SocketIo => socket_io(&mut corpus, vector),
        }
    }
    for (target, seeds) in &corpus.seeds {
        let dir = out.join(target);
        std::fs::create_dir_all(&dir)?;
        for (name, bytes) in seeds {
            std::fs::write(dir.join(name), bytes)?;
        }
        println!(
            "{target}: {} seeds from {} vectors",
            seeds.len(),
            vectors.len()
        );
    }
    Ok(())
}
