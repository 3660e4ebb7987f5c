//! Matchers: what a scenario expects of a packet, a frame, an HTTP body or a header.
//!
//! Written short, a string is the exact text expected. The full form is a map with one of:
//!
//! - `text`: the exact text;
//! - `regex`: a regular expression the whole text must match; named groups (`(?P<sid>…)`)
//!   capture variables;
//! - `json` (with an optional `prefix`, such as `0` for an open packet): the text is the prefix
//!   followed by JSON that must match the given value structurally, with the wildcards `$any`,
//!   `$string`, `$number`, `$capture`, `$regex`, `$extra` (see `suite/scenarios/README.md`);
//! - `base64` / `hex`: the exact bytes, which must arrive as binary;
//! - `packets`: a polling payload, split at the record separator `\x1e`, each packet matched
//!   in order;
//! - `eio3_packets`: an Engine.IO v3 text polling payload, `<length>:<packet>` repeated, split
//!   by its lengths, each packet matched in order;
//! - `sio`: an Engine.IO message packet carrying a Socket.IO packet, decoded by the spec's
//!   format (`<type>[<attachments>-][<namespace>,][<id>][<JSON payload>]`) into
//!   `{type, attachments, nsp, id, data}` and matched structurally like `json` (`nsp` is `/`
//!   unless given; `attachments`, `id` and `data` must be absent unless given);
//! - `one_of`: any of several matchers;
//! - `any: true`: anything.
//!
//! Any string may use `${name}` for a variable: a capture or one of the target's options.

use std::fmt;

use base64::Engine as _;
use serde::Deserialize;

use super::shorthand::{deserialize_shorthand, Shorthand};

/// A matcher for text or bytes.
#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    /// Exactly this text.
    Text(String),
    /// A regular expression that must match the whole text.
    Regex(String),
    /// The prefix, then JSON matched structurally.
    Json {
        /// The text before the JSON, such as a packet type.
        prefix: String,
        /// The expected JSON, with wildcards and captures.
        value: serde_json::Value,
    },
    /// Exactly these bytes, as binary.
    Bytes(Vec<u8>),
    /// A message packet `4` carrying a Socket.IO packet, decoded into
    /// `{type, attachments, nsp, id, data}` and matched structurally.
    Sio(serde_json::Value),
    /// A polling payload: the packets between record separators, in order.
    Packets(Vec<Pattern>),
    /// An Engine.IO v3 text polling payload: the packets `<length>:<packet>`, in order.
    Eio3Packets(Vec<Pattern>),
    /// Any of these.
    OneOf(Vec<Pattern>),
    /// Anything.
    Any,
}

/// The full form of a [`Pattern`], as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PatternFields {
    text: Option<String>,
    regex: Option<String>,
    json: Option<serde_json::Value>,
    prefix: Option<String>,
    base64: Option<String>,
    hex: Option<String>,
    sio: Option<serde_json::Value>,
    packets: Option<Vec<Pattern>>,
    eio3_packets: Option<Vec<Pattern>>,
    one_of: Option<Vec<Pattern>>,
    any: Option<bool>,
}

impl Shorthand for Pattern {
    type Full = PatternFields;
    const EXPECTING: &'static str =
        "the exact text expected, or a map with one of `text`, `regex`, \
         `json` (and `prefix`), `base64`, `hex`, `sio`, `packets`, `eio3_packets`, `one_of`, \
         `any`";

    fn from_text(text: String) -> Result<Pattern, String> {
        Ok(Pattern::Text(text))
    }

