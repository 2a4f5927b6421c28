//! Identity under load: guest creation, account login and authenticated profile reads
//! through head's public API, against a bare axum hello-world measured in the same run.
//!
//! Two shapes:
//! - `up`: every service in one process, SQLite in a fresh data dir, in-process bus;
//! - `split`: an auth and a head process-equivalent (`serve auth`, `serve head`), each on
//!   its own runtime and port in this process, head calling auth over HTTP, both on a
//!   fresh PostgreSQL database and the Redis bus.
//!
//! Passwords are hashed with the production Argon2 parameters: logins are slow on purpose
//! and the figure says how slow. Auth's per-IP and per-username rate limits are raised,
//! since every request comes from 127.0.0.1.

use std::time::{Duration, Instant};

use anyhow::Context;
use guildhall::platform::{self, Running, Shape};
use guildhall::service::ServiceKind;
use guildhall_config::Config;
use serde_json::json;

use crate::load::{self, LoadArgs, Measurement, RequestTemplate};
use crate::stack::{self, BenchDatabase, call, ready, runtime};

/// Rate limits per minute for the benchmark, far above anything two cores can do.
const RAISED_LIMIT_PER_MINUTE: u32 = 100_000_000;
/// The password of every benchmark account.
const PASSWORD: &str = "correct horse battery staple";
/// Setup requests (registrations, guest creations) in flight at once.
const SETUP_CONCURRENCY: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ShapeArg {
    /// `guildhall up`: one process, SQLite, in-process bus.
    Up,
    /// `serve auth` + `serve head`: PostgreSQL and Redis.
    Split,
    /// Both, one after the other.
    Both,
}

#[derive(Debug, Clone, clap::Args)]
pub struct IdentityArgs {
    #[command(flatten)]
    pub load: LoadArgs,
    /// Which deployment shape(s) to measure.
    #[arg(long, value_enum, default_value = "up")]
    pub shape: ShapeArg,
    /// PostgreSQL server for the split shape: a `gh_bench_<random>` database is created on
    /// it and dropped at the end.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    pub postgres_url: String,
    /// Redis for the split shape's bus (a unique key prefix is used).
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    pub redis_url: String,
    /// Also print each measured phase's latency quantiles up to the maximum (stderr), to
    /// tell a uniform spread from a few stalls.
    #[arg(long)]
    pub tail: bool,
    /// Head's `profile_cache_ttl_ms` (0: every profile read goes to the database), to
    /// compare reads with and without the cache.
    #[arg(long, default_value_t = guildhall_config::HeadConfig::default().profile_cache_ttl_ms)]
    pub profile_cache_ttl_ms: u64,
}

/// What is measured, in the order of the first round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Bare,
    GuestInit,
    Login,
    Profile,
}

impl Target {
    const ALL: [Target; 4] = [
        Target::Bare,
        Target::GuestInit,
        Target::Login,
        Target::Profile,
    ];

    fn label(self) -> &'static str {
        match self {
            Target::Bare => "bare axum (baseline)",
            Target::GuestInit => "POST /v1/guest/init",
            Target::Login => "POST /v1/session/login",
            Target::Profile => "GET /v1/profile",
        }
    }

    fn short(self) -> &'static str {
        match self {
            Target::Bare => "bare",
            Target::GuestInit => "guest init",
            Target::Login => "login",
            Target::Profile => "profile read",
        }
    }
}

pub fn run(args: IdentityArgs) -> anyhow::Result<()> {
    stack::quiet_telemetry()?;

    let shapes: &[ShapeArg] = match args.shape {
        ShapeArg::Up => &[ShapeArg::Up],
        ShapeArg::Split => &[ShapeArg::Split],
        ShapeArg::Both => &[ShapeArg::Up, ShapeArg::Split],
    };
    let mut failures = Vec::new();
    for (i, &shape) in shapes.iter().enumerate() {
        if i > 0 {
            println!();
        }
        failures.extend(run_shape(shape, &args)?);
    }
    anyhow::ensure!(
        failures.is_empty(),
        "requests failed during the benchmark:\n  {}",
        failures.join("\n  ")
    );
    Ok(())
}

