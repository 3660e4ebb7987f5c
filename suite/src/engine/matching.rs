//! Matching what arrived against what a scenario expects, capturing variables on the way.
//!
//! Captures are made on a copy of the variables and kept only when the whole match succeeds,
//! so that a failed alternative of `one_of` leaves nothing behind.
//!
//! JSON is compared structurally: object keys in any order, numbers by value. In the expected
//! JSON:
//!
//! - `"$any"` matches anything; `"$string"`, `"$number"`, `"$integer"`, `"$boolean"`,
//!   `"$object"`, `"$array"`, `"$null"` match any value of that type;
//! - `"${name}"` matches the variable's value (a number stays a number);
//! - `{"$capture": "name"}` matches anything and captures it; with `"$match": <json>` it
//!   matches that first;
//! - `{"$regex": "…"}` matches a string that the expression matches in whole;
//! - `{"$not": <json>}` matches anything the inner value does not match (it captures nothing);
//! - `"$extra": true` in an object allows keys not listed.
//!
//! A `sio` matcher decodes the text as an Engine.IO message carrying a Socket.IO packet, by
//! the spec's format and strictly (a namespace is followed by `,` and never `/` itself; an
//! attachment count only on BINARY_EVENT and BINARY_ACK), into
//! `{type, attachments, nsp, id, data}`, and matches that like `json`.

use base64::Engine as _;
use serde_json::Value;

use super::error::StepError;
use super::vars::Vars;
use crate::scenario::{Data, Pattern};

/// Why a match failed (or that the scenario cannot be matched at all).
pub(crate) enum MatchError {
    /// The data does not match: why.
    Mismatch(String),
    /// The scenario is wrong (an unknown variable, a bad regex).
    Invalid(StepError),
}

impl From<StepError> for MatchError {
    fn from(error: StepError) -> Self {
        MatchError::Invalid(error)
    }
}

type MatchResult = Result<(), MatchError>;

fn mismatch(why: impl Into<String>) -> MatchResult {
    Err(MatchError::Mismatch(why.into()))
}

/// Matches a packet or frame; on success the captures are added to `vars`.
pub(crate) fn match_data(pattern: &Pattern, data: &Data, vars: &mut Vars) -> MatchResult {
    let mut trial = vars.clone();
    match_data_in(pattern, data, &mut trial)?;
    *vars = trial;
    Ok(())
}

/// Matches an HTTP body (or header): bytes patterns compare bytes, the others need UTF-8.
pub(crate) fn match_body(pattern: &Pattern, body: &[u8], vars: &mut Vars) -> MatchResult {
    let data = match std::str::from_utf8(body) {
        Ok(text) => Data::Text(text.to_owned()),
        Err(_) => Data::Binary(body.to_vec()),
    };
    let mut trial = vars.clone();
    match (pattern, &data) {
        (Pattern::Bytes(expected), _) => {
            if expected.as_slice() != body {
                return mismatch(format!("the bytes differ: {}", describe_bytes(body)));
            }
        }
        _ => match_data_in(pattern, &data, &mut trial)?,
    }
    *vars = trial;
    Ok(())
}

fn match_data_in(pattern: &Pattern, data: &Data, vars: &mut Vars) -> MatchResult {
    match (pattern, data) {
        (Pattern::Any, _) => Ok(()),
        (Pattern::OneOf(alternatives), _) => {
            let mut reasons = Vec::new();
            for alternative in alternatives {
                let mut trial = vars.clone();
                match match_data_in(alternative, data, &mut trial) {
                    Ok(()) => {
                        *vars = trial;
                        return Ok(());
                    }
                    Err(MatchError::Mismatch(why)) => reasons.push(why),
                    Err(invalid) => return Err(invalid),
                }
            }
            mismatch(format!("no alternative matches: {}", reasons.join("; ")))
        }
        (Pattern::Bytes(expected), Data::Binary(actual)) => {
            if expected == actual {
                Ok(())
            } else {
                mismatch(format!("the bytes differ: {}", describe_bytes(actual)))
            }
        }
        (Pattern::Bytes(_), Data::Text(_)) => mismatch("text, not binary"),
        (_, Data::Binary(bytes)) => {
            mismatch(format!("binary ({}), not text", describe_bytes(bytes)))
        }
        (pattern, Data::Text(text)) => match_text(pattern, text, vars),
    }
}