    fn from_full(fields: PatternFields) -> Result<Pattern, String> {
        if fields.prefix.is_some() && fields.json.is_none() {
            return Err("`prefix` goes with `json`".to_owned());
        }
        let mut kinds = Vec::new();
        if let Some(text) = fields.text {
            kinds.push(Pattern::Text(text));
        }
        if let Some(regex) = fields.regex {
            check_regex(&regex)?;
            kinds.push(Pattern::Regex(regex));
        }
        if let Some(value) = fields.json {
            let prefix = fields.prefix.unwrap_or_default();
            kinds.push(Pattern::Json { prefix, value });
        }
        if let Some(base64) = fields.base64 {
            kinds.push(Pattern::Bytes(decode_base64(&base64)?));
        }
        if let Some(hex) = fields.hex {
            kinds.push(Pattern::Bytes(decode_hex(&hex)?));
        }
        if let Some(packet) = fields.sio {
            check_sio(&packet)?;
            kinds.push(Pattern::Sio(packet));
        }
        if let Some(packets) = fields.packets {
            kinds.push(Pattern::Packets(packets));
        }
        if let Some(packets) = fields.eio3_packets {
            kinds.push(Pattern::Eio3Packets(packets));
        }
        if let Some(alternatives) = fields.one_of {
            kinds.push(Pattern::OneOf(alternatives));
        }
        if let Some(any) = fields.any {
            if !any {
                return Err("`any` can only be `true`".to_owned());
            }
            kinds.push(Pattern::Any);
        }
        match kinds.len() {
            1 => Ok(kinds.remove(0)),
            0 => Err(format!("empty matcher; expected {}", Self::EXPECTING)),
            _ => Err(
                "a matcher has exactly one of `text`, `regex`, `json`, `base64`, `hex`, \
                      `sio`, `packets`, `eio3_packets`, `one_of`, `any`"
                    .to_owned(),
            ),
        }
    }
}

deserialize_shorthand!(Pattern);

/// The keys of a decoded Socket.IO packet.
pub(crate) const SIO_KEYS: [&str; 5] = ["type", "attachments", "nsp", "id", "data"];

/// Checks a `sio` matcher at load time: an object with the decoded packet's keys and a type.
fn check_sio(packet: &serde_json::Value) -> Result<(), String> {
    let Some(object) = packet.as_object() else {
        return Err("`sio` is an object: {type, attachments, nsp, id, data}".to_owned());
    };
    if let Some(key) = object.keys().find(|key| !SIO_KEYS.contains(&key.as_str())) {
        return Err(format!(
            "`sio` has the keys type, attachments, nsp, id, data, not {key:?}"
        ));
    }
    if !object.contains_key("type") {
        return Err("`sio` needs the packet `type` (0 to 6)".to_owned());
    }
    Ok(())
}

/// Checks a regular expression at load time; variables are checked as if replaced by text.
fn check_regex(source: &str) -> Result<(), String> {
    let without_variables = regex::Regex::new(r"\$\{[^}]*\}")
        .map(|variables| variables.replace_all(source, "x").into_owned())
        .map_err(|error| error.to_string())?;
    regex::Regex::new(&without_variables)
        .map(|_| ())
        .map_err(|error| format!("invalid `regex`: {error}"))
}

/// Decodes standard base64 (with padding), as scenarios write binary data.
pub(crate) fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|error| format!("invalid `base64` {text:?}: {error}"))
}

/// Decodes hex digits; spaces between bytes are allowed.
pub(crate) fn decode_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return Err(format!("invalid `hex` {text:?}: odd number of digits"));
    }
    digits
        .chunks(2)
        .map(|pair| {
            let byte: String = pair.iter().collect();
            u8::from_str_radix(&byte, 16).map_err(|_| format!("invalid `hex` {text:?}"))
        })
        .collect()
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pattern::Text(text) => write!(f, "{text:?}"),
            Pattern::Regex(regex) => write!(f, "text matching /{regex}/"),
            Pattern::Json { prefix, value } => write!(f, "{prefix:?} then JSON like {value}"),
            Pattern::Bytes(bytes) => write!(
                f,
                "binary {}",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            ),
            Pattern::Sio(packet) => write!(f, "a Socket.IO packet like {packet}"),
            Pattern::Packets(packets) => {
                let packets: Vec<String> = packets.iter().map(ToString::to_string).collect();
                write!(f, "payload [{}]", packets.join(" \\x1e "))
            }
            Pattern::Eio3Packets(packets) => {
                let packets: Vec<String> = packets.iter().map(ToString::to_string).collect();
                write!(f, "v3 payload [<length>:{}]", packets.join(", <length>:"))
            }
            Pattern::OneOf(alternatives) => {
                let alternatives: Vec<String> =
                    alternatives.iter().map(ToString::to_string).collect();
                write!(f, "one of ({})", alternatives.join(" | "))
            }
            Pattern::Any => f.write_str("anything"),
        }
    }
}