/// The configuration both shapes start from: a free port, quiet logs, production Argon2
/// parameters, raised rate limits.
fn bench_config(data_dir: &std::path::Path, args: &IdentityArgs) -> anyhow::Result<Config> {
    let mut config = stack::base_config(data_dir)?;
    config.head.profile_cache_ttl_ms = args.profile_cache_ttl_ms;
    config.auth.login_per_ip_per_minute = RAISED_LIMIT_PER_MINUTE;
    config.auth.login_per_username_per_minute = RAISED_LIMIT_PER_MINUTE;
    config.auth.register_per_ip_per_minute = RAISED_LIMIT_PER_MINUTE;
    let defaults = guildhall_config::AuthConfig::default();
    anyhow::ensure!(
        (config.auth.argon2_memory_kib, config.auth.argon2_iterations)
            == (defaults.argon2_memory_kib, defaults.argon2_iterations),
        "the benchmark must hash passwords with the production Argon2 parameters"
    );
    Ok(config)
}

/// The processes of one shape. Fields drop in order: servers first, then their
/// runtimes, then the database and data dirs.
struct Deployment {
    description: String,
    /// Auth's configuration, as started (for printing its parameters).
    auth: guildhall_config::AuthConfig,
    /// Head's (or `up`'s) public address.
    head: String,
    /// The bare baseline's URL.
    bare_url: String,
    /// Started processes, each on its own runtime; shut down in this order.
    processes: Vec<(Running, tokio::runtime::Runtime)>,
    /// Keeps the bare server's runtime alive when it has one of its own.
    _bare_runtime: Option<tokio::runtime::Runtime>,
    database: Option<BenchDatabase>,
    _dirs: Vec<tempfile::TempDir>,
}

impl Deployment {
    fn shutdown(mut self) {
        // Head before auth, as an orchestrator would stop them.
        for (running, runtime) in self.processes.drain(..).rev() {
            runtime.block_on(running.shutdown());
        }
        drop(self.database.take());
    }
}

/// `up`: one runtime for the whole stack and the bare server, as in `http-health`.
fn start_up(args: &IdentityArgs) -> anyhow::Result<Deployment> {
    let servers = runtime("servers", 2)?;
    let dir = tempfile::tempdir()?;
    let config = bench_config(dir.path(), args)?;
    let auth = config.auth.clone();
    let (running, bare_url) = servers.block_on(async {
        let running = platform::start(config, Shape::Up).await?;
        anyhow::Ok((running, crate::bare::spawn().await?))
    })?;
    Ok(Deployment {
        description: "up: every service in one process, SQLite in a fresh data dir, \
                      in-process bus"
            .into(),
        auth,
        head: running.http_addr().to_string(),
        bare_url,
        processes: vec![(running, servers)],
        _bare_runtime: None,
        database: None,
        _dirs: vec![dir],
    })
}

/// `split`: auth and head, each on a runtime of its own (as two processes would be), on
/// a fresh PostgreSQL database and the Redis bus; the bare server on a third runtime.
fn start_split(args: &IdentityArgs) -> anyhow::Result<Deployment> {
    let setup = runtime("setup", 1)?;
    let database = setup
        .block_on(BenchDatabase::create(&args.postgres_url))
        .context("the split shape needs PostgreSQL (see --postgres-url)")?;
    drop(setup);
    let prefix = format!("gh_bench:{}:", uuid::Uuid::new_v4().simple());
    let internal_token = format!("bench-internal-{}", uuid::Uuid::new_v4().simple());
    let (auth_dir, head_dir) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let shared = |dir: &std::path::Path| -> anyhow::Result<Config> {
        let mut config = bench_config(dir, args)?;
        config.database.url = database.url.clone();
        config.bus.url = args.redis_url.clone();
        config.bus.key_prefix = prefix.clone();
        config.auth.internal_token = internal_token.clone();
        Ok(config)
    };

    let auth_config = shared(auth_dir.path())?;
    let auth_params = auth_config.auth.clone();
    let auth_rt = runtime("auth", 2)?;
    let auth = auth_rt
        .block_on(platform::start(
            auth_config,
            Shape::Serve(ServiceKind::Auth),
        ))
        .context("starting auth (is Redis up? see --redis-url)")?;
    let mut head_config = shared(head_dir.path())?;
    head_config.peers.auth = format!("http://{}", auth.http_addr());
    let peer_timeout_ms = head_config.peers.request_timeout_ms;
    let head_rt = runtime("head", 2)?;
    let head = head_rt
        .block_on(platform::start(
            head_config,
            Shape::Serve(ServiceKind::Head),
        ))
        .context("starting head")?;
    let bare_rt = runtime("bare", 2)?;
    let bare_url = bare_rt.block_on(crate::bare::spawn())?;
    Ok(Deployment {
        description: format!(
            "split: auth and head as two process-equivalents (2-thread runtime each), \
             head -> auth over HTTP (default {peer_timeout_ms} ms timeout and circuit breaker), \
             PostgreSQL database {}, Redis bus (prefix {prefix})",
            database.name
        ),
        auth: auth_params,
        head: head.http_addr().to_string(),
        bare_url,
        processes: vec![(auth, auth_rt), (head, head_rt)],
        _bare_runtime: Some(bare_rt),
        database: Some(database),
        _dirs: vec![auth_dir, head_dir],
    })
}

