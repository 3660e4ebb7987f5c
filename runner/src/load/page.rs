//! The reports of `bench` and `soak`: a table for people, JSON for programs, and the
//! performance page (`docs/performance.md`): implementations × figures, the minimum, median
//! and maximum over the repetitions, the method and the machine.

use std::fmt::Write as _;

use serde::Serialize;

use super::bench::{BenchSettings, Figure, Measured};
use super::procfs::Machine;
use super::soak::{SoakReport, Verdict};

/// One figure of one repetition: what it measured, or why it could not.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FigureOutcome {
    /// The figure.
    pub figure: Figure,
    /// What it measured.
    pub measured: Option<Measured>,
    /// Why it could not be measured.
    pub error: Option<String>,
}

/// Every repetition against one target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetRun {
    /// The implementation's name (the profile's `name`, or the URL).
    pub name: String,
    /// The profile it came from.
    pub profile: Option<String>,
    /// Where it listened.
    pub url: String,
    /// Its process, when its CPU and memory were measured.
    pub pid: Option<u32>,
    /// Each repetition's figures.
    pub repetitions: Vec<Vec<FigureOutcome>>,
}

/// A whole `bench` run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchReport {
    /// The command line that made it.
    pub command: String,
    /// The machine.
    pub machine: Machine,
    /// The load.
    pub settings: BenchSettings,
    /// Each target.
    pub targets: Vec<TargetRun>,
}

impl BenchReport {
    /// Whether every figure of every repetition was measured.
    pub fn complete(&self) -> bool {
        self.targets
            .iter()
            .flat_map(|target| target.repetitions.iter().flatten())
            .all(|outcome| outcome.error.is_none())
    }
}

/// A headline number of a figure: its label, unit and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// What it is.
    pub label: &'static str,
    /// Its unit.
    pub unit: &'static str,
    /// Its value.
    pub value: f64,
}

/// The headline numbers of a measured figure.
pub fn metrics(measured: &Measured) -> Vec<Metric> {
    let metric = |label, unit, value| Metric { label, unit, value };
    let mut metrics = Vec::new();
    let rate_label = match measured.figure {
        Figure::WebSocketEcho | Figure::PollingEcho => "round trips",
        Figure::ConnectionSetup => "connections",
        Figure::Fanout => "rounds",
        Figure::IdleMemory => "",
    };
    if let Some(per) = &measured.per_connection {
        metrics.push(metric(
            "memory per connection",
            "KiB",
            per.kib_per_connection,
        ));
        metrics.push(metric(
            "descriptors per connection",
            "",
            (per.fds_with as f64 - per.fds_before as f64) / per.connections.max(1) as f64,
        ));
        return metrics;
    }
    metrics.push(metric(rate_label, "/s", measured.rate_per_s));
    if let Some(latency) = &measured.latency {
        metrics.push(metric("p50", "ms", latency.p50_ms));
        metrics.push(metric("p99", "ms", latency.p99_ms));
    }
    if let Some(target) = &measured.target {
        metrics.push(metric(
            "target CPU per operation",
            "µs",
            target.cpu.us_per_operation,
        ));
    }
    metrics.push(metric(
        "load generator CPU per operation",
        "µs",
        measured.loader_cpu.us_per_operation,
    ));
    metrics
}

/// A number with a sensible precision for a table.
fn number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 100.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

fn with_unit(value: f64, unit: &str) -> String {
    match unit {
        "" => number(value),
        "/s" => format!("{}/s", number(value)),
        unit => format!("{} {unit}", number(value)),
    }
}

/// The table for people: each target, each repetition, a line per figure.
pub fn render_table(report: &BenchReport) -> String {
    let mut text = String::new();
    for target in &report.targets {
        if target.name == target.url {
            let _ = writeln!(text, "== {}", target.name);
        } else {
            let _ = writeln!(text, "== {} ({})", target.name, target.url);
        }
        if target.pid.is_none() {
            let _ = writeln!(
                text,
                "   (no pid: the target's CPU and memory are not measured; give --pid)"
            );
        }
        for (index, repetition) in target.repetitions.iter().enumerate() {
            if target.repetitions.len() > 1 {
                let _ = writeln!(text, "-- repetition {}", index + 1);
            }
            for outcome in repetition {
                let _ = write!(text, "{:<17} ", outcome.figure.as_str());
                match (&outcome.measured, &outcome.error) {
                    (_, Some(error)) => {
                        let _ = writeln!(text, "ERROR: {error}");
                    }
                    (Some(measured), None) => {
                        let parts: Vec<String> = metrics(measured)
                            .iter()
                            .map(|metric| {
                                format!("{} {}", metric.label, with_unit(metric.value, metric.unit))
                            })
                            .collect();
                        let _ = writeln!(text, "{}", parts.join(", "));
                        let _ = writeln!(text, "{:<17} ({})", "", measured.load);
                    }
                    (None, None) => {
                        let _ = writeln!(text, "not measured");
                    }
                }
            }
        }
    }
    text
}