fn match_text(pattern: &Pattern, text: &str, vars: &mut Vars) -> MatchResult {
    match pattern {
        Pattern::Text(expected) => {
            let expected = vars.substitute(expected)?;
            if expected == text {
                Ok(())
            } else {
                mismatch(format!("the text differs from {expected:?}"))
            }
        }
        Pattern::Regex(source) => match_regex(source, text, vars),
        Pattern::Json { prefix, value } => {
            let prefix = vars.substitute(prefix)?;
            let Some(json) = text.strip_prefix(prefix.as_str()) else {
                return mismatch(format!("it does not start with {prefix:?}"));
            };
            let actual: Value = match serde_json::from_str(json) {
                Ok(actual) => actual,
                Err(error) => return mismatch(format!("not JSON after {prefix:?}: {error}")),
            };
            match_json(value, &actual, vars, "$")
        }
        Pattern::Sio(expected) => {
            let actual = match decode_socket_io(text) {
                Ok(actual) => actual,
                Err(why) => return mismatch(format!("not a Socket.IO packet: {why}")),
            };
            let mut expected = expected.clone();
            if let Value::Object(object) = &mut expected {
                object.entry("nsp").or_insert_with(|| Value::from("/"));
            }
            match_json(&expected, &actual, vars, "packet")
        }
        Pattern::Packets(patterns) => {
            let packets: Vec<&str> = text.split('\u{1e}').collect();
            match_each_packet(patterns, &packets, polling_packet, vars)
        }
        Pattern::Eio3Packets(patterns) => {
            let packets = match split_eio3_payload(text) {
                Ok(packets) => packets,
                Err(why) => return mismatch(format!("not a v3 payload: {why}")),
            };
            match_each_packet(patterns, &packets, eio3_polling_packet, vars)
        }
        Pattern::Bytes(_) | Pattern::Any | Pattern::OneOf(_) => {
            match_data_in(pattern, &Data::Text(text.to_owned()), vars)
        }
    }
}

/// Matches payload packets one to one, in order; `decode` gives binary matchers a packet's
/// bytes.
fn match_each_packet(
    patterns: &[Pattern],
    packets: &[&str],
    decode: fn(&str) -> Data,
    vars: &mut Vars,
) -> MatchResult {
    if packets.len() != patterns.len() {
        return mismatch(format!(
            "{} packet(s), not {}",
            packets.len(),
            patterns.len()
        ));
    }
    for (index, (pattern, packet)) in patterns.iter().zip(packets).enumerate() {
        // Binary matchers see a base64 packet decoded; the others see its text.
        let data = match pattern {
            Pattern::Bytes(_) => decode(packet),
            _ => Data::Text((*packet).to_owned()),
        };
        match match_data_in(pattern, &data, vars) {
            Ok(()) => {}
            Err(MatchError::Mismatch(why)) => {
                return mismatch(format!("packet {}: {why}", index + 1))
            }
            Err(invalid) => return Err(invalid),
        }
    }
    Ok(())
}

/// Splits an Engine.IO v3 text payload, `<length>:<packet>` repeated, into its packets.
///
/// The spec counts the length "in characters"; the official parser counts UTF-16 code units
/// (JavaScript's `String.length`), which is the same for every character but those beyond the
/// Basic Multilingual Plane, which count 2. The suite counts as the official parser does, so
/// that `3:4😀` is one packet.
pub(crate) fn split_eio3_payload(payload: &str) -> Result<Vec<&str>, String> {
    let mut packets = Vec::new();
    let mut rest = payload;
    while !rest.is_empty() {
        let Some(colon) = rest.find(':') else {
            return Err(format!("no `:` after the length in {rest:?}"));
        };
        let digits = &rest[..colon];
        if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(format!("the length {digits:?} is not a number"));
        }
        let length: usize = digits
            .parse()
            .map_err(|_| format!("the length {digits:?} is too large"))?;
        let body = &rest[colon + 1..];
        let mut units = 0;
        let mut end = body.len();
        for (offset, character) in body.char_indices() {
            if units >= length {
                end = offset;
                break;
            }
            units += character.len_utf16();
        }
        if units != length {
            return Err(format!(
                "the length {length} does not end on a character boundary of {body:?}"
            ));
        }
        packets.push(&body[..end]);
        rest = &body[end..];
    }
    Ok(packets)
}

