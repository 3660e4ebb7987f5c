//! Micro-benchmarks of the reference codec's hot paths: what every message crosses on its way
//! in and out of a server. Engine.IO packets (text and binary, protocol 4) and polling payloads;
//! Socket.IO packets with and without binary attachments, encoded and decoded.
//!
//!   cargo bench -p sio-reference --bench codec
//!
//! The figures are the codec's alone; `sio-conformance bench` measures whole servers.

// criterion's macros define the `benches` and `main` functions, which cannot carry docs.
#![allow(missing_docs)]

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sio_reference::engine_io::{payload, Packet as EnginePacket, PacketType, ProtocolVersion};
use sio_reference::socket_io::{self, Decoder, Value};
use std::hint::black_box;

/// A typical chat-sized event argument: an object of a few fields.
fn message_value() -> Value {
    Value::Object(vec![
        ("user".to_owned(), Value::String("alice".to_owned())),
        ("text".to_owned(), Value::String("hello, world ".repeat(8))),
        ("n".to_owned(), Value::Number(42.into())),
        (
            "tags".to_owned(),
            Value::Array(vec![Value::Bool(true), Value::Null]),
        ),
    ])
}

fn engine_io(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine.io");
    let text = EnginePacket::text(PacketType::Message, r#"2["message",{"text":"hello"}]"#);
    let encoded = text.encode_text(ProtocolVersion::V4);
    group.throughput(Throughput::Bytes(encoded.len() as u64));
    group.bench_function("encode text packet", |b| {
        b.iter(|| black_box(&text).encode_text(ProtocolVersion::V4))
    });
    group.bench_function("decode text packet", |b| {
        b.iter(|| EnginePacket::decode_text(black_box(&encoded), ProtocolVersion::V4))
    });
    let binary = EnginePacket::binary(Bytes::from(vec![7_u8; 1024]));
    let as_text = binary.encode_text(ProtocolVersion::V4);
    group.throughput(Throughput::Bytes(1024));
    group.bench_function("encode binary packet as base64 (1 KiB)", |b| {
        b.iter(|| black_box(&binary).encode_text(ProtocolVersion::V4))
    });
    group.bench_function("decode base64 binary packet (1 KiB)", |b| {
        b.iter(|| EnginePacket::decode_text(black_box(&as_text), ProtocolVersion::V4))
    });
    let packets: Vec<EnginePacket> = (0..16)
        .map(|n| EnginePacket::text(PacketType::Message, format!(r#"2["message",{n}]"#)))
        .collect();
    let body = payload::encode_v4(&packets);
    group.throughput(Throughput::Elements(packets.len() as u64));
    group.bench_function("encode payload of 16 packets", |b| {
        b.iter(|| payload::encode_v4(black_box(&packets)))
    });
    group.bench_function("decode payload of 16 packets", |b| {
        b.iter(|| payload::decode_v4(black_box(&body)).count())
    });
    group.finish();
}

fn socket_io(c: &mut Criterion) {
    let mut group = c.benchmark_group("socket.io");
    let event = socket_io::Packet::event("/", "message", vec![message_value()]);
    let encoded = event.encode();
    group.bench_function("encode event", |b| b.iter(|| black_box(&event).encode()));
    group.bench_function("decode event", |b| {
        b.iter(|| {
            let mut decoder = Decoder::new(socket_io::ProtocolVersion::V5);
            decoder.decode_text(black_box(&encoded.text))
        })
    });
    let with_binary = socket_io::Packet::event(
        "/",
        "message",
        vec![
            message_value(),
            Value::Binary(Bytes::from(vec![1_u8; 1024])),
            Value::Binary(Bytes::from(vec![2_u8; 64])),
        ],
    );
    let binary_encoded = with_binary.encode();
    group.bench_function("encode event with 2 attachments", |b| {
        b.iter(|| black_box(&with_binary).encode())
    });
    group.bench_function("decode event with 2 attachments", |b| {
        b.iter(|| {
            let mut decoder = Decoder::new(socket_io::ProtocolVersion::V5);
            let mut decoded = decoder.decode_text(black_box(&binary_encoded.text));
            for attachment in &binary_encoded.attachments {
                decoded = decoder.decode_binary(attachment.clone());
            }
            decoded
        })
    });
    group.finish();
}

criterion_group!(benches, engine_io, socket_io);
criterion_main!(benches);
