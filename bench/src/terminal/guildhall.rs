//! The Guildhall side: `guildhall up` (auth, head and the game host with its gRPC
//! server; its own gateway off) and a gateway-only `serve terminal` in front of it,
//! each its own process, so the gateway's memory is read from `/proc` alone.
//!
//! Both run this binary's hidden `terminal --serve <role> --serve-config <json>`, which
//! is `guildhall::platform::start` with the configuration written here, as `bench
//! tables` does: the same code as `guildhall up -c` and `guildhall serve terminal -c`,
//! without depending on a separately built `guildhall` binary.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use guildhall::platform::{self, Shape};
use guildhall::service::ServiceKind;
use guildhall_config::Config;
use serde_json::{Value, json};

use super::sessions::{Hist, hist, record};
use super::tty::Login;
use crate::load::RequestTemplate;
pub use crate::procfs::Proc;
use crate::procfs::spawn_ready;

/// What a `--serve` child runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// `guildhall up` without its gateway: auth, head, the game host and its gRPC.
    Up,
    /// `guildhall serve terminal` with no game host: the SSH gateway alone.
    Gateway,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Up => "up",
            Role::Gateway => "gateway",
        }
    }
}

/// The game every session plays: `cat` echoes what is typed (so does the PTY).
pub const GAME_COMMAND: &str = "/bin/cat";

/// Every account's password (the bench makes its own accounts).
const PASSWORD: &str = "bench-password-1";

/// `guildhall up`: everything but the gateway.
pub struct Up {
    pub proc: Proc,
    /// Head's (and auth's) HTTP address.
    pub http: String,
    /// The game host's gRPC address.
    pub grpc: String,
    internal_token: String,
    _dir: tempfile::TempDir,
}

/// A gateway-only process.
pub struct Gateway {
    pub proc: Proc,
    pub ssh: SocketAddr,
    _dir: tempfile::TempDir,
}

/// The limits a benchmark from one address needs lifted, in both processes.
fn benchmark_limits(config: &mut Value) {
    let raised = 100_000_000;
    config["auth"]["register_per_ip_per_minute"] = json!(raised);
    config["auth"]["login_per_ip_per_minute"] = json!(raised);
    config["auth"]["login_per_username_per_minute"] = json!(raised);
    config["http"]["max_concurrent_requests"] = json!(100_000);
}

/// The base configuration (free ports, quiet logs) as JSON, with `internal_token`.
fn base(dir: &Path, internal_token: &str) -> anyhow::Result<Value> {
    let mut config = serde_json::to_value(crate::stack::base_config(dir)?)?;
    benchmark_limits(&mut config);
    config["auth"]["internal_token"] = json!(internal_token);
    Ok(config)
}

pub fn start_up() -> anyhow::Result<Up> {
    let dir = tempfile::tempdir()?;
    let internal_token = format!("bench-internal-{}", uuid::Uuid::new_v4().simple());
    let mut config = base(dir.path(), &internal_token)?;
    config["ssh"]["enabled"] = json!(false);
    config["gamehost"] = json!({
        "enabled": true,
        "grpc_listen": "127.0.0.1:0",
        "nethack": false,
        // Sessions of one round are gone (their games hung up) before the next.
        "grace_period_secs": 1,
        "games": [{ "id": "cat", "name": "cat", "command": GAME_COMMAND }],
    });
    config["tables"]["workers"] = json!("in_process");
    let (proc, ready) = spawn(Role::Up, dir.path(), &config)?;
    Ok(Up {
        proc,
        http: ready.http,
        grpc: ready.grpc.context("up printed no gRPC address")?,
        internal_token,
        _dir: dir,
    })
}