/// Splits an Engine.IO v3 binary payload (`Content-Type: application/octet-stream`) into its
/// packets. Each record is one byte `0` (a string packet) or `1` (a binary packet), its length
/// as one byte per decimal digit (each 0 to 9), the byte 255, then the packet: a string
/// packet's UTF-8 bytes (the length counts bytes), or a binary packet, its type byte first.
///
/// A string packet is [`Data::Text`]; a binary packet is [`Data::Binary`] with its type byte,
/// as a v3 WebSocket binary frame carries it. Anything else is an error: a record type other
/// than 0 or 1, a length without digits or with another byte before 255, a length past the
/// end, an empty packet, a string packet that is not UTF-8.
pub(crate) fn split_eio3_binary_payload(payload: &[u8]) -> Result<Vec<Data>, String> {
    let mut packets = Vec::new();
    let mut rest = payload;
    while let Some((&kind, after_kind)) = rest.split_first() {
        let offset = payload.len() - rest.len();
        if kind > 1 {
            return Err(format!(
                "the record at byte {offset} starts with {kind}, not 0 (string) or 1 (binary)"
            ));
        }
        let Some(separator) = after_kind.iter().position(|&byte| byte == 0xFF) else {
            return Err(format!(
                "the length of the record at byte {offset} has no 255 after it"
            ));
        };
        let digits = &after_kind[..separator];
        if digits.is_empty() {
            return Err(format!("the record at byte {offset} has no length"));
        }
        let mut length: usize = 0;
        for &digit in digits {
            if digit > 9 {
                return Err(format!(
                    "the length of the record at byte {offset} has the byte {digit}, not a digit 0 to 9"
                ));
            }
            length = length
                .checked_mul(10)
                .and_then(|length| length.checked_add(usize::from(digit)))
                .ok_or_else(|| format!("the length of the record at byte {offset} is too large"))?;
        }
        if length == 0 {
            return Err(format!(
                "the record at byte {offset} is empty: a packet has at least its type"
            ));
        }
        let body = &after_kind[separator + 1..];
        let Some(packet) = body.get(..length) else {
            return Err(format!(
                "the record at byte {offset} announces {length} bytes and {} remain",
                body.len()
            ));
        };
        packets.push(if kind == 0 {
            let text = std::str::from_utf8(packet)
                .map_err(|_| format!("the string record at byte {offset} is not UTF-8"))?;
            Data::Text(text.to_owned())
        } else {
            Data::Binary(packet.to_vec())
        });
        rest = &body[length..];
    }
    Ok(packets)
}

/// A packet of a v3 text payload as binary matchers see it: `b<type><base64>` is binary, its
/// type as the first byte then the data, as a v3 WebSocket binary frame carries it.
pub(crate) fn eio3_polling_packet(packet: &str) -> Data {
    let decoded = packet.strip_prefix('b').and_then(|rest| {
        let mut chars = rest.chars();
        let packet_type = chars.next()?.to_digit(10)?;
        let data = base64::engine::general_purpose::STANDARD
            .decode(chars.as_str())
            .ok()?;
        let mut bytes = vec![u8::try_from(packet_type).ok()?];
        bytes.extend(data);
        Some(bytes)
    });
    decoded.map_or_else(|| Data::Text(packet.to_owned()), Data::Binary)
}

/// A v3 binary packet (a binary record of a payload, or a WebSocket binary frame: its type
/// byte, then the data) as a session sees it: a message (type 4) is its data, as protocol 4
/// carries it; any other packet stays whole, type byte included, so that a step expecting a
/// message shows the difference.
pub(crate) fn eio3_binary_packet(bytes: Vec<u8>) -> Data {
    match bytes.split_first() {
        Some((4, data)) => Data::Binary(data.to_vec()),
        _ => Data::Binary(bytes),
    }
}

