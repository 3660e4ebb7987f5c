//! The suite's own protocol codec (`sio_suite::protocol`) against the protocol vectors under
//! `vectors/`: every Engine.IO packet and payload vector of both revisions decodes to its
//! packets and encodes to its canonical forms, every Engine.IO input that must be rejected is,
//! with its error class; every Socket.IO v5 packet decodes to its parts (and encodes to its
//! canonical form), and every Socket.IO input whose fault is in the format is rejected.
//!
//! The decoders read the forms encoders write (see `sio_suite::protocol`): the few shortened
//! forms the vectors let a decoder accept are refused on purpose, and listed in [`SHORTENED`].
//!
//! The Socket.IO decoder checks the format only (see `sio_suite::protocol::socket_io`): the
//! vectors that reject a well-formed packet for its meaning (payload shapes, reserved names,
//! attachment limits and placeholders, attachment streams) are not its to reject.

use serde_json::Value;
use sio_suite::protocol::engine_io::{self, v3, v4, PacketError, PayloadError};
use sio_suite::protocol::socket_io::{self, DecodeError};
use sio_suite::scenario::Data;
use sio_suite::vectors::{
    self, DecoderKind, EngineIoEncoding, EngineIoPacket, EngineIoPacketType, Protocol, Reject,
    SocketIoEncoding, SocketIoPacket, SocketIoPacketType, Vector, VectorKind, Wire,
};

/// The vectors whose non-canonical encodings are shortened forms the suite's decoders refuse:
/// base64 without its padding, a namespace that ends the packet without its `,`.
/// Each of their canonical encodings decodes and encodes as any other; at least one of their
/// other encodings is refused.
const SHORTENED: [&str; 7] = [
    "eio4/packet/message-binary-unpadded",
    "eio4/packet/message-binary-unpadded-two",
    "eio4/payload/unpadded-base64",
    "eio3/packet/message-binary-unpadded",
    "eio3/payload/base64-unpadded",
    "sio5/connect/custom-namespace-without-comma",
    "sio5/disconnect/custom-namespace-without-comma",
];

/// Checks each encoding of `vector`; for a vector in [`SHORTENED`], a non-canonical encoding
/// may fail, and one must.
fn check_encodings<E>(
    vector: &Vector,
    encodings: &[E],
    canonical: impl Fn(&E) -> bool,
    check: impl Fn(&E) -> Result<(), String>,
) -> Result<(), String> {
    let shortened = SHORTENED.contains(&vector.id.as_str());
    let mut refused = 0;
    for encoding in encodings {
        match check(encoding) {
            Ok(()) => {}
            Err(_) if shortened && !canonical(encoding) => refused += 1,
            Err(why) => return Err(why),
        }
    }
    if shortened && refused == 0 {
        return Err("every encoding is accepted: take it out of SHORTENED".to_owned());
    }
    Ok(())
}

fn load() -> Vec<Vector> {
    vectors::load_dir(&vectors::default_dir()).expect("the vectors load")
}