/// A fresh gateway in front of `up`, holding at most `max_connections`.
pub fn start_gateway(up: &Up, max_connections: usize) -> anyhow::Result<Gateway> {
    let dir = tempfile::tempdir()?;
    let mut config = base(dir.path(), &up.internal_token)?;
    config["gamehost"]["enabled"] = json!(false);
    config["peers"]["auth"] = json!(format!("http://{}", up.http));
    config["ssh"] = json!({
        "enabled": true,
        "listen": "127.0.0.1:0",
        "max_connections": max_connections,
        "max_per_ip": max_connections,
        "auth_rejection_ms": 0,
        "game_host_url": format!("http://{}", up.grpc),
    });
    let (proc, ready) = spawn(Role::Gateway, dir.path(), &config)?;
    Ok(Gateway {
        proc,
        ssh: ready.ssh.context("the gateway printed no SSH address")?,
        _dir: dir,
    })
}

/// What a child printed once serving.
struct Ready {
    http: String,
    ssh: Option<SocketAddr>,
    grpc: Option<String>,
}

fn spawn(role: Role, dir: &Path, config: &Value) -> anyhow::Result<(Proc, Ready)> {
    let path = dir.join("config.json");
    std::fs::write(&path, serde_json::to_vec(config)?)?;
    let (proc, line) = spawn_ready(&[
        "terminal".as_ref(),
        "--serve".as_ref(),
        role.name().as_ref(),
        "--serve-config".as_ref(),
        path.as_os_str(),
    ])?;
    let fields: Vec<&str> = line.split(' ').collect();
    let optional = |n: usize| fields.get(n).filter(|f| **f != "-").map(|f| f.to_string());
    let ready = Ready {
        http: fields[0].to_owned(),
        ssh: optional(1).map(|a| a.parse()).transpose()?,
        grpc: optional(2),
    };
    Ok((proc, ready))
}

/// The hidden `terminal --serve <role> --serve-config <json>`: serves until killed,
/// after printing `READY <http> <ssh or -> <grpc or ->`.
pub fn serve(role: Role, config: &Path) -> anyhow::Result<()> {
    let config: Config = serde_json::from_slice(&std::fs::read(config)?)?;
    config
        .validate()
        .map_err(|problems| anyhow::anyhow!("invalid configuration:\n{problems}"))?;
    let shape = match role {
        Role::Up => Shape::Up,
        Role::Gateway => Shape::Serve(ServiceKind::Terminal),
    };
    // As the `guildhall` binary does: a multi-threaded runtime with a worker per core,
    // logs (quiet here) and the metrics recorder.
    crate::stack::quiet_telemetry()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let running = platform::start(config, shape).await?;
        let show = |addr: Option<SocketAddr>| addr.map_or("-".to_owned(), |a| a.to_string());
        println!(
            "READY {} {} {}",
            running.http_addr(),
            show(running.ssh_addr()),
            show(running.grpc_addr())
        );
        std::future::pending::<()>().await;
        Ok(())
    })
}

/// The name of the `n`th account.
pub fn username(n: usize) -> String {
    format!("bench_{n:05}")
}

pub fn login(n: usize) -> Login {
    Login::Password {
        user: username(n),
        password: PASSWORD.into(),
    }
}

/// Registers accounts `0..count` through head, `concurrency` at a time.
pub async fn create_accounts(http: &str, count: usize, concurrency: usize) -> anyhow::Result<()> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (next, http) = (next.clone(), http.to_owned());
        workers.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    return anyhow::Ok(());
                }
                let name = username(n);
                let body = json!({
                    "username": name,
                    "password": PASSWORD,
                    "email": format!("{name}@example.com"),
                });
                crate::stack::call(
                    &http,
                    RequestTemplate::post_json("/v1/accounts", &body),
                    201,
                )
                .await
                .with_context(|| format!("registering {name}"))?;
            }
        });
    }
    while let Some(done) = workers.join_next().await {
        done??;
    }
    Ok(())
}

/// `count` logins of accounts `0..accounts` through head's HTTP API, one at a time: the
/// password check a gateway sign-in waits for, without SSH.
pub async fn http_logins(http: &str, accounts: usize, count: usize) -> anyhow::Result<Hist> {
    let mut latency = hist();
    for n in 0..count {
        let body = json!({ "username": username(n % accounts.max(1)), "password": PASSWORD });
        let start = Instant::now();
        crate::stack::call(
            http,
            RequestTemplate::post_json("/v1/session/login", &body),
            200,
        )
        .await?;
        record(&mut latency, start.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(latency)
}