/// A packet of a v3 text payload as a session sees it: `b4<base64>` is a binary message (its
/// data, [`eio3_binary_packet`]); other text is text.
pub(crate) fn eio3_session_packet(packet: &str) -> Data {
    match eio3_polling_packet(packet) {
        Data::Binary(bytes) => eio3_binary_packet(bytes),
        text => text,
    }
}

/// Decodes an Engine.IO message `4…` carrying a Socket.IO packet, by the spec's format
/// `<type>[<attachments>-][<namespace>,][<id>][<JSON payload>]`, into
/// `{type, attachments, nsp, id, data}` (absent parts are absent keys; `nsp` is always there).
pub(crate) fn decode_socket_io(text: &str) -> Result<Value, String> {
    let Some(packet) = text.strip_prefix('4') else {
        return Err("it is not an Engine.IO message packet `4…`".to_owned());
    };
    let mut object = serde_json::Map::new();
    let packet_type = match packet.chars().next() {
        Some(digit @ '0'..='6') => u64::from(digit as u8 - b'0'),
        Some(other) => return Err(format!("{other:?} is not a packet type (0 to 6)")),
        None => return Err("no packet type".to_owned()),
    };
    object.insert("type".to_owned(), Value::from(packet_type));
    let mut rest = &packet[1..];
    if packet_type == 5 || packet_type == 6 {
        let Some(dash) = rest.find('-') else {
            return Err("a binary packet without `<attachments>-`".to_owned());
        };
        let count = &rest[..dash];
        if count.is_empty() || !count.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(format!("the attachment count {count:?} is not a number"));
        }
        let count: u64 = count
            .parse()
            .map_err(|_| format!("the attachment count {count:?} is too large"))?;
        object.insert("attachments".to_owned(), Value::from(count));
        rest = &rest[dash + 1..];
    }
    let mut namespace = "/";
    if rest.starts_with('/') {
        let Some(comma) = rest.find(',') else {
            return Err("the namespace is not followed by `,`".to_owned());
        };
        namespace = &rest[..comma];
        if namespace == "/" {
            return Err("the main namespace `/` is written out".to_owned());
        }
        rest = &rest[comma + 1..];
    }
    object.insert("nsp".to_owned(), Value::from(namespace));
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 {
        let id: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("the id {:?} is too large", &rest[..digits]))?;
        object.insert("id".to_owned(), Value::from(id));
        rest = &rest[digits..];
    }
    if !rest.is_empty() {
        let data: Value = serde_json::from_str(rest)
            .map_err(|error| format!("the payload {rest:?} is not JSON: {error}"))?;
        object.insert("data".to_owned(), data);
    }
    Ok(Value::Object(object))
}

/// A packet of a polling payload: `b<base64>` is binary when it decodes, text otherwise.
pub(crate) fn polling_packet(packet: &str) -> Data {
    packet
        .strip_prefix('b')
        .and_then(|encoded| {
            base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .ok()
        })
        .map(Data::Binary)
        .unwrap_or_else(|| Data::Text(packet.to_owned()))
}

fn match_regex(source: &str, text: &str, vars: &mut Vars) -> MatchResult {
    let source = vars.substitute_with(source, regex::escape)?;
    let regex = regex::Regex::new(&format!("^(?:{source})$"))
        .map_err(|error| StepError::Invalid(format!("invalid regex /{source}/: {error}")))?;
    let Some(captures) = regex.captures(text) else {
        return mismatch(format!("it does not match /{source}/"));
    };
    for name in regex.capture_names().flatten() {
        if let Some(group) = captures.name(name) {
            vars.set(name, Value::from(group.as_str()));
        }
    }
    Ok(())
}