fn username(worker: usize) -> String {
    format!("benchuser{worker}")
}

/// Registers one account per worker and creates one guest per worker; returns the guests'
/// session tokens.
async fn prepare(head: &str, workers: usize) -> anyhow::Result<Vec<String>> {
    ready(head).await?;
    let head = head.to_owned();
    // A few at a time: registrations hash passwords, and a deep queue of them would outlast
    // head's timeout for calls to auth in the split shape.
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(SETUP_CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..workers {
        let (head, gate) = (head.clone(), gate.clone());
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await?;
            let name = username(worker);
            let register = RequestTemplate::post_json(
                "/v1/accounts",
                &json!({"username": name, "password": PASSWORD, "email": format!("{name}@example.com")}),
            );
            call(&head, register, 201).await?;
            let guest = call(
                &head,
                RequestTemplate::post_json("/v1/guest/init", &json!({})),
                201,
            )
            .await?;
            let token = guest["session_token"]
                .as_str()
                .context("guest init answered without session_token")?
                .to_owned();
            anyhow::Ok((worker, token))
        });
    }
    let mut tokens = vec![String::new(); workers];
    while let Some(joined) = tasks.join_next().await {
        let (worker, token) = joined??;
        tokens[worker] = token;
    }
    Ok(tokens)
}

