//! Writing payloads as JSON exactly the way `JSON.stringify` writes them, because encoded packets
//! are compared byte for byte: no white space, keys in order, non-ASCII characters unescaped,
//! numbers in JavaScript's shortest form (`1e+21`, not `1e21`; `2`, not `2.0`).

use bytes::Bytes;

use super::Value;

/// Where binary values go while writing.
pub(super) enum BinaryValues<'a> {
    /// Into attachments, leaving placeholders `{"_placeholder":true,"num":<index>}` numbered in
    /// depth-first order of appearance (the way BINARY_EVENT and BINARY_ACK carry them).
    Attachments(&'a mut Vec<Bytes>),
    /// Inline, the way Node.js serializes a `Buffer` in JSON (`{"type":"Buffer","data":[…]}`):
    /// what the official encoder does with binary data in packets that have no attachments.
    Inline,
}

/// Appends the JSON text of `value` to `out`.
pub(super) fn write_value(value: &Value, out: &mut String, binary: &mut BinaryValues<'_>) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Value::Number(number) => write_number(number, out),
        Value::String(text) => write_string(text, out),
        Value::Binary(bytes) => write_binary(bytes, out, binary),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_value(item, out, binary);
            }
            out.push(']');
        }
        Value::Object(entries) => {
            out.push('{');
            for (index, (key, item)) in entries.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_value(item, out, binary);
            }
            out.push('}');
        }
    }
}

fn write_binary(bytes: &Bytes, out: &mut String, binary: &mut BinaryValues<'_>) {
    match binary {
        BinaryValues::Attachments(attachments) => {
            out.push_str(&format!(
                "{{\"_placeholder\":true,\"num\":{}}}",
                attachments.len()
            ));
            attachments.push(bytes.clone());
        }
        BinaryValues::Inline => {
            out.push_str("{\"type\":\"Buffer\",\"data\":[");
            let numbers: Vec<String> = bytes.iter().map(u8::to_string).collect();
            out.push_str(&numbers.join(","));
            out.push_str("]}");
        }
    }
}

/// Writes a string with the escapes of `JSON.stringify`: `\"`, `\\`, the short forms of
/// backspace, form feed, newline, carriage return and tab, `\u00xx` (lowercase) for the other
/// control characters, and every other character as is.
pub(super) fn write_string(text: &str, out: &mut String) {
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            control if u32::from(control) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", u32::from(control)));
            }
            other => out.push(other),
        }
    }
    out.push('"');
}

fn write_number(number: &serde_json::Number, out: &mut String) {
    match number.as_f64() {
        Some(float) if !(number.is_i64() || number.is_u64()) => {
            out.push_str(&js_number_to_string(float))
        }
        _ => out.push_str(&number.to_string()),
    }
}

/// ECMAScript `Number::toString` for a finite number: the shortest digits that round-trip, laid
/// out as the spec's algorithm says (plain up to 21 integer digits, `0.000001` down to 1e-6,
/// exponent form with an explicit sign otherwise).
pub(super) fn js_number_to_string(number: f64) -> String {
    if number == 0.0 || !number.is_finite() {
        return "0".to_owned();
    }
    if number < 0.0 {
        return format!("-{}", js_number_to_string(-number));
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "1.2345e20", "5e-324".
    let scientific = format!("{number:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let k = digits.len() as i32;
    let n = exponent + 1;
    if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        let (integer, fraction) = digits.split_at(n as usize);
        format!("{integer}.{fraction}")
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let sign = if n > 0 { '+' } else { '-' };
        let magnitude = (n - 1).abs();
        match digits.split_at(1) {
            (first, "") => format!("{first}e{sign}{magnitude}"),
            (first, rest) => format!("{first}.{rest}e{sign}{magnitude}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::js_number_to_string;

    #[test]
    fn numbers_are_written_as_javascript_writes_them() {
        let cases = [
            (1.0, "1"),
            (1.5, "1.5"),
            (-0.25, "-0.25"),
            (0.1, "0.1"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123456789012345680000.0, "123456789012345680000"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (-0.0, "0"),
        ];
        for (number, expected) in cases {
            assert_eq!(js_number_to_string(number), expected, "{number:e}");
        }
    }
}
