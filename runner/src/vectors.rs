//! `vectors list|mirror|check`: the protocol vectors under `vectors/`.

use std::process::ExitCode;

use sio_suite::vectors::{self, mirror, VectorKind};

/// `vectors list`: every vector with its kind and title.
pub fn list(dir: &std::path::Path) -> Result<ExitCode, vectors::LoadError> {
    for vector in vectors::load_dir(dir)? {
        let kind = match vector.kind {
            VectorKind::EngineIoPacket { .. } | VectorKind::SocketIoPacket { .. } => "packet",
            VectorKind::EngineIoPayload { .. } => "payload",
            VectorKind::Reject { .. } => "reject",
        };
        println!("{}\t{kind}\t{}", vector.id, vector.title);
    }
    Ok(ExitCode::SUCCESS)
}

/// `vectors mirror`: regenerates the JSON mirror.
pub fn write_mirror(dir: &std::path::Path) -> Result<ExitCode, vectors::LoadError> {
    vectors::load_dir(dir)?;
    let changed = mirror::write(dir)?;
    for path in &changed {
        println!("updated {}", path.display());
    }
    println!("JSON mirror: {} file(s) updated", changed.len());
    Ok(ExitCode::SUCCESS)
}

/// `vectors check`: loads every vector file and checks that the JSON mirror is current.
pub fn check(dir: &std::path::Path) -> Result<ExitCode, vectors::LoadError> {
    let loaded = vectors::load_dir(dir)?;
    let files = mirror::expected(dir)?;
    let mut stale: Vec<_> = files
        .iter()
        .filter(|file| std::fs::read_to_string(&file.path).ok().as_deref() != Some(&file.content))
        .map(|file| file.path.clone())
        .collect();
    stale.extend(mirror::stale_files(dir, &files));
    println!("{} vectors in {} files", loaded.len(), files.len());
    if stale.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    for path in &stale {
        eprintln!("out of date: {}", path.display());
    }
    eprintln!("run `cargo run -p sio-runner -- vectors mirror` to update the JSON mirror");
    Ok(ExitCode::FAILURE)
}