/// The minimum, median and maximum of `values` (which must not be empty).
fn spread(values: &mut [f64]) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    let median = if values.len() % 2 == 0 {
        (values[middle - 1] + values[middle]) / 2.0
    } else {
        values[middle]
    };
    (values[0], median, values[values.len() - 1])
}

/// The cell of a metric of a target: `median (min–max)` over its repetitions.
fn cell(target: &TargetRun, figure: Figure, label: &str) -> String {
    let mut values: Vec<f64> = target
        .repetitions
        .iter()
        .flatten()
        .filter(|outcome| outcome.figure == figure)
        .filter_map(|outcome| outcome.measured.as_ref())
        .flat_map(metrics)
        .filter(|metric| metric.label == label)
        .map(|metric| metric.value)
        .collect();
    if values.is_empty() {
        let failed = target
            .repetitions
            .iter()
            .flatten()
            .any(|outcome| outcome.figure == figure && outcome.error.is_some());
        return if failed {
            "error".to_owned()
        } else {
            "–".to_owned()
        };
    }
    let (low, median, high) = spread(&mut values);
    if values.len() == 1 {
        number(median)
    } else {
        format!("{} ({}–{})", number(median), number(low), number(high))
    }
}

/// The labels and units a figure has, from the first measured repetition of any target.
fn figure_rows(report: &BenchReport, figure: Figure) -> Vec<(&'static str, &'static str)> {
    report
        .targets
        .iter()
        .flat_map(|target| target.repetitions.iter().flatten())
        .filter(|outcome| outcome.figure == figure)
        .filter_map(|outcome| outcome.measured.as_ref())
        .map(|measured| {
            metrics(measured)
                .into_iter()
                .map(|metric| (metric.label, metric.unit))
                .collect::<Vec<_>>()
        })
        .max_by_key(Vec::len)
        .unwrap_or_default()
}

/// The figure's heading on the page.
fn figure_title(figure: Figure) -> &'static str {
    match figure {
        Figure::WebSocketEcho => "WebSocket echo round trips",
        Figure::PollingEcho => "Polling echo round trips",
        Figure::ConnectionSetup => "WebSocket connection setup",
        Figure::Fanout => "Broadcast fan-out to a room",
        Figure::IdleMemory => "Idle memory per connection",
    }
}

/// The performance page, in Markdown.
pub fn render_page(report: &BenchReport) -> String {
    let mut page = String::new();
    let repetitions = report
        .targets
        .iter()
        .map(|target| target.repetitions.len())
        .max()
        .unwrap_or(0);
    let _ = writeln!(page, "# Performance\n");
    let _ = writeln!(
        page,
        "Written by `sio-conformance bench` (see [`runner/README.md`](../runner/README.md#bench): \
         what each figure is and how it is measured). Each cell is the median over {repetitions} \
         repetitions, with the minimum and maximum in parentheses. These are figures of one \
         machine at one moment, for comparing implementations under the same load generator, \
         not absolute limits: a busy machine gives noisy figures.\n"
    );
    let _ = writeln!(page, "The command that wrote this page:\n");
    let _ = writeln!(page, "```sh\n{}\n```\n", report.command);
    let machine = &report.machine;
    let _ = writeln!(page, "## Machine\n");
    let _ = writeln!(page, "- CPU: {} ({} cores)", machine.cpu, machine.cores);
    let _ = writeln!(page, "- kernel: Linux {}", machine.kernel);
    let _ = writeln!(page, "- memory: {} MiB\n", machine.memory_mib);
    let _ = writeln!(page, "## Implementations\n");
    for target in &report.targets {
        let profile = target
            .profile
            .as_deref()
            .map(|profile| format!(" (`{profile}`)"))
            .unwrap_or_default();
        let _ = writeln!(page, "- {}{profile}", target.name);
    }
    let _ = writeln!(page);
    let settings = &report.settings;
    for figure in &settings.figures {
        let rows = figure_rows(report, *figure);
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(page, "## {}\n", figure_title(*figure));
        let load = report
            .targets
            .iter()
            .flat_map(|target| target.repetitions.iter().flatten())
            .filter(|outcome| outcome.figure == *figure)
            .find_map(|outcome| outcome.measured.as_ref())
            .map(|measured| measured.load.clone())
            .unwrap_or_default();
        let _ = writeln!(page, "Load: {load}.\n");
        let mut header = String::from("| |");
        let mut rule = String::from("|---|");
        for target in &report.targets {
            let _ = write!(header, " {} |", target.name);
            rule.push_str("---|");
        }
        let _ = writeln!(page, "{header}\n{rule}");
        for (label, unit) in rows {
            let unit = match unit {
                "" => String::new(),
                unit => format!(" ({unit})"),
            };
            let _ = write!(page, "| {label}{unit} |");
            for target in &report.targets {
                let _ = write!(page, " {} |", cell(target, *figure, label));
            }
            let _ = writeln!(page);
        }
        let _ = writeln!(page);
    }
    let errors: Vec<String> = report
        .targets
        .iter()
        .flat_map(|target| {
            target
                .repetitions
                .iter()
                .flatten()
                .filter_map(move |outcome| {
                    outcome.error.as_ref().map(|error| {
                        format!("- {}, {}: {error}", target.name, outcome.figure.as_str())
                    })
                })
        })
        .collect();
    if !errors.is_empty() {
        let _ = writeln!(page, "## Figures that could not be measured\n");
        for error in errors {
            let _ = writeln!(page, "{error}");
        }
        let _ = writeln!(page);
    }
    let _ = writeln!(page, "## Method\n");
    let _ = writeln!(page, "{METHOD}");
    page
}

