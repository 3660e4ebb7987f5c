//! The variables of a case: the target's options, the variant, and what earlier steps
//! captured; `${name}` in any string of a step stands for one.

use std::collections::BTreeMap;

use serde_json::Value;

use super::error::StepError;
use crate::scenario::Data;

/// Variables by name, as JSON values (options are numbers, captures mostly strings).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Vars {
    values: BTreeMap<String, Value>,
}

impl Vars {
    /// Sets (or replaces) a variable.
    pub(crate) fn set(&mut self, name: impl Into<String>, value: Value) {
        self.values.insert(name.into(), value);
    }

    /// A variable's value; an unknown one makes the scenario invalid.
    pub(crate) fn get(&self, name: &str) -> Result<&Value, StepError> {
        self.values.get(name).ok_or_else(|| {
            StepError::Invalid(format!(
                "unknown variable ${{{name}}}; known: {}",
                self.values.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
        })
    }

    /// Replaces every `${name}` in `text` by the variable's text (strings without quotes).
    pub(crate) fn substitute(&self, text: &str) -> Result<String, StepError> {
        self.substitute_with(text, |value| value.to_owned())
    }

    /// Like [`Vars::substitute`], passing each value through `escape` (for regexes).
    pub(crate) fn substitute_with(
        &self,
        text: &str,
        escape: impl Fn(&str) -> String,
    ) -> Result<String, StepError> {
        let mut result = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let Some(length) = rest[start..].find('}') else {
                break;
            };
            result.push_str(&rest[..start]);
            let name = &rest[start + 2..start + length];
            result.push_str(&escape(&as_text(self.get(name)?)));
            rest = &rest[start + length + 1..];
        }
        result.push_str(rest);
        Ok(result)
    }

    /// Replaces every `${name}` in text data; binary data is as it is.
    pub(crate) fn substitute_data(&self, data: &Data) -> Result<Data, StepError> {
        match data {
            Data::Text(text) => Ok(Data::Text(self.substitute(text)?)),
            Data::Binary(bytes) => Ok(Data::Binary(bytes.clone())),
        }
    }

    /// Replaces every `${name}` in the strings of a JSON value (its keys too), as
    /// [`Vars::substitute`] does in text.
    pub(crate) fn substitute_json(&self, value: &Value) -> Result<Value, StepError> {
        Ok(match value {
            Value::String(text) => Value::String(self.substitute(text)?),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| self.substitute_json(item))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(object) => Value::Object(
                object
                    .iter()
                    .map(|(key, item)| Ok((self.substitute(key)?, self.substitute_json(item)?)))
                    .collect::<Result<_, StepError>>()?,
            ),
            other => other.clone(),
        })
    }

    /// The variable a string names when it is exactly `${name}`.
    pub(crate) fn whole(&self, text: &str) -> Option<Result<&Value, StepError>> {
        let name = text.strip_prefix("${")?.strip_suffix('}')?;
        (!name.contains('}')).then(|| self.get(name))
    }
}

/// A value as it reads inside text.
pub(crate) fn as_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_strings_and_numbers() {
        let mut vars = Vars::default();
        vars.set("sid", Value::from("abc"));
        vars.set("pingInterval", Value::from(300));
        assert_eq!(
            vars.substitute("sid=${sid}&t=${pingInterval}"),
            Ok("sid=abc&t=300".to_owned())
        );
        assert!(vars.substitute("${nope}").is_err());
        assert_eq!(vars.whole("${pingInterval}"), Some(Ok(&Value::from(300))));
        assert_eq!(vars.whole("x${sid}"), None);
        assert_eq!(
            vars.substitute_json(&serde_json::json!({"${sid}": ["${sid}", 1, "${pingInterval}"]})),
            Ok(serde_json::json!({"abc": ["abc", 1, "300"]}))
        );
    }
}
