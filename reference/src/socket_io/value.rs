//! [`Value`]: the data model of Socket.IO payloads, JSON with binary values.

use bytes::Bytes;

/// A payload value: any JSON value, or binary data, nested freely.
///
/// Objects keep their keys in order, because the order is visible on the wire
/// (`JSON.stringify` writes keys in insertion order).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// JSON `null`.
    Null,
    /// JSON `true` or `false`.
    Bool(bool),
    /// A JSON number.
    Number(serde_json::Number),
    /// A JSON string.
    String(String),
    /// Binary data: sent as an attachment, with a placeholder in the JSON.
    Binary(Bytes),
    /// A JSON array.
    Array(Vec<Value>),
    /// A JSON object, keys in order and unique.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// Whether the value contains binary data anywhere.
    pub fn has_binary(&self) -> bool {
        match self {
            Value::Binary(_) => true,
            Value::Array(items) => items.iter().any(Value::has_binary),
            Value::Object(entries) => entries.iter().any(|(_, value)| value.has_binary()),
            _ => false,
        }
    }

    /// The value of a key, if this is an object that has it.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value as `JSON.stringify` writes it, binary values as Node.js writes a `Buffer`
    /// (`{"type":"Buffer","data":[…]}`).
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        super::json::write_value(self, &mut out, &mut super::json::BinaryValues::Inline);
        out
    }

    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(text) => Some(text),
            _ => None,
        }
    }
}

impl From<serde_json::Value> for Value {
    fn from(value: serde_json::Value) -> Self {
        match value {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(flag) => Value::Bool(flag),
            serde_json::Value::Number(number) => Value::Number(number),
            serde_json::Value::String(text) => Value::String(text),
            serde_json::Value::Array(items) => {
                Value::Array(items.into_iter().map(Value::from).collect())
            }
            serde_json::Value::Object(entries) => Value::Object(
                entries
                    .into_iter()
                    .map(|(key, value)| (key, Value::from(value)))
                    .collect(),
            ),
        }
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::String(text.to_owned())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::String(text)
    }
}

impl From<Bytes> for Value {
    fn from(bytes: Bytes) -> Self {
        Value::Binary(bytes)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Self {
        Value::Array(items)
    }
}

impl From<bool> for Value {
    fn from(flag: bool) -> Self {
        Value::Bool(flag)
    }
}

impl From<i64> for Value {
    fn from(number: i64) -> Self {
        Value::Number(number.into())
    }
}

impl From<u64> for Value {
    fn from(number: u64) -> Self {
        Value::Number(number.into())
    }
}

impl From<i32> for Value {
    fn from(number: i32) -> Self {
        Value::Number(number.into())
    }
}

/// A float as `JSON.stringify` sees it: NaN and the infinities become `null`.
impl From<f64> for Value {
    fn from(number: f64) -> Self {
        serde_json::Number::from_f64(number).map_or(Value::Null, Value::Number)
    }
}

impl From<Vec<u8>> for Value {
    fn from(bytes: Vec<u8>) -> Self {
        Value::Binary(Bytes::from(bytes))
    }
}
