//! The SSH gateway for terminal games under many sessions, against OpenSSH's `sshd`
//! running the same program and against a PTY of this process, in the same run.
//!
//! - Guildhall: `guildhall up` (auth, head, the game host serving gRPC; no gateway) and
//!   a gateway-only `serve terminal` in front of it, each its own process
//!   (`guildhall.rs`); a fresh gateway for each session count. Sessions sign in with an
//!   account's password, press `1` (Play cat) and are attached to their own `/bin/cat`
//!   on a PTY of the game host.
//! - sshd: `/usr/sbin/sshd` on a loopback port with a test configuration (key auth,
//!   `ForceCommand /bin/cat`; `sshd.rs`), a fresh one for each session count.
//! - Direct: `/bin/cat` on PTYs of this process, typed into the same way: the echo
//!   latency of the PTY and `cat` alone.
//!
//! The clients are russh in this process (`tty.rs`), with a PTY requested. For each
//! session count N and subject (`sessions.rs`):
//! - N sessions are opened, `--connect-concurrency` handshakes at a time;
//! - every session types one key every `--keystroke-ms` (phases spread evenly) for
//!   `--duration-secs`, one key in flight each, timing each key until its echo (the
//!   PTY's line discipline echoes it; an Enter every 20 keys lets `cat` print the line,
//!   untimed). Added echo latency is a subject's p99 minus the direct PTY's p99;
//! - memory per session: the gateway's RSS growth over the idle gateway / N (the game
//!   host's growth shown beside it); for sshd, the RSS and the PSS of its
//!   per-connection `sshd` processes / N (`cat` never counted on either side);
//! - with the N sessions held (idle), `--probes` new connections one at a time: the
//!   handshake, TCP connect to authentication accepted (through the gateway that
//!   includes auth checking the password: an Argon2id hash with the default cost; sshd
//!   checks a key signature), and the key exchange alone.
//!
//! Then spectators (`spectators.rs`): one player, `--watchers` anonymous watchers of its
//! game, lag from the player's keystroke to each watcher's screen.

mod cpu;
mod guildhall;
mod report;
mod sessions;
mod spectators;
mod sshd;
mod tty;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use self::cpu::CpuWindow;
use self::guildhall::Up;
use self::report::{Memory, Round, Side};
use self::sessions::Route;
use crate::procfs::rss_kib;
use crate::stack::runtime;

#[derive(Debug, Clone, clap::Args)]
pub struct TerminalArgs {
    /// Concurrent sessions to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [100, 500, 1000])]
    pub sessions: Vec<usize>,
    /// Watchers of one game in the spectator phase (0 skips it).
    #[arg(long, default_value_t = 1000)]
    pub watchers: usize,
    /// Seconds of typing per subject and session count, and of the spectator window.
    #[arg(long, default_value_t = 10.0)]
    pub duration_secs: f64,
    /// Milliseconds between two keys of one session.
    #[arg(long, default_value_t = 500)]
    pub keystroke_ms: u64,
    /// Milliseconds between two markers of the spectated player.
    #[arg(long, default_value_t = 50)]
    pub marker_ms: u64,
    /// New connections timed one at a time while the sessions are held.
    #[arg(long, default_value_t = 50)]
    pub probes: usize,
    /// Handshakes in progress at once while sessions and watchers are opened.
    #[arg(long, default_value_t = 8)]
    pub connect_concurrency: usize,
    /// Skip the sshd baseline.
    #[arg(long)]
    pub no_sshd: bool,
    /// A quick check that everything works: 5 sessions, 5 watchers, 2 s windows, no
    /// sshd.
    #[arg(long)]
    pub smoke: bool,
    /// (internal) Serve one side of Guildhall with the configuration in
    /// `--serve-config`, until killed.
    #[arg(long, hide = true, value_enum, requires = "serve_config")]
    pub serve: Option<guildhall::Role>,
    #[arg(long, hide = true)]
    pub serve_config: Option<PathBuf>,
}

