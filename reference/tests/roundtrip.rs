//! Property tests of the codec: every packet it can represent encodes and decodes back to
//! itself, in each protocol version, and no input at all makes a decoder panic.

use bytes::Bytes;
use proptest::collection::vec;
use proptest::prelude::*;
use sio_reference::engine_io::{self, payload, Data, Frame, PacketType};
use sio_reference::socket_io::{self, Value};

// Engine.IO

fn eio_packet_type() -> impl Strategy<Value = PacketType> {
    proptest::sample::select(PacketType::ALL.to_vec())
}

/// Text data: any string, but without the record separator, which the v4 payload format
/// cannot carry ("this assumes the record separator is not used in the data").
fn text_without_separator() -> impl Strategy<Value = String> {
    any::<String>().prop_map(|text| text.replace('\x1e', ""))
}

fn bytes() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..64).prop_map(Bytes::from)
}

/// A v4 packet: binary data only in messages, as v4 has no type for binary packets.
fn eio4_packet() -> impl Strategy<Value = engine_io::Packet> {
    prop_oneof![
        (eio_packet_type(), text_without_separator())
            .prop_map(|(packet_type, text)| engine_io::Packet::text(packet_type, text)),
        bytes().prop_map(engine_io::Packet::binary),
    ]
}

/// A v3 packet: binary data with any type.
fn eio3_packet() -> impl Strategy<Value = engine_io::Packet> {
    prop_oneof![
        (eio_packet_type(), any::<String>())
            .prop_map(|(packet_type, text)| engine_io::Packet::text(packet_type, text)),
        (eio_packet_type(), bytes()).prop_map(|(packet_type, bytes)| engine_io::Packet {
            packet_type,
            data: Data::Binary(bytes),
        }),
    ]
}

fn decode_frame(frame: Frame, version: engine_io::ProtocolVersion) -> engine_io::Packet {
    let decoded = match frame {
        Frame::Text(text) => engine_io::Packet::decode_text(&text, version),
        Frame::Binary(bytes) => engine_io::Packet::decode_binary(bytes, version),
    };
    decoded.expect("an encoded frame decodes")
}

proptest! {
    #[test]
    fn eio4_packets_round_trip(packet in eio4_packet()) {
        let version = engine_io::ProtocolVersion::V4;
        let text = packet.encode_text(version);
        prop_assert_eq!(engine_io::Packet::decode_text(&text, version), Ok(packet.clone()));
        prop_assert_eq!(decode_frame(packet.encode_frame(version), version), packet);
    }

    #[test]
    fn eio3_packets_round_trip(packet in eio3_packet()) {
        let version = engine_io::ProtocolVersion::V3;
        let text = packet.encode_text(version);
        prop_assert_eq!(engine_io::Packet::decode_text(&text, version), Ok(packet.clone()));
        prop_assert_eq!(decode_frame(packet.encode_frame(version), version), packet);
    }

    #[test]
    fn eio4_payloads_round_trip(packets in vec(eio4_packet(), 1..8)) {
        let body = payload::encode_v4(&packets);
        let decoded: Result<Vec<_>, _> = payload::decode_v4(&body).collect();
        prop_assert_eq!(decoded, Ok(packets));
    }

    #[test]
    fn eio3_text_payloads_round_trip(packets in vec(eio3_packet(), 0..8)) {
        let body = payload::encode_v3_text(&packets);
        let decoded: Result<Vec<_>, _> = payload::decode_v3_text(&body).collect();
        prop_assert_eq!(decoded, Ok(packets));
    }

    #[test]
    fn eio3_binary_payloads_round_trip(packets in vec(eio3_packet(), 1..8)) {
        let body = payload::encode_v3_binary(&packets);
        let decoded: Result<Vec<_>, _> = payload::decode_v3_binary(body.into()).collect();
        prop_assert_eq!(decoded, Ok(packets));
    }

    #[test]
    fn eio_decoders_never_panic(text in any::<String>(), raw in vec(any::<u8>(), 0..64)) {
        for version in [engine_io::ProtocolVersion::V3, engine_io::ProtocolVersion::V4] {
            let _ = engine_io::Packet::decode_text(&text, version);
            let _ = engine_io::Packet::decode_binary(Bytes::from(raw.clone()), version);
        }
        let _ = payload::decode_v4(&text).count();
        let _ = payload::decode_v3_text(&text).count();
        let _ = payload::decode_v3_binary(Bytes::from(raw)).count();
    }
}

// Socket.IO

fn number() -> impl Strategy<Value = serde_json::Number> {
    prop_oneof![
        any::<i64>().prop_map(serde_json::Number::from),
        any::<u64>().prop_map(serde_json::Number::from),
        // Integral floats are written as integers ("2", like JSON.stringify) and read back as
        // integers, so only floats with a fraction keep their representation.
        any::<f64>()
            .prop_filter("finite with a fraction", |f| f.is_finite()
                && f.fract() != 0.0)
            .prop_map(|f| serde_json::Number::from_f64(f).expect("finite")),
    ]
}