/// The method, as the page states it.
const METHOD: &str = "\
The load generator is the runner's own (`runner/src/load/`): raw Engine.IO 4 / Socket.IO 5 wire \
text over tokio-tungstenite WebSocket frames and hyper 1 HTTP/1.1 requests, no client library, \
on a tokio multi-thread runtime in one process on the same machine as the target, over \
127.0.0.1. Every target serves the fixture contract (`docs/server-contract.md`) with its \
options (pingInterval 300 ms, pingTimeout 200 ms), so the clients answer a ping every 300 ms \
on every connection during every figure.

- **WebSocket echo**: N connections each keep K `42[\"message\",<n>]` in flight; a round trip \
  ends when `42[\"message-back\",<n>]` is read. Rate: round trips per second of the phase.
- **Polling echo**: sessions each do one round trip at a time on one keep-alive HTTP connection: \
  the POST of the message, then GETs until the one that brings its `message-back`.
- **Connection setup**: WebSocket connections, C at a time, each timed from the TCP connect to \
  the CONNECT answer `40{…}` (upgrade and `open` packet included), then closed; the rate \
  counts whole connect-and-close cycles.
- **Fan-out**: F clients `join` a room (acknowledged); one emits `to-room`, and a round is \
  timed from that emit to the arrival of the event at the last of the F−1 others.
- **Idle memory**: the target's resident memory (VmRSS) before and with I idle WebSocket \
  connections on `/`, the difference divided by I.

Latency percentiles come from an HDR histogram (microsecond resolution, 3 significant digits). \
The target's CPU time is utime + stime of `/proc/<pid>/stat`, summed over its process tree \
(a `cargo run` wrapper left out), in 10 ms ticks, so a short phase's CPU figure is coarse; its \
memory is VmRSS of `/proc/<pid>/status`. The load generator's CPU per operation is from \
`/proc/self/stat`: when it is near the target's, the load generator shares the bottleneck.";

/// The soak report for people.
pub fn render_soak(report: &SoakReport) -> String {
    let mut text = String::new();
    let settings = &report.settings;
    let _ = writeln!(
        text,
        "soak: {} WebSocket + {} polling connections per cycle, {} warm-up + {} cycles, target pid {}",
        settings.websocket,
        settings.polling,
        settings.warm_up.max(1),
        settings.cycles,
        report.pid
    );
    for cycle in &report.cycles {
        let name = if cycle.warm_up {
            format!("warm-up {}", cycle.cycle + 1)
        } else {
            format!("cycle {}", cycle.cycle + 1 - settings.warm_up.max(1))
        };
        let _ = writeln!(
            text,
            "{name:<10} {} completed, {} failed, peak {} KiB, {} fds, {:.1} s",
            cycle.completed,
            cycle.failed,
            cycle.peak.rss_kib,
            cycle.peak.fds,
            cycle.wall_ms / 1000.0
        );
        for error in &cycle.errors {
            let _ = writeln!(text, "          error: {error}");
        }
    }
    let _ = writeln!(
        text,
        "baseline   {} KiB, {} fds (after the warm-up)",
        report.baseline.rss_kib, report.baseline.fds
    );
    let _ = writeln!(
        text,
        "after      {} KiB ({:+.1} %), {} fds ({:+.1} %)",
        report.after.rss_kib,
        report.rss_change_percent,
        report.after.fds,
        report.fds_change_percent
    );
    let verdict = match report.verdict {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
    };
    let _ = writeln!(
        text,
        "verdict: {verdict} (tolerance {} % above the baseline)",
        settings.tolerance_percent
    );
    for reason in &report.reasons {
        let _ = writeln!(text, "  {reason}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_are_min_median_max() {
        assert_eq!(spread(&mut [3.0, 1.0, 2.0]), (1.0, 2.0, 3.0));
        assert_eq!(spread(&mut [4.0, 1.0, 2.0, 3.0]), (1.0, 2.5, 4.0));
        assert_eq!(spread(&mut [5.0]), (5.0, 5.0, 5.0));
    }

    #[test]
    fn numbers_keep_three_figures_or_so() {
        assert_eq!(number(12345.6), "12346");
        assert_eq!(number(12.345), "12.3");
        assert_eq!(number(0.1234), "0.12");
    }
}
