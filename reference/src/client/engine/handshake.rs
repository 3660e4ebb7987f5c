//! The handshake as the client reads it: the open packet's JSON. I/O free.

use std::time::Duration;

use crate::engine_io::{Data, Packet, PacketType};

/// The session's parameters, from the server's open packet
/// (`0{"sid":…,"upgrades":[…],"pingInterval":…,"pingTimeout":…,"maxPayload":…}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// `sid`: "The session ID", sent in the query of every later request.
    pub sid: String,
    /// `upgrades`: "The list of available transport upgrades".
    pub upgrades: Vec<String>,
    /// `pingInterval`.
    pub ping_interval: Duration,
    /// `pingTimeout`.
    pub ping_timeout: Duration,
    /// `maxPayload`: "The maximum number of bytes per chunk, used by the client to aggregate
    /// packets into payloads". Absent from protocol 3 servers, which then get no chunking.
    pub max_payload: Option<usize>,
}

/// Why an open packet was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// The first packet of the session was not an open packet.
    #[error("expected an open packet, got {found}")]
    NotOpen {
        /// The type found (its name), or `binary` for binary data.
        found: &'static str,
    },
    /// The open packet's data is not a JSON object.
    #[error("the open packet's data is not a JSON object: {reason}")]
    InvalidJson {
        /// What was wrong.
        reason: String,
    },
    /// A mandatory field is missing or of the wrong type.
    #[error("the open packet has no valid {field:?}")]
    InvalidField {
        /// The field's name.
        field: &'static str,
    },
}

impl Handshake {
    /// Reads an open packet.
    pub fn from_packet(packet: &Packet) -> Result<Handshake, HandshakeError> {
        if packet.packet_type != PacketType::Open {
            return Err(HandshakeError::NotOpen {
                found: packet.packet_type.name(),
            });
        }
        match &packet.data {
            Data::Text(text) => Handshake::parse(text),
            Data::Binary(_) => Err(HandshakeError::NotOpen { found: "binary" }),
        }
    }

    /// Reads the open packet's JSON.
    pub fn parse(json: &str) -> Result<Handshake, HandshakeError> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|error| HandshakeError::InvalidJson {
                reason: error.to_string(),
            })?;
        let object = value
            .as_object()
            .ok_or_else(|| HandshakeError::InvalidJson {
                reason: "not an object".to_owned(),
            })?;
        let sid = object
            .get("sid")
            .and_then(|sid| sid.as_str())
            .filter(|sid| !sid.is_empty())
            .ok_or(HandshakeError::InvalidField { field: "sid" })?
            .to_owned();
        let upgrades = match object.get("upgrades") {
            None => Vec::new(),
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().map(str::to_owned))
                .collect::<Option<_>>()
                .ok_or(HandshakeError::InvalidField { field: "upgrades" })?,
            Some(_) => return Err(HandshakeError::InvalidField { field: "upgrades" }),
        };
        let millis = |field: &'static str| {
            object
                .get(field)
                .and_then(serde_json::Value::as_u64)
                .map(Duration::from_millis)
                .ok_or(HandshakeError::InvalidField { field })
        };
        let max_payload = match object.get("maxPayload") {
            None => None,
            Some(value) => Some(
                value
                    .as_u64()
                    .and_then(|size| usize::try_from(size).ok())
                    .ok_or(HandshakeError::InvalidField {
                        field: "maxPayload",
                    })?,
            ),
        };
        Ok(Handshake {
            sid,
            upgrades,
            ping_interval: millis("pingInterval")?,
            ping_timeout: millis("pingTimeout")?,
            max_payload,
        })
    }

    /// Whether the server offers an upgrade to WebSocket.
    pub fn offers_websocket(&self) -> bool {
        self.upgrades.iter().any(|upgrade| upgrade == "websocket")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_spec_example() {
        let handshake = Handshake::parse(
            r#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#,
        )
        .unwrap();
        assert_eq!(handshake.sid, "lv_VI97HAXpY6yYWAAAC");
        assert!(handshake.offers_websocket());
        assert_eq!(handshake.ping_interval, Duration::from_millis(25000));
        assert_eq!(handshake.ping_timeout, Duration::from_millis(20000));
        assert_eq!(handshake.max_payload, Some(1_000_000));
    }

    #[test]
    fn a_v3_handshake_has_no_max_payload() {
        let handshake =
            Handshake::parse(r#"{"sid":"a","upgrades":[],"pingInterval":1,"pingTimeout":2}"#)
                .unwrap();
        assert_eq!(handshake.max_payload, None);
        assert!(!handshake.offers_websocket());
    }

    #[test]
    fn refuses_bad_open_packets() {
        let bad = [
            "",
            "[]",
            r#"{"upgrades":[],"pingInterval":1,"pingTimeout":2}"#,
            r#"{"sid":"a","upgrades":[1],"pingInterval":1,"pingTimeout":2}"#,
            r#"{"sid":"a","pingInterval":-1,"pingTimeout":2}"#,
            r#"{"sid":"a","pingInterval":1}"#,
            r#"{"sid":"a","pingInterval":1,"pingTimeout":2,"maxPayload":"x"}"#,
        ];
        for json in bad {
            assert!(Handshake::parse(json).is_err(), "{json}");
        }
        let message = Packet::text(PacketType::Message, "{}");
        assert_eq!(
            Handshake::from_packet(&message),
            Err(HandshakeError::NotOpen { found: "message" })
        );
    }
}