/// Runs `check` on every vector it applies to; fails with every failure, and when it applies
/// to none.
fn check_all(filter: impl Fn(&Vector) -> bool, check: impl Fn(&Vector) -> Result<(), String>) {
    let vectors: Vec<Vector> = load().into_iter().filter(|vector| filter(vector)).collect();
    assert!(!vectors.is_empty(), "no vector applies");
    let failures: Vec<String> = vectors
        .iter()
        .filter_map(|vector| {
            check(vector)
                .err()
                .map(|why| format!("{}: {why}", vector.id))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} vectors fail:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}

fn is_engine_io(vector: &Vector, version: u8) -> bool {
    vector.protocol == Protocol::EngineIo && vector.version == version
}

fn packet_type(kind: EngineIoPacketType) -> engine_io::PacketType {
    match kind {
        EngineIoPacketType::Open => engine_io::PacketType::Open,
        EngineIoPacketType::Close => engine_io::PacketType::Close,
        EngineIoPacketType::Ping => engine_io::PacketType::Ping,
        EngineIoPacketType::Pong => engine_io::PacketType::Pong,
        EngineIoPacketType::Message => engine_io::PacketType::Message,
        EngineIoPacketType::Upgrade => engine_io::PacketType::Upgrade,
        EngineIoPacketType::Noop => engine_io::PacketType::Noop,
    }
}

/// A vector's packet as the codec of `version` represents it: text with its digit first; in
/// protocol 4 a binary message as its bytes, in protocol 3 a binary packet type byte first.
fn expected_packet(version: u8, packet: &EngineIoPacket) -> Result<Data, String> {
    let kind = packet_type(packet.packet_type);
    match (&packet.binary, version) {
        (None, _) => Ok(kind.text(packet.data.as_deref().unwrap_or_default())),
        (Some(bytes), 4) if kind == engine_io::PacketType::Message => {
            Ok(Data::Binary(bytes.0.clone()))
        }
        (Some(_), 4) => Err(format!("a binary {} packet in protocol 4", kind.name())),
        (Some(bytes), _) => Ok(Data::Binary(v3::encode_binary_packet(kind, &bytes.0))),
    }
}

fn expected_packets(version: u8, packets: &[EngineIoPacket]) -> Result<Vec<Data>, String> {
    packets
        .iter()
        .map(|packet| expected_packet(version, packet))
        .collect()
}

fn same<T: PartialEq + std::fmt::Debug>(what: &str, actual: T, expected: &T) -> Result<(), String> {
    if actual == *expected {
        Ok(())
    } else {
        Err(format!("{what}: {actual:?}, not {expected:?}"))
    }
}

fn check_packet_encoding(
    version: u8,
    expected: &Data,
    encoding: &EngineIoEncoding,
) -> Result<(), String> {
    match (&encoding.wire, version) {
        (Wire::Text(text), 4) => {
            same(
                &format!("decoding {text:?}"),
                v4::decode_packet(text),
                &Ok(expected.clone()),
            )?;
            if encoding.canonical {
                same("the encoding", v4::encode_packet(expected), text)?;
            }
        }
        (Wire::Text(text), _) => {
            same(
                &format!("decoding {text:?}"),
                v3::decode_packet(text),
                &Ok(expected.clone()),
            )?;
            if encoding.canonical {
                same(
                    "the encoding",
                    v3::encode_packet(expected),
                    &Ok(text.clone()),
                )?;
            }
        }
        // A protocol 4 binary frame is a binary message, as it is.
        (Wire::Bytes(bytes), 4) => {
            same("the binary frame", &Data::Binary(bytes.clone()), &expected)?
        }
        (Wire::Bytes(bytes), _) => {
            let (kind, data) =
                v3::decode_binary_packet(bytes).map_err(|error| error.to_string())?;
            let decoded = Data::Binary(v3::encode_binary_packet(kind, data));
            same("the binary frame", &decoded, &expected)?;
        }
    }
    Ok(())
}

fn check_payload_encoding(
    version: u8,
    expected: &[Data],
    encoding: &EngineIoEncoding,
) -> Result<(), String> {
    let expected = expected.to_vec();
    match (&encoding.wire, version) {
        (Wire::Text(text), 4) => {
            same(
                &format!("decoding {text:?}"),
                v4::decode_payload(text),
                &Ok(expected.clone()),
            )?;
            if encoding.canonical {
                same("the encoding", &v4::encode_payload(&expected), &text)?;
            }
        }
        (Wire::Text(text), _) => {
            same(
                &format!("decoding {text:?}"),
                v3::decode_text_payload(text),
                &Ok(expected.clone()),
            )?;
            if encoding.canonical {
                same(
                    "the encoding",
                    v3::encode_text_payload(&expected),
                    &Ok(text.clone()),
                )?;
            }
        }
        (Wire::Bytes(_), 4) => return Err("a binary payload in protocol 4".to_owned()),
        (Wire::Bytes(bytes), _) => {
            same(
                "decoding the binary payload",
                v3::decode_binary_payload(bytes),
                &Ok(expected.clone()),
            )?;
            if encoding.canonical {
                same(
                    "the encoding",
                    &v3::encode_binary_payload(&expected),
                    &bytes,
                )?;
            }
        }
    }
    Ok(())
}

fn packet_class(error: &PacketError) -> &'static str {
    match error {
        PacketError::Empty => "empty-packet",
        PacketError::UnknownType(_)
        | PacketError::UnknownTypeByte(_)
        | PacketError::MissingBinaryType => "unknown-packet-type",
        PacketError::InvalidBase64 { .. } => "invalid-base64",
    }
}

fn payload_class(error: &PayloadError) -> &'static str {
    match error {
        PayloadError::Empty => "empty-payload",
        PayloadError::Packet { error, .. } => packet_class(error),
        PayloadError::MissingColon { .. }
        | PayloadError::InvalidLength { .. }
        | PayloadError::RecordKind { .. }
        | PayloadError::NoSeparator { .. }
        | PayloadError::NoLength { .. }
        | PayloadError::LengthDigit { .. } => "invalid-length",
        PayloadError::Truncated { .. }
        | PayloadError::SplitsCharacter { .. }
        | PayloadError::RecordTruncated { .. } => "length-mismatch",
        PayloadError::EmptyRecord { .. } => "empty-packet",
        PayloadError::NotUtf8 { .. } => "invalid-utf8",
    }
}

