//! Latency percentiles: every measured time goes into an HDR histogram (the `hdrhistogram`
//! crate, microseconds from 1 µs to 10 minutes at 3 significant digits), whose percentiles are
//! exact to that precision whatever the number of samples, and which merge across connections.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// The longest time a histogram records, in microseconds (longer ones are clamped to it).
const HIGHEST_US: u64 = 600_000_000;

/// A histogram of times, in microseconds.
#[derive(Debug, Clone)]
pub struct Recorder {
    histogram: Histogram<u64>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder::new()
    }
}

impl Recorder {
    /// An empty histogram.
    pub fn new() -> Recorder {
        // Constant bounds within the crate's limits (1 ≤ low, high ≥ 2 × low, 3 significant
        // digits ≤ 5): it cannot fail.
        let histogram = Histogram::new_with_bounds(1, HIGHEST_US, 3)
            .expect("constant bounds within hdrhistogram's limits");
        Recorder { histogram }
    }

    /// Records one time.
    pub fn record(&mut self, time: Duration) {
        let micros = u64::try_from(time.as_micros()).unwrap_or(u64::MAX);
        self.histogram
            .saturating_record(micros.clamp(1, HIGHEST_US));
    }

    /// Adds another histogram's samples.
    pub fn merge(&mut self, other: &Recorder) {
        // Same bounds on both sides: adding cannot overflow their range.
        let _ = self.histogram.add(&other.histogram);
    }

    /// How many times were recorded.
    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// The percentiles, or `None` when nothing was recorded.
    pub fn summary(&self) -> Option<Latency> {
        if self.histogram.is_empty() {
            return None;
        }
        let at = |quantile: f64| micros_to_ms(self.histogram.value_at_quantile(quantile));
        Some(Latency {
            samples: self.histogram.len(),
            mean_ms: self.histogram.mean() / 1000.0,
            p50_ms: at(0.50),
            p90_ms: at(0.90),
            p99_ms: at(0.99),
            p999_ms: at(0.999),
            max_ms: micros_to_ms(self.histogram.max()),
        })
    }
}

fn micros_to_ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

/// Percentiles of a set of times, in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Latency {
    /// How many times were recorded.
    pub samples: u64,
    /// Their mean.
    pub mean_ms: f64,
    /// The median.
    pub p50_ms: f64,
    /// The 90th percentile.
    pub p90_ms: f64,
    /// The 99th percentile.
    pub p99_ms: f64,
    /// The 99.9th percentile.
    pub p999_ms: f64,
    /// The longest.
    pub max_ms: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_every_sample() {
        let mut recorder = Recorder::new();
        for millis in 1..=100 {
            recorder.record(Duration::from_millis(millis));
        }
        let mut other = Recorder::new();
        other.record(Duration::from_secs(2));
        recorder.merge(&other);
        let summary = recorder.summary().expect("samples");
        assert_eq!(summary.samples, 101);
        assert!((summary.p50_ms - 51.0).abs() < 0.1, "{summary:?}");
        assert!((summary.max_ms - 2000.0).abs() < 2.0, "{summary:?}");
        assert_eq!(Recorder::new().summary(), None);
    }
}
