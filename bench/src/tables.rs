//! Card tables under bot load, against an equivalent trick-taking game on a boardgame.io
//! server under equivalent bots, in the same run.
//!
//! - Guildhall: `--shape up` runs `guildhall up` in a child process (this binary's
//!   hidden `serve-up`, as `bench arena` does); `--shape split` runs `serve auth`,
//!   `serve tables` and `serve head` as three child processes on a fresh PostgreSQL
//!   database and Redis (head creates tables and seats players over Redis and sends
//!   clients to the tables process's gateway; the tables process runs games' workers as
//!   its own tasks, since worker processes are started as `<program> tables-worker`,
//!   which only the `guildhall` binary answers). The bots are `guildhall_bots::tables`
//!   in this process: five guests per table; each table is created by one, joined by
//!   four, and played over five WebSockets; when the match ends the five start a new
//!   table. With the default `--target-score 1` a match is one hand, as in the peer.
//! - boardgame.io: `bench/peers/boardgameio-tricks/server.mjs` (the same game shape,
//!   simplified: one hand per match, no partner card), driven by its `bots.mjs` (real
//!   boardgame.io clients with the same policy: bid a random beating rank half the time
//!   else pass, call a random suit, play a random card).
//!
//! Both sides: the same number of tables, one action in flight per seat, the same
//! warm-up and window; reported are actions answered inside the window per second, the
//! latency from sending an action to its result (Guildhall: `action.result`;
//! boardgame.io: the first state update that applies the move) at p50/p99/max, hands
//! finished, errors, and the CPU the servers and the bots used (on a 2-core machine the
//! two compete, so read actions per second with the cores next to them; Redis's and
//! PostgreSQL's CPU is not counted). The headline is the ratio of actions per second,
//! with the targets (p99 under 5 ms, at least 10x boardgame.io) checked.
//!
//! With the default `--think-ms 0` every table has an action in flight all the time, so
//! the servers run flat out and the mean latency is tables / actions per second (Little's
//! law): the latency target is for a pace the server keeps up with, which `--think-ms`
//! sets (both sides): each wait is drawn from half to one and a half times it, so tables
//! seated together do not act in lockstep.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use guildhall::platform::{self, Shape};
use guildhall::service::ServiceKind;
use guildhall_bots::tables::{BotSettings, Fleet, TablesConfig, TablesReport};
use guildhall_config::Config;
use serde_json::{Value, json};

use crate::floor;
use crate::procfs::{Proc, cpu_seconds, spawn_ready, start_node_peer};
use crate::stack::{self, BenchDatabase, runtime};

/// The targets of the card tables issue.
const TARGET_P99_MS: f64 = 5.0;
const TARGET_RATIO: f64 = 10.0;
/// WebSocket frames the server sends per action: the event to each of the five seats and
/// the actor's `action.result` (`docs/protocol/tables.md`).
const FRAMES_OUT_PER_ACTION: f64 = 6.0;
/// The floor's frame size, about a table event's. What a frame costs on loopback barely
/// depends on its size (`docs/performance.md`, the arena's floor).
const FLOOR_FRAME_BYTES: usize = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TablesShape {
    /// `guildhall up`: one process, SQLite, the in-process bus.
    Up,
    /// `serve auth`, `serve tables` and `serve head`: three processes, PostgreSQL and
    /// Redis.
    Split,
}

