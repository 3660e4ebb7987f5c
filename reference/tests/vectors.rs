//! Every protocol vector of `vectors/` as its own test against the reference codec:
//! `cargo test -p sio-reference --test vectors -- eio4/payload` selects some.

use bytes::Bytes;
use libtest_mimic::{Arguments, Failed, Trial};
use sio_reference::engine_io::{self, payload, Frame};
use sio_reference::socket_io;
use sio_suite::vectors::{
    self, to_hex, DecoderKind, EngineIoEncoding, EngineIoPacket, EngineIoPacketType, Reject,
    SocketIoEncoding, SocketIoPacket, SocketIoPacketType, Transport, Vector, VectorKind, Wire,
};

fn main() {
    let arguments = Arguments::from_args();
    let trials = match vectors::load_dir(&vectors::default_dir()) {
        Ok(loaded) => loaded.into_iter().map(trial).collect(),
        Err(error) => vec![Trial::test("vectors/load", move || {
            Err(error.to_string().into())
        })],
    };
    libtest_mimic::run(&arguments, trials).exit();
}

fn trial(vector: Vector) -> Trial {
    Trial::test(vector.id.clone(), move || check(&vector))
}

fn check(vector: &Vector) -> Result<(), Failed> {
    match &vector.kind {
        VectorKind::EngineIoPacket { packet, encodings } => {
            check_engine_io_packet(eio_version(vector)?, packet, encodings)
        }
        VectorKind::EngineIoPayload { packets, encodings } => {
            check_engine_io_payload(eio_version(vector)?, packets, encodings)
        }
        VectorKind::SocketIoPacket { packet, encodings } => {
            check_socket_io_packet(sio_version(vector)?, packet, encodings)
        }
        VectorKind::Reject { reject, .. } => match vector.protocol {
            vectors::Protocol::EngineIo => check_engine_io_reject(eio_version(vector)?, reject),
            vectors::Protocol::SocketIo => check_socket_io_reject(sio_version(vector)?, reject),
        },
    }
}

fn eio_version(vector: &Vector) -> Result<engine_io::ProtocolVersion, Failed> {
    match vector.version {
        3 => Ok(engine_io::ProtocolVersion::V3),
        4 => Ok(engine_io::ProtocolVersion::V4),
        other => Err(format!("no Engine.IO version {other}").into()),
    }
}

fn sio_version(vector: &Vector) -> Result<socket_io::ProtocolVersion, Failed> {
    match vector.version {
        4 => Ok(socket_io::ProtocolVersion::V4),
        5 => Ok(socket_io::ProtocolVersion::V5),
        other => Err(format!("no Socket.IO version {other}").into()),
    }
}

/// Fails with expected and actual side by side.
fn expect_eq<T: PartialEq + std::fmt::Debug>(
    what: &str,
    expected: T,
    actual: T,
) -> Result<(), Failed> {
    if expected == actual {
        return Ok(());
    }
    Err(format!("{what}\n  expected: {expected:?}\n    actual: {actual:?}").into())
}

// Engine.IO

fn eio_packet(packet: &EngineIoPacket) -> engine_io::Packet {
    let packet_type = match packet.packet_type {
        EngineIoPacketType::Open => engine_io::PacketType::Open,
        EngineIoPacketType::Close => engine_io::PacketType::Close,
        EngineIoPacketType::Ping => engine_io::PacketType::Ping,
        EngineIoPacketType::Pong => engine_io::PacketType::Pong,
        EngineIoPacketType::Message => engine_io::PacketType::Message,
        EngineIoPacketType::Upgrade => engine_io::PacketType::Upgrade,
        EngineIoPacketType::Noop => engine_io::PacketType::Noop,
    };
    let data = match (&packet.binary, &packet.data) {
        (Some(binary), _) => engine_io::Data::Binary(Bytes::from(binary.0.clone())),
        (None, text) => engine_io::Data::Text(text.clone().unwrap_or_default()),
    };
    engine_io::Packet { packet_type, data }
}

