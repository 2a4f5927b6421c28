//! Setup shared by the benchmarks that start the platform: runtimes, a throwaway
//! PostgreSQL database, the base configuration, and setup requests.

use std::time::{Duration, Instant};

use anyhow::Context;
use guildhall_config::Config;
use serde_json::Value;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};

use crate::load::{self, RequestTemplate};

/// Logs at `warn` for the whole benchmark process (the platform's own `info` lines would
/// interleave with the results), with the process-wide metrics recorder installed.
pub fn quiet_telemetry() -> anyhow::Result<()> {
    let mut telemetry = Config::default().telemetry;
    telemetry.log_filter = "warn".into();
    std::mem::forget(guildhall_telemetry::init(&telemetry, "bench")?);
    Ok(())
}

/// The defaults, with a free port on 127.0.0.1, quiet logs and `data_dir` (where `up`
/// keeps its SQLite file and generated secrets).
pub fn base_config(data_dir: &std::path::Path) -> anyhow::Result<Config> {
    let mut config = Config {
        data_dir: data_dir.to_owned(),
        ..Default::default()
    };
    config.http.listen = "127.0.0.1:0".parse()?;
    config.ssh.listen = "127.0.0.1:0".parse()?;
    config.gamehost.nethack = false;
    config.telemetry.log_filter = "warn".into();
    Ok(config)
}

/// A multi-threaded runtime with `threads` workers: one per process-equivalent, so servers
/// and the load generator do not share run queues. Its threads are called `name`, so a
/// profile of the benchmark process can be split by runtime.
pub fn runtime(name: &str, threads: usize) -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name(name)
        .enable_all()
        .build()?)
}

/// A PostgreSQL database made for one run, dropped (with `FORCE`) when this is dropped.
pub struct BenchDatabase {
    pub name: String,
    pub url: String,
    admin_url: String,
}

impl BenchDatabase {
    /// Creates `gh_bench_<random>` on the server of `admin_url`.
    pub async fn create(admin_url: &str) -> anyhow::Result<Self> {
        let name = format!("gh_bench_{}", uuid::Uuid::new_v4().simple());
        let mut conn = admin(admin_url)
            .await
            .with_context(|| format!("connecting to PostgreSQL at {admin_url}"))?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .with_context(|| format!("creating database {name}"))?;
        let _ = conn.close().await;
        let base = admin_url
            .rsplit_once('/')
            .map(|(base, _)| base)
            .unwrap_or(admin_url);
        let url = format!("{base}/{name}");
        Ok(Self {
            name,
            url,
            admin_url: admin_url.to_owned(),
        })
    }
}

/// A connection for creating and dropping databases. Statement logging is off: dropping a
/// database with `FORCE` often takes over a second, which sqlx would log as a slow
/// statement in the middle of the results.
async fn admin(admin_url: &str) -> anyhow::Result<PgConnection> {
    let options: PgConnectOptions = admin_url.parse()?;
    Ok(options.disable_statement_logging().connect().await?)
}

impl Drop for BenchDatabase {
    fn drop(&mut self) {
        // May run inside a runtime, which cannot block on itself: use a thread with a
        // runtime of its own.
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || -> anyhow::Result<()> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let mut conn = admin(&admin_url).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await?;
                let _ = conn.close().await;
                anyhow::Ok(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: could not drop database {}", self.name);
        }
    }
}

/// Sends one setup request and returns its JSON body, failing unless the status is `want`.
pub async fn call(server: &str, request: RequestTemplate, want: u16) -> anyhow::Result<Value> {
    let (status, body) = load::send_once(server, &request)
        .await
        .with_context(|| format!("{} {}", request.method, request.path))?;
    anyhow::ensure!(
        status.as_u16() == want,
        "{} {}: expected {want}, got {status}: {}",
        request.method,
        request.path,
        String::from_utf8_lossy(&body)
    );
    Ok(serde_json::from_slice(&body)?)
}

/// Waits until the server answers `/health/ready` (head in the split shape needs auth's
/// keys).
pub async fn ready(server: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let probe = load::send_once(server, &RequestTemplate::get("/health/ready")).await;
        match probe {
            Ok((status, _)) if status.is_success() => return Ok(()),
            Ok((status, body)) if Instant::now() > deadline => anyhow::bail!(
                "not ready after 20 s: {status} {}",
                String::from_utf8_lossy(&body)
            ),
            Err(err) if Instant::now() > deadline => {
                return Err(err.context("not ready after 20 s"));
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}
