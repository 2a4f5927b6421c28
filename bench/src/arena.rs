//! The arena under bot load, against the same game as a Colyseus room under the same bots.
//!
//! For each player count, the subject runs in its own process so its CPU and memory can be
//! read from `/proc` without the load generator's:
//! - Guildhall: `guildhall up` (this binary's hidden `serve-up`), driven by the Rust bots
//!   of `guildhall bots` (guest init, matchmaking, WebSocket; lobbies of 10 at 30 Hz).
//! - Colyseus: `bench/peers/colyseus-arena/server.mjs` (the same rules, `@colyseus/core`),
//!   driven by `bots.mjs` (the same bot behaviour, Colyseus's client SDK).
//! - The transport floor (`floor.rs`): a process that only writes one frame of
//!   Guildhall's mean snapshot size per player per tick over TCP. Where it delivers every
//!   frame, its players per CPU-second bound any server's on this machine, so its ratio to
//!   Colyseus's bounds the ratio any server can reach here.
//!
//! Reported per subject: server CPU (cores busy over the measuring window) and players
//! served per CPU-second, resident memory per connection (RSS growth over the idle
//! server), input-to-acknowledging-snapshot latency as the bots saw it, and for Guildhall
//! the tick duration p99 from its own `arena_tick_seconds` histogram and the snapshots it
//! dropped for clients reading too slowly (and the clients it disconnected for it), over
//! the whole run. The headline is
//! the ratio of players per CPU-second and of memory per connection, in the same run.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use guildhall_bots::{SwarmConfig, swarm};

use crate::floor;
use crate::procfs::{Proc, rss_kib, sample_window, spawn_ready, start_node_peer};
use crate::prometheus;
use crate::stack::runtime;

#[derive(Debug, Clone, clap::Args)]
pub struct ArenaArgs {
    /// Player counts to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [500, 2000, 5000])]
    pub players: Vec<usize>,
    /// Seconds over which bots join (guest init, matchmaking, WebSocket).
    #[arg(long, default_value_t = 10.0)]
    pub ramp: f64,
    /// Seconds measured once every bot has joined.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Skip the Colyseus peer (for example when Node is not installed).
    #[arg(long)]
    pub no_peer: bool,
    /// Skip the transport floor (a frame per player per tick over TCP and nothing else).
    #[arg(long)]
    pub no_floor: bool,
    /// The floor's frame size in bytes (default: Guildhall's mean snapshot in the same
    /// run), to see what the size of a frame costs.
    #[arg(long)]
    pub floor_frame_bytes: Option<usize>,
    /// Speak MessagePack instead of JSON to Guildhall.
    #[arg(long)]
    pub msgpack: bool,
}

/// What one subject did at one player count.
#[derive(Debug, Clone, Default)]
struct Row {
    connected: u64,
    failed: u64,
    cores: f64,
    rss_per_connection_kib: f64,
    latency_p50_ms: f64,
    latency_p99_ms: f64,
    tick_p99_ms: Option<f64>,
    /// Snapshots the server dropped for clients that read too slowly (latest wins), and
    /// clients it disconnected for it; Guildhall only.
    dropped: Option<(f64, f64)>,
    /// Guildhall's mean snapshot frame (bytes), which the floor sends.
    frame_bytes: Option<f64>,
}

impl Row {
    fn players_per_cpu(&self) -> f64 {
        self.connected as f64 / self.cores.max(1e-9)
    }
}

fn peer_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peers/colyseus-arena")
}

/// Starts this binary's `serve-up` and waits for its address.
fn start_guildhall(dir: &std::path::Path) -> anyhow::Result<(Proc, String)> {
    spawn_ready(&["serve-up".as_ref(), dir.as_os_str()])
}