fn check_engine_io_packet(
    version: engine_io::ProtocolVersion,
    packet: &EngineIoPacket,
    encodings: &[EngineIoEncoding],
) -> Result<(), Failed> {
    let expected = eio_packet(packet);
    for encoding in encodings {
        let decoded = match &encoding.wire {
            Wire::Text(text) => engine_io::Packet::decode_text(text, version),
            Wire::Bytes(bytes) => {
                engine_io::Packet::decode_binary(Bytes::from(bytes.clone()), version)
            }
        };
        expect_eq(
            &format!("decoding {:?}", encoding.wire),
            Ok(expected.clone()),
            decoded,
        )?;
        if !encoding.canonical {
            continue;
        }
        for transport in &encoding.transports {
            let encoded = match transport {
                Transport::Polling => Wire::Text(expected.encode_text(version)),
                Transport::Websocket => match expected.encode_frame(version) {
                    Frame::Text(text) => Wire::Text(text),
                    Frame::Binary(bytes) => Wire::Bytes(bytes.to_vec()),
                },
            };
            expect_eq(
                &format!("encoding for {transport:?}"),
                &encoding.wire,
                &encoded,
            )?;
        }
    }
    Ok(())
}

fn check_engine_io_payload(
    version: engine_io::ProtocolVersion,
    packets: &[EngineIoPacket],
    encodings: &[EngineIoEncoding],
) -> Result<(), Failed> {
    let expected: Vec<_> = packets.iter().map(eio_packet).collect();
    for encoding in encodings {
        let decoded = decode_payload(version, &encoding.wire)?;
        expect_eq(
            &format!("decoding {:?}", encoding.wire),
            Ok(expected.clone()),
            decoded.into_iter().collect::<Result<Vec<_>, _>>(),
        )?;
        if encoding.canonical {
            let encoded = match (&encoding.wire, version) {
                (Wire::Text(_), engine_io::ProtocolVersion::V4) => {
                    Wire::Text(payload::encode_v4(&expected))
                }
                (Wire::Text(_), engine_io::ProtocolVersion::V3) => {
                    Wire::Text(payload::encode_v3_text(&expected))
                }
                (Wire::Bytes(_), _) => Wire::Bytes(payload::encode_v3_binary(&expected)),
            };
            expect_eq("encoding", &encoding.wire, &encoded)?;
        }
    }
    Ok(())
}

type Decoded = Vec<Result<engine_io::Packet, sio_reference::EngineIoError>>;

fn decode_payload(version: engine_io::ProtocolVersion, wire: &Wire) -> Result<Decoded, Failed> {
    Ok(match (wire, version) {
        (Wire::Text(text), engine_io::ProtocolVersion::V4) => payload::decode_v4(text).collect(),
        (Wire::Text(text), engine_io::ProtocolVersion::V3) => {
            payload::decode_v3_text(text).collect()
        }
        (Wire::Bytes(bytes), engine_io::ProtocolVersion::V3) => {
            payload::decode_v3_binary(Bytes::from(bytes.clone())).collect()
        }
        (Wire::Bytes(_), engine_io::ProtocolVersion::V4) => {
            return Err("v4 has no binary payloads".into())
        }
    })
}

fn check_engine_io_reject(
    version: engine_io::ProtocolVersion,
    reject: &Reject,
) -> Result<(), Failed> {
    let Some((last, earlier)) = reject.inputs.split_last() else {
        return Err("a reject vector needs inputs".into());
    };
    let decoder = reject.decoder.unwrap_or(DecoderKind::Packet);
    let decode = |wire: &Wire| -> Result<Decoded, Failed> {
        match decoder {
            DecoderKind::Packet => Ok(vec![match wire {
                Wire::Text(text) => engine_io::Packet::decode_text(text, version),
                Wire::Bytes(bytes) => {
                    engine_io::Packet::decode_binary(Bytes::from(bytes.clone()), version)
                }
            }]),
            DecoderKind::Payload => decode_payload(version, wire),
        }
    };
    for input in earlier {
        if let Some(Err(error)) = decode(&input.0)?.into_iter().find(Result::is_err) {
            return Err(format!("input {:?} must be accepted: {error}", input.0).into());
        }
    }
    let mut results = decode(&last.0)?;
    let error = match results.pop() {
        Some(Err(error)) => error,
        other => return Err(format!("{:?} must be refused, decoded {other:?}", last.0).into()),
    };
    let delivered: Vec<_> = reject.delivered.iter().map(eio_packet).collect();
    expect_eq(
        "packets delivered before the error",
        Ok(delivered),
        results.into_iter().collect::<Result<Vec<_>, _>>(),
    )?;
    expect_eq(
        &format!("error class ({error})"),
        reject.error.as_str(),
        error.class(),
    )
}

