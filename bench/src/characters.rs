//! Character intents under load: write-behind versus write-through, both on PostgreSQL,
//! measured in the same run with the same load generator.
//!
//! Two stacks run side by side in this process, one per write mode, each the `up` shape
//! (auth, head and players in one process-equivalent on a 2-thread runtime of its own) on
//! a fresh PostgreSQL database and the Redis bus. Before measuring, each gets the same
//! working set: guests with up to `players.max_characters_per_user` characters each
//! (the production default), created through the public API.
//!
//! Each worker owns a disjoint subset of the characters and sends
//! `POST /v1/characters/{id}/temp-hp {"amount": 5, "version": V}`, always legal and cheap,
//! carrying the version of that character's last answer, so every intent applies; a 409
//! (or any other non-200) is an error. Two workloads:
//! - spread: each worker cycles through its share of the whole working set;
//! - hot: each worker sends to one character of its own, so only `concurrency` characters
//!   take all the intents (many intents per character per flush interval).
//!
//! Row writes per acknowledged intent come from the stack's own Prometheus counters
//! (`players_rows_written_total`, `players_intents_total{result="ok"}`), read before and
//! after each measured phase. Write-behind acknowledges before writing, so each read
//! waits until the flusher has written everything (`players_dirty_characters` back to 0):
//! the final flush of a phase counts towards that phase. The metrics recorder is
//! process-wide, shared by both stacks, so phases never overlap and each starts clean.
//!
//! Each round ends with a ceiling: `GET /health/live` on the write-behind stack under the
//! same load (the HTTP round trip and the platform's shell, without a token, a body or
//! any players work), so the intents' rate can be read against the fastest answer this
//! stack gives on this machine in the same run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use guildhall::platform::{self, Running, Shape};
use guildhall_config::{PlayersConfig, WriteMode};
use hyper::header::{HeaderName, HeaderValue};
use serde_json::{Value, json};

use crate::load::{self, LoadArgs, Measurement, RequestTemplate, Session};
use crate::prometheus;
use crate::stack::{self, BenchDatabase, call, ready, runtime};

/// Setup requests (guest creations, character creations) in flight at once.
const SETUP_CONCURRENCY: usize = 8;
/// Guest creations per minute from one IP, far above what setup needs (all of it comes
/// from 127.0.0.1).
const RAISED_LIMIT_PER_MINUTE: u32 = 100_000_000;
/// The temporary hit points every intent grants (any value in 0..=MAX_TEMP_HP is legal;
/// each applied intent makes a new version).
const TEMP_HP: i64 = 5;

#[derive(Debug, Clone, clap::Args)]
pub struct CharactersArgs {
    #[command(flatten)]
    pub load: LoadArgs,
    /// Characters in the working set (per write mode), spread over the workers.
    #[arg(long, default_value_t = 10_000)]
    pub characters: usize,
    /// PostgreSQL server: a `gh_bench_<random>` database is created on it per write mode and
    /// dropped at the end.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    pub postgres_url: String,
    /// Redis for the bus (a unique key prefix per stack).
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    pub redis_url: String,
    /// Send every intent with an `Idempotency-Key` of its own (`v<version>`), as a client
    /// that retries safely would; the service then remembers an answer per intent (up to
    /// `players.idempotency_keys_per_character` per character).
    #[arg(long)]
    pub idempotency_keys: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    WriteThrough,
    WriteBehind,
}

impl Mode {
    /// Index 0 is the baseline.
    const ALL: [Mode; 2] = [Mode::WriteThrough, Mode::WriteBehind];

