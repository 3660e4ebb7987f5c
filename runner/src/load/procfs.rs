//! What `/proc` says of the target and of the load generator (Linux): CPU time (`utime` +
//! `stime` of `/proc/<pid>/stat`), resident memory (`VmRSS` of `/proc/<pid>/status`) and open
//! file descriptors (the entries of `/proc/<pid>/fd`), summed over the target's process tree;
//! and the machine: CPU model, cores, kernel, memory.
//!
//! The tree is the process and its descendants (found through the parent field of every
//! process's `stat`), so that a server an adapter's launcher starts is counted. A `cargo`
//! process in it is left out of the sums: a profile that runs its server through `cargo run`
//! (the reference's) has the build tool as the tree's root, and its memory is not the server's.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

/// Clock ticks per second of the times in `/proc/<pid>/stat`: `USER_HZ`, which Linux fixes at
/// 100 on every architecture it exports to user space.
pub const TICKS_PER_SECOND: u64 = 100;

/// The processes whose figures are not the server's: build tools that run it.
const LEFT_OUT: &[&str] = &["cargo"];

/// Why a figure could not be read from `/proc`.
#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    /// A file of `/proc` cannot be read: the process has ended, or this is not Linux.
    #[error("cannot read {}: {source} (has the target's process {pid} ended?)", .path.display())]
    Read {
        /// The process.
        pid: u32,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file of `/proc` does not have the expected layout.
    #[error("{} does not have the layout of a Linux /proc file", .path.display())]
    Layout {
        /// The file.
        path: PathBuf,
    },
}

/// One process's line of `/proc/<pid>/stat`: its name, parent and CPU ticks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    /// The command name (`comm`, in parentheses in the file).
    pub name: String,
    /// The parent's pid.
    pub parent: u32,
    /// User plus system CPU time, in clock ticks.
    pub cpu_ticks: u64,
}

/// The target's process tree at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// CPU time used so far (user plus system), in clock ticks of [`TICKS_PER_SECOND`].
    pub cpu_ticks: u64,
    /// Resident memory, in KiB.
    pub rss_kib: u64,
    /// Open file descriptors.
    pub fds: u64,
    /// The processes counted: `name (pid)`.
    pub processes: Vec<String>,
}

impl Usage {
    /// The CPU time between `earlier` and this sample.
    pub fn cpu_since(&self, earlier: &Usage) -> Duration {
        ticks(self.cpu_ticks.saturating_sub(earlier.cpu_ticks))
    }
}

/// Clock ticks as a duration.
pub fn ticks(ticks: u64) -> Duration {
    Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND)
}

/// Parses the text of `/proc/<pid>/stat`. The name is between the first `(` and the last `)`
/// (it may hold spaces and parentheses); the fields after it are numbered from 3.
pub fn parse_stat(text: &str) -> Option<Stat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let name = text.get(open + 1..close)?.to_owned();
    let fields: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    // Field 4 is the parent, 14 and 15 utime and stime: indices 1, 11 and 12 after the name.
    let parent = fields.get(1)?.parse().ok()?;
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some(Stat {
        name,
        parent,
        cpu_ticks: user + system,
    })
}

/// The `VmRSS` of a `/proc/<pid>/status` text, in KiB (absent for a kernel thread or zombie).
pub fn parse_rss_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
}

fn read(pid: u32, path: PathBuf) -> Result<String, ProcError> {
    std::fs::read_to_string(&path).map_err(|source| ProcError::Read { pid, path, source })
}

fn proc_path(pid: u32, file: &str) -> PathBuf {
    Path::new("/proc").join(pid.to_string()).join(file)
}

/// The `stat` of process `pid`.
pub fn stat(pid: u32) -> Result<Stat, ProcError> {
    let path = proc_path(pid, "stat");
    let text = read(pid, path.clone())?;
    parse_stat(&text).ok_or(ProcError::Layout { path })
}