/// Feeds one input to the decoder a reject vector names: its error class, or `None` when it
/// is accepted.
fn engine_io_decode(
    version: u8,
    decoder: DecoderKind,
    input: &Wire,
) -> Result<Option<&'static str>, String> {
    let class = match (decoder, input, version) {
        (DecoderKind::Packet, Wire::Text(text), 4) => {
            v4::decode_packet(text).err().map(|e| packet_class(&e))
        }
        (DecoderKind::Packet, Wire::Text(text), _) => {
            v3::decode_packet(text).err().map(|e| packet_class(&e))
        }
        (DecoderKind::Packet, Wire::Bytes(_), 4) => None,
        (DecoderKind::Packet, Wire::Bytes(bytes), _) => v3::decode_binary_packet(bytes)
            .err()
            .map(|e| packet_class(&e)),
        (DecoderKind::Payload, Wire::Text(text), 4) => {
            v4::decode_payload(text).err().map(|e| payload_class(&e))
        }
        (DecoderKind::Payload, Wire::Text(text), _) => v3::decode_text_payload(text)
            .err()
            .map(|e| payload_class(&e)),
        (DecoderKind::Payload, Wire::Bytes(_), 4) => {
            return Err("a binary payload in protocol 4".to_owned())
        }
        (DecoderKind::Payload, Wire::Bytes(bytes), _) => v3::decode_binary_payload(bytes)
            .err()
            .map(|e| payload_class(&e)),
    };
    Ok(class)
}

fn check_engine_io_reject(version: u8, reject: &Reject) -> Result<(), String> {
    let decoder = reject.decoder.ok_or("no decoder named")?;
    let Some((last, accepted)) = reject.inputs.split_last() else {
        return Err("no input".to_owned());
    };
    for input in accepted {
        if let Some(class) = engine_io_decode(version, decoder, &input.0)? {
            return Err(format!(
                "{:?} is refused ({class}), and must be accepted",
                input.0
            ));
        }
    }
    match engine_io_decode(version, decoder, &last.0)? {
        Some(class) if class == reject.error => Ok(()),
        Some(class) => Err(format!(
            "{:?} is refused as {class}, not {}",
            last.0, reject.error
        )),
        None => Err(format!("{:?} is accepted", last.0)),
    }
}

fn check_engine_io(version: u8, vector: &Vector) -> Result<(), String> {
    match &vector.kind {
        VectorKind::EngineIoPacket { packet, encodings } => {
            let expected = expected_packet(version, packet)?;
            check_encodings(
                vector,
                encodings,
                |encoding| encoding.canonical,
                |encoding| check_packet_encoding(version, &expected, encoding),
            )
        }
        VectorKind::EngineIoPayload { packets, encodings } => {
            let expected = expected_packets(version, packets)?;
            check_encodings(
                vector,
                encodings,
                |encoding| encoding.canonical,
                |encoding| check_payload_encoding(version, &expected, encoding),
            )
        }
        VectorKind::Reject { reject, .. } => check_engine_io_reject(version, reject),
        VectorKind::SocketIoPacket { .. } => Err("a Socket.IO vector".to_owned()),
    }
}

#[test]
fn engine_io_v4_vectors() {
    check_all(
        |vector| is_engine_io(vector, 4),
        |vector| check_engine_io(4, vector),
    );
}

#[test]
fn engine_io_v3_vectors() {
    check_all(
        |vector| is_engine_io(vector, 3),
        |vector| check_engine_io(3, vector),
    );
}

fn is_socket_io_v5(vector: &Vector) -> bool {
    vector.protocol == Protocol::SocketIo && vector.version == 5
}

fn socket_io_type(kind: SocketIoPacketType) -> socket_io::PacketType {
    match kind {
        SocketIoPacketType::Connect => socket_io::PacketType::Connect,
        SocketIoPacketType::Disconnect => socket_io::PacketType::Disconnect,
        SocketIoPacketType::Event => socket_io::PacketType::Event,
        SocketIoPacketType::Ack => socket_io::PacketType::Ack,
        SocketIoPacketType::ConnectError | SocketIoPacketType::Error => {
            socket_io::PacketType::ConnectError
        }
        SocketIoPacketType::BinaryEvent => socket_io::PacketType::BinaryEvent,
        SocketIoPacketType::BinaryAck => socket_io::PacketType::BinaryAck,
    }
}