#[derive(Debug, Clone, clap::Args)]
pub struct TablesArgs {
    /// Tables played at once, five bots each.
    #[arg(long, default_value_t = 1000)]
    pub tables: usize,
    /// Seconds measured.
    #[arg(long, default_value_t = 20.0)]
    pub duration: f64,
    /// Seconds of play before measuring (tables are created and seated in it).
    #[arg(long, default_value_t = 5.0)]
    pub warmup: f64,
    #[arg(long, value_enum, default_value = "up")]
    pub shape: TablesShape,
    /// Match target of every Guildhall table; 1 ends a match after one hand, as the
    /// boardgame.io peer's games do.
    #[arg(long, default_value_t = 1)]
    pub target_score: i32,
    /// Milliseconds a bot waits, once it is its turn, before it acts (both sides). Zero
    /// (the default) plays as fast as the servers answer: actions per second is then the
    /// servers' capacity, and latency is mostly queueing (with one action in flight per
    /// table, mean latency = tables / actions per second).
    #[arg(long, default_value_t = 0)]
    pub think_ms: u64,
    /// Guest inits and table setups in flight at once.
    #[arg(long, default_value_t = 64)]
    pub setup_concurrency: usize,
    /// Seed of the bots' random streams (both sides).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Skip the boardgame.io peer (for example when Node is not installed).
    #[arg(long)]
    pub no_peer: bool,
    /// Skip the transport floor (the frames of 10x boardgame.io's actions over TCP and
    /// nothing else; run after the peer).
    #[arg(long)]
    pub no_floor: bool,
    /// PostgreSQL server for the split shape: a `gh_bench_<random>` database is created on
    /// it and dropped at the end.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    pub postgres_url: String,
    /// Redis for the split shape's bus (a unique key prefix is used).
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    pub redis_url: String,
    /// (internal) Run one service of the split shape with the configuration in
    /// `--serve-config`, until killed.
    #[arg(long, hide = true, value_enum, requires = "serve_config")]
    pub serve: Option<ServiceKind>,
    #[arg(long, hide = true)]
    pub serve_config: Option<PathBuf>,
}

/// What one side measured.
#[derive(Debug, Clone)]
struct Row {
    actions: u64,
    actions_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    hands: u64,
    errors: u64,
    /// Cores the server processes used over the window.
    server_cores: f64,
    /// Cores the bots used over the window.
    bot_cores: f64,
}

/// Cores used by `pids` between two readings.
struct CpuWindow {
    pids: Vec<u32>,
    start: Vec<f64>,
    at: Instant,
}

impl CpuWindow {
    fn open(pids: &[u32]) -> anyhow::Result<Self> {
        Ok(Self {
            pids: pids.to_vec(),
            start: pids
                .iter()
                .map(|p| cpu_seconds(*p))
                .collect::<anyhow::Result<_>>()?,
            at: Instant::now(),
        })
    }

    fn cores(&self) -> anyhow::Result<f64> {
        let mut used = 0.0;
        for (pid, start) in self.pids.iter().zip(&self.start) {
            used += cpu_seconds(*pid)? - start;
        }
        Ok(used / self.at.elapsed().as_secs_f64())
    }
}

/// A running Guildhall: its processes, head's address, and what must outlive them.
struct Subject {
    description: String,
    head: String,
    /// Dropped (killed) before the database below.
    procs: Vec<Proc>,
    _database: Option<BenchDatabase>,
    _dirs: Vec<tempfile::TempDir>,
}

impl Subject {
    fn pids(&self) -> Vec<u32> {
        self.procs.iter().map(Proc::pid).collect()
    }
}

/// `up`: this binary's `serve-up` (as `bench arena`).
fn start_up() -> anyhow::Result<Subject> {
    let dir = tempfile::tempdir()?;
    let (proc, head) = spawn_ready(&["serve-up".as_ref(), dir.path().as_os_str()])?;
    Ok(Subject {
        description: "up: every service in one process, SQLite, in-process bus".into(),
        head,
        procs: vec![proc],
        _database: None,
        _dirs: vec![dir],
    })
}

/// The limits `serve-up` raises, for the split shape's processes.
fn raise_limits(config: &mut Config) {
    config.auth.register_per_ip_per_minute = 100_000_000;
    config.auth.login_per_ip_per_minute = 100_000_000;
    config.http.max_concurrent_requests = 100_000;
}

