//! The two pipes of the client contract: reports written to standard output, one JSON object a
//! line, and the `{"$binary": "<base64>"}` form that binary values take on both pipes.

use std::io::Write;

use base64::{engine::general_purpose::STANDARD, Engine};
use bytes::Bytes;
use rust_socketio::Payload;
use serde_json::{json, Map, Value};

/// Writes one report as one line and flushes it, so that the runner sees it at once.
pub fn report(line: Value) {
    let mut out = std::io::stdout().lock();
    // A closed standard output means the runner is gone: nothing is left to tell.
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// `{"event":"unsupported","what":…}`: an option or a cue the crate cannot honour.
pub fn unsupported(what: &str) {
    report(json!({"event": "unsupported", "what": what}));
}

/// A line for the case's transcript (standard error).
pub fn log(message: &str) {
    eprintln!("[adapter] {message}");
}

/// Binary data as it crosses the pipes: `{"$binary": "<base64>"}`.
pub fn binary_value(bytes: &[u8]) -> Value {
    json!({"$binary": STANDARD.encode(bytes)})
}

/// The bytes of a `{"$binary": …}` object, or `None` for any other value.
pub fn as_binary(value: &Value) -> Option<Vec<u8>> {
    let object = value.as_object()?;
    if object.len() != 1 {
        return None;
    }
    STANDARD.decode(object.get("$binary")?.as_str()?).ok()
}

/// Whether a `{"$binary": …}` object occurs anywhere in the value.
pub fn contains_binary(value: &Value) -> bool {
    if as_binary(value).is_some() {
        return true;
    }
    match value {
        Value::Array(items) => items.iter().any(contains_binary),
        Value::Object(members) => members.values().any(contains_binary),
        _ => false,
    }
}

/// The arguments the contract reports for a payload the crate delivered: its JSON values as they
/// are, or its one binary attachment as `{"$binary": …}`.
pub fn payload_args(payload: &Payload) -> Vec<Value> {
    match payload {
        Payload::Text(values) => values.clone(),
        Payload::Binary(bytes) => vec![binary_value(bytes)],
        #[allow(deprecated)]
        Payload::String(text) => vec![Value::String(text.clone())],
    }
}

/// Why a cue's arguments cannot become one rust_socketio payload.
#[derive(Debug, PartialEq, Eq)]
pub enum PayloadError {
    /// Binary among other arguments, or inside one: the crate's payload is either a list of JSON
    /// values or a single binary attachment.
    MixedBinary,
}

/// The crate's payload for a cue's arguments: one binary argument alone becomes
/// `Payload::Binary`, JSON arguments without binary become `Payload::Text`.
pub fn cue_payload(args: &[Value]) -> Result<Payload, PayloadError> {
    if let [only] = args {
        if let Some(bytes) = as_binary(only) {
            return Ok(Payload::Binary(Bytes::from(bytes)));
        }
    }
    if args.iter().any(contains_binary) {
        return Err(PayloadError::MixedBinary);
    }
    Ok(Payload::Text(args.to_vec()))
}

/// The fields of a `connect_error` report from the text the crate's `error` callback carries
/// for a refused CONNECT: `Received an ConnectError frame: <the packet's JSON payload>`.
///
/// Returns `None` for any other error text.
pub fn refusal_fields(text: &str) -> Option<(String, Value)> {
    const PREFIX: &str = "Received an ConnectError frame: ";
    let payload = text.strip_prefix(PREFIX)?;
    let parsed: Value = serde_json::from_str(payload).unwrap_or(Value::String(payload.to_owned()));
    Some(match parsed {
        Value::Object(mut members) => {
            let message = match members.remove("message") {
                Some(Value::String(message)) => message,
                Some(other) => other.to_string(),
                None => String::new(),
            };
            let data = members.remove("data").unwrap_or(Value::Null);
            (message, data)
        }
        Value::String(message) => (message, Value::Null),
        other => (other.to_string(), Value::Null),
    })
}

/// The arguments of an ack from the payloads its callback received, in order.
///
/// rust_socketio calls an ack's callback once with the packet's JSON text, parsed (for a plain
/// ack, the whole argument array: it is unwrapped), and once more with the first binary
/// attachment, if there is one.
pub fn ack_args(payloads: &[Payload]) -> Vec<Value> {
    let mut args = Vec::new();
    for payload in payloads {
        match payload {
            Payload::Text(values) => match values.as_slice() {
                [Value::Array(items)] => args.extend(items.iter().cloned()),
                _ => args.extend(values.iter().cloned()),
            },
            other => args.extend(payload_args(other)),
        }
    }
    args
}

/// An empty JSON object, for the `SIO_OPTIONS` default.
pub fn empty_object() -> Map<String, Value> {
    Map::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_round_trips_through_the_pipe_form() {
        let value = binary_value(&[0, 1, 255]);
        assert_eq!(value, json!({"$binary": "AAH/"}));
        assert_eq!(as_binary(&value), Some(vec![0, 1, 255]));
        assert_eq!(as_binary(&json!({"$binary": "AAH/", "x": 1})), None);
    }

    #[test]
    fn a_lone_binary_argument_is_a_binary_payload() {
        match cue_payload(&[json!({"$binary": "AQI="})]) {
            Ok(Payload::Binary(bytes)) => assert_eq!(&bytes[..], &[1, 2]),
            _ => panic!("expected a binary payload"),
        }
        assert_eq!(
            cue_payload(&[json!(1), json!({"$binary": "AQI="})]).err(),
            Some(PayloadError::MixedBinary)
        );
        assert!(
            matches!(cue_payload(&[json!(1), json!("2")]), Ok(Payload::Text(v)) if v.len() == 2)
        );
    }

    #[test]
    fn a_refusal_gives_message_and_data() {
        let (message, data) =
            refusal_fields(r#"Received an ConnectError frame: {"message":"no","data":{"a":1}}"#)
                .expect("a refusal");
        assert_eq!(message, "no");
        assert_eq!(data, json!({"a": 1}));
        assert_eq!(refusal_fields("some transport error"), None);
    }

    #[test]
    fn ack_arguments_are_unwrapped_and_binary_appended() {
        let args = ack_args(&[
            Payload::Text(vec![json!("ok")]),
            Payload::Binary(Bytes::from_static(&[7, 8])),
        ]);
        assert_eq!(args, vec![json!("ok"), json!({"$binary": "Bwg="})]);
        assert_eq!(
            ack_args(&[Payload::Text(vec![json!([1, "2"])])]),
            vec![json!(1), json!("2")]
        );
    }
}
