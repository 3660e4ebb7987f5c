//! The requirements catalogue under `suite/requirements/`: one id per MUST/SHOULD/MAY sentence
//! of the specs, per format the specs define, and per behaviour of the official server or the
//! official client that the suite checks where the specs are silent, each with its quote and
//! source, so that coverage can be computed from the scenarios' `covers`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::yaml::{line_of, parse_yaml, read_text, yaml_files, LoadError};

/// How binding a requirement is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
pub enum RequirementLevel {
    /// A sentence with MUST.
    #[serde(rename = "MUST")]
    Must,
    /// A sentence with MUST NOT.
    #[serde(rename = "MUST NOT")]
    MustNot,
    /// A sentence with SHOULD.
    #[serde(rename = "SHOULD")]
    Should,
    /// A sentence with MAY.
    #[serde(rename = "MAY")]
    May,
    /// A format or rule the spec states without a modal verb (the packet encoding, one
    /// packet per frame): breaking it breaks the protocol.
    #[serde(rename = "definition")]
    Definition,
    /// A behaviour of the official implementation where the spec is silent.
    #[serde(rename = "implementation")]
    Implementation,
}

impl RequirementLevel {
    /// The level as requirements files write it: `MUST`, `MUST NOT`, `definition`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            RequirementLevel::Must => "MUST",
            RequirementLevel::MustNot => "MUST NOT",
            RequirementLevel::Should => "SHOULD",
            RequirementLevel::May => "MAY",
            RequirementLevel::Definition => "definition",
            RequirementLevel::Implementation => "implementation",
        }
    }
}

/// Who a requirement binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Subject {
    /// The server.
    Server,
    /// The client.
    Client,
    /// Either side (the sender, the receiver).
    Both,
}

impl Subject {
    /// The subject as requirements files write it: `server`, `client`, `both`.
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Server => "server",
            Subject::Client => "client",
            Subject::Both => "both",
        }
    }
}

/// One requirement.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// The stable id: `EIO4-POLL-POST-OK`, or a behaviour id of the official server (`HS-09`)
    /// or client (`SC-02`), as in the project's behaviour catalogue.
    pub id: String,
    /// The section of the document (its heading).
    pub section: String,
    /// How binding it is.
    pub level: RequirementLevel,
    /// Whom it binds.
    pub subject: Subject,
    /// The sentence, verbatim for the specs; the observed behaviour for the implementation.
    pub quote: String,
    /// A remark.
    pub note: Option<String>,
}

/// One requirements file: the requirements of one document.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RequirementsFile {
    /// The document: `engine.io-protocol`, `socket.io-protocol`, `official-server`,
    /// `official-server-socket-io`, `official-client`.
    pub document: String,
    /// Where it is, pinned (a commit URL, or the packages and versions observed).
    pub source: String,
    /// The requirements.
    pub requirements: Vec<Requirement>,
}

/// A requirement with the document it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcedRequirement {
    /// The requirement.
    pub requirement: Requirement,
    /// Its document.
    pub document: String,
    /// Its source.
    pub source: String,
    /// The file.
    pub path: PathBuf,
}

/// The `suite/requirements/` folder of this repository.
pub fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("requirements")
}

/// Loads every requirements file under `dir`, checking that ids are unique.
pub fn load_dir(dir: &Path) -> Result<Vec<SourcedRequirement>, LoadError> {
    let mut all = Vec::new();
    let mut seen = HashSet::new();
    for path in yaml_files(dir)? {
        let text = read_text(&path)?;
        let file: RequirementsFile = parse_yaml(&path, &text)?;
        for requirement in file.requirements {
            if !seen.insert(requirement.id.clone()) {
                return Err(LoadError::at_line(
                    &path,
                    line_of(&text, &format!("id: {}", requirement.id)),
                    format!("requirement id {:?} is used more than once", requirement.id),
                ));
            }
            if requirement.quote.trim().is_empty() {
                return Err(LoadError::at_line(
                    &path,
                    line_of(&text, &format!("id: {}", requirement.id)),
                    format!("requirement {} has an empty quote", requirement.id),
                ));
            }
            all.push(SourcedRequirement {
                requirement,
                document: file.document.clone(),
                source: file.source.clone(),
                path: path.clone(),
            });
        }
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_subjects_are_spelled_as_serde_names_them() {
        let levels = [
            RequirementLevel::Must,
            RequirementLevel::MustNot,
            RequirementLevel::Should,
            RequirementLevel::May,
            RequirementLevel::Definition,
            RequirementLevel::Implementation,
        ];
        for level in levels {
            let serialized = serde_json::to_value(level).expect("serialises");
            assert_eq!(serialized, serde_json::Value::from(level.as_str()));
        }
        for subject in [Subject::Server, Subject::Client, Subject::Both] {
            let serialized = serde_json::to_value(subject).expect("serialises");
            assert_eq!(serialized, serde_json::Value::from(subject.as_str()));
        }
    }
}
