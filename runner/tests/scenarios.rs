//! Replays every scenario case against the reference fixture server, started in-process on
//! 127.0.0.1 with the fixture contract's options: one test per case, named by the case id, so
//! that `cargo test -p sio-runner --test scenarios -- eio4/polling` selects some.
//!
//! Every case must PASS: a case that does not is either a wrong scenario or a reference that
//! departs from the spec, and the transcript printed with the failure tells which. With
//! `SIO_TRANSCRIPTS=1` the transcripts of passing cases are printed too (with `--nocapture`).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use sio_reference::fixture::{Fixture, Options};
use sio_suite::engine::{self, RunOptions, Target, Verdict};
use sio_suite::scenario::{self, Case};

fn main() -> ExitCode {
    let mut arguments = Arguments::from_args();
    // The cases spend their time waiting on the network and on the target's timers, not on
    // the CPU: run many at once unless told otherwise, as the runner does.
    if arguments.test_threads.is_none() {
        arguments.test_threads = Some(32);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => Arc::new(runtime),
        Err(error) => {
            eprintln!("cannot start a tokio runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    // The client-role cases judge a client, not this server: suite/tests/client_role.rs and
    // the client profiles replay them.
    let cases = match scenario::load_dir(&scenario::default_dir()) {
        Ok(scenarios) => scenario::expand(
            scenarios
                .into_iter()
                .filter(|scenario| scenario.role == scenario::Role::Server),
        ),
        Err(error) => {
            eprintln!("cannot load the scenarios: {error}");
            return ExitCode::FAILURE;
        }
    };
    let address = match runtime.block_on(start_reference()) {
        Ok(address) => address,
        Err(error) => {
            eprintln!("cannot start the reference server: {error}");
            return ExitCode::FAILURE;
        }
    };
    let target = Target::fixture(address);
    let trials = cases
        .into_iter()
        .map(|case| trial(case, Arc::clone(&runtime), target.clone()))
        .collect();
    libtest_mimic::run(&arguments, trials).exit_code()
}

fn trial(case: Case, runtime: Arc<tokio::runtime::Runtime>, target: Target) -> Trial {
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

/// The reference fixture server (the Socket.IO contract at `/socket.io/`, the Engine.IO echo
/// at `/engine.io/`) with the contract's options, which `Target::fixture` declares.
async fn start_reference() -> std::io::Result<SocketAddr> {
    let (address, serving) = Fixture::new(Options::default())
        .listen("127.0.0.1:0")
        .await?;
    tokio::spawn(serving);
    Ok(address)
}
