//! How a session writes and reads its packets in each protocol revision: the POST body of some
//! packets, the WebSocket frame of a packet, and the packets of a polling body as the steps see
//! them (a packet that does not decode stays text; a protocol 3 binary message is its data, as
//! in protocol 4).

use super::rules::AutoHeartbeat;
use crate::engine::error::StepError;
use crate::engine::http::{self, HttpResponse};
use crate::engine::websocket::Framing;
use crate::protocol::engine_io::{v3, v4};
use crate::scenario::Data;

/// The Engine.IO protocol revision a session speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Protocol {
    /// Revision 3 (`EIO=3`).
    V3,
    /// Revision 4 (`EIO=4`).
    V4,
}

impl Protocol {
    /// The revision a case's `eio` names; the engine speaks 3 and 4.
    pub(super) fn of(eio: u8) -> Result<Protocol, StepError> {
        match eio {
            3 => Ok(Protocol::V3),
            4 => Ok(Protocol::V4),
            other => Err(StepError::Invalid(format!(
                "Engine.IO v{other} sessions are not implemented by the engine"
            ))),
        }
    }

    /// What the engine does by itself about the heartbeat, when it is automatic.
    pub(super) fn heartbeat(self, auto: bool) -> AutoHeartbeat {
        match (auto, self) {
            (false, _) => AutoHeartbeat::Off,
            (true, Protocol::V4) => AutoHeartbeat::AnswerPings,
            (true, Protocol::V3) => AutoHeartbeat::DropPongs,
        }
    }

    /// How a session's WebSocket reader reads frames.
    pub(super) fn framing(self) -> Framing {
        match self {
            Protocol::V3 => Framing::V3Session,
            Protocol::V4 => Framing::AsIs,
        }
    }
}

/// The body of a POST of some packets.
pub(super) fn encode_payload(protocol: Protocol, packets: &[Data]) -> Result<String, StepError> {
    match protocol {
        Protocol::V4 => Ok(v4::encode_payload(packets)),
        Protocol::V3 => {
            let packets: Vec<Data> = packets
                .iter()
                .map(|packet| frame(protocol, packet))
                .collect();
            v3::encode_text_payload(&packets)
                .map_err(|error| StepError::Invalid(format!("cannot encode a v3 payload: {error}")))
        }
    }
}

/// The WebSocket frame of a packet: in protocol 3 a binary message carries its type byte 4
/// first.
pub(super) fn frame(protocol: Protocol, packet: &Data) -> Data {
    match (protocol, packet) {
        (Protocol::V3, Data::Binary(bytes)) => v3::binary_message(bytes),
        (_, packet) => packet.clone(),
    }
}

/// A protocol 3 binary packet as a session sees it: a message (type byte 4) is its data, as in
/// protocol 4; any other packet stays whole, type byte included, so that a step expecting a
/// message shows the difference.
pub(crate) fn v3_session_binary(packet: Vec<u8>) -> Data {
    match v3::message_data(&packet) {
        Some(data) => Data::Binary(data.to_vec()),
        None => Data::Binary(packet),
    }
}

/// A packet of a polling body as a session sees it: decoded when it decodes, its text
/// otherwise, so that a step expecting something else shows what came.
fn session_packet(protocol: Protocol, packet: &str) -> Data {
    let decoded = match protocol {
        Protocol::V4 => v4::decode_packet(packet),
        Protocol::V3 => v3::decode_packet(packet).map(|decoded| match decoded {
            Data::Binary(bytes) => v3_session_binary(bytes),
            text => text,
        }),
    };
    decoded.unwrap_or_else(|_| Data::Text(packet.to_owned()))
}

