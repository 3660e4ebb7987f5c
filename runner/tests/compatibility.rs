//! The committed compatibility matrix (`docs/compatibility.md`) is current: it is what the
//! profiles' features and baselines predict for today's scenarios. CI's real runs of every
//! target (`scripts/compatibility.sh`) fail on any verdict their baseline does not expect, so
//! the prediction is what they measure.

use sio_runner::matrix;
use sio_runner::profile::TargetSpec;
use sio_suite::scenario;

#[test]
fn the_committed_matrix_is_current() {
    let cases = scenario::expand(scenario::load_dir(&scenario::default_dir()).expect("scenarios"));
    let profiles = matrix::default_profiles().expect("profiles");
    assert!(
        profiles.len() >= 4,
        "the reference and three implementations: {profiles:?}"
    );
    let columns: Vec<matrix::Column> = profiles
        .iter()
        .flat_map(|path| {
            let spec = TargetSpec::load(path).expect("the profile loads");
            matrix::roles(&spec)
                .into_iter()
                .map(|role| matrix::expected_column(path, &spec, &cases, role))
                .collect::<Vec<_>>()
        })
        .collect();
    let output = matrix::default_output();
    let expected = matrix::render(&columns, &cases, &output);
    let committed = std::fs::read_to_string(&output).unwrap_or_default();
    if committed != expected {
        let first_difference = committed
            .lines()
            .zip(expected.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || "one is a prefix of the other".to_owned(),
                |line| format!("first difference at line {}", line + 1),
            );
        panic!(
            "docs/compatibility.md is stale ({first_difference}): regenerate it with \
             `scripts/compatibility.sh` (which runs every target), or see the expected text with \
             `cargo run -p sio-runner -- matrix --expected --output /tmp/compatibility.md`"
        );
    }
}