/// Any payload value, binary values included.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number().prop_map(Value::Number),
        any::<String>().prop_map(Value::String),
        bytes().prop_map(Value::Binary),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            vec((any::<String>(), inner), 0..6).prop_map(|entries| {
                let mut unique: Vec<(String, Value)> = Vec::new();
                for (key, value) in entries {
                    if !unique.iter().any(|(existing, _)| *existing == key) {
                        unique.push((key, value));
                    }
                }
                Value::Object(unique)
            }),
        ]
    })
}

fn binary_count(value: &Value) -> usize {
    match value {
        Value::Binary(_) => 1,
        Value::Array(items) => items.iter().map(binary_count).sum(),
        Value::Object(entries) => entries.iter().map(|(_, value)| binary_count(value)).sum(),
        _ => 0,
    }
}

/// Removes binary values, for packet types that carry none.
fn without_binary(value: Value) -> Value {
    match value {
        Value::Binary(_) => Value::Null,
        Value::Array(items) => Value::Array(items.into_iter().map(without_binary).collect()),
        Value::Object(entries) => Value::Object(
            entries
                .into_iter()
                .map(|(key, value)| (key, without_binary(value)))
                .collect(),
        ),
        other => other,
    }
}

fn namespace() -> impl Strategy<Value = String> {
    prop_oneof![Just("/".to_owned()), "/[a-zA-Z0-9_/?=&.-]{0,12}"]
}

fn event_name() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<String>()
            .prop_filter("not reserved", |name| !socket_io_reserved(name))
            .prop_map(Value::String),
        number().prop_map(Value::Number),
    ]
}

fn socket_io_reserved(name: &str) -> bool {
    socket_io::RESERVED_EVENTS.contains(&name)
}

fn object() -> impl Strategy<Value = Value> {
    value().prop_map(|value| match without_binary(value) {
        object @ Value::Object(_) => object,
        other => Value::Object(vec![("value".to_owned(), other)]),
    })
}

/// Any packet valid in both versions, its payload of the shape its type requires.
fn sio_packet() -> impl Strategy<Value = socket_io::Packet> {
    use socket_io::PacketType as T;
    let id = proptest::option::of(0u64..=(1 << 53) - 1);
    let payload = prop_oneof![
        (Just(T::Connect), proptest::option::of(object())),
        (Just(T::Disconnect), Just(None)),
        (
            Just(T::ConnectError),
            prop_oneof![object(), any::<String>().prop_map(Value::String)].prop_map(Some)
        ),
        (
            Just(T::Event),
            (event_name(), vec(value(), 0..5)).prop_map(|(name, mut arguments)| {
                arguments.insert(0, name);
                Some(Value::Array(arguments))
            })
        ),
        (
            Just(T::Ack),
            vec(value(), 0..5).prop_map(|items| Some(Value::Array(items)))
        ),
    ];
    (payload, namespace(), id)
        .prop_filter("at most 10 attachments", |((_, data), _, _)| {
            data.as_ref().map_or(0, binary_count) <= socket_io::DEFAULT_MAX_ATTACHMENTS
        })
        .prop_map(|((packet_type, data), namespace, id)| {
            let mut packet = socket_io::Packet {
                packet_type,
                namespace,
                id,
                data,
            };
            // The decoder reports the type that was on the wire.
            packet.packet_type = packet.wire_type();
            packet
        })
}

fn decode(
    encoded: &socket_io::Encoded,
    version: socket_io::ProtocolVersion,
) -> Result<Option<socket_io::Packet>, sio_reference::SocketIoError> {
    let mut decoder = socket_io::Decoder::new(version);
    let mut decoded = decoder.decode_text(&encoded.text)?;
    for attachment in &encoded.attachments {
        decoded = decoder.decode_binary(attachment.clone())?;
    }
    Ok(decoded)
}

proptest! {
    #[test]
    fn sio_packets_round_trip(packet in sio_packet()) {
        let encoded = packet.encode();
        for version in [socket_io::ProtocolVersion::V4, socket_io::ProtocolVersion::V5] {
            prop_assert_eq!(decode(&encoded, version), Ok(Some(packet.clone())));
        }
    }

    #[test]
    fn sio_decoder_never_panics(
        inputs in vec(prop_oneof![any::<String>().prop_map(Ok), vec(any::<u8>(), 0..16).prop_map(Err)], 1..6),
        prefix in "[0-6]{0,1}[0-9-]{0,3}(/[a-z]{0,3},)?[0-9]{0,3}",
    ) {
        for version in [socket_io::ProtocolVersion::V4, socket_io::ProtocolVersion::V5] {
            let mut decoder = socket_io::Decoder::new(version);
            for input in &inputs {
                let _ = match input {
                    Ok(text) => decoder.decode_text(&format!("{prefix}{text}")),
                    Err(bytes) => decoder.decode_binary(Bytes::from(bytes.clone())),
                };
            }
        }
    }
}