/// The targets of the terminal gateway issue.
mod targets {
    pub const KIB_PER_SESSION: f64 = 1024.0;
    pub const HANDSHAKE_P95_MS: f64 = 50.0;
    pub const ADDED_ECHO_P99_MS: f64 = 2.0;
    pub const SPECTATOR_LAG_P99_MS: f64 = 50.0;
}

pub fn run(mut args: TerminalArgs) -> anyhow::Result<()> {
    if let (Some(role), Some(config)) = (args.serve, &args.serve_config) {
        return guildhall::serve(role, config);
    }
    if args.smoke {
        args.sessions = vec![5];
        args.watchers = 5;
        args.duration_secs = 2.0;
        args.probes = 5;
        args.no_sshd = true;
    }
    let largest = args.sessions.iter().copied().max().unwrap_or(0);
    raise_open_files(4 * (largest + args.watchers) as u64 + 1024);
    crate::stack::quiet_telemetry()?;
    let rt = runtime("terminal", 2)?;
    report::header(&args);
    let up = guildhall::start_up()?;
    // The spectated player is one more account.
    let accounts = largest + usize::from(args.watchers > 0);
    let made = std::time::Instant::now();
    rt.block_on(async {
        crate::stack::ready(&up.http).await?;
        guildhall::create_accounts(&up.http, accounts, 4).await
    })?;
    println!(
        "  setup: {accounts} accounts registered through head in {:.1} s",
        made.elapsed().as_secs_f64()
    );
    let mut rounds = Vec::new();
    for &n in &args.sessions {
        let round = rt.block_on(measure_round(&args, &up, n))?;
        report::round(&round);
        rounds.push(round);
    }
    let spectators = if args.watchers > 0 {
        Some(rt.block_on(measure_spectators(&args, &up, largest))?)
    } else {
        None
    };
    report::summary(&args, &rounds, spectators.as_ref());
    Ok(())
}

async fn measure_round(args: &TerminalArgs, up: &Up, n: usize) -> anyhow::Result<Round> {
    let pace = Duration::from_millis(args.keystroke_ms);
    let duration = Duration::from_secs_f64(args.duration_secs);
    println!("  {n} sessions:");

    let ttys = sessions::open_direct(guildhall::GAME_COMMAND, n).await?;
    let cpu = CpuWindow::open(&[]);
    let (ttys, direct) = sessions::type_into(ttys, pace, duration).await;
    let direct_cpu = cpu.close();
    drop(ttys);
    println!(
        "    direct PTYs done; echoes over {} ms by second of the window: {:?}",
        sessions::SLOW_ECHO.as_millis(),
        direct.slow_per_second
    );

    let guildhall = measure_guildhall(args, up, n)
        .await
        .context("measuring the gateway")?;
    report::progress("guildhall", &guildhall);
    let sshd = if args.no_sshd {
        None
    } else {
        let side = measure_sshd(args, n).await.context("measuring sshd")?;
        report::progress("sshd", &side);
        Some(side)
    };
    // Games whose player left are hung up after the host's 1 s grace period.
    tokio::time::sleep(Duration::from_secs(2)).await;
    Ok(Round {
        sessions: n,
        direct,
        direct_cpu,
        guildhall,
        sshd,
    })
}

