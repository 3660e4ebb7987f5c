//! # sio-conformance
//!
//! The command-line runner of the Engine.IO and Socket.IO conformance suite.
//!
//! Today it manages the protocol vectors:
//!
//! - `sio-conformance vectors list`: every vector with its kind and title.
//! - `sio-conformance vectors mirror`: regenerates the JSON mirror `vectors/json/` from the YAML.
//! - `sio-conformance vectors check`: loads every vector file (reporting the file, line and
//!   column of any error) and fails when the JSON mirror is out of date.
//!
//! Exit codes: 0 when all is well, 1 when a check failed, 2 when the command could not run.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sio_suite::vectors::{self, mirror, VectorKind};

/// The Engine.IO and Socket.IO conformance suite.
#[derive(Debug, Parser)]
#[command(name = "sio-conformance", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Work with the protocol vectors.
    Vectors {
        /// The vectors folder (default: this repository's `vectors/`).
        #[arg(long, global = true)]
        dir: Option<PathBuf>,
        #[command(subcommand)]
        action: VectorsAction,
    },
}

#[derive(Debug, Subcommand)]
enum VectorsAction {
    /// List every vector: id, kind and title.
    List,
    /// Regenerate the JSON mirror from the YAML files.
    Mirror,
    /// Load every vector file and check that the JSON mirror is up to date.
    Check,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Vectors { dir, action } => {
            let dir = dir.unwrap_or_else(vectors::default_dir);
            let outcome = match action {
                VectorsAction::List => list(&dir),
                VectorsAction::Mirror => write_mirror(&dir),
                VectorsAction::Check => check(&dir),
            };
            outcome.unwrap_or_else(|error| {
                eprintln!("error: {error}");
                ExitCode::from(2)
            })
        }
    }
}

fn list(dir: &std::path::Path) -> Result<ExitCode, vectors::LoadError> {
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

fn write_mirror(dir: &std::path::Path) -> Result<ExitCode, vectors::LoadError> {
    vectors::load_dir(dir)?;
    let changed = mirror::write(dir)?;
    for path in &changed {
        println!("updated {}", path.display());
    }
    println!("JSON mirror: {} file(s) updated", changed.len());
    Ok(ExitCode::SUCCESS)
}

fn check(dir: &std::path::Path) -> Result<ExitCode, vectors::LoadError> {
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
