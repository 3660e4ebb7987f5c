//! Durations written in scenarios: fixed (`50ms`, `2s`) or computed from the target's declared
//! options (`pingInterval + pingTimeout`, `pingInterval * 1.5 - 20ms`).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A server option a duration may refer to, by the name used in the handshake and the docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptionName {
    /// `pingInterval`.
    PingInterval,
    /// `pingTimeout`.
    PingTimeout,
    /// `connectTimeout` (Socket.IO).
    ConnectTimeout,
    /// `upgradeTimeout`.
    UpgradeTimeout,
    /// `maxDisconnectionDuration` of connection state recovery (Socket.IO): how long after a
    /// client lost its connection its session can be recovered.
    MaxDisconnectionDuration,
}

impl OptionName {
    /// Every option, for error messages.
    pub const ALL: [OptionName; 5] = [
        OptionName::PingInterval,
        OptionName::PingTimeout,
        OptionName::ConnectTimeout,
        OptionName::UpgradeTimeout,
        OptionName::MaxDisconnectionDuration,
    ];

    /// The name as written.
    pub fn as_str(self) -> &'static str {
        match self {
            OptionName::PingInterval => "pingInterval",
            OptionName::PingTimeout => "pingTimeout",
            OptionName::ConnectTimeout => "connectTimeout",
            OptionName::UpgradeTimeout => "upgradeTimeout",
            OptionName::MaxDisconnectionDuration => "maxDisconnectionDuration",
        }
    }

    fn parse(name: &str) -> Option<OptionName> {
        OptionName::ALL
            .into_iter()
            .find(|option| option.as_str() == name)
    }
}

/// The target's timing options a duration is computed from.
pub trait TimingOptions {
    /// The declared value of an option.
    fn option(&self, name: OptionName) -> Duration;
}

/// One term of a sum: a fixed number of milliseconds, or an option times a factor.
#[derive(Debug, Clone, PartialEq)]
enum Term {
    Fixed(f64),
    Option(OptionName, f64),
}

/// A duration expression: a sum or difference of terms, parsed when the scenario loads.
#[derive(Debug, Clone, PartialEq)]
pub struct DurationExpr {
    source: String,
    terms: Vec<(f64, Term)>,
}

impl DurationExpr {
    /// Parses `50ms`, `2s`, `pingInterval`, `pingInterval * 1.5 + 100ms`, ….
    pub fn parse(source: &str) -> Result<DurationExpr, String> {
        let mut terms = Vec::new();
        let mut sign = 1.0;
        for token in tokenize(source) {
            match token {
                "+" => sign = 1.0,
                "-" => sign = -1.0,
                product => {
                    terms.push((sign, parse_product(product)?));
                    sign = 1.0;
                }
            }
        }
        if terms.is_empty() {
            return Err(format!("empty duration {source:?}"));
        }
        Ok(DurationExpr {
            source: source.trim().to_owned(),
            terms,
        })
    }

    /// The value for a target; never negative.
    pub fn eval(&self, options: &impl TimingOptions) -> Duration {
        let millis: f64 = self
            .terms
            .iter()
            .map(|(sign, term)| {
                sign * match term {
                    Term::Fixed(millis) => *millis,
                    Term::Option(name, factor) => {
                        options.option(*name).as_secs_f64() * 1000.0 * factor
                    }
                }
            })
            .sum();
        Duration::from_secs_f64(millis.max(0.0) / 1000.0)
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl fmt::Display for DurationExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Splits at `+` and `-` signs, keeping them as tokens; products stay whole.
fn tokenize(source: &str) -> Vec<&str> {
    let mut tokens = Vec::new();
    let mut start = 0;
    for (index, character) in source.char_indices() {
        if character == '+' || character == '-' {
            tokens.push(source[start..index].trim());
            tokens.push(&source[index..index + 1]);
            start = index + 1;
        }
    }
    tokens.push(source[start..].trim());
    tokens
        .into_iter()
        .filter(|token| !token.is_empty())
        .collect()
}

/// `number unit`, `option`, `option * number` or `number * option`.
fn parse_product(product: &str) -> Result<Term, String> {
    let factors: Vec<&str> = product.split('*').map(str::trim).collect();
    match factors.as_slice() {
        [single] => parse_single(single),
        [left, right] => match (OptionName::parse(left), OptionName::parse(right)) {
            (Some(name), None) => Ok(Term::Option(name, parse_number(right)?)),
            (None, Some(name)) => Ok(Term::Option(name, parse_number(left)?)),
            _ => Err(format!(
                "expected `option * number` in {product:?}, with an option among {}",
                option_names()
            )),
        },
        _ => Err(format!("too many `*` in {product:?}")),
    }
}

fn parse_single(single: &str) -> Result<Term, String> {
    if let Some(name) = OptionName::parse(single) {
        return Ok(Term::Option(name, 1.0));
    }
    let (number, scale) = if let Some(number) = single.strip_suffix("ms") {
        (number, 1.0)
    } else if let Some(number) = single.strip_suffix('s') {
        (number, 1000.0)
    } else {
        return Err(format!(
            "expected a duration such as `50ms` or `2s`, or an option among {}, not {single:?}",
            option_names()
        ));
    };
    Ok(Term::Fixed(parse_number(number.trim())? * scale))
}

fn parse_number(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|number| number.is_finite() && *number >= 0.0)
        .ok_or_else(|| format!("expected a non-negative number, not {text:?}"))
}

fn option_names() -> String {
    OptionName::ALL
        .iter()
        .map(|option| option.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl<'de> Deserialize<'de> for DurationExpr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let source = String::deserialize(deserializer)?;
        DurationExpr::parse(&source).map_err(serde::de::Error::custom)
    }
}

impl Serialize for DurationExpr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixture;

    impl TimingOptions for Fixture {
        fn option(&self, name: OptionName) -> Duration {
            Duration::from_millis(match name {
                OptionName::PingInterval => 300,
                OptionName::PingTimeout => 200,
                OptionName::ConnectTimeout => 1000,
                OptionName::UpgradeTimeout => 10_000,
                OptionName::MaxDisconnectionDuration => 2000,
            })
        }
    }

    fn millis(source: &str) -> u128 {
        DurationExpr::parse(source)
            .map(|expr| expr.eval(&Fixture).as_millis())
            .unwrap_or_else(|error| panic!("{source}: {error}"))
    }

    #[test]
    fn fixed_and_computed_durations() {
        assert_eq!(millis("50ms"), 50);
        assert_eq!(millis("2s"), 2000);
        assert_eq!(millis("pingInterval"), 300);
        assert_eq!(millis("pingInterval + pingTimeout"), 500);
        assert_eq!(millis("pingInterval * 1.5 - 50ms"), 400);
        assert_eq!(millis("2 * pingTimeout"), 400);
        assert_eq!(millis("50ms - 1s"), 0);
    }

    #[test]
    fn bad_durations_say_what_was_expected() {
        for bad in ["", "50", "pingIntervall", "pingInterval * x", "1 * 2 * 3"] {
            assert!(DurationExpr::parse(bad).is_err(), "{bad:?} parsed");
        }
    }
}
