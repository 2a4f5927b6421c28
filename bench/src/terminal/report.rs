//! What the terminal benchmark prints: a row per subject and session count as each
//! finishes, then the targets with pass or fail, and the ratios against sshd.

use super::TerminalArgs;
use super::cpu::CpuUse;
use super::sessions::{Echo, Failures, Hist, Probes, ms};
use super::spectators::Spectators;
use super::targets;

/// One subject at one session count.
pub struct Side {
    /// Sessions attached to their program.
    pub attached: usize,
    pub open_failures: Failures,
    pub attach_failures: Failures,
    /// Opening every session, up to its menu (gateway) or program (sshd).
    pub open_secs: f64,
    /// Handshakes while the N sessions were being opened.
    pub ramp_handshake: Hist,
    /// From the menu's `1` (gateway) or the first key (sshd) to the program's echo.
    pub attach_time: Hist,
    pub echo: Echo,
    /// Over the typing window.
    pub cpu: CpuUse,
    pub probes: Probes,
    /// Over the probes (sshd's new connection processes are not in its subject).
    pub probe_cpu: CpuUse,
    /// Guildhall: logins through head's HTTP API, one at a time with the sessions held
    /// (the password check inside every gateway handshake).
    pub http_login: Option<Hist>,
    pub memory: Memory,
}

pub enum Memory {
    Guildhall {
        /// The gateway process's RSS growth per session.
        gateway_kib: f64,
        /// The `up` process's RSS growth per game started (the game host's share;
        /// signing in is not counted).
        host_kib: f64,
    },
    Sshd {
        rss_kib: f64,
        pss_kib: f64,
        processes: usize,
        others: usize,
    },
}

/// The games' share of the `up` process's growth, when it can be told: `up` also runs
/// auth, and memory Argon2 freed after the setup's registrations can outweigh what the
/// games took, leaving the process smaller than before they started.
fn games_kib(host_kib: f64) -> Option<f64> {
    (host_kib >= 0.0).then_some(host_kib)
}

pub struct Round {
    pub sessions: usize,
    pub direct: Echo,
    pub direct_cpu: CpuUse,
    pub guildhall: Side,
    pub sshd: Option<Side>,
}

impl Round {
    /// A subject's echo p99 over the direct PTY's.
    fn added_p99(&self, side: &Side) -> f64 {
        ms(&side.echo.latency, 0.99) - ms(&self.direct.latency, 0.99)
    }
}

