//! The JSON mirror of the vector files: `vectors/json/<same path>.json` for every
//! `vectors/<path>.yaml`, for implementations that would rather not read YAML.

use std::path::{Path, PathBuf};

use super::load::{parse_yaml, yaml_files, LoadError};

/// The folder of the mirror inside the vectors folder.
pub const MIRROR_DIR: &str = "json";

/// One mirror file: where it goes and what it must contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorFile {
    /// The YAML source.
    pub source: PathBuf,
    /// The JSON file.
    pub path: PathBuf,
    /// Its content: pretty-printed JSON with a final newline.
    pub content: String,
}

/// Computes the mirror of every YAML file under `dir`.
pub fn expected(dir: &Path) -> Result<Vec<MirrorFile>, LoadError> {
    yaml_files(dir)?
        .into_iter()
        .map(|source| {
            let relative = source.strip_prefix(dir).unwrap_or(&source);
            let path = dir.join(MIRROR_DIR).join(relative).with_extension("json");
            let content = to_json(&source)?;
            Ok(MirrorFile {
                source,
                path,
                content,
            })
        })
        .collect()
}

/// A YAML file's content as pretty-printed JSON.
pub fn to_json(source: &Path) -> Result<String, LoadError> {
    let error = |message: String| LoadError {
        path: source.to_owned(),
        line: None,
        column: None,
        message,
    };
    let text = std::fs::read_to_string(source).map_err(|e| error(format!("cannot read: {e}")))?;
    let value: serde_json::Value = parse_yaml(source, &text)?;
    let json = serde_json::to_string_pretty(&value).map_err(|e| error(e.to_string()))?;
    Ok(json + "\n")
}

/// Writes the mirror of every YAML file under `dir`, and removes mirror files whose source is
/// gone. Returns the files written or removed.
pub fn write(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let io_error = |path: &Path, e: std::io::Error| LoadError {
        path: path.to_owned(),
        line: None,
        column: None,
        message: e.to_string(),
    };
    let files = expected(dir)?;
    let mut changed = Vec::new();
    for file in &files {
        if std::fs::read_to_string(&file.path).ok().as_deref() == Some(file.content.as_str()) {
            continue;
        }
        if let Some(parent) = file.path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
        }
        std::fs::write(&file.path, &file.content).map_err(|e| io_error(&file.path, e))?;
        changed.push(file.path.clone());
    }
    for stale in stale_files(dir, &files) {
        std::fs::remove_file(&stale).map_err(|e| io_error(&stale, e))?;
        changed.push(stale);
    }
    Ok(changed)
}

/// Mirror files whose YAML source no longer exists.
pub fn stale_files(dir: &Path, files: &[MirrorFile]) -> Vec<PathBuf> {
    let mut stale = Vec::new();
    let mut pending = vec![dir.join(MIRROR_DIR)];
    while let Some(folder) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for path in entries.flatten().map(|entry| entry.path()) {
            if path.is_dir() {
                pending.push(path);
            } else if !files.iter().any(|file| file.path == path) {
                stale.push(path);
            }
        }
    }
    stale
}