/// `split`: auth, tables and head, each its own process, on PostgreSQL and Redis.
fn start_split(args: &TablesArgs) -> anyhow::Result<Subject> {
    let setup = runtime("setup", 1)?;
    let database = setup
        .block_on(BenchDatabase::create(&args.postgres_url))
        .context("the split shape needs PostgreSQL (see --postgres-url)")?;
    let prefix = format!("gh_bench:{}:", uuid::Uuid::new_v4().simple());
    let internal_token = format!("bench-internal-{}", uuid::Uuid::new_v4().simple());
    let mut dirs = Vec::new();
    let mut procs = Vec::new();
    let mut start = |kind: ServiceKind, edit: &dyn Fn(&mut Config)| -> anyhow::Result<String> {
        let dir = tempfile::tempdir()?;
        let mut config = stack::base_config(dir.path())?;
        raise_limits(&mut config);
        config.database.url = database.url.clone();
        config.bus.url = args.redis_url.clone();
        config.bus.key_prefix = prefix.clone();
        config.auth.internal_token = internal_token.clone();
        edit(&mut config);
        let path = dir.path().join("config.json");
        std::fs::write(&path, serde_json::to_vec(&config)?)?;
        let kind_name = kind.name();
        let (proc, addr) = spawn_ready(&[
            "tables".as_ref(),
            "--serve".as_ref(),
            kind_name.as_ref(),
            "--serve-config".as_ref(),
            path.as_os_str(),
        ])
        .with_context(|| format!("starting `serve {kind_name}`"))?;
        procs.push(proc);
        dirs.push(dir);
        Ok(addr)
    };
    let auth = format!(
        "http://{}",
        start(ServiceKind::Auth, &|_| {}).context("is Redis up? see --redis-url")?
    );
    let tables = start(ServiceKind::Tables, &|config| {
        config.peers.auth = auth.clone();
        // Workers as tasks of the tables service: worker processes are started as
        // `<this program> tables-worker`, which only the `guildhall` binary answers.
        config.tables.workers = guildhall_config::WorkerMode::InProcess;
    })?;
    let public_url = format!("ws://{tables}/tables/ws");
    let head = start(ServiceKind::Head, &|config| {
        config.peers.auth = auth.clone();
        config.tables.public_url = public_url.clone();
    })?;
    setup.block_on(stack::ready(&head))?;
    setup.block_on(stack::ready(&tables))?;
    Ok(Subject {
        description: format!(
            "split: serve auth, serve tables (workers in process), serve head; PostgreSQL \
             database {}, Redis bus (prefix {prefix})",
            database.name
        ),
        head,
        procs,
        _database: Some(database),
        _dirs: dirs,
    })
}

/// The hidden `tables --serve <service> --serve-config <json>`: one service, until killed.
fn serve(kind: ServiceKind, config: &Path) -> anyhow::Result<()> {
    let config: Config = serde_json::from_slice(&std::fs::read(config)?)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let running = platform::start(config, Shape::Serve(kind)).await?;
        println!("READY {}", running.http_addr());
        std::future::pending::<()>().await;
        Ok(())
    })
}

fn table_options(args: &TablesArgs) -> Value {
    json!({ "target_score": args.target_score })
}

async fn measure_guildhall(args: &TablesArgs, subject: &Subject) -> anyhow::Result<Row> {
    stack::ready(&subject.head).await?;
    let config = TablesConfig {
        url: format!("http://{}", subject.head),
        tables: args.tables,
        options: table_options(args),
        setup_concurrency: args.setup_concurrency,
        seed: args.seed,
        bot: BotSettings {
            think: Duration::from_millis(args.think_ms),
            // Silence is normal while the other four think.
            stall_after: BotSettings::default().stall_after
                + 5 * Duration::from_millis(args.think_ms),
            ..BotSettings::default()
        },
    };
    let guests = Instant::now();
    let fleet = Fleet::start(config).await?;
    println!(
        "  guildhall: {} guests made in {:.1} s; tables starting",
        args.tables * 5,
        guests.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs_f64(args.warmup)).await;
    if fleet.tables_ready() < args.tables as u64 {
        println!(
            "  guildhall: only {} of {} tables seated after the warm-up; measuring anyway",
            fleet.tables_ready(),
            args.tables
        );
    }
    let duration = Duration::from_secs_f64(args.duration);
    let server = CpuWindow::open(&subject.pids())?;
    let bots = CpuWindow::open(&[std::process::id()])?;
    let (report, cores) = tokio::join!(fleet.measure(duration), async {
        tokio::time::sleep(duration).await;
        (server.cores(), bots.cores())
    });
    print_details("guildhall", &report);
    Ok(Row {
        actions: report.actions,
        actions_per_sec: report.actions_per_sec,
        p50_ms: report.p50_ms,
        p99_ms: report.p99_ms,
        max_ms: report.max_ms,
        hands: report.hands_completed,
        errors: report.errors,
        server_cores: cores.0?,
        bot_cores: cores.1?,
    })
}