fn match_json(expected: &Value, actual: &Value, vars: &mut Vars, path: &str) -> MatchResult {
    match expected {
        Value::String(text) => match_json_string(text, actual, vars, path),
        Value::Object(object) if object.contains_key("$capture") => {
            let Some(Value::String(name)) = object.get("$capture") else {
                return Err(StepError::Invalid("`$capture` takes a name".to_owned()).into());
            };
            if let Some(inner) = object.get("$match") {
                match_json(inner, actual, vars, path)?;
            }
            vars.set(name.clone(), actual.clone());
            Ok(())
        }
        Value::Object(object) if object.contains_key("$not") => {
            let inner = &object["$not"];
            let mut trial = vars.clone();
            match match_json(inner, actual, &mut trial, path) {
                Ok(()) => mismatch(format!(
                    "at {path}: {actual} matches {inner}, which it must not"
                )),
                Err(MatchError::Mismatch(_)) => Ok(()),
                Err(invalid) => Err(invalid),
            }
        }
        Value::Object(object) if object.contains_key("$regex") => {
            let Some(Value::String(source)) = object.get("$regex") else {
                return Err(StepError::Invalid("`$regex` takes a string".to_owned()).into());
            };
            let Value::String(text) = actual else {
                return mismatch(format!("at {path}: {actual} is not a string"));
            };
            match_regex(source, text, vars)
                .map_err(|error| prefix_mismatch(error, &format!("at {path}: ")))
        }
        Value::Object(object) => {
            let Value::Object(actual_object) = actual else {
                return mismatch(format!("at {path}: {actual} is not an object"));
            };
            let extra_allowed = object.get("$extra") == Some(&Value::Bool(true));
            for (key, expected_value) in object.iter().filter(|(key, _)| *key != "$extra") {
                let Some(actual_value) = actual_object.get(key) else {
                    return mismatch(format!("at {path}: no key {key:?}"));
                };
                match_json(expected_value, actual_value, vars, &format!("{path}.{key}"))?;
            }
            if !extra_allowed {
                if let Some(key) = actual_object.keys().find(|key| !object.contains_key(*key)) {
                    return mismatch(format!("at {path}: unexpected key {key:?}"));
                }
            }
            Ok(())
        }
        Value::Array(items) => {
            let Value::Array(actual_items) = actual else {
                return mismatch(format!("at {path}: {actual} is not an array"));
            };
            if items.len() != actual_items.len() {
                return mismatch(format!(
                    "at {path}: {} item(s), not {}",
                    actual_items.len(),
                    items.len()
                ));
            }
            for (index, (item, actual_item)) in items.iter().zip(actual_items).enumerate() {
                match_json(item, actual_item, vars, &format!("{path}[{index}]"))?;
            }
            Ok(())
        }
        Value::Number(number) => match actual {
            Value::Number(actual_number) if actual_number.as_f64() == number.as_f64() => Ok(()),
            _ => mismatch(format!("at {path}: {actual}, not {number}")),
        },
        Value::Bool(_) | Value::Null => {
            if expected == actual {
                Ok(())
            } else {
                mismatch(format!("at {path}: {actual}, not {expected}"))
            }
        }
    }
}

fn match_json_string(text: &str, actual: &Value, vars: &mut Vars, path: &str) -> MatchResult {
    let type_matches = match text {
        "$any" => Some(true),
        "$string" => Some(actual.is_string()),
        "$number" => Some(actual.is_number()),
        "$integer" => Some(actual.is_i64() || actual.is_u64()),
        "$boolean" => Some(actual.is_boolean()),
        "$object" => Some(actual.is_object()),
        "$array" => Some(actual.is_array()),
        "$null" => Some(actual.is_null()),
        _ => None,
    };
    if let Some(matches) = type_matches {
        return if matches {
            Ok(())
        } else {
            mismatch(format!("at {path}: {actual} is not {text}"))
        };
    }
    if let Some(value) = vars.whole(text) {
        let value = value?.clone();
        return match_json(&value, actual, vars, path);
    }
    let expected = vars.substitute(text)?;
    match actual {
        Value::String(actual_text) if *actual_text == expected => Ok(()),
        _ => mismatch(format!("at {path}: {actual}, not {expected:?}")),
    }
}

fn prefix_mismatch(error: MatchError, prefix: &str) -> MatchError {
    match error {
        MatchError::Mismatch(why) => MatchError::Mismatch(format!("{prefix}{why}")),
        invalid => invalid,
    }
}