/// `pid` and its descendants, `pid` first, with their `stat`.
pub fn tree(pid: u32) -> Result<Vec<(u32, Stat)>, ProcError> {
    let root = stat(pid)?;
    let mut children: HashMap<u32, Vec<(u32, Stat)>> = HashMap::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(other) = entry
                .file_name()
                .to_str()
                .and_then(|name| name.parse().ok())
            else {
                continue;
            };
            // A process that ended meanwhile is simply not in the tree.
            if let Ok(other_stat) = stat(other) {
                children
                    .entry(other_stat.parent)
                    .or_default()
                    .push((other, other_stat));
            }
        }
    }
    let mut found = vec![(pid, root)];
    let mut next = 0;
    while next < found.len() {
        let parent = found[next].0;
        if let Some(kids) = children.remove(&parent) {
            found.extend(kids);
        }
        next += 1;
    }
    Ok(found)
}

/// The target's usage: CPU, memory and descriptors of the process tree of `pid`, build tools
/// left out. The root must exist; a descendant that ends while being read is skipped.
pub fn usage(pid: u32) -> Result<Usage, ProcError> {
    let mut usage = Usage::default();
    for (member, member_stat) in tree(pid)? {
        if LEFT_OUT.contains(&member_stat.name.as_str()) {
            continue;
        }
        let Ok(status) = read(member, proc_path(member, "status")) else {
            continue;
        };
        usage.cpu_ticks += member_stat.cpu_ticks;
        usage.rss_kib += parse_rss_kib(&status).unwrap_or(0);
        usage.fds += std::fs::read_dir(proc_path(member, "fd"))
            .map(|entries| entries.count() as u64)
            .unwrap_or(0);
        usage
            .processes
            .push(format!("{} ({member})", member_stat.name));
    }
    Ok(usage)
}

/// The load generator's own CPU time so far (every thread), from `/proc/self/stat`.
pub fn own_cpu() -> Duration {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .as_deref()
        .and_then(parse_stat)
        .map(|stat| ticks(stat.cpu_ticks))
        .unwrap_or_default()
}

/// The machine a run was made on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Machine {
    /// The CPU's model name (`/proc/cpuinfo`).
    pub cpu: String,
    /// Logical cores online.
    pub cores: usize,
    /// The kernel (`/proc/sys/kernel/osrelease`).
    pub kernel: String,
    /// Total memory in MiB (`/proc/meminfo`).
    pub memory_mib: u64,
}

/// Describes this machine from `/proc` (fields it cannot read say `unknown`).
pub fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .and_then(|rest| rest.split_once(':'))
        .map(|(_, model)| model.trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    let cores = std::thread::available_parallelism()
        .map(|cores| cores.get())
        .unwrap_or(1);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|release| release.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned());
    let memory_mib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|meminfo| {
            meminfo
                .lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kib| kib.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib / 1024);
    Machine {
        cpu,
        cores,
        kernel,
        memory_mib,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_parse_even_with_odd_names() {
        let line =
            "4242 (my (odd) server) S 17 4242 4242 0 -1 4194560 1 0 0 0 250 31 0 0 20 0 3 0 1 1 1";
        assert_eq!(
            parse_stat(line),
            Some(Stat {
                name: "my (odd) server".to_owned(),
                parent: 17,
                cpu_ticks: 281,
            })
        );
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn rss_comes_from_vmrss() {
        let status = "Name:\tnode\nVmPeak:\t  900 kB\nVmRSS:\t   51234 kB\nThreads:\t7\n";
        assert_eq!(parse_rss_kib(status), Some(51234));
        assert_eq!(parse_rss_kib("Name:\tkthreadd\n"), None);
    }

    #[test]
    fn this_process_can_be_measured() {
        let usage = usage(std::process::id()).expect("our own /proc");
        assert!(usage.rss_kib > 0);
        assert!(usage.fds > 0);
        // Other tests may have started children of this process meanwhile: we are first.
        assert!(usage.processes[0].ends_with(&format!("({})", std::process::id())));
        let machine = machine();
        assert!(machine.cores >= 1);
    }
}