fn print_details(name: &str, report: &TablesReport) {
    println!(
        "  {name}: {:.0} tables playing on average over the window (the rest being set up); \
         {} tables created, all seated {}; {} retries, {} reconnects",
        report.mean_tables_playing,
        report.tables_created,
        if report.setup_secs.is_nan() {
            "never".to_owned()
        } else {
            format!("{:.1} s after starting", report.setup_secs)
        },
        report.retries,
        report.reconnects,
    );
    if report.errors > 0 {
        println!("  {name}: errors by code: {:?}", report.error_codes);
        for error in &report.first_errors {
            println!("    {error}");
        }
    }
}

fn peer_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peers/boardgameio-tricks")
}

async fn measure_boardgameio(args: &TablesArgs) -> anyhow::Result<Row> {
    let dir = peer_dir();
    let (child, port) = start_node_peer(&dir, "npm ci")?;
    let server = Proc::new(child);
    let bots = tokio::process::Command::new("node")
        .arg("bots.mjs")
        .args(["--url", &format!("http://127.0.0.1:{port}")])
        .args(["--tables", &args.tables.to_string()])
        .args(["--duration", &args.duration.to_string()])
        .args(["--warmup", &args.warmup.to_string()])
        .args(["--seed", &args.seed.to_string()])
        .args(["--think-ms", &args.think_ms.to_string()])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()?;
    let bots_pid = bots.id().context("the bots' pid")?;
    let duration = Duration::from_secs_f64(args.duration);
    let window = async {
        tokio::time::sleep(Duration::from_secs_f64(args.warmup)).await;
        let server_cpu = CpuWindow::open(&[server.pid()])?;
        let bots_cpu = CpuWindow::open(std::slice::from_ref(&bots_pid))?;
        tokio::time::sleep(duration).await;
        anyhow::Ok((server_cpu.cores()?, bots_cpu.cores()?))
    };
    let (output, cores) = tokio::join!(bots.wait_with_output(), window);
    let output = output?;
    let (server_cores, bot_cores) = cores?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: Value = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .and_then(|l| serde_json::from_str(l).ok())
        .with_context(|| {
            format!(
                "bots.mjs printed no report (exit {}): {stdout:?}",
                output.status
            )
        })?;
    let ms = |q: &str| report["latency_ms"][q].as_f64().unwrap_or(f64::NAN);
    Ok(Row {
        actions: report["actions"].as_u64().unwrap_or(0),
        actions_per_sec: report["actions_per_sec"].as_f64().unwrap_or(0.0),
        p50_ms: ms("p50"),
        p99_ms: ms("p99"),
        max_ms: ms("max"),
        hands: report["games_finished"].as_u64().unwrap_or(0),
        errors: report["errors"].as_u64().unwrap_or(0),
        server_cores,
        bot_cores,
    })
}

/// The transport floor (`floor.rs`) for 10x `peer_actions_per_sec`: one connection per
/// seat, tables of five, each action's frames out and its input in; prints whether the
/// frames alone could be moved on this machine, and at what CPU.
async fn measure_floor(args: &TablesArgs, peer_actions_per_sec: f64) -> anyhow::Result<()> {
    let connections = args.tables * 5;
    let actions = TARGET_RATIO * peer_actions_per_sec;
    let traffic = floor::Traffic {
        connections,
        group: 5,
        hz: actions * FRAMES_OUT_PER_ACTION / connections as f64,
        frame_bytes: FLOOR_FRAME_BYTES,
        inputs_hz: actions / connections as f64,
    };
    let clients = CpuWindow::open(&[std::process::id()])?;
    let run = floor::measure(
        traffic,
        Duration::from_secs(5),
        Duration::from_secs_f64(args.duration),
    )
    .await?;
    let client_cores = clients.cores()?;
    println!(
        "floor     the frames of {TARGET_RATIO}x boardgame.io ({actions:.0} actions/s: \
         {:.0} frames/s out over {} connections, {actions:.0} in), TCP and nothing else: \
         {:.0} frames/s delivered ({:.0}%), {:.2} server cores ({:.1} us per frame), \
         {client_cores:.2} cores for its clients over the run",
        traffic.hz * connections as f64,
        run.connected,
        run.frames_per_sec,
        100.0 * run.frames_per_sec / run.expected_per_sec.max(1e-9),
        run.cores,
        run.micros_per_frame(),
    );
    if !run.kept_up() {
        println!(
            "bound     a server that only moved these frames could not keep up here: \
             {TARGET_RATIO}x boardgame.io is beyond this machine's loopback"
        );
    }
    Ok(())
}