/// The packets of a polling GET's body, as the session sees them.
pub(super) fn decode_poll_body(
    protocol: Protocol,
    response: &HttpResponse,
) -> Result<Vec<Data>, String> {
    match protocol {
        Protocol::V4 => Ok(v4::split_payload(&String::from_utf8_lossy(&response.body))
            .map(|packet| session_packet(protocol, packet))
            .collect()),
        Protocol::V3 if is_octet_stream(response) => {
            let records = v3::split_binary_payload(&response.body)
                .map_err(|why| format!("not a v3 binary payload: {why}"))?;
            Ok(records
                .into_iter()
                .map(|record| match record {
                    Data::Binary(bytes) => v3_session_binary(bytes),
                    text => text,
                })
                .collect())
        }
        Protocol::V3 => {
            let text = std::str::from_utf8(&response.body)
                .map_err(|_| "not a v3 payload: not UTF-8".to_owned())?;
            let packets =
                v3::split_text_payload(text).map_err(|why| format!("not a v3 payload: {why}"))?;
            Ok(packets
                .into_iter()
                .map(|packet| session_packet(protocol, packet))
                .collect())
        }
    }
}

/// Whether a response's `Content-Type` is `application/octet-stream` (a v3 binary payload).
fn is_octet_stream(response: &HttpResponse) -> bool {
    http::header(&response.headers, "content-type").is_some_and(|value| {
        value
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .eq_ignore_ascii_case(v3::BINARY_CONTENT_TYPE)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(text: &str) -> Data {
        Data::Text(text.to_owned())
    }

    #[test]
    fn posts_are_payloads_of_the_session_protocol() {
        assert_eq!(
            encode_payload(Protocol::V3, &[text("4€"), Data::Binary(vec![1, 2, 3, 4])]),
            Ok("2:4€10:b4AQIDBA==".to_owned())
        );
        assert_eq!(
            encode_payload(Protocol::V4, &[text("4a"), Data::Binary(vec![1, 2, 3])]),
            Ok("4a\u{1e}bAQID".to_owned())
        );
    }

    #[test]
    fn v3_websocket_binary_messages_carry_their_type_byte() {
        assert_eq!(
            frame(Protocol::V3, &Data::Binary(vec![1, 2, 3])),
            Data::Binary(vec![4, 1, 2, 3])
        );
        assert_eq!(frame(Protocol::V3, &text("4a")), text("4a"));
        assert_eq!(
            frame(Protocol::V4, &Data::Binary(vec![1, 2, 3])),
            Data::Binary(vec![1, 2, 3])
        );
    }

    fn response(content_type: &str, body: &[u8]) -> HttpResponse {
        HttpResponse {
            status: 200,
            headers: vec![("content-type".to_owned(), content_type.to_owned())],
            body: body.to_vec(),
        }
    }

    #[test]
    fn v3_poll_bodies_are_read_by_their_content_type() {
        let plain = "text/plain; charset=UTF-8";
        assert_eq!(
            decode_poll_body(Protocol::V3, &response(plain, b"6:4hello10:b4AQIDBA==1:3")),
            Ok(vec![
                text("4hello"),
                Data::Binary(vec![1, 2, 3, 4]),
                text("3")
            ])
        );
        let binary = [
            0x00, 0x06, 0xFF, 0x34, 0x68, 0x65, 0x6C, 0x6C, 0x6F, 0x01, 0x05, 0xFF, 0x04, 0x01,
            0x02, 0x03, 0x04, 0x01, 0x02, 0xFF, 0x02, 0x09,
        ];
        assert_eq!(
            decode_poll_body(Protocol::V3, &response("Application/Octet-Stream", &binary)),
            Ok(vec![
                text("4hello"),
                Data::Binary(vec![1, 2, 3, 4]),
                // Not a message: whole, so that a step expecting one shows it.
                Data::Binary(vec![2, 9]),
            ])
        );
        // The same bytes under another type are not a text payload.
        assert!(decode_poll_body(Protocol::V3, &response(plain, &binary)).is_err());
        // Lengths in bytes, not UTF-16 units.
        assert!(decode_poll_body(Protocol::V3, &response(plain, "4:4€".as_bytes())).is_err());
        assert_eq!(
            decode_poll_body(Protocol::V4, &response(plain, b"4a\x1ebAQID")),
            Ok(vec![text("4a"), Data::Binary(vec![1, 2, 3])])
        );
    }
}