async fn measure_guildhall(args: &ArenaArgs, players: usize) -> anyhow::Result<Row> {
    let dir = tempfile::tempdir()?;
    let (subject, addr) = start_guildhall(dir.path())?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = rss_kib(subject.pid())?;
    let (ramp, duration) = (
        Duration::from_secs_f64(args.ramp),
        Duration::from_secs_f64(args.duration),
    );
    let config = SwarmConfig {
        url: format!("http://{addr}"),
        count: players,
        mode: "arena-ffa".into(),
        ramp,
        duration,
        msgpack: args.msgpack,
        seed: 1,
    };
    let (report, window) = tokio::join!(
        tokio::spawn(swarm(config)),
        sample_window(subject.pid(), ramp, duration)
    );
    let report = report?;
    let (cores, rss) = window?;
    for error in &report.errors {
        println!("  a bot failed: {error}");
    }
    let metrics = reqwest::get(format!("http://{addr}/metrics"))
        .await?
        .text()
        .await?;
    Ok(Row {
        connected: report.connected,
        failed: report.failed,
        cores,
        rss_per_connection_kib: (rss - idle) / report.connected.max(1) as f64,
        latency_p50_ms: report.latency_ms(0.5),
        latency_p99_ms: report.latency_ms(0.99),
        tick_p99_ms: prometheus::histogram_p99(&metrics, "arena_tick_seconds").map(|s| s * 1000.0),
        dropped: Some((
            prometheus::total(&metrics, "arena_snapshots_dropped_total"),
            prometheus::total(&metrics, "arena_slow_disconnects_total"),
        )),
        frame_bytes: Some(
            prometheus::total(&metrics, "arena_snapshot_bytes_sum")
                / prometheus::total(&metrics, "arena_snapshot_bytes_count").max(1.0),
        ),
    })
}

async fn measure_colyseus(args: &ArenaArgs, players: usize) -> anyhow::Result<Row> {
    let dir = peer_dir();
    let (child, port) = start_node_peer(&dir, "npm install --no-save")?;
    let subject = Proc::new(child);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = rss_kib(subject.pid())?;
    let (ramp, duration) = (
        Duration::from_secs_f64(args.ramp),
        Duration::from_secs_f64(args.duration),
    );
    let bots = tokio::process::Command::new("node")
        .arg("bots.mjs")
        .args(["--url", &format!("ws://127.0.0.1:{port}")])
        .args(["--count", &players.to_string()])
        .args(["--duration", &args.duration.to_string()])
        .args(["--ramp", &args.ramp.to_string()])
        .current_dir(&dir)
        .stderr(Stdio::inherit())
        .output();
    let (output, window) = tokio::join!(bots, sample_window(subject.pid(), ramp, duration));
    let output = output?;
    let (cores, rss) = window?;
    // The Colyseus SDK logs its reconnection attempts to stdout; the report is the last
    // line that is a JSON object.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: serde_json::Value = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .and_then(|l| serde_json::from_str(l).ok())
        .with_context(|| {
            let tail: String = stdout
                .chars()
                .rev()
                .take(300)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("bots.mjs printed no report; its output ended with {tail:?}")
        })?;
    let connected = report["connected"].as_u64().unwrap_or(0);
    Ok(Row {
        connected,
        failed: report["failed"].as_u64().unwrap_or(0),
        cores,
        rss_per_connection_kib: (rss - idle) / connected.max(1) as f64,
        latency_p50_ms: report["latency_ms"]["p50"].as_f64().unwrap_or(f64::NAN),
        latency_p99_ms: report["latency_ms"]["p99"].as_f64().unwrap_or(f64::NAN),
        tick_p99_ms: None,
        dropped: None,
        frame_bytes: None,
    })
}

/// The transport floor (`floor.rs`) at `players`: lobbies of ten, a frame of
/// `frame_bytes` per player per tick, the bots' input rate.
async fn measure_floor(
    args: &ArenaArgs,
    players: usize,
    frame_bytes: usize,
) -> anyhow::Result<floor::FloorRun> {
    let traffic = floor::Traffic {
        connections: players,
        // Lobbies as full as the `arena-ffa` mode makes them; inputs as the bots send them.
        group: guildhall_config::ModeConfig::default().max_players as usize,
        hz: f64::from(guildhall_config::ArenaConfig::default().tick_rate),
        frame_bytes,
        inputs_hz: 1.0 / guildhall_bots::INPUT_INTERVAL.as_secs_f64(),
    };
    floor::measure(
        traffic,
        Duration::from_secs_f64(args.ramp),
        Duration::from_secs_f64(args.duration),
    )
    .await
}

/// A latency for the table, `-` where the subject has none.
fn ms(value: f64) -> String {
    if value.is_nan() {
        "-".into()
    } else {
        format!("{value:.1}")
    }
}