/// Measures one shape and prints its table; returns a description of each target that
/// had errors in a measured round.
fn run_shape(shape: ShapeArg, args: &IdentityArgs) -> anyhow::Result<Vec<String>> {
    let deployment = match shape {
        ShapeArg::Split => start_split(args)?,
        _ => start_up(args)?,
    };
    let client = runtime("load", 2)?;
    let workers = args.load.concurrency.max(1);
    let prepared = Instant::now();
    let tokens = client
        .block_on(prepare(&deployment.head, workers))
        .context("preparing accounts and guests")?;
    let prepared = prepared.elapsed();

    let (bare_authority, bare_path) = load::split_url(&deployment.bare_url);
    let template = |target: Target, worker: usize| match target {
        Target::Bare => RequestTemplate::get(&bare_path),
        Target::GuestInit => RequestTemplate::post_json("/v1/guest/init", &json!({})),
        Target::Login => RequestTemplate::post_json(
            "/v1/session/login",
            &json!({"username": username(worker), "password": PASSWORD}),
        ),
        Target::Profile => RequestTemplate::get("/v1/profile").bearer(&tokens[worker]),
    };
    let warmup = Duration::from_secs_f64(args.load.warmup);
    let measure = Duration::from_secs_f64(args.load.duration);
    let rounds = args.load.rounds.max(1);
    let mut measured: Vec<Vec<Measurement>> = vec![Vec::new(); Target::ALL.len()];
    for round in 0..rounds {
        // Rotate which target goes first, so drift in machine load hits all alike.
        for k in 0..Target::ALL.len() {
            let index = (round + k) % Target::ALL.len();
            let target = Target::ALL[index];
            let authority = match target {
                Target::Bare => bare_authority.as_str(),
                _ => deployment.head.as_str(),
            };
            let drive = |duration| {
                client.block_on(load::drive_with(authority, workers, duration, |worker| {
                    template(target, worker)
                }))
            };
            // Progress on stderr, so a profiler can be pointed at one target's phase.
            eprintln!(
                "identity: {} round {}/{rounds}: {} (warm-up, then measured)",
                shape_name(shape),
                round + 1,
                target.short()
            );
            if !warmup.is_zero() {
                drive(warmup);
            }
            let measurement = drive(measure);
            if args.tail {
                let quantiles: Vec<String> = [
                    ("p50", 0.5),
                    ("p90", 0.9),
                    ("p99", 0.99),
                    ("p99.9", 0.999),
                    ("max", 1.0),
                ]
                .iter()
                .map(|&(name, q)| format!("{name} {:.1}", measurement.quantile_ms(q)))
                .collect();
                eprintln!("  latency, ms: {}", quantiles.join(", "));
            }
            let failed = measurement.errors > 0;
            measured[index].push(measurement);
            if failed && shape == ShapeArg::Split {
                // Failed calls to auth may have opened head's circuit breaker: let it close,
                // so one target's failure does not leak into the next target's figures.
                std::thread::sleep(Duration::from_secs(
                    Config::default().head.auth_breaker_cooldown_secs + 1,
                ));
            }
        }
    }

    let mut failures = Vec::new();
    let mut results = Vec::new();
    for (index, rounds) in measured.into_iter().enumerate() {
        let target = Target::ALL[index];
        // Errors of every measured round count, not only the median round's.
        let median = load::median_counting_all(rounds);
        let (errors, shed) = (median.errors, median.shed);
        if errors > 0 {
            failures.push(format!(
                "{} ({}): {errors} error(s), first: {}",
                target.label(),
                shape_name(shape),
                median.first_error.as_deref().unwrap_or_default()
            ));
        }
        // Only logins may be shed: they queue for an Argon2 slot, and one that would wait
        // longer than auth allows is refused with 429 `rate_limited` by design. Anything
        // else answering 429 means the raised rate limits did not take.
        if shed > 0 && target != Target::Login {
            failures.push(format!(
                "{} ({}): {shed} answer(s) 429",
                target.label(),
                shape_name(shape)
            ));
        }
        results.push((target, median));
    }

    let auth = &deployment.auth;
    println!(
        "identity [{}], concurrency {workers}, {rounds} round(s) of {:.1}s after {:.1}s warm-up, median round",
        deployment.description, args.load.duration, args.load.warmup
    );
    println!(
        "argon2id: memory {} KiB, iterations {} (production defaults); rate limits raised for \
         the benchmark (all load comes from 127.0.0.1): login/IP, login/username, register/IP \
         = {RAISED_LIMIT_PER_MINUTE} per minute",
        auth.argon2_memory_kib, auth.argon2_iterations
    );
    println!(
        "head.profile_cache_ttl_ms = {}{}",
        args.profile_cache_ttl_ms,
        if args.profile_cache_ttl_ms == 0 {
            " (no cache: every profile read goes to the database)"
        } else {
            ""
        }
    );
    println!(
        "setup: {workers} accounts registered, {workers} guests created in {:.2}s; \
         errors and shed = all measured rounds (only logins may be shed: 429 when a login \
         would wait too long for an Argon2 slot)",
        prepared.as_secs_f64()
    );
    load::header();
    for (target, m) in &results {
        load::row(target.label(), m);
    }
    let bare = &results[0].1;
    for (target, m) in &results[1..] {
        println!(
            "ratio {}/bare: throughput {:.4}, p50 {:.1}x, p99 {:.1}x",
            target.short(),
            m.per_second() / bare.per_second(),
            m.quantile_ms(0.5) / bare.quantile_ms(0.5),
            m.quantile_ms(0.99) / bare.quantile_ms(0.99),
        );
    }

    drop(client);
    deployment.shutdown();
    Ok(failures)
}

fn shape_name(shape: ShapeArg) -> &'static str {
    match shape {
        ShapeArg::Up => "up",
        ShapeArg::Split => "split",
        ShapeArg::Both => "both",
    }
}