    fn config(self) -> WriteMode {
        match self {
            Mode::WriteThrough => WriteMode::WriteThrough,
            Mode::WriteBehind => WriteMode::WriteBehind,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Mode::WriteThrough => "write-through",
            Mode::WriteBehind => "write-behind",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Workload {
    Spread,
    Hot,
}

impl Workload {
    const ALL: [Workload; 2] = [Workload::Spread, Workload::Hot];

    fn name(self) -> &'static str {
        match self {
            Workload::Spread => "spread",
            Workload::Hot => "hot",
        }
    }

    fn label(self, mode: Mode) -> String {
        match (self, mode) {
            (Workload::Spread, Mode::WriteThrough) => "write-through (base)".into(),
            (Workload::Spread, mode) => mode.name().into(),
            (Workload::Hot, mode) => format!("{} hot", mode.name()),
        }
    }
}

/// One character a worker owns: its intent request (path and bearer fixed, body rewritten
/// per request) and the version of its last answer.
struct Owned {
    request: RequestTemplate,
    version: i64,
}

/// One worker's characters and where it is in them.
struct Worker {
    characters: Vec<Owned>,
    /// Only the first character (the hot workload).
    hot: bool,
    cursor: usize,
    /// The character of the request in flight.
    current: usize,
    /// Requests carry an `Idempotency-Key` (their last header).
    keyed: bool,
}

impl Session for Worker {
    fn next_request(&mut self) -> &RequestTemplate {
        self.current = if self.hot { 0 } else { self.cursor };
        self.cursor = (self.cursor + 1) % self.characters.len();
        let owned = &mut self.characters[self.current];
        owned.request.body = Bytes::from(format!(
            "{{\"amount\":{TEMP_HP},\"version\":{}}}",
            owned.version
        ));
        if self.keyed
            && let Some((_, key)) = owned.request.headers.last_mut()
        {
            *key = HeaderValue::from_str(&format!("v{}", owned.version)).expect("a header value");
        }
        &owned.request
    }

    fn on_response(&mut self, status: hyper::StatusCode, body: &[u8]) -> Result<(), String> {
        let owned = &mut self.characters[self.current];
        let text = || String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        match status.as_u16() {
            200 => {
                let version = serde_json::from_slice::<Versioned>(body)
                    .map_err(|_| format!("200 without a version: {}", text()))?
                    .version;
                if version != owned.version + 1 {
                    return Err(format!(
                        "sent version {}, got back version {version} (expected {})",
                        owned.version,
                        owned.version + 1
                    ));
                }
                owned.version = version;
                Ok(())
            }
            409 => {
                // Resynchronise, so one conflict does not turn into a stream of them.
                if let Ok(conflict) = serde_json::from_slice::<Conflict>(body) {
                    owned.version = conflict.character.version;
                }
                Err(format!("{status}: {}", text()))
            }
            _ => Err(format!("{status}: {}", text())),
        }
    }
}

/// What a worker reads of a character: its version. serde skips every other field
/// without building it, so the load generator spends its CPU on sending, not on parsing
/// answers it does not need.
#[derive(serde::Deserialize)]
struct Versioned {
    version: i64,
}

/// A 409's latest state.
#[derive(serde::Deserialize)]
struct Conflict {
    character: Versioned,
}

/// One write mode's stack and the workers' state against it.
struct Stack {
    mode: Mode,
    addr: String,
    flush_interval: Duration,
    /// Setup time (guests and characters).
    populated_in: Duration,
    workers: Vec<Worker>,
    running: Running,
    runtime: tokio::runtime::Runtime,
    database: BenchDatabase,
    _dir: tempfile::TempDir,
}

impl Stack {
    /// `up` with `mode`, on a fresh PostgreSQL database and the Redis bus.
    fn start(mode: Mode, args: &CharactersArgs) -> anyhow::Result<Self> {
        let setup = runtime("setup", 1)?;
        let database = setup
            .block_on(BenchDatabase::create(&args.postgres_url))
            .context("the characters benchmark needs PostgreSQL (see --postgres-url)")?;
        drop(setup);
        let dir = tempfile::tempdir()?;
        let mut config = stack::base_config(dir.path())?;
        config.database.url = database.url.clone();
        config.bus.url = args.redis_url.clone();
        config.bus.key_prefix = format!("gh_bench:{}:", uuid::Uuid::new_v4().simple());
        config.auth.register_per_ip_per_minute = RAISED_LIMIT_PER_MINUTE;
        config.players.write_mode = mode.config();
        let flush_interval = Duration::from_millis(config.players.flush_interval_ms);
        let runtime = runtime(mode.name(), 2)?;
        let running = runtime
            .block_on(platform::start(config, Shape::Up))
            .with_context(|| format!("starting the {} stack (is Redis up?)", mode.name()))?;
        Ok(Self {
            mode,
            addr: running.http_addr().to_string(),
            flush_interval,
            populated_in: Duration::ZERO,
            workers: Vec::new(),
            running,
            runtime,
            database,
            _dir: dir,
        })
    }

    /// Stops the stack (flushing what is left), then drops its runtime and database.
    fn shutdown(self) {
        let Stack {
            running,
            runtime,
            database,
            ..
        } = self;
        runtime.block_on(running.shutdown());
        drop(runtime);
        drop(database);
    }
}

/// The players counters of the process (shared by both stacks).
#[derive(Debug, Clone, Copy, Default)]
struct Counters {
    rows_written: f64,
    intents_ok: f64,
    dirty: f64,
}

async fn scrape(server: &str) -> anyhow::Result<Counters> {
    let (status, body) = load::send_once(server, &RequestTemplate::get("/metrics")).await?;
    anyhow::ensure!(status.is_success(), "GET /metrics: {status}");
    let metrics = String::from_utf8_lossy(&body);
    Ok(Counters {
        rows_written: prometheus::total(&metrics, "players_rows_written_total"),
        intents_ok: prometheus::total_where(&metrics, "players_intents_total", |labels| {
            labels.contains("result=\"ok\"")
        }),
        dirty: prometheus::total(&metrics, "players_dirty_characters"),
    })
}

/// Waits until write-behind has written everything acknowledged so far, and returns the
/// counters then. The flusher sets `players_dirty_characters` after counting the rows it
/// wrote, so 0 after the last intent means every row is counted. Should the gauge be left
/// stale (a racing intent's update landing after a flush's), it falls back to: no row
/// written for two flush intervals.
async fn settled(stack: &Stack) -> anyhow::Result<Counters> {
    if stack.mode == Mode::WriteThrough {
        return scrape(&stack.addr).await;
    }
    let started = Instant::now();
    let quiet_for = stack.flush_interval * 2 + Duration::from_millis(200);
    let mut last_change = (Instant::now(), scrape(&stack.addr).await?);
    loop {
        let now = scrape(&stack.addr).await?;
        if now.dirty == 0.0 {
            return Ok(now);
        }
        if now.rows_written != last_change.1.rows_written {
            last_change = (Instant::now(), now);
        } else if last_change.0.elapsed() > quiet_for {
            return Ok(now);
        }
        anyhow::ensure!(
            started.elapsed() < stack.flush_interval * 20,
            "write-behind did not flush within {:?} ({} characters still dirty)",
            stack.flush_interval * 20,
            now.dirty
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A character for guest `n`'s `k`-th slot.
fn hero(n: usize) -> Value {
    json!({
        "name": format!("Hero {n}"), "race": "human", "class": "fighter",
        "generation": "standard_array",
        "abilities": {"str": 15, "dex": 14, "con": 13, "int": 12, "wis": 10, "cha": 8}
    })
}

/// Creates the working set on `server` and deals it to `workers` workers: guests with up
/// to `max_characters_per_user` characters each; character `i` belongs to guest
/// `i % guests`, and worker `w` owns characters `w, w + workers, ...`, so the first
/// character of each worker (its hot one) belongs to a different guest where there are
/// enough guests.
async fn populate(
    server: &str,
    characters: usize,
    workers: usize,
    keyed: bool,
) -> anyhow::Result<Vec<Worker>> {
    ready(server).await?;
    let per_user = PlayersConfig::default().max_characters_per_user;
    let guests = characters.div_ceil(per_user);
    let gate = Arc::new(tokio::sync::Semaphore::new(SETUP_CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    for guest in 0..guests {
        let count = characters / guests + usize::from(guest < characters % guests);
        let (server, gate) = (server.to_owned(), gate.clone());
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await?;
            let init = RequestTemplate::post_json("/v1/guest/init", &json!({}));
            let token = call(&server, init, 201).await?["session_token"]
                .as_str()
                .context("guest init answered without session_token")?
                .to_owned();
            let mut ids = Vec::with_capacity(count);
            for k in 0..count {
                let create =
                    RequestTemplate::post_json("/v1/characters", &hero(guest + k * guests))
                        .bearer(&token);
                let created = call(&server, create, 201).await?;
                anyhow::ensure!(created["version"] == 1, "a new character at version 1");
                let id = created["id"].as_str().context("a character id")?;
                ids.push(id.to_owned());
            }
            anyhow::Ok((guest, token, ids))
        });
    }
    let mut made = vec![(String::new(), Vec::new()); guests];
    while let Some(joined) = tasks.join_next().await {
        let (guest, token, ids) = joined??;
        made[guest] = (token, ids);
    }
    let mut dealt: Vec<Worker> = (0..workers)
        .map(|_| Worker {
            characters: Vec::new(),
            hot: false,
            cursor: 0,
            current: 0,
            keyed,
        })
        .collect();
    for i in 0..characters {
        let (token, ids) = &made[i % guests];
        let id = &ids[i / guests];
        let mut request =
            RequestTemplate::post_json(&format!("/v1/characters/{id}/temp-hp"), &json!({}))
                .bearer(token);
        if keyed {
            request.headers.push((
                HeaderName::from_static("idempotency-key"),
                HeaderValue::from_static("v1"),
            ));
        }
        dealt[i % workers].characters.push(Owned {
            request,
            version: 1,
        });
    }
    Ok(dealt)
}

/// Runs the stack's workers for `duration` on the client runtime, keeping their state.
fn drive(client: &tokio::runtime::Runtime, stack: &mut Stack, duration: Duration) -> Measurement {
    let workers = std::mem::take(&mut stack.workers);
    let (measurement, workers) =
        client.block_on(load::drive_sessions(&stack.addr, duration, workers));
    stack.workers = workers;
    measurement
}

/// What was measured for one mode and workload, over every measured round.
#[derive(Default)]
struct Tally {
    rounds: Vec<Measurement>,
    /// Acknowledged intents (200s the workers received), all measured rounds.
    acknowledged: u64,
    /// `players_intents_total{result="ok"}` over the same phases.
    counted_ok: f64,
    /// `players_rows_written_total` over the same phases, final flushes included.
    rows: f64,
}

pub fn run(args: CharactersArgs) -> anyhow::Result<()> {
    stack::quiet_telemetry()?;
    let workers = args.load.concurrency.max(1);
    anyhow::ensure!(
        args.characters >= workers,
        "--characters ({}) must be at least --concurrency ({workers}): each worker needs a \
         character of its own",
        args.characters
    );
    let client = runtime("load", 2)?;
    let mut stacks = Vec::new();
    for mode in Mode::ALL {
        let mut stack = Stack::start(mode, &args)?;
        eprintln!(
            "characters: {}: creating {} characters",
            mode.name(),
            args.characters
        );
        let started = Instant::now();
        stack.workers = client
            .block_on(populate(
                &stack.addr,
                args.characters,
                workers,
                args.idempotency_keys,
            ))
            .with_context(|| format!("creating the working set ({})", mode.name()))?;
        stack.populated_in = started.elapsed();
        client.block_on(settled(&stack))?;
        stacks.push(stack);
    }

    let warmup = Duration::from_secs_f64(args.load.warmup);
    let measure = Duration::from_secs_f64(args.load.duration);
    let rounds = args.load.rounds.max(1);
    let mut tallies: Vec<Vec<Tally>> = Workload::ALL
        .iter()
        .map(|_| Mode::ALL.iter().map(|_| Tally::default()).collect())
        .collect();
    let mut failures = Vec::new();
    let mut ceiling_rounds = Vec::new();
    for round in 0..rounds {
        // Alternate which mode goes first, so drift in machine load hits both alike.
        let order = if round % 2 == 0 {
            [Mode::WriteBehind, Mode::WriteThrough]
        } else {
            [Mode::WriteThrough, Mode::WriteBehind]
        };
        for (w, workload) in Workload::ALL.into_iter().enumerate() {
            for mode in order {
                let stack = &mut stacks[mode.index()];
                for worker in &mut stack.workers {
                    worker.hot = workload == Workload::Hot;
                }
                // Progress on stderr, so a profiler can be pointed at one phase.
                eprintln!(
                    "characters: round {}/{rounds}: {} {} (warm-up, then measured)",
                    round + 1,
                    mode.name(),
                    workload.name()
                );
                if !warmup.is_zero() {
                    let m = drive(&client, stack, warmup);
                    if m.errors > 0 {
                        failures.push(format!(
                            "{} (warm-up): {} error(s), first: {}",
                            workload.label(mode),
                            m.errors,
                            m.first_error.unwrap_or_default()
                        ));
                    }
                }
                let before = client.block_on(settled(stack))?;
                let m = drive(&client, stack, measure);
                let after = client.block_on(settled(stack))?;
                let tally = &mut tallies[w][mode.index()];
                tally.acknowledged += m.requests;
                tally.counted_ok += after.intents_ok - before.intents_ok;
                tally.rows += after.rows_written - before.rows_written;
                tally.rounds.push(m);
            }
        }
        // The ceiling: the same stack's cheapest route under the same load, so the
        // intents' rate can be read against what one HTTP round trip costs here.
        let stack = &stacks[Mode::WriteBehind.index()];
        let health = format!("http://{}/health/live", stack.addr);
        eprintln!(
            "characters: round {}/{rounds}: health-check ceiling",
            round + 1
        );
        if !warmup.is_zero() {
            client.block_on(load::drive(&health, workers, warmup));
        }
        ceiling_rounds.push(client.block_on(load::drive(&health, workers, measure)));
    }
    let populated: Vec<f64> = stacks
        .iter()
        .map(|s| s.populated_in.as_secs_f64())
        .collect();
    let flush_ms = stacks[0].flush_interval.as_millis();
    drop(client);
    for stack in stacks {
        stack.shutdown();
    }

    // Median rounds, with every measured round's errors.
    let mut medians: Vec<Vec<Measurement>> = Vec::new();
    for (w, per_mode) in tallies.iter_mut().enumerate() {
        let mut row = Vec::new();
        for (mode, tally) in Mode::ALL.into_iter().zip(per_mode.iter_mut()) {
            let label = Workload::ALL[w].label(mode);
            let median = load::median_counting_all(std::mem::take(&mut tally.rounds));
            let (errors, shed) = (median.errors, median.shed);
            if errors > 0 {
                failures.push(format!(
                    "{label}: {errors} error(s), first: {}",
                    median.first_error.as_deref().unwrap_or_default()
                ));
            }
            if shed > 0 {
                failures.push(format!("{label}: {shed} answer(s) 429"));
            }
            if tally.counted_ok != tally.acknowledged as f64 {
                failures.push(format!(
                    "{label}: the service counted {} applied intents, the workers {} \
                     acknowledgements",
                    tally.counted_ok, tally.acknowledged
                ));
            }
            row.push(median);
        }
        medians.push(row);
    }

    let ceiling = load::median_counting_all(ceiling_rounds);
    if ceiling.errors > 0 {
        failures.push(format!(
            "health-check ceiling: {} error(s), first: {}",
            ceiling.errors,
            ceiling.first_error.as_deref().unwrap_or_default()
        ));
    }

    let per_worker = args.characters / workers;
    let per_user = PlayersConfig::default().max_characters_per_user;
    println!(
        "characters [up shape (auth, head, players) per write mode, each on its own 2-thread \
         runtime, fresh PostgreSQL database and Redis bus prefix], concurrency {workers}, \
         {rounds} round(s) of {:.1}s after {:.1}s warm-up, median round",
        args.load.duration, args.load.warmup
    );
    println!(
        "intent: POST /v1/characters/{{id}}/temp-hp {{\"amount\": {TEMP_HP}, \"version\": V}}, \
         V from the character's last answer; spread: each worker cycles through its own \
         {per_worker} to {} of {} characters; hot: each worker sends to one character of its own \
         ({workers} characters in all)",
        args.characters.div_ceil(workers),
        args.characters
    );
    if args.idempotency_keys {
        println!(
            "every intent carries an Idempotency-Key of its own (v<version>): the service \
             remembers up to {} answers per character",
            PlayersConfig::default().idempotency_keys_per_character
        );
    }
    println!(
        "setup: {} guest(s) x up to {per_user} characters (players.max_characters_per_user \
         default) in {:.2}s (write-through) and {:.2}s (write-behind); players defaults \
         otherwise (flush_interval_ms {flush_ms}, database.max_connections {}); errors = \
         all measured rounds",
        args.characters.div_ceil(per_user),
        populated[0],
        populated[1],
        guildhall_config::Config::default().database.max_connections,
    );
    load::header();
    for (w, workload) in Workload::ALL.into_iter().enumerate() {
        for mode in Mode::ALL {
            load::row(&workload.label(mode), &medians[w][mode.index()]);
        }
    }
    load::row("GET /health/live", &ceiling);
    for (w, workload) in Workload::ALL.into_iter().enumerate() {
        let (through, behind) = (&medians[w][0], &medians[w][1]);
        println!(
            "ratio write-behind/write-through ({}): throughput {:.2}, p50 {:.2}x, p99 {:.2}x",
            workload.name(),
            behind.per_second() / through.per_second(),
            behind.quantile_ms(0.5) / through.quantile_ms(0.5),
            behind.quantile_ms(0.99) / through.quantile_ms(0.99),
        );
    }
    let per = |rows: f64, intents: u64| {
        if intents == 0 {
            f64::NAN
        } else {
            rows / intents as f64
        }
    };
    for (w, workload) in Workload::ALL.into_iter().enumerate() {
        let [through, behind] = [&tallies[w][0], &tallies[w][1]];
        println!(
            "row writes per acknowledged intent ({}, all measured rounds, final flushes \
             included): write-through {:.4} ({} rows / {} intents), write-behind {:.4} \
             ({} rows / {} intents) = {:.1} intents per row write",
            workload.name(),
            per(through.rows, through.acknowledged),
            through.rows,
            through.acknowledged,
            per(behind.rows, behind.acknowledged),
            behind.rows,
            behind.acknowledged,
            behind.acknowledged as f64 / behind.rows,
        );
    }
    for (w, workload) in Workload::ALL.into_iter().enumerate() {
        let (through, behind) = (&medians[w][0], &medians[w][1]);
        println!(
            "ceiling ({}): write-behind ran at {:.0}% of the same stack's GET /health/live \
             rate ({:.0}/s: the HTTP round trip and shell alone, no token, body or players \
             work); 10x write-through would be {:.0}/s = {:.0}% of it",
            workload.name(),
            100.0 * behind.per_second() / ceiling.per_second(),
            ceiling.per_second(),
            10.0 * through.per_second(),
            1000.0 * through.per_second() / ceiling.per_second(),
        );
    }
    let spread = &medians[0];
    let throughput_ratio = spread[1].per_second() / spread[0].per_second();
    let p99 = spread[1].quantile_ms(0.99);
    let hot = &tallies[1][1];
    let coalesced = hot.acknowledged as f64 / hot.rows;
    let verdict = |met: bool| if met { "met" } else { "MISSED" };
    println!(
        "targets: write-behind >= 10x write-through throughput: {throughput_ratio:.2}x {}; \
         write-behind p99 < 5 ms: {p99:.2} ms {}; hot write-behind >= 50 intents per row \
         write: {coalesced:.1} {}",
        verdict(throughput_ratio >= 10.0),
        verdict(p99 < 5.0),
        verdict(coalesced >= 50.0),
    );

    anyhow::ensure!(
        failures.is_empty(),
        "requests failed during the benchmark:\n  {}",
        failures.join("\n  ")
    );
    Ok(())
}
