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
//! attachment count only on BINARY_EVENT and BINARY_ACK; see [`socket_io::decode`]), into
//! `{type, attachments, nsp, id, data}`, and matches that like `json`.
//!
//! The matcher judges what arrived whichever side sent it: a server's response or frame, or a
//! client's request.

use base64::Engine as _;
use serde_json::Value;

use super::error::StepError;
use super::vars::Vars;
use crate::protocol::engine_io::{v3, v4};
use crate::protocol::{socket_io, Error as ProtocolError};
use crate::scenario::{Data, Pattern};

/// Why a match failed (or that the scenario cannot be matched at all).
#[derive(Debug)]
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
            let actual = match socket_io::decode_message(text) {
                Ok(packet) => packet.to_json(),
                Err(why) => return mismatch(format!("not a Socket.IO packet: {why}")),
            };
            let mut expected = expected.clone();
            if let Value::Object(object) = &mut expected {
                object.entry("nsp").or_insert_with(|| Value::from("/"));
            }
            match_json(&expected, &actual, vars, "packet")
        }
        Pattern::Packets(patterns) => {
            let packets: Vec<&str> = v4::split_payload(text).collect();
            match_each_packet(patterns, &packets, v4::decode_packet, vars)
        }
        Pattern::Eio3Packets(patterns) => {
            let packets = match v3::split_text_payload(text) {
                Ok(packets) => packets,
                Err(why) => return mismatch(format!("not a v3 payload: {why}")),
            };
            match_each_packet(patterns, &packets, v3::decode_packet, vars)
        }
        Pattern::Bytes(_) | Pattern::Any | Pattern::OneOf(_) => {
            match_data_in(pattern, &Data::Text(text.to_owned()), vars)
        }
    }
}

/// Matches payload packets one to one, in order; `decode` gives binary matchers a packet's
/// bytes (a packet that does not decode stays text, which no binary matcher matches).
fn match_each_packet<E: Into<ProtocolError>>(
    patterns: &[Pattern],
    packets: &[&str],
    decode: impl Fn(&str) -> Result<Data, E>,
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
            Pattern::Bytes(_) => {
                decode(packet).unwrap_or_else(|_| Data::Text((*packet).to_owned()))
            }
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
    fn sio_matchers_match_the_decoded_packet() {
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
        // `nsp` is `/` unless given.
        assert!(match_data(&no_id, &Data::Text(r#"42["x"]"#.to_owned()), &mut vars).is_ok());
        let not_a_packet = match_data(&no_id, &Data::Text("40/a".to_owned()), &mut vars);
        assert!(
            matches!(&not_a_packet, Err(MatchError::Mismatch(why)) if why.starts_with("not a Socket.IO packet")),
            "{not_a_packet:?}"
        );
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