pub fn header(args: &TerminalArgs) {
    println!(
        "terminal: {} ({} build)",
        std::env::args().collect::<Vec<_>>().join(" "),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!(
        "  sessions {:?}, a key every {} ms per session for {} s, {} handshake probes, \
         {} opening at once; {} watchers, a marker every {} ms{}",
        args.sessions,
        args.keystroke_ms,
        args.duration_secs,
        args.probes,
        args.connect_concurrency,
        args.watchers,
        args.marker_ms,
        if args.no_sshd { "; no sshd" } else { "" },
    );
    println!(
        "  (ms; hs: a new connection's TCP connect to authentication accepted, with the \
         sessions held; kex: its key exchange; attach: the menu's `1` (sshd: the first key) \
         to cat's first echo; echo: a key to its echo; added99: echo p99 minus the direct \
         PTY's; sessions: how many were attached)"
    );
}

fn columns() {
    println!(
        "  {:>8} {:<9} {:>6} {:>7} {:>7} {:>7} {:>8} {:>7} {:>7} {:>7} {:>8} {:>9}  memory detail",
        "sessions",
        "subject",
        "ok",
        "hs p50",
        "hs p95",
        "kex p50",
        "attach50",
        "echo50",
        "echo99",
        "echomax",
        "added99",
        "KiB/sess",
    );
}

fn side_row(round: &Round, name: &str, side: &Side) {
    let memory = match &side.memory {
        Memory::Guildhall {
            gateway_kib,
            host_kib,
        } => (
            *gateway_kib,
            match games_kib(*host_kib) {
                Some(kib) => format!("gateway RSS; game host +{kib:.0} KiB/game"),
                None => format!(
                    "gateway RSS; game host's process shrank {:.0} KiB/game (auth freed \
                     memory), games not measurable",
                    -host_kib
                ),
            },
        ),
        Memory::Sshd {
            rss_kib,
            pss_kib,
            processes,
            others,
        } => (
            *pss_kib,
            format!(
                "PSS of {processes} sshd processes (RSS {rss_kib:.0} KiB/session); {others} others not counted"
            ),
        ),
    };
    println!(
        "  {:>8} {:<9} {:>6} {:>7.2} {:>7.2} {:>7.2} {:>8.1} {:>7.3} {:>7.3} {:>7.2} {:>8.3} {:>9.0}  {}",
        round.sessions,
        name,
        side.attached,
        ms(&side.probes.handshake, 0.5),
        ms(&side.probes.handshake, 0.95),
        ms(&side.probes.kex, 0.5),
        ms(&side.attach_time, 0.5),
        ms(&side.echo.latency, 0.5),
        ms(&side.echo.latency, 0.99),
        ms(&side.echo.latency, 1.0),
        round.added_p99(side),
        memory.0,
        memory.1,
    );
}

/// How opening, typing and probing went, as a subject finishes.
pub fn progress(name: &str, side: &Side) {
    println!(
        "    {name}: opened in {:.1} s ({}), attached {} ({}); typing: {}; probes: {}; echoes \
         over {} ms by second of the window: {:?}",
        side.open_secs,
        side.open_failures.describe(),
        side.attached,
        side.attach_failures.describe(),
        side.echo.failures.describe(),
        side.probes.failures.describe(),
        super::sessions::SLOW_ECHO.as_millis(),
        side.echo.slow_per_second,
    );
}

/// A round's rows, printed as soon as it is measured.
pub fn round(round: &Round) {
    columns();
    let direct = &round.direct.latency;
    println!(
        "  {:>8} {:<9} {:>6} {:>7} {:>7} {:>7} {:>8} {:>7.3} {:>7.3} {:>7.2} {:>8} {:>9}  keys timed: {}; {}",
        round.sessions,
        "direct",
        round.sessions - round.direct.failures.count,
        "-",
        "-",
        "-",
        "-",
        ms(direct, 0.5),
        ms(direct, 0.99),
        ms(direct, 1.0),
        "-",
        "-",
        direct.len(),
        round.direct_cpu.describe(),
    );
    side_row(round, "guildhall", &round.guildhall);
    if let Some(sshd) = &round.sshd {
        side_row(round, "sshd", sshd);
    }
    for (name, side) in [
        ("guildhall", Some(&round.guildhall)),
        ("sshd", round.sshd.as_ref()),
    ] {
        let Some(side) = side else { continue };
        let mut extra = String::new();
        if !side.probes.menu.is_empty() {
            extra += &format!(
                "; probes' menu after TCP connect p50 {:.1} ms, p95 {:.1} ms",
                ms(&side.probes.menu, 0.5),
                ms(&side.probes.menu, 0.95)
            );
        }
        extra += &format!("; while probing, {}", side.probe_cpu.describe());
        if let Some(login) = &side.http_login {
            extra += &format!(
                "; head's HTTP login (the same password check, no SSH) p50 {:.1} ms, p95 {:.1} ms",
                ms(login, 0.5),
                ms(login, 0.95)
            );
        }
        println!(
            "  {:>8} {name}: while opening, handshake p50 {:.1} ms, p95 {:.1} ms; {} keys timed, \
             {}{extra}",
            "",
            ms(&side.ramp_handshake, 0.5),
            ms(&side.ramp_handshake, 0.95),
            side.echo.latency.len(),
            side.cpu.describe(),
        );
    }
}

/// A figure against its target.
struct Check {
    figure: String,
    value: f64,
    unit: &'static str,
    target: f64,
    /// The value must be at most (true) or under (false) the target.
    inclusive: bool,
}

impl Check {
    fn print(&self) {
        let pass = if self.inclusive {
            self.value <= self.target
        } else {
            self.value < self.target
        };
        println!(
            "  {:<58} {:>9.2} {:<4} {} {:>6} {:<4} {}",
            self.figure,
            self.value,
            self.unit,
            if self.inclusive { "<=" } else { "< " },
            self.target,
            self.unit,
            if pass { "pass" } else { "FAIL" },
        );
    }
}

pub fn summary(args: &TerminalArgs, rounds: &[Round], spectators: Option<&Spectators>) {
    if let Some(spectators) = spectators {
        println!(
            "  spectators: {} of {} watching (join p50 {:.1} ms, p95 {:.1} ms; {}); {} markers \
             in the window, {} of {} watcher sightings; lag p50 {:.2} ms, p99 {:.2} ms, max \
             {:.2} ms; the player's own echo p50 {:.2} ms, p99 {:.2} ms (lag p99 {:.1}x); \
             gateway +{:.0} KiB per watcher; {}",
            spectators.watching,
            args.watchers,
            ms(&spectators.join, 0.5),
            ms(&spectators.join, 0.95),
            spectators.failures.describe(),
            spectators.markers,
            spectators.lag.len(),
            spectators.markers * spectators.watching as u64,
            ms(&spectators.lag, 0.5),
            ms(&spectators.lag, 0.99),
            ms(&spectators.lag, 1.0),
            ms(&spectators.player_echo, 0.5),
            ms(&spectators.player_echo, 0.99),
            ms(&spectators.lag, 0.99) / ms(&spectators.player_echo, 0.99),
            spectators.kib_per_watcher,
            spectators.cpu.describe(),
        );
    }
    println!("targets:");
    for round in rounds {
        let n = round.sessions;
        let side = &round.guildhall;
        if let Memory::Guildhall { gateway_kib, .. } = side.memory {
            Check {
                figure: format!("gateway memory per session, {n} sessions"),
                value: gateway_kib,
                unit: "KiB",
                target: targets::KIB_PER_SESSION,
                inclusive: true,
            }
            .print();
        }
        Check {
            figure: format!("handshake p95 (new connection), {n} sessions held"),
            value: ms(&side.probes.handshake, 0.95),
            unit: "ms",
            target: targets::HANDSHAKE_P95_MS,
            inclusive: false,
        }
        .print();
        Check {
            figure: format!("added echo p99 (gateway - direct PTY), {n} sessions"),
            value: round.added_p99(side),
            unit: "ms",
            target: targets::ADDED_ECHO_P99_MS,
            inclusive: false,
        }
        .print();
    }
    if let Some(spectators) = spectators {
        Check {
            figure: format!(
                "spectator lag p99, {} watchers of one game",
                spectators.watching
            ),
            value: ms(&spectators.lag, 0.99),
            unit: "ms",
            target: targets::SPECTATOR_LAG_P99_MS,
            inclusive: false,
        }
        .print();
    }
    let with_sshd: Vec<&Round> = rounds.iter().filter(|r| r.sshd.is_some()).collect();
    if with_sshd.is_empty() {
        return;
    }
    println!("against sshd (guildhall / sshd):");
    for round in with_sshd {
        let (ours, sshd) = (&round.guildhall, round.sshd.as_ref().expect("filtered"));
        let (
            Memory::Guildhall {
                gateway_kib,
                host_kib,
            },
            Memory::Sshd {
                rss_kib, pss_kib, ..
            },
        ) = (&ours.memory, &sshd.memory)
        else {
            continue;
        };
        let with_host = match games_kib(*host_kib) {
            Some(kib) => format!("{:.2}x", (gateway_kib + kib) / pss_kib),
            None => "not measurable".to_owned(),
        };
        println!(
            "  {:>5} sessions: memory per session {:.2}x sshd's PSS ({:.2}x its RSS; gateway + \
             game host {with_host} its PSS); handshake p50 {:.2}x, p95 {:.2}x; key exchange p50 \
             {:.2}x; echo p99 {:.2}x, added echo p99 {:.3} ms vs sshd's {:.3} ms",
            round.sessions,
            gateway_kib / pss_kib,
            gateway_kib / rss_kib,
            ms(&ours.probes.handshake, 0.5) / ms(&sshd.probes.handshake, 0.5),
            ms(&ours.probes.handshake, 0.95) / ms(&sshd.probes.handshake, 0.95),
            ms(&ours.probes.kex, 0.5) / ms(&sshd.probes.kex, 0.5),
            ms(&ours.echo.latency, 0.99) / ms(&sshd.echo.latency, 0.99),
            round.added_p99(ours),
            round.added_p99(sshd),
        );
    }
}
