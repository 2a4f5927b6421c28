//! Cores busy over a measuring window: the subject's processes, this process (the
//! clients), and the whole machine, so a reader can tell a slow subject from a
//! saturated (or shared) box.

use std::time::Instant;

use crate::procfs::cpu_seconds;

/// Readings at the start of a window.
pub struct CpuWindow {
    subject: Vec<(u32, f64)>,
    bench: f64,
    machine: f64,
    at: Instant,
}

/// Cores busy over a window.
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuUse {
    /// The subject's server processes (gateway and `up`; sshd's `sshd` processes);
    /// `None` without a server (the direct PTYs).
    pub subject: Option<f64>,
    /// This process: the SSH clients.
    pub bench: f64,
    /// Every process on the machine, ours included.
    pub machine: f64,
    /// Cores the machine has.
    pub cores: usize,
}

impl CpuWindow {
    /// Starts a window over `subject` (processes that end meanwhile count for nothing).
    pub fn open(subject: &[u32]) -> Self {
        CpuWindow {
            subject: subject
                .iter()
                .filter_map(|&pid| Some((pid, cpu_seconds(pid).ok()?)))
                .collect(),
            bench: cpu_seconds(std::process::id()).unwrap_or(0.0),
            machine: machine_busy_seconds(),
            at: Instant::now(),
        }
    }

    pub fn close(&self) -> CpuUse {
        let secs = self.at.elapsed().as_secs_f64().max(1e-9);
        let subject: f64 = self
            .subject
            .iter()
            .filter_map(|&(pid, start)| Some(cpu_seconds(pid).ok()? - start))
            .sum();
        CpuUse {
            subject: (!self.subject.is_empty()).then_some(subject / secs),
            bench: (cpu_seconds(std::process::id()).unwrap_or(0.0) - self.bench) / secs,
            machine: (machine_busy_seconds() - self.machine) / secs,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

impl CpuUse {
    pub fn describe(&self) -> String {
        let subject = self
            .subject
            .map_or(String::new(), |cores| format!("subject {cores:.2}, "));
        format!(
            "cores busy: {subject}clients {:.2}, machine {:.2} of {}",
            self.bench, self.machine, self.cores
        )
    }
}

/// CPU seconds the whole machine spent busy (not idle, not waiting for I/O) so far,
/// from `/proc/stat`.
fn machine_busy_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().next() else {
        return 0.0;
    };
    let ticks: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|t| t.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is inside user).
    let busy: f64 = ticks.iter().take(8).sum::<f64>()
        - ticks.get(3).copied().unwrap_or(0.0)
        - ticks.get(4).copied().unwrap_or(0.0);
    busy / 100.0
}
