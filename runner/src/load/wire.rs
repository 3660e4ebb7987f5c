//! The wire text the load generator writes and matches, as Engine.IO protocol 4 and Socket.IO
//! protocol 5 put it on the wire. No codec: each packet the drivers need is a string built or
//! recognised here, so that what is measured is the target and the wire, not a client library.
//!
//! Engine.IO packet types are one digit before the data (`0` open, `1` close, `2` ping, `3`
//! pong, `4` message); a Socket.IO packet rides in a message, its type the next digit (`0`
//! CONNECT, `2` EVENT, `3` ACK). A polling payload joins packets with the record separator
//! `\x1e`.

/// The Engine.IO protocol version the drivers speak (`EIO=4`).
pub const ENGINE_IO_VERSION: &str = "4";

/// Engine.IO `ping` from the server: the client answers [`PONG`] (protocol 4: the server pings).
pub const PING: &str = "2";

/// Engine.IO `pong`: the answer to [`PING`].
pub const PONG: &str = "3";

/// Engine.IO `close`: a polling client ends its session with it.
pub const CLOSE: &str = "1";

/// Socket.IO CONNECT to the main namespace `/`, with no payload.
pub const CONNECT: &str = "40";

/// The record separator between the packets of a polling payload.
pub const RECORD_SEPARATOR: char = '\u{1e}';

/// The event the fixture contract answers: `message`, sent back as [`MESSAGE_BACK`].
pub const MESSAGE: &str = "message";

/// The event the fixture contract emits back for [`MESSAGE`], with the same arguments.
pub const MESSAGE_BACK: &str = "message-back";

/// Engine.IO `open`: the handshake packet, `0` then a JSON object with `sid`,
/// `pingInterval`, `pingTimeout`.
pub fn is_open(packet: &str) -> bool {
    packet.starts_with("0{")
}

/// The session id of an `open` packet: `0{"sid":"…",…}` gives the `sid` string.
pub fn open_sid(packet: &str) -> Option<String> {
    let json = packet.strip_prefix('0')?;
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    value.get("sid")?.as_str().map(str::to_owned)
}

/// Whether `packet` is the server's answer to [`CONNECT`] on `/`: `40{"sid":…}` (a refusal is
/// `44{…}`).
pub fn is_connect_answer(packet: &str) -> bool {
    packet.starts_with("40{")
}

/// Whether `packet` refuses the CONNECT: `44`, CONNECT_ERROR.
pub fn is_connect_error(packet: &str) -> bool {
    packet.starts_with("44")
}

/// An EVENT on `/`: `42["<event>",<arguments>]`, the arguments already JSON, comma-joined.
pub fn event(name: &str, arguments: &str) -> String {
    if arguments.is_empty() {
        format!("42[\"{name}\"]")
    } else {
        format!("42[\"{name}\",{arguments}]")
    }
}

/// An EVENT on `/` that asks for an acknowledgement with `id`: `42<id>["<event>",…]`.
pub fn event_with_ack(id: u64, name: &str, arguments: &str) -> String {
    format!("42{id}[\"{name}\",{arguments}]")
}

/// Whether `packet` is the ACK with `id` on `/`: `43<id>[…]`.
pub fn is_ack(packet: &str, id: u64) -> bool {
    packet
        .strip_prefix("43")
        .and_then(|rest| rest.strip_prefix(id.to_string().as_str()))
        .is_some_and(|rest| rest.starts_with('['))
}

/// The `message` event carrying one number, the sequence number of a round trip.
pub fn message(sequence: u64) -> String {
    event(MESSAGE, &sequence.to_string())
}

/// The sequence number of a `message-back` that carries one number, as [`message`] sent it:
/// `42["message-back",17]` gives 17. Anything else gives `None`.
pub fn message_back_sequence(packet: &str) -> Option<u64> {
    event_number(packet, MESSAGE_BACK)
}

/// The number an event `name` carries as its one argument: `42["<name>",<number>]`.
pub fn event_number(packet: &str, name: &str) -> Option<u64> {
    packet
        .strip_prefix("42[\"")?
        .strip_prefix(name)?
        .strip_prefix("\",")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// The packets of a polling payload (`\x1e`-separated).
pub fn payload_packets(payload: &str) -> impl Iterator<Item = &str> {
    payload
        .split(RECORD_SEPARATOR)
        .filter(|packet| !packet.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_written_as_the_wire_has_them() {
        assert_eq!(message(17), r#"42["message",17]"#);
        assert_eq!(event("join", r#""room""#), r#"42["join","room"]"#);
        assert_eq!(event("ping-me", ""), r#"42["ping-me"]"#);
        assert_eq!(event_with_ack(3, "join", r#""r""#), r#"423["join","r"]"#);
    }

    #[test]
    fn answers_are_recognised_from_their_text() {
        assert_eq!(message_back_sequence(r#"42["message-back",17]"#), Some(17));
        assert_eq!(message_back_sequence(r#"42["message-back","17"]"#), None);
        assert_eq!(message_back_sequence(r#"42["message",17]"#), None);
        assert_eq!(message_back_sequence(r#"42["auth",{}]"#), None);
        assert!(is_ack("431[]", 1));
        assert!(!is_ack("4312[]", 1));
        assert!(!is_ack("421[]", 1));
        assert!(is_connect_answer(r#"40{"sid":"x"}"#));
        assert!(!is_connect_answer(r#"44{"message":"no"}"#));
        assert!(is_connect_error(r#"44{"message":"no"}"#));
    }

    #[test]
    fn the_open_packet_gives_the_sid() {
        let open = r#"0{"sid":"abc","upgrades":[],"pingInterval":300,"pingTimeout":200}"#;
        assert!(is_open(open));
        assert_eq!(open_sid(open).as_deref(), Some("abc"));
        assert_eq!(open_sid("0{}"), None);
        assert_eq!(open_sid("0not json"), None);
    }

    #[test]
    fn payloads_split_on_the_record_separator() {
        let packets: Vec<&str> = payload_packets("2\u{1e}42[\"a\"]\u{1e}").collect();
        assert_eq!(packets, ["2", "42[\"a\"]"]);
    }
}
