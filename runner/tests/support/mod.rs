//! What the runner's command-line tests share: running the built `sio-conformance` as a user
//! does, with a deadline, and keeping what it printed.

// Each test binary compiles this module and uses its own part of it.
#![allow(dead_code)]

use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long one command may take before the test kills it and fails.
pub const DEADLINE: Duration = Duration::from_secs(120);

/// What one run of the command gave.
pub struct Output {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// How long the command ran.
    pub elapsed: Duration,
}

/// Runs `sio-conformance` with `args` (colours off, no stdin), killing it and failing the test
/// past [`DEADLINE`].
pub fn sio(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sio-conformance"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let out = read_all(child.stdout.take().expect("stdout"));
    let err = read_all(child.stderr.take().expect("stderr"));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("sio-conformance {args:?} ran past {DEADLINE:?}");
        }
        thread::sleep(Duration::from_millis(20));
    };
    Output {
        code: status.code().unwrap_or(-1),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        elapsed: started.elapsed(),
    }
}

/// Reads a pipe to its end on its own thread, so that neither pipe fills while the other waits.
fn read_all(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}
