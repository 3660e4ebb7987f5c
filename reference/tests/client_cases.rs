//! Replays every client-role case against the reference client: the suite plays the server
//! and starts the client-contract program `sio-reference-client` (docs/client-contract.md) once
//! per case, as the runner does with `--profile runner/profiles/reference-client.yaml`.
//!
//! The profiles are the one statement of what the reference client claims: this test reads
//! their `features`, `client.eio` and the program's arguments, and runs each case of the
//! profile's protocol version. A case needing a feature the profile does not declare is listed
//! as ignored, with the missing feature; every other case must PASS. The program is the binary
//! cargo built for this test (`CARGO_BIN_EXE_…`), not the profile's `cargo run`, which would
//! wait on the build lock that `cargo test` holds.
//!
//! `cargo test -p sio-reference --test client_cases -- client/sio5/acks` selects some cases;
//! with `SIO_TRANSCRIPTS=1` (and `--nocapture`) the transcripts of passing cases are printed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use serde::Deserialize;
use sio_suite::engine::{self, Backoff, ClientProgram, RunOptions, Target, Verdict};
use sio_suite::scenario::{self, Case, Feature, Role};

/// The profiles of the reference client, relative to the workspace root: one per protocol.
const PROFILES: [&str; 2] = [
    "runner/profiles/reference-client.yaml",
    "runner/profiles/reference-client-eio3.yaml",
];

/// What this test reads of a profile (runner/profile.schema.json has the whole format).
#[derive(Deserialize)]
struct Profile {
    features: Vec<String>,
    client: ClientSection,
}

#[derive(Deserialize)]
struct ClientSection {
    command: Vec<String>,
    eio: u8,
    #[serde(default)]
    backoff: Option<String>,
}

/// A profile made ready to run: the declared features and the program to start.
struct Claim {
    features: BTreeSet<Feature>,
    program: ClientProgram,
}

fn main() -> ExitCode {
    let mut arguments = Arguments::from_args();
    // Each case starts a process and spends its time on timers: as many at once as the
    // runner allows for client-role cases (two per CPU).
    if arguments.test_threads.is_none() {
        let cpus = std::thread::available_parallelism().map_or(1, |cpus| cpus.get());
        arguments.test_threads = Some(cpus * 2);
    }
    match trials() {
        Ok(trials) => libtest_mimic::run(&arguments, trials).exit_code(),
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}

fn trials() -> Result<Vec<Trial>, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map(Arc::new)
        .map_err(|error| format!("cannot start a tokio runtime: {error}"))?;
    let scenarios = scenario::load_dir(&scenario::default_dir())
        .map_err(|error| format!("cannot load the scenarios: {error}"))?;
    let cases = scenario::expand(
        scenarios
            .into_iter()
            .filter(|scenario| scenario.role == Role::Client),
    );
    let claims = PROFILES
        .iter()
        .map(|relative| workspace_root().join(relative))
        .filter(|path| path.exists())
        .map(|path| claim(&path))
        .collect::<Result<Vec<_>, _>>()?;
    let mut trials = Vec::new();
    for case in cases {
        let Some(claim) = claims
            .iter()
            .find(|claim| claim.program.eio == case.variant.eio)
        else {
            trials.push(
                Trial::test(case.id.clone(), || Ok(()))
                    .with_ignored_flag(true)
                    .with_kind(format!("no profile for protocol {}", case.variant.eio)),
            );
            continue;
        };
        trials.push(trial(case, claim, Arc::clone(&runtime)));
    }
    Ok(trials)
}

fn trial(case: Case, claim: &Claim, runtime: Arc<tokio::runtime::Runtime>) -> Trial {
    let missing: Vec<&str> = case
        .required_features()
        .into_iter()
        .filter(|feature| !claim.features.contains(feature))
        .map(|feature| feature.as_str())
        .collect();
    if !missing.is_empty() {
        return Trial::test(case.id.clone(), || Ok(()))
            .with_ignored_flag(true)
            .with_kind(format!("undeclared: {}", missing.join(", ")));
    }
    let target = Target {
        features: Some(claim.features.clone()),
        client: Some(claim.program.clone()),
        ..Target::fixture(([127, 0, 0, 1], 9).into())
    };
    Trial::test(case.id.clone(), move || {
        let result = runtime.block_on(engine::run(&case, &target, &RunOptions::default()));
        if std::env::var_os("SIO_TRANSCRIPTS").is_some() {
            println!("{result}");
        }
        if result.verdict == Verdict::Pass {
            Ok(())
        } else {
            Err(Failed::from(result.to_string()))
        }
    })
}

/// Reads a profile: its features, its protocol, and the program's own arguments (those after
/// `--` in the profile's `cargo run` command), given to the binary cargo built for this test.
fn claim(path: &Path) -> Result<Claim, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let profile: Profile = yaml_serde::from_str(&text)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let features = profile
        .features
        .iter()
        .map(|name| {
            name.parse::<Feature>()
                .map_err(|error| format!("{}: feature {name}: {error}", path.display()))
        })
        .collect::<Result<BTreeSet<_>, _>>()?;
    let program_arguments = profile
        .client
        .command
        .iter()
        .skip_while(|argument| *argument != "--")
        .skip(1)
        .cloned();
    let backoff = match &profile.client.backoff {
        Some(name) => name
            .parse::<Backoff>()
            .map_err(|error| format!("{}: {error}", path.display()))?,
        None => Backoff::default(),
    };
    let command = std::iter::once(env!("CARGO_BIN_EXE_sio-reference-client").to_owned())
        .chain(program_arguments)
        .collect();
    Ok(Claim {
        features,
        program: ClientProgram {
            command,
            cwd: None,
            env: Vec::new(),
            eio: profile.client.eio,
            backoff,
            start_timeout: ClientProgram::DEFAULT_START_TIMEOUT,
        },
    })
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}
