//! Which cases a command runs or lists: id patterns, features, transports.
//!
//! An id pattern with `*` (any run of characters, `/` and `[` included) or `?` (one
//! character) must match the whole case id; a pattern without them selects the case with
//! that id and every case under it, so `eio4/polling` selects `eio4/polling/post-ok` and
//! `eio4/message/echo-text` selects `eio4/message/echo-text[websocket]`. Brackets are literal:
//! they are part of case ids.

use std::fmt;

use sio_suite::scenario::{Case, Feature, Transport};

/// A pattern over case ids (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdPattern(String);

impl IdPattern {
    /// The pattern as written.
    pub fn new(pattern: impl Into<String>) -> IdPattern {
        IdPattern(pattern.into())
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether it has wildcards (and so must match the whole id).
    pub fn is_glob(&self) -> bool {
        self.0.contains(['*', '?'])
    }

    /// Whether `id` matches.
    pub fn matches(&self, id: &str) -> bool {
        if self.is_glob() {
            let pattern: Vec<char> = self.0.chars().collect();
            let text: Vec<char> = id.chars().collect();
            glob(&pattern, &text)
        } else {
            id == self.0
                || id
                    .strip_prefix(self.0.as_str())
                    .is_some_and(|rest| rest.starts_with(['/', '[']) || self.0.ends_with('/'))
        }
    }
}

impl fmt::Display for IdPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `*` and `?` matching over whole strings, iteratively with backtracking to the last star:
/// linear in practice, never exponential.
fn glob(pattern: &[char], text: &[char]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// The selection of a command: a case is selected when it matches one of the id patterns
/// (or there are none), needs one of the features (or none is given), and runs over one of
/// the transports (or none is given). What a case needs is [`Case::required_features`], the
/// same features that make it UNSUPPORTED on a target that does not declare them.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Id patterns, any of which selects.
    pub filters: Vec<IdPattern>,
    /// Features, any of which selects a case that needs it.
    pub features: Vec<Feature>,
    /// Transports: a case over one of them, or a case with no transport axis that needs the
    /// transport's feature (a raw WebSocket case for `websocket`).
    pub transports: Vec<Transport>,
}

impl Selection {
    /// Whether `case` is selected.
    pub fn matches(&self, case: &Case) -> bool {
        let by_id = self.filters.is_empty() || self.filters.iter().any(|f| f.matches(&case.id));
        let features = case.required_features();
        let by_feature =
            self.features.is_empty() || self.features.iter().any(|f| features.contains(f));
        let by_transport = self.transports.is_empty()
            || self
                .transports
                .iter()
                .any(|&transport| match case.variant.transport {
                    Some(variant) => variant == transport,
                    None => features.contains(&transport.feature()),
                });
        by_id && by_feature && by_transport
    }

    /// The selected cases, in their order.
    pub fn apply(&self, cases: Vec<Case>) -> Vec<Case> {
        cases
            .into_iter()
            .filter(|case| self.matches(case))
            .collect()
    }

    /// Whether anything narrows the selection.
    pub fn is_everything(&self) -> bool {
        self.filters.is_empty() && self.features.is_empty() && self.transports.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_patterns_select_a_case_and_what_is_under_it() {
        let pattern = IdPattern::new("eio4/polling");
        assert!(pattern.matches("eio4/polling"));
        assert!(pattern.matches("eio4/polling/post-ok"));
        assert!(!pattern.matches("eio4/polling-x"));
        let pattern = IdPattern::new("eio4/message/echo-text");
        assert!(pattern.matches("eio4/message/echo-text[websocket]"));
        assert!(!pattern.matches("eio4/message/echo-text-2"));
        assert!(IdPattern::new("eio4/").matches("eio4/x"));
    }

    #[test]
    fn globs_match_the_whole_id_with_literal_brackets() {
        assert!(IdPattern::new("*[websocket]").matches("eio4/message/echo-text[websocket]"));
        assert!(!IdPattern::new("*[websocket]").matches("eio4/message/echo-text[polling]"));
        assert!(IdPattern::new("eio4/*/echo-?ext*").matches("eio4/message/echo-text[polling]"));
        assert!(!IdPattern::new("eio4/*/x").matches("eio4/message/y"));
        assert!(IdPattern::new("*").matches(""));
        assert!(IdPattern::new("a*b*c").matches("aXbYbZc"));
        assert!(!IdPattern::new("a*b*c").matches("aXbYbZ"));
    }
}