async fn measure_guildhall(args: &TerminalArgs, up: &Up, n: usize) -> anyhow::Result<Side> {
    let gateway = guildhall::start_gateway(up, n + args.probes + 100)?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let gateway_idle = rss_kib(gateway.proc.pid())?;
    let logins = (0..n).map(guildhall::login).collect();
    let concurrency = args.connect_concurrency;
    let opened = sessions::open(gateway.ssh, logins, Route::GatewayMenu, concurrency).await;
    // Signing in grew `up` too (auth's password hashing); the game host's own share is
    // what attaching adds.
    let host_at_menus = rss_kib(up.proc.pid())?;
    let attached = sessions::attach(opened.ttys, Route::GatewayMenu, concurrency).await;
    let host_attached = rss_kib(up.proc.pid())?;
    let count = attached.ttys.len();
    let cpu = CpuWindow::open(&[gateway.proc.pid(), up.proc.pid()]);
    let (ttys, echo) = sessions::type_into(
        attached.ttys,
        Duration::from_millis(args.keystroke_ms),
        Duration::from_secs_f64(args.duration_secs),
    )
    .await;
    let cpu = cpu.close();
    let gateway_busy = rss_kib(gateway.proc.pid())?;
    let probe_cpu = CpuWindow::open(&[gateway.proc.pid(), up.proc.pid()]);
    let probes = sessions::probe(
        gateway.ssh,
        |k| guildhall::login(k % n.max(1)),
        Route::GatewayMenu,
        args.probes,
    )
    .await;
    let http_login = guildhall::http_logins(&up.http, n, args.probes).await?;
    let probe_cpu = probe_cpu.close();
    drop(ttys);
    let per = |grown: f64| grown / count.max(1) as f64;
    Ok(Side {
        attached: count,
        open_failures: opened.failures,
        attach_failures: attached.failures,
        open_secs: opened.elapsed.as_secs_f64(),
        ramp_handshake: opened.handshake,
        attach_time: attached.time,
        echo,
        cpu,
        probes,
        probe_cpu,
        http_login: Some(http_login),
        memory: Memory::Guildhall {
            gateway_kib: per(gateway_busy - gateway_idle),
            host_kib: per(host_attached - host_at_menus),
        },
    })
}

async fn measure_sshd(args: &TerminalArgs, n: usize) -> anyhow::Result<Side> {
    let sshd = sshd::start()?;
    let concurrency = args.connect_concurrency;
    let logins = vec![sshd.login.clone(); n];
    let opened = sessions::open(sshd.addr, logins, Route::Direct, concurrency).await;
    let attached = sessions::attach(opened.ttys, Route::Direct, concurrency).await;
    let count = attached.ttys.len();
    let cpu = CpuWindow::open(&sshd.server_pids());
    let (ttys, echo) = sessions::type_into(
        attached.ttys,
        Duration::from_millis(args.keystroke_ms),
        Duration::from_secs_f64(args.duration_secs),
    )
    .await;
    let cpu = cpu.close();
    let memory = sshd.memory()?;
    let login = sshd.login.clone();
    let probe_cpu = CpuWindow::open(&sshd.server_pids());
    let probes = sessions::probe(sshd.addr, |_| login.clone(), Route::Direct, args.probes).await;
    let probe_cpu = probe_cpu.close();
    drop(ttys);
    sshd.wait_idle(Duration::from_secs(5));
    if opened.failures.count + attached.failures.count > 0 {
        println!("    sshd's log ends: {}", sshd.log_tail());
    }
    let per = |total: f64| total / count.max(1) as f64;
    Ok(Side {
        attached: count,
        open_failures: opened.failures,
        attach_failures: attached.failures,
        open_secs: opened.elapsed.as_secs_f64(),
        ramp_handshake: opened.handshake,
        attach_time: attached.time,
        echo,
        cpu,
        probes,
        probe_cpu,
        http_login: None,
        memory: Memory::Sshd {
            rss_kib: per(memory.rss_kib),
            pss_kib: per(memory.pss_kib),
            processes: memory.processes,
            others: memory.others,
        },
    })
}

async fn measure_spectators(
    args: &TerminalArgs,
    up: &Up,
    player: usize,
) -> anyhow::Result<spectators::Spectators> {
    let gateway = guildhall::start_gateway(up, args.watchers + 100)?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let settings = spectators::Settings {
        watchers: args.watchers,
        concurrency: args.connect_concurrency,
        marker_every: Duration::from_millis(args.marker_ms),
        duration: Duration::from_secs_f64(args.duration_secs),
    };
    spectators::run(
        gateway.ssh,
        [gateway.proc.pid(), up.proc.pid()],
        guildhall::login(player),
        &guildhall::username(player),
        &settings,
    )
    .await
}

/// Raises this process's open-file limit (children inherit it) to the hard limit, and
/// says so when that is below `wanted`.
fn raise_open_files(wanted: u64) {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return;
    };
    if soft < hard {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
    }
    if hard < wanted {
        println!(
            "  warning: open files are limited to {hard} and this run may need {wanted}: \
             raise the hard limit (`ulimit -Hn {wanted}` as root) first"
        );
    }
}