fn describe_bytes(bytes: &[u8]) -> String {
    format!(
        "base64 {}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(pattern: &str, text: &str, vars: &mut Vars) -> bool {
        let pattern = Pattern::Json {
            prefix: "0".to_owned(),
            value: serde_json::from_str(pattern).expect("pattern"),
        };
        match_data(&pattern, &Data::Text(text.to_owned()), vars).is_ok()
    }

    #[test]
    fn json_wildcards_captures_and_variables() {
        let mut vars = Vars::default();
        vars.set("pingInterval", Value::from(300));
        let open = r#"0{"sid":"abc","upgrades":["websocket"],"pingInterval":300,"x":1}"#;
        assert!(json(
            r#"{"sid":{"$capture":"sid","$match":"$string"},"upgrades":"$array","pingInterval":"${pingInterval}","$extra":true}"#,
            open,
            &mut vars
        ));
        assert_eq!(vars.get("sid"), Ok(&Value::from("abc")));
        assert!(!json(
            r#"{"sid":"$string","upgrades":"$any","pingInterval":300}"#,
            open,
            &mut vars
        ));
        assert!(!json(r#"{"sid":"$number","$extra":true}"#, open, &mut vars));
    }

    #[test]
    fn failed_alternatives_capture_nothing() {
        let mut vars = Vars::default();
        let pattern = Pattern::OneOf(vec![
            Pattern::Regex("(?P<a>x)y".to_owned()),
            Pattern::Regex("(?P<b>x)z".to_owned()),
        ]);
        assert!(match_data(&pattern, &Data::Text("xz".to_owned()), &mut vars).is_ok());
        assert!(vars.get("a").is_err());
        assert_eq!(vars.get("b"), Ok(&Value::from("x")));
    }

    #[test]
    fn socket_io_packets_decode_by_the_spec_format() {
        let decoded = |text: &str| decode_socket_io(text);
        assert_eq!(
            decoded(r#"452-/admin,7["a",{"_placeholder":true,"num":0}]"#),
            Ok(
                serde_json::json!({"type": 5, "attachments": 2, "nsp": "/admin", "id": 7,
                "data": ["a", {"_placeholder": true, "num": 0}]})
            )
        );
        assert_eq!(
            decoded("41/custom,"),
            Ok(serde_json::json!({"type": 1, "nsp": "/custom"}))
        );
        assert_eq!(
            decoded("43456[]"),
            Ok(serde_json::json!({"type": 3, "nsp": "/", "id": 456, "data": []}))
        );
        for wrong in ["4", "47", "40/custom", "40/,{}", "45[]", "42[\"a\"", "3[]"] {
            assert!(decoded(wrong).is_err(), "{wrong}");
        }
        let mut vars = Vars::default();
        let pattern = Pattern::Sio(serde_json::json!({
            "type": 2, "id": {"$capture": "ack"}, "data": ["x"]
        }));
        assert!(match_data(&pattern, &Data::Text(r#"412["x"]"#.to_owned()), &mut vars).is_err());
        assert!(match_data(&pattern, &Data::Text(r#"4212["x"]"#.to_owned()), &mut vars).is_ok());
        assert_eq!(vars.get("ack"), Ok(&Value::from(12)));
        let no_id = Pattern::Sio(serde_json::json!({"type": 2, "data": ["x"]}));
        assert!(match_data(&no_id, &Data::Text(r#"4212["x"]"#.to_owned()), &mut vars).is_err());
        assert!(match_data(&no_id, &Data::Text(r#"42/a,["x"]"#.to_owned()), &mut vars).is_err());
    }

    #[test]
    fn payloads_split_at_the_record_separator() {
        let mut vars = Vars::default();
        let pattern = Pattern::Packets(vec![
            Pattern::Text("4a".to_owned()),
            Pattern::Bytes(vec![1, 2, 3]),
        ]);
        assert!(match_body(&pattern, b"4a\x1ebAQID", &mut vars).is_ok());
        assert!(match_body(&pattern, b"4abAQID", &mut vars).is_err());
    }

    #[test]
    fn v3_payloads_split_by_their_utf16_lengths() {
        assert_eq!(
            split_eio3_payload("6:4hello2:4€3:4😀1:6"),
            Ok(vec!["4hello", "4€", "4😀", "6"])
        );
        assert_eq!(split_eio3_payload(""), Ok(vec![]));
        for broken in [
            "5:4hello", "2:4😀", "6:4hell", "x:4", ":4", "4hello", "1:61",
        ] {
            assert!(split_eio3_payload(broken).is_err(), "{broken:?}");
        }
    }

    #[test]
    fn v3_binary_payloads_split_into_typed_records() {
        let text = |text: &str| Data::Text(text.to_owned());
        assert_eq!(
            split_eio3_binary_payload(&[
                0x00, 0x06, 0xFF, 0x34, 0x68, 0x65, 0x6C, 0x6C, 0x6F, 0x01, 0x05, 0xFF, 0x04, 0x01,
                0x02, 0x03, 0x04
            ]),
            Ok(vec![text("4hello"), Data::Binary(vec![4, 1, 2, 3, 4])])
        );
        // The spec's example: a string length counts UTF-8 bytes.
        assert_eq!(
            split_eio3_binary_payload(&[
                0x00, 0x04, 0xFF, 0x34, 0xE2, 0x82, 0xAC, 0x01, 0x04, 0xFF, 0x01, 0x02, 0x03, 0x04
            ]),
            Ok(vec![text("4€"), Data::Binary(vec![1, 2, 3, 4])])
        );
        // Several digits, most significant first.
        let mut long = vec![0x00, 0x01, 0x02, 0xFF, b'4'];
        long.extend([b'a'; 11]);
        assert_eq!(
            split_eio3_binary_payload(&long),
            Ok(vec![text(&format!("4{}", "a".repeat(11)))])
        );
        assert_eq!(split_eio3_binary_payload(&[]), Ok(vec![]));
    }

    #[test]
    fn v3_binary_messages_lose_their_type_byte_and_other_packets_stay_whole() {
        assert_eq!(
            eio3_binary_packet(vec![4, 1, 2, 3]),
            Data::Binary(vec![1, 2, 3])
        );
        assert_eq!(eio3_binary_packet(vec![4]), Data::Binary(vec![]));
        assert_eq!(
            eio3_binary_packet(vec![2, 1, 2, 3]),
            Data::Binary(vec![2, 1, 2, 3])
        );
        assert_eq!(eio3_binary_packet(vec![]), Data::Binary(vec![]));
        assert_eq!(eio3_session_packet("b4AQID"), Data::Binary(vec![1, 2, 3]));
        assert_eq!(
            eio3_session_packet("b2AQID"),
            Data::Binary(vec![2, 1, 2, 3])
        );
        assert_eq!(
            eio3_session_packet("4hello"),
            Data::Text("4hello".to_owned())
        );
        assert_eq!(eio3_session_packet("b4%%"), Data::Text("b4%%".to_owned()));
    }

    #[test]
    fn malformed_v3_binary_payloads_are_errors() {
        let broken: &[&[u8]] = &[
            &[0x02, 0x01, 0xFF, 0x34],       // neither string nor binary
            &[0x00, 0x01, 0x34],             // no 255 after the length
            &[0x00, 0xFF, 0x34],             // no length
            &[0x00, 0x0A, 0xFF, 0x34],       // a length byte that is not a digit
            &[0x00, b'1', 0xFF, 0x34],       // the digit as text
            &[0x00, 0x02, 0xFF, 0x34],       // shorter than announced
            &[0x00, 0x00, 0xFF],             // an empty packet
            &[0x00, 0x02, 0xFF, 0x34, 0xFF], // not UTF-8
            &[0x00, 0x01, 0xFF, 0x34, 0x01], // a second record cut short
            &[
                0x01, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 0xFF,
            ],
            &[0x00],
        ];
        for payload in broken {
            assert!(
                split_eio3_binary_payload(payload).is_err(),
                "{payload:02X?}"
            );
        }
    }

    #[test]
    fn v3_payload_packets_match_in_order_and_base64_as_typed_bytes() {
        let mut vars = Vars::default();
        let pattern = Pattern::Eio3Packets(vec![
            Pattern::Text("4hello".to_owned()),
            Pattern::Bytes(vec![4, 1, 2, 3, 4]),
        ]);
        assert!(match_body(&pattern, b"6:4hello10:b4AQIDBA==", &mut vars).is_ok());
        assert!(match_body(&pattern, b"6:4hello10:b4AQIDBB==", &mut vars).is_err());
        assert!(match_body(&pattern, b"6:4hello", &mut vars).is_err());
        assert!(match_body(&pattern, b"4hello\x1ebAQIDBA==", &mut vars).is_err());
    }
}