fn print_header() {
    println!(
        "{:<12} {:>7} {:>9} {:>10} {:>8} {:>8} {:>8} {:>6} {:>6} {:>8} {:>8} {:>9} {:>9}",
        "subject",
        "tables",
        "actions",
        "actions/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "hands",
        "errors",
        "srv cpu",
        "bot cpu",
        "srv us/a",
        "bot us/a"
    );
}

fn print_row(name: &str, tables: usize, row: &Row) {
    // CPU time per answered action, in microseconds: steadier than actions per second on
    // a machine whose speed drifts, since it does not depend on how much CPU was free.
    let per_action = |cores: f64| cores * 1e6 / row.actions_per_sec.max(1e-9);
    println!(
        "{name:<12} {tables:>7} {:>9} {:>10.1} {:>8.2} {:>8.2} {:>8.2} {:>6} {:>6} {:>8.2} {:>8.2} {:>9.1} {:>9.1}",
        row.actions,
        row.actions_per_sec,
        row.p50_ms,
        row.p99_ms,
        row.max_ms,
        row.hands,
        row.errors,
        row.server_cores,
        row.bot_cores,
        per_action(row.server_cores),
        per_action(row.bot_cores),
    );
}

pub fn run(args: TablesArgs) -> anyhow::Result<()> {
    if let Some(kind) = args.serve {
        let config = args.serve_config.as_deref().context("--serve-config")?;
        return serve(kind, config);
    }
    let subject = match args.shape {
        TablesShape::Up => start_up()?,
        TablesShape::Split => start_split(&args)?,
    };
    // The bots get both cores' worth of workers; the servers are other processes.
    let rt = runtime("bots", 2)?;
    println!(
        "tables: {} tables of 5 bots (Briscola chiamata, target score {}), one action in \
         flight per seat, thinking {} ms; warm-up {} s, measure {} s",
        args.tables, args.target_score, args.think_ms, args.warmup, args.duration
    );
    println!("  guildhall {}", subject.description);
    let ours = rt.block_on(measure_guildhall(&args, &subject));
    drop(subject);
    let ours = ours?;
    let theirs = if args.no_peer {
        None
    } else {
        Some(rt.block_on(measure_boardgameio(&args)))
    };
    println!(
        "cpu: cores busy over the window (servers; the bots' own process), and CPU \
         microseconds per action"
    );
    print_header();
    print_row("guildhall", args.tables, &ours);
    let p99_ok = ours.p99_ms < TARGET_P99_MS;
    match theirs {
        None => println!(
            "target    p99 < {TARGET_P99_MS} ms: {}",
            if p99_ok { "met" } else { "NOT met" }
        ),
        Some(Err(err)) => println!("boardgame.io failed: {err:#}"),
        Some(Ok(theirs)) => {
            print_row("boardgame.io", args.tables, &theirs);
            let ratio = ours.actions_per_sec / theirs.actions_per_sec.max(1e-9);
            println!(
                "ratio     actions per second {ratio:.1}x boardgame.io's; p99 {:.2} ms vs {:.2} ms",
                ours.p99_ms, theirs.p99_ms
            );
            if !args.no_floor && theirs.actions_per_sec > 0.0 {
                match rt.block_on(measure_floor(&args, theirs.actions_per_sec)) {
                    Ok(()) => {}
                    Err(err) => println!("floor failed: {err:#}"),
                }
            }
            println!(
                "targets   p99 < {TARGET_P99_MS} ms: {}; actions/s >= {TARGET_RATIO}x boardgame.io: {}",
                if p99_ok { "met" } else { "NOT met" },
                if ratio >= TARGET_RATIO {
                    "met"
                } else {
                    "NOT met"
                },
            );
        }
    }
    anyhow::ensure!(ours.actions > 0, "the Guildhall bots measured no action");
    anyhow::ensure!(
        ours.errors == 0,
        "the Guildhall bots saw {} errors (listed above)",
        ours.errors
    );
    Ok(())
}
