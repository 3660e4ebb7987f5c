//! Running cases: concurrently on the tokio runtime, at most `jobs` at a time, with the
//! results returned in case order whatever order they finish in.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sio_reference::fixture::{Fixture, Options};
use sio_suite::engine::{self, CaseResult, Failure, RunOptions, Target, Transcript, Verdict};
use sio_suite::scenario::Case;
use tokio::sync::Semaphore;

/// The default number of cases run at once: sixteen per CPU, since cases mostly wait (for a
/// heartbeat, a silence, a held GET) rather than compute.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism()
        .map(|cpus| cpus.get())
        .unwrap_or(1)
        * 16
}

/// Runs `cases` against `target`, at most `jobs` at once, calling `on_done` as each one
/// finishes; returns the results in the order of `cases`.
pub async fn run_cases(
    cases: &[Case],
    target: &Target,
    options: &RunOptions,
    jobs: usize,
    on_done: impl Fn(&CaseResult) + Send + Sync + 'static,
) -> Vec<CaseResult> {
    let permits = Arc::new(Semaphore::new(jobs.max(1)));
    let on_done = Arc::new(on_done);
    let handles: Vec<_> = cases
        .iter()
        .map(|case| {
            let case = case.clone();
            let target = target.clone();
            let options = *options;
            let permits = Arc::clone(&permits);
            let on_done = Arc::clone(&on_done);
            tokio::spawn(async move {
                // The semaphore is never closed, so acquiring only fails if it were.
                let _permit = permits.acquire_owned().await.ok();
                let result = engine::run(&case, &target, &options).await;
                on_done(&result);
                result
            })
        })
        .collect();
    let mut results = Vec::with_capacity(cases.len());
    for (handle, case) in handles.into_iter().zip(cases) {
        let result = match handle.await {
            Ok(result) => result,
            Err(error) => {
                let result = runner_error(case, format!("the case's task failed: {error}"));
                on_done(&result);
                result
            }
        };
        results.push(result);
    }
    results
}

/// An ERROR result for a case the runner itself could not run.
fn runner_error(case: &Case, why: String) -> CaseResult {
    CaseResult {
        id: case.id.clone(),
        verdict: Verdict::Error,
        failure: Some(Failure {
            step: None,
            keyword: None,
            actor: None,
            expected: "a case the runner can run".to_owned(),
            actual: why,
            requirement: None,
        }),
        transcript: Transcript::default(),
        elapsed: Duration::ZERO,
    }
}

/// Starts the reference fixture server on 127.0.0.1, on a free port, with the contract's
/// options; it serves until the runtime ends.
pub async fn start_fixture() -> std::io::Result<SocketAddr> {
    let (address, serving) = Fixture::new(Options::default())
        .listen("127.0.0.1:0")
        .await?;
    tokio::spawn(serving);
    Ok(address)
}

/// Checks that something accepts TCP connections at `address` within `timeout`.
pub async fn reachable(address: SocketAddr, timeout: Duration) -> Result<(), String> {
    match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(address)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => Err(format!("cannot connect to {address}: {error}")),
        Err(_) => Err(format!(
            "cannot connect to {address}: no answer within {} ms",
            timeout.as_millis()
        )),
    }
}