fn print_row(name: &str, players: usize, row: &Row) {
    println!(
        "{name:<9} {players:>6} {:>9} {:>6} {:>7.3} {:>11.0} {:>10.1} {:>8} {:>8} {:>9} {:>16}",
        row.connected,
        row.failed,
        row.cores,
        row.players_per_cpu(),
        row.rss_per_connection_kib,
        ms(row.latency_p50_ms),
        ms(row.latency_p99_ms),
        row.tick_p99_ms.map_or("-".into(), |t| format!("{t:.2}")),
        row.dropped
            .map_or("-".into(), |(snapshots, clients)| format!(
                "{snapshots:.0} / {clients:.0}"
            )),
    );
}

pub fn run(args: ArenaArgs) -> anyhow::Result<()> {
    // The bots get both cores' worth of workers; the subject is another process.
    let rt = runtime("bots", 2)?;
    println!(
        "arena: lobbies of 10 at 30 Hz, bots send an input every 100 ms; ramp {}s, measure {}s",
        args.ramp, args.duration
    );
    println!(
        "{:<9} {:>6} {:>9} {:>6} {:>7} {:>11} {:>10} {:>8} {:>8} {:>9} {:>16}",
        "subject",
        "bots",
        "connected",
        "failed",
        "cores",
        "players/cpu",
        "KiB/conn",
        "p50 ms",
        "p99 ms",
        "tick p99",
        "dropped / slow"
    );
    for &players in &args.players {
        let ours = rt.block_on(measure_guildhall(&args, players))?;
        print_row("guildhall", players, &ours);
        let floor = if args.no_floor {
            None
        } else {
            let frame_bytes = args
                .floor_frame_bytes
                .unwrap_or_else(|| ours.frame_bytes.unwrap_or(0.0).round() as usize);
            let run = rt.block_on(measure_floor(&args, players, frame_bytes))?;
            let floor = Row {
                connected: run.connected,
                failed: run.failed,
                cores: run.cores,
                rss_per_connection_kib: run.rss_growth_kib / run.connected.max(1) as f64,
                latency_p50_ms: f64::NAN,
                latency_p99_ms: f64::NAN,
                ..Row::default()
            };
            print_row("floor", players, &floor);
            println!(
                "floor     {players:>6}  {frame_bytes}-byte frames at {:.0} frames/s delivered \
                 ({:.0} expected), {:.1} us of CPU each; Guildhall at {:.0}% of the floor's \
                 players per CPU-second",
                run.frames_per_sec,
                run.expected_per_sec,
                run.micros_per_frame(),
                100.0 * ours.players_per_cpu() / floor.players_per_cpu(),
            );
            // The floor bounds the others only where it delivered every frame.
            run.kept_up().then_some(floor)
        };
        if args.no_peer {
            continue;
        }
        match rt.block_on(measure_colyseus(&args, players)) {
            Ok(theirs) => {
                print_row("colyseus", players, &theirs);
                println!(
                    "ratio     {players:>6}  players per CPU-second {:.1}x Colyseus; memory per connection {:.2}x Colyseus's",
                    ours.players_per_cpu() / theirs.players_per_cpu(),
                    ours.rss_per_connection_kib / theirs.rss_per_connection_kib,
                );
                if let Some(floor) = &floor {
                    println!(
                        "bound     {players:>6}  the floor serves {:.1}x Colyseus's players per CPU-second: \
                         no server sending a frame per player per tick here can do better",
                        floor.players_per_cpu() / theirs.players_per_cpu(),
                    );
                } else if !args.no_floor {
                    println!(
                        "bound     {players:>6}  none: the floor did not deliver every frame (the machine is saturated)"
                    );
                }
            }
            Err(err) => println!("colyseus {players:>6} failed: {err:#}"),
        }
    }
    Ok(())
}

/// The hidden `serve-up` subcommand: `guildhall up` in this process, with limits raised
/// for a benchmark (every bot comes from 127.0.0.1), until killed.
pub fn serve_up(dir: PathBuf) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let mut config = crate::stack::base_config(&dir)?;
        config.auth.register_per_ip_per_minute = 100_000_000;
        config.auth.login_per_ip_per_minute = 100_000_000;
        config.arena.capacity = 1_000_000;
        config.http.max_concurrent_requests = 100_000;
        let running = guildhall::platform::start(config, guildhall::platform::Shape::Up).await?;
        println!("READY {}", running.http_addr());
        std::future::pending::<()>().await;
        Ok(())
    })
}