/// Decoded data with each placeholder `{"_placeholder": true, "num": n}` replaced by attachment
/// `n` written as the vectors write binary values, `{"$binary": <hex>}`.
fn with_attachments(data: &Value, attachments: &[Vec<u8>]) -> Result<Value, String> {
    Ok(match data {
        Value::Object(object) if object.get("_placeholder") == Some(&Value::Bool(true)) => {
            let attachment = object
                .get("num")
                .and_then(Value::as_u64)
                .and_then(|num| attachments.get(usize::try_from(num).ok()?))
                .ok_or_else(|| format!("the placeholder {data} has no attachment"))?;
            serde_json::json!({"$binary": vectors::to_hex(attachment)})
        }
        Value::Object(object) => Value::Object(
            object
                .iter()
                .map(|(key, value)| Ok((key.clone(), with_attachments(value, attachments)?)))
                .collect::<Result<_, String>>()?,
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| with_attachments(item, attachments))
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

fn check_socket_io_packet(
    packet: &SocketIoPacket,
    encoding: &SocketIoEncoding,
) -> Result<(), String> {
    let text = &encoding.text;
    let decoded = socket_io::decode(text).map_err(|error| format!("decoding {text:?}: {error}"))?;
    let kind = socket_io_type(packet.packet_type);
    same("the type", decoded.kind, &kind)?;
    same(
        "the namespace",
        decoded.nsp.as_str(),
        &packet.nsp.as_deref().unwrap_or("/"),
    )?;
    same("the id", decoded.id, &packet.id)?;
    let attachments: Vec<Vec<u8>> = encoding
        .attachments
        .iter()
        .map(|hex| hex.0.clone())
        .collect();
    let count = kind
        .has_attachments()
        .then(|| u64::try_from(attachments.len()).unwrap_or(u64::MAX));
    same("the attachment count", decoded.attachments, &count)?;
    // Placeholders stand for attachments in binary packets only.
    let data = match &decoded.data {
        Some(data) if kind.has_attachments() => Some(with_attachments(data, &attachments)?),
        data => data.clone(),
    };
    same("the data", data, &packet.data)?;
    same(
        "the message",
        socket_io::decode_message(&format!("4{text}")),
        &Ok(decoded.clone()),
    )?;
    if encoding.canonical {
        same("the encoding", &decoded.encode(), &text)?;
    }
    Ok(())
}

/// The classes of the errors in the format itself, which the decoder must find.
fn format_class(error: &DecodeError) -> &'static str {
    match error {
        DecodeError::NotMessage | DecodeError::NoType => "empty-packet",
        DecodeError::UnknownType(_) => "unknown-packet-type",
        DecodeError::MissingAttachments
        | DecodeError::InvalidAttachmentCount(_)
        | DecodeError::AttachmentCountTooLarge(_) => "invalid-attachment-count",
        DecodeError::UnterminatedNamespace
        | DecodeError::MainNamespaceWritten
        | DecodeError::IdTooLarge(_)
        | DecodeError::InvalidJson { .. } => "invalid-json",
    }
}

const FORMAT_CLASSES: [&str; 4] = [
    "empty-packet",
    "unknown-packet-type",
    "invalid-attachment-count",
    "invalid-json",
];

fn check_socket_io(vector: &Vector) -> Result<(), String> {
    match &vector.kind {
        VectorKind::SocketIoPacket { packet, encodings } => check_encodings(
            vector,
            encodings,
            |encoding| encoding.canonical,
            |encoding| check_socket_io_packet(packet, encoding),
        ),
        VectorKind::Reject { reject, .. } => {
            let [vectors::Input(Wire::Text(text))] = reject.inputs.as_slice() else {
                return Ok(());
            };
            if !FORMAT_CLASSES.contains(&reject.error.as_str()) {
                return Ok(());
            }
            match socket_io::decode(text) {
                Err(error) if format_class(&error) == reject.error => Ok(()),
                // A count of 0 is well-formed: that a binary packet has at least one
                // attachment is its meaning, not its format.
                Ok(packet) if packet.attachments == Some(0) => Ok(()),
                Err(error) => Err(format!(
                    "{text:?} is refused as {}: {error}",
                    format_class(&error)
                )),
                Ok(packet) => Err(format!("{text:?} is accepted: {packet:?}")),
            }
        }
        _ => Err("not a Socket.IO vector".to_owned()),
    }
}

#[test]
fn socket_io_v5_vectors() {
    check_all(is_socket_io_v5, check_socket_io);
}
