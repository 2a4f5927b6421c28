//! The baseline: OpenSSH's `sshd` (Debian's `openssh-server`) on a loopback port with a
//! test configuration, running the same program for every session (`ForceCommand`),
//! signed into with a key made for the run.
//!
//! Its memory per session is that of its per-connection processes: every descendant of
//! the listener named `sshd` (the privileged monitor and the unprivileged session
//! process of each connection). The program itself (`cat`, and a shell if one stays
//! around) is not counted, as the game host's `cat`s are not counted for Guildhall.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::tty::Login;
use crate::procfs::rss_kib;

const SSHD: &str = "/usr/sbin/sshd";

/// A running sshd; stopped (with any connection process left) when dropped.
pub struct Sshd {
    child: Child,
    pub addr: SocketAddr,
    pub login: Login,
    dir: tempfile::TempDir,
}

/// What sshd's per-connection processes hold.
#[derive(Clone, Copy, Debug, Default)]
pub struct SshdMemory {
    /// `sshd` processes counted.
    pub processes: usize,
    /// Their resident memory, summed (pages shared between them counted in each).
    pub rss_kib: f64,
    /// Their proportional set size, summed (shared pages split between sharers).
    pub pss_kib: f64,
    /// Other descendants, not counted (the program, a shell).
    pub others: usize,
}

/// Where sshd is missing, what to do.
pub const INSTALL_HINT: &str =
    "sshd is not installed: `apt-get install -y openssh-server` (or pass --no-sshd)";

pub fn start() -> anyhow::Result<Sshd> {
    if !Path::new(SSHD).exists() {
        bail!(INSTALL_HINT);
    }
    // sshd refuses to start without its privilege separation directory.
    std::fs::create_dir_all("/run/sshd").context("creating /run/sshd")?;
    let dir = tempfile::tempdir()?;
    let host_key = dir.path().join("host_ed25519");
    let client_key = dir.path().join("client_ed25519");
    for key in [&host_key, &client_key] {
        let made = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(key)
            .stdout(Stdio::null())
            .status()
            .context("running ssh-keygen")?;
        anyhow::ensure!(made.success(), "ssh-keygen failed");
    }
    // The program runs through the user's login shell (`bash -c /bin/cat`), which,
    // started by sshd, reads `~/.bashrc`: an empty home keeps that out of the baseline.
    let home = dir.path().join("home");
    std::fs::create_dir(&home)?;
    let authorized = dir.path().join("authorized_keys");
    std::fs::copy(client_key.with_extension("pub"), &authorized)?;
    let port = free_port()?;
    let config = dir.path().join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "ListenAddress 127.0.0.1\n\
             HostKey {host_key}\n\
             PidFile {pid}\n\
             UsePAM no\n\
             PermitRootLogin yes\n\
             PubkeyAuthentication yes\n\
             PasswordAuthentication no\n\
             KbdInteractiveAuthentication no\n\
             AuthorizedKeysFile {authorized}\n\
             StrictModes no\n\
             ForceCommand {command}\n\
             SetEnv HOME={home}\n\
             PermitUserRC no\n\
             MaxStartups 2000:30:4000\n\
             MaxSessions 10\n\
             UseDNS no\n\
             PrintMotd no\n\
             PrintLastLog no\n\
             X11Forwarding no\n\
             LogLevel ERROR\n",
            host_key = host_key.display(),
            pid = dir.path().join("sshd.pid").display(),
            authorized = authorized.display(),
            home = home.display(),
            command = super::guildhall::GAME_COMMAND,
        ),
    )?;
    let log = std::fs::File::create(dir.path().join("sshd.log"))?;
    let child = Command::new(SSHD)
        .args(["-D", "-e", "-f"])
        .arg(&config)
        .args(["-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .context("starting sshd")?;
    let key = russh::keys::load_secret_key(&client_key, None)?;
    let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
    let mut sshd = Sshd {
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        login: Login::Key {
            user,
            key: Arc::new(key),
        },
        dir,
    };
    sshd.wait_listening()?;
    Ok(sshd)
}

impl Sshd {
    fn wait_listening(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if std::net::TcpStream::connect(self.addr).is_ok() {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("sshd exited ({status}): {}", self.log_tail());
            }
            if Instant::now() > deadline {
                bail!("sshd is not listening after 10 s: {}", self.log_tail());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The end of sshd's log, for errors.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(5).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
    }

    /// The per-connection processes' memory.
    pub fn memory(&self) -> anyhow::Result<SshdMemory> {
        let mut memory = SshdMemory::default();
        for pid in descendants(self.child.id())? {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            if !comm.trim().starts_with("sshd") {
                memory.others += 1;
                continue;
            }
            // A process that ended since the scan counts for nothing.
            if let (Ok(rss), Ok(pss)) = (rss_kib(pid), pss_kib(pid)) {
                memory.processes += 1;
                memory.rss_kib += rss;
                memory.pss_kib += pss;
            }
        }
        Ok(memory)
    }

    /// The listener and its `sshd` descendants (not the program).
    pub fn server_pids(&self) -> Vec<u32> {
        let mut pids = vec![self.child.id()];
        for pid in descendants(self.child.id()).unwrap_or_default() {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            if comm.trim().starts_with("sshd") {
                pids.push(pid);
            }
        }
        pids
    }

    /// Waits (up to `timeout`) until no connection process is left.
    pub fn wait_idle(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            match descendants(self.child.id()) {
                Ok(left) if !left.is_empty() => std::thread::sleep(Duration::from_millis(50)),
                _ => return,
            }
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let left = descendants(self.child.id()).unwrap_or_default();
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Connection processes outlive the listener; these are ours.
        for pid in left {
            if let Ok(pid) = i32::try_from(pid) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
        }
    }
}

/// A port that was free a moment ago (sshd binds it itself).
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Every process below `root`, from a scan of `/proc`.
fn descendants(root: u32) -> anyhow::Result<Vec<u32>> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for entry in std::fs::read_dir("/proc")? {
        let Ok(pid) = entry?.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The parent is the second field after the command name (which may hold spaces).
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(ppid) = ppid {
            children.entry(ppid).or_default().push(pid);
        }
    }
    let mut found = Vec::new();
    let mut queue = vec![root];
    while let Some(pid) = queue.pop() {
        for &child in children.get(&pid).into_iter().flatten() {
            found.push(child);
            queue.push(child);
        }
    }
    Ok(found)
}

/// Proportional set size in KiB (`/proc/<pid>/smaps_rollup`).
fn pss_kib(pid: u32) -> anyhow::Result<f64> {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))?;
    let line = rollup
        .lines()
        .find(|l| l.starts_with("Pss:"))
        .context("no Pss")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .context("Pss value")?
        .parse()?)
}