// Socket.IO

fn sio_packet(packet: &SocketIoPacket) -> Result<socket_io::Packet, Failed> {
    let packet_type = match packet.packet_type {
        SocketIoPacketType::Connect => socket_io::PacketType::Connect,
        SocketIoPacketType::Disconnect => socket_io::PacketType::Disconnect,
        SocketIoPacketType::Event => socket_io::PacketType::Event,
        SocketIoPacketType::Ack => socket_io::PacketType::Ack,
        SocketIoPacketType::ConnectError | SocketIoPacketType::Error => {
            socket_io::PacketType::ConnectError
        }
        SocketIoPacketType::BinaryEvent => socket_io::PacketType::BinaryEvent,
        SocketIoPacketType::BinaryAck => socket_io::PacketType::BinaryAck,
    };
    Ok(socket_io::Packet {
        packet_type,
        namespace: packet.nsp.clone().unwrap_or_else(|| "/".to_owned()),
        id: packet.id,
        data: packet.data.clone().map(value_with_binary).transpose()?,
    })
}

/// A vector's JSON data as a payload value, `{"$binary": "<hex>"}` becoming binary.
fn value_with_binary(json: serde_json::Value) -> Result<socket_io::Value, Failed> {
    use serde_json::Value as Json;
    Ok(match json {
        Json::Object(entries) if entries.len() == 1 && entries.contains_key("$binary") => {
            let hex = entries["$binary"]
                .as_str()
                .ok_or("$binary must be a hex string")?;
            socket_io::Value::Binary(vectors::parse_hex(hex)?.into())
        }
        Json::Object(entries) => socket_io::Value::Object(
            entries
                .into_iter()
                .map(|(key, value)| Ok((key, value_with_binary(value)?)))
                .collect::<Result<_, Failed>>()?,
        ),
        Json::Array(items) => socket_io::Value::Array(
            items
                .into_iter()
                .map(value_with_binary)
                .collect::<Result<_, _>>()?,
        ),
        other => socket_io::Value::from(other),
    })
}

fn check_socket_io_packet(
    version: socket_io::ProtocolVersion,
    packet: &SocketIoPacket,
    encodings: &[SocketIoEncoding],
) -> Result<(), Failed> {
    let expected = sio_packet(packet)?;
    for encoding in encodings {
        let mut decoder = socket_io::Decoder::new(version);
        let mut decoded = decoder.decode_text(&encoding.text);
        for attachment in &encoding.attachments {
            if !matches!(decoded, Ok(None)) {
                break;
            }
            decoded = decoder.decode_binary(Bytes::from(attachment.0.clone()));
        }
        expect_eq(
            &format!(
                "decoding {:?} + {} attachment(s)",
                encoding.text,
                encoding.attachments.len()
            ),
            Ok(Some(expected.clone())),
            decoded,
        )?;
        if encoding.canonical {
            let encoded = expected.encode();
            expect_eq(
                "encoded text",
                encoding.text.as_str(),
                encoded.text.as_str(),
            )?;
            let attachments: Vec<_> = encoded.attachments.iter().map(|a| to_hex(a)).collect();
            let wanted: Vec<_> = encoding.attachments.iter().map(|a| to_hex(&a.0)).collect();
            expect_eq("encoded attachments", wanted, attachments)?;
        }
    }
    Ok(())
}

fn check_socket_io_reject(
    version: socket_io::ProtocolVersion,
    reject: &Reject,
) -> Result<(), Failed> {
    let Some((last, earlier)) = reject.inputs.split_last() else {
        return Err("a reject vector needs inputs".into());
    };
    let mut decoder = socket_io::Decoder::new(version);
    let mut feed = |wire: &Wire| match wire {
        Wire::Text(text) => decoder.decode_text(text),
        Wire::Bytes(bytes) => decoder.decode_binary(Bytes::from(bytes.clone())),
    };
    for input in earlier {
        if let Err(error) = feed(&input.0) {
            return Err(format!("input {:?} must be accepted: {error}", input.0).into());
        }
    }
    match feed(&last.0) {
        Err(error) => expect_eq(
            &format!("error class ({error})"),
            reject.error.as_str(),
            error.class(),
        ),
        Ok(decoded) => Err(format!("{:?} must be refused, decoded {decoded:?}", last.0).into()),
    }
}
