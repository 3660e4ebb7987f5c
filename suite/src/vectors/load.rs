//! Reading vector files, with errors that say where and what.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use super::model::*;
use crate::yaml::line_of;
pub use crate::yaml::LoadError;
pub(super) use crate::yaml::{parse_yaml, yaml_files};

/// The `vectors/` folder of this repository.
pub fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors")
}

/// Loads every `*.yaml` vector file under `dir` (recursively, in path order), checking that ids
/// are unique across all of them.
pub fn load_dir(dir: &Path) -> Result<Vec<Vector>, LoadError> {
    let mut vectors = Vec::new();
    for path in yaml_files(dir)? {
        vectors.extend(load_file(&path)?);
    }
    let mut seen = HashSet::new();
    if let Some(duplicate) = vectors
        .iter()
        .find(|vector| !seen.insert(vector.id.as_str()))
    {
        return Err(LoadError {
            path: dir.to_owned(),
            line: None,
            column: None,
            message: format!("vector id {:?} is used more than once", duplicate.id),
        });
    }
    Ok(vectors)
}

/// Loads one vector file.
pub fn load_file(path: &Path) -> Result<Vec<Vector>, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|error| LoadError {
        path: path.to_owned(),
        line: None,
        column: None,
        message: format!("cannot read: {error}"),
    })?;
    let file: VectorFile = parse_yaml(path, &text)?;
    let allowed_versions: &[u8] = match file.protocol {
        Protocol::EngineIo => &[3, 4],
        Protocol::SocketIo => &[4, 5],
    };
    if !allowed_versions.contains(&file.version) {
        return Err(LoadError {
            path: path.to_owned(),
            line: line_of(&text, "version:"),
            column: None,
            message: format!(
                "version {} is not a version of {:?}; expected one of {allowed_versions:?}",
                file.version, file.protocol
            ),
        });
    }
    let (protocol, version) = (file.protocol, file.version);
    file.vectors
        .into_iter()
        .map(|raw| {
            let id = raw.id.clone();
            check_vector(raw, protocol, version).map_err(|message| LoadError {
                path: path.to_owned(),
                line: line_of(&text, &format!("id: {id}")),
                column: None,
                message: format!("vector {id}: {message}"),
            })
        })
        .collect()
}

fn check_vector(raw: RawVector, protocol: Protocol, version: u8) -> Result<Vector, String> {
    let prefix = format!("{}/", protocol.id_prefix(version));
    if !raw.id.starts_with(&prefix) {
        return Err(format!("the id must start with {prefix:?} in this file"));
    }
    if raw.official.is_some() && raw.reject.is_none() {
        return Err("`official` belongs to reject vectors only".to_owned());
    }
    let kind = match (protocol, raw.packet, raw.packets, raw.encodings, raw.reject) {
        (Protocol::EngineIo, Some(packet), None, Some(encodings), None) => {
            VectorKind::EngineIoPacket {
                packet: from_json(packet, "packet")?,
                encodings: from_json(encodings, "encodings")?,
            }
        }
        (Protocol::EngineIo, None, Some(packets), Some(encodings), None) => {
            VectorKind::EngineIoPayload {
                packets,
                encodings: from_json(encodings, "encodings")?,
            }
        }
        (Protocol::SocketIo, Some(packet), None, Some(encodings), None) => {
            VectorKind::SocketIoPacket {
                packet: from_json(packet, "packet")?,
                encodings: from_json(encodings, "encodings")?,
            }
        }
        (_, None, None, None, Some(reject)) => VectorKind::Reject {
            reject,
            official: raw.official,
        },
        _ => {
            return Err(format!(
                "expected exactly one kind: `packet` + `encodings`, {}or `reject`",
                if protocol == Protocol::EngineIo {
                    "`packets` + `encodings`, "
                } else {
                    ""
                }
            ))
        }
    };
    Ok(Vector {
        id: raw.id,
        title: raw.title,
        spec: raw.spec,
        note: raw.note,
        protocol,
        version,
        kind,
    })
}

fn from_json<T: DeserializeOwned>(value: serde_json::Value, field: &str) -> Result<T, String> {
    serde_json::from_value(value).map_err(|error| format!("`{field}`: {error}"))
}
