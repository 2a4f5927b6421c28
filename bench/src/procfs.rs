//! What the benchmarks read about processes (from `/proc`), and starting child
//! processes: a Node peer, or this binary serving a subject.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// CPU seconds (user + system) a process has used so far.
pub fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').context("malformed /proc stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
    let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
    Ok(ticks / 100.0)
}

/// How long after the ramp a subject's measuring window starts, so the last joins have
/// settled.
pub const SETTLE: Duration = Duration::from_millis(500);

/// Samples a subject's CPU over the measuring window, which starts `ramp + SETTLE` after
/// the load does and lasts `duration`; returns (cores busy, RSS in KiB at the end).
pub async fn sample_window(
    pid: u32,
    ramp: Duration,
    duration: Duration,
) -> anyhow::Result<(f64, f64)> {
    tokio::time::sleep(ramp + SETTLE).await;
    let (cpu0, t0) = (cpu_seconds(pid)?, Instant::now());
    tokio::time::sleep(duration).await;
    let cores = (cpu_seconds(pid)? - cpu0) / t0.elapsed().as_secs_f64();
    Ok((cores, rss_kib(pid)?))
}

/// Resident memory in KiB.
pub fn rss_kib(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .context("no VmRSS")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .context("VmRSS value")?
        .parse()?)
}

/// Starts a peer's `server.mjs` on a free port in `dir` and waits for its first line,
/// `{"port": n}`; `install` says how to install its packages when they are missing.
pub fn start_node_peer(dir: &Path, install: &str) -> anyhow::Result<(Child, u16)> {
    if !dir.join("node_modules").exists() {
        bail!(
            "run `{install}` in {} first (or pass --no-peer)",
            dir.display()
        );
    }
    let mut child = Command::new("node")
        .arg("server.mjs")
        .args(["--port", "0"])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting node (is Node.js installed?)")?;
    let mut line = String::new();
    let read = child
        .stdout
        .take()
        .context("stdout")
        .and_then(|out| Ok(BufReader::new(out).read_line(&mut line)?));
    let port = read.and_then(|_| {
        let ready: serde_json::Value = serde_json::from_str(line.trim())
            .with_context(|| format!("the peer in {} said {line:?}", dir.display()))?;
        let port = ready["port"].as_u64().context("port")?;
        Ok(u16::try_from(port)?)
    });
    match port {
        Ok(port) => Ok((child, port)),
        Err(err) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(err)
        }
    }
}

/// A child process of the benchmark, killed when dropped.
pub struct Proc {
    child: Child,
}

impl Proc {
    /// Owns `child`: it is killed when this is dropped.
    pub fn new(child: Child) -> Self {
        Proc { child }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts this binary with `args` and waits for its `READY <rest>` line; returns the
/// child and `<rest>`.
pub fn spawn_ready(args: &[&std::ffi::OsStr]) -> anyhow::Result<(Proc, String)> {
    let mut child = Command::new(std::env::current_exe()?)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().context("stdout")?;
    let proc = Proc { child };
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let rest = line
        .trim()
        .strip_prefix("READY ")
        .with_context(|| format!("{args:?} said {line:?}"))?
        .to_owned();
    Ok((proc, rest))
}
