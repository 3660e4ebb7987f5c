//! The suite's controlled vocabularies, each spelled one way: a verdict (`NON-STRICT`), a level
//! (`MUST`), a role (`server`), a feature (`server-acks`), a transport (`polling`).
//!
//! Each term's type owns its spelling: `as_str` writes it, `FromStr` reads it back (with an
//! [`UnknownTerm`] naming the vocabulary and what was given), and its serde name is the same
//! (a unit test per type checks it for every variant). Scenario files, profiles, baselines,
//! the command line and every report use that one spelling.

use std::fmt;

use crate::engine::Verdict;
use crate::scenario::{Feature, Level, Role, Transport};

/// Which vocabulary a term belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vocabulary {
    /// [`Verdict`]: `PASS`, `FAIL`, `NON-STRICT`, `INFORMATIONAL`, `UNSUPPORTED`, `ERROR`.
    Verdict,
    /// [`Level`]: `MUST`, `SHOULD`, `MAY`, `implementation`.
    Level,
    /// [`Role`]: `server`, `client`.
    Role,
    /// [`Feature`]: `polling`, `eio3`, `server-acks`, ….
    Feature,
    /// [`Transport`]: `polling`, `websocket`, `upgrade`.
    Transport,
}

impl Vocabulary {
    /// The vocabulary's name in messages: `verdict`, `feature`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            Vocabulary::Verdict => "verdict",
            Vocabulary::Level => "level",
            Vocabulary::Role => "role",
            Vocabulary::Feature => "feature",
            Vocabulary::Transport => "transport",
        }
    }

    /// Every term of the vocabulary, spelled, in declaration order.
    pub fn terms(self) -> Vec<&'static str> {
        match self {
            Vocabulary::Verdict => Verdict::ALL.iter().map(|term| term.as_str()).collect(),
            Vocabulary::Level => Level::ALL.iter().map(|term| term.as_str()).collect(),
            Vocabulary::Role => Role::ALL.iter().map(|term| term.as_str()).collect(),
            Vocabulary::Feature => Feature::ALL.iter().map(|term| term.as_str()).collect(),
            Vocabulary::Transport => Transport::ALL.iter().map(|term| term.as_str()).collect(),
        }
    }
}

impl fmt::Display for Vocabulary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no term of its vocabulary: `unknown feature "telepathy": one of polling, …`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {vocabulary} {name:?}: one of {}", vocabulary.terms().join(", "))]
pub struct UnknownTerm {
    /// The vocabulary the name was read as.
    pub vocabulary: Vocabulary,
    /// The name as given.
    pub name: String,
}

/// The term of `all` that `spell` writes as `name`, exactly (terms are case-sensitive, as in
/// the files that hold them).
pub(crate) fn parse<T: Copy>(
    vocabulary: Vocabulary,
    all: &[T],
    spell: fn(T) -> &'static str,
    name: &str,
) -> Result<T, UnknownTerm> {
    all.iter()
        .copied()
        .find(|&term| spell(term) == name)
        .ok_or_else(|| UnknownTerm {
            vocabulary,
            name: name.to_owned(),
        })
}

#[cfg(test)]
pub(crate) mod tests {
    use std::fmt::Debug;
    use std::str::FromStr;

    use serde::de::DeserializeOwned;
    use serde::Serialize;

    use super::*;

    /// Checks, for every term of `all`, that `as_str`, `FromStr` and serde spell it alike, and
    /// that `all` holds every variant serde knows (serde's error for an unknown variant lists
    /// them all).
    pub(crate) fn spelled_alike<T>(vocabulary: Vocabulary, all: &[T], spell: fn(T) -> &'static str)
    where
        T: Copy + PartialEq + Debug + Serialize + DeserializeOwned + FromStr<Err = UnknownTerm>,
    {
        for &term in all {
            let name = spell(term);
            let serialized = serde_json::to_value(term).expect("serialises");
            assert_eq!(serialized, serde_json::Value::from(name), "{term:?}");
            let deserialized: T = serde_json::from_value(serde_json::Value::from(name))
                .unwrap_or_else(|error| panic!("serde reads {name:?}: {error}"));
            assert_eq!(deserialized, term, "{name:?}");
            assert_eq!(name.parse::<T>(), Ok(term), "{name:?}");
        }
        let unknown = "\u{1}no such term";
        assert_eq!(
            unknown.parse::<T>(),
            Err(UnknownTerm {
                vocabulary,
                name: unknown.to_owned()
            })
        );
        let error = serde_json::from_value::<T>(serde_json::Value::from(unknown))
            .expect_err("serde refuses it")
            .to_string();
        // `expected `a` or `b``, or `expected one of `a`, `b`, `c``.
        let listed = error
            .split_once("expected ")
            .map(|(_, names)| names)
            .unwrap_or_else(|| panic!("serde lists the variants: {error}"));
        let serde_names: Vec<&str> = listed
            .strip_prefix("one of ")
            .unwrap_or(listed)
            .split(", ")
            .flat_map(|part| part.split(" or "))
            .map(|name| name.trim_matches('`'))
            .collect();
        let ours: Vec<&str> = all.iter().map(|&term| spell(term)).collect();
        assert_eq!(serde_names, ours, "every variant, in declaration order");
        assert_eq!(vocabulary.terms(), ours);
    }

    #[test]
    fn an_unknown_term_says_what_it_could_have_been() {
        let error = "telepathy".parse::<Transport>().expect_err("unknown");
        assert_eq!(
            error.to_string(),
            "unknown transport \"telepathy\": one of polling, websocket, upgrade"
        );
        // Terms are case-sensitive, as in scenario files.
        assert!("Polling".parse::<Feature>().is_err());
        assert!("must".parse::<Level>().is_err());
    }
}
