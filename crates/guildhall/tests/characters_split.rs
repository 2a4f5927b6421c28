//! Sharding in the split shape: three `guildhall serve players` processes on PostgreSQL
//! behind a head, clients writing all the time while instances stop, start and crash.
//!
//! Every client remembers its last acknowledged state. Losing or reverting an acknowledged
//! write shows up as the server later reporting an older version than one it acknowledged.
//! With write-behind that is allowed only for a crashed (SIGKILL) instance's unflushed
//! window; with write-through, never. At the end every stored character must equal its
//! client's last acknowledged state.

mod support;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use guildhall::platform::{self, Running, Shape};
use guildhall::service::ServiceKind;
use guildhall_store::{Store, StoreOptions, with_pool};
use guildhall_testkit::pg::TestDatabase;
use guildhall_testkit::{eventually, free_port, redis_prefix, redis_url};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::json;
use support::{Api, test_config, token};

const INTERNAL_TOKEN: &str = "sharding-test-internal-token";

struct Cluster {
    db: TestDatabase,
    redis: String,
    prefix: String,
    write_mode: &'static str,
    auth_url: String,
    ports: Vec<u16>,
    players: Vec<Option<Child>>,
    _dirs: Vec<tempfile::TempDir>,
}

impl Cluster {
    fn url(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.ports[i])
    }

    async fn start_players(&mut self, i: usize) {
        let child = Command::new(env!("CARGO_BIN_EXE_guildhall"))
            .args(["serve", "players"])
            .env(
                "GUILDHALL_HTTP__LISTEN",
                format!("127.0.0.1:{}", self.ports[i]),
            )
            .env("GUILDHALL_DATABASE__URL", self.db.url())
            .env("GUILDHALL_BUS__URL", &self.redis)
            .env("GUILDHALL_BUS__KEY_PREFIX", &self.prefix)
            .env("GUILDHALL_AUTH__INTERNAL_TOKEN", INTERNAL_TOKEN)
            .env("GUILDHALL_PEERS__AUTH", &self.auth_url)
            .env("GUILDHALL_PLAYERS__WRITE_MODE", self.write_mode)
            .env("GUILDHALL_PLAYERS__LEASE_TTL_MS", "2000")
            .env("GUILDHALL_TELEMETRY__LOG_FILTER", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.players[i] = Some(child);
        let url = self.url(i);
        eventually(
            "a players instance to be ready",
            Duration::from_secs(20),
            || async {
                let ok = reqwest::get(format!("{url}/health/ready"))
                    .await
                    .is_ok_and(|r| r.status().is_success());
                ok.then_some(())
            },
        )
        .await;
    }

    /// SIGTERM (graceful: flush, release) or SIGKILL (crash).
    async fn stop_players(&mut self, i: usize, signal: Signal) {
        let mut child = self.players[i].take().expect("running");
        kill(Pid::from_raw(child.id() as i32), signal).unwrap();
        let status = tokio::task::spawn_blocking(move || child.wait())
            .await
            .unwrap()
            .unwrap();
        if signal == Signal::SIGTERM {
            assert!(status.success(), "graceful stop exits 0: {status:?}");
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in self.players.iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What the clients saw.
#[derive(Default)]
struct Tally {
    acked: AtomicU64,
    /// The server reported an older version than one it had acknowledged.
    regressions: AtomicU64,
    unavailable: AtomicU64,
}

async fn scenario(write_mode: &'static str) {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let Some(redis) = redis_url() else { return };
    let prefix = redis_prefix();
    let mut dirs = Vec::new();
    let db_url = db.url().to_owned();

    let start = |service, tune: Box<dyn FnOnce(&mut guildhall_config::Config)>| {
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(dir.path());
        config.database.url = db_url.clone();
        config.bus.url = redis.clone();
        config.bus.key_prefix = prefix.clone();
        config.auth.internal_token = INTERNAL_TOKEN.into();
        config.auth.register_per_ip_per_minute = 1_000_000;
        tune(&mut config);
        (dir, async move {
            platform::start(config, Shape::Serve(service))
                .await
                .unwrap()
        })
    };
    let (dir, auth) = start(ServiceKind::Auth, Box::new(|_| {}));
    dirs.push(dir);
    let auth: Running = auth.await;
    let auth_url = format!("http://{}", auth.http_addr());

    let ports = vec![free_port(), free_port(), free_port()];
    let mut cluster = Cluster {
        db,
        redis: redis.clone(),
        prefix: prefix.clone(),
        write_mode,
        auth_url: auth_url.clone(),
        ports,
        players: vec![None, None, None],
        _dirs: Vec::new(),
    };
    for i in 0..3 {
        cluster.start_players(i).await;
    }
    let urls: Vec<String> = (0..3).map(|i| cluster.url(i)).collect();
    let (dir, head) = start(
        ServiceKind::Head,
        Box::new(move |c| {
            c.peers.auth = auth_url;
            c.peers.players = urls;
            c.peers.request_timeout_ms = 3000;
        }),
    );
    dirs.push(dir);
    let head: Running = head.await;
    let api = Api::new(&format!("http://{}", head.http_addr()));
    eventually("head ready", Duration::from_secs(10), || async {
        (api.get("/health/ready", None).await.0 == 200).then_some(())
    })
    .await;

    // Twelve players, one character each, writing continuously.
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let mut clients = Vec::new();
    for n in 0..12 {
        let guest = api.guest(None).await;
        let t = token(&guest).to_owned();
        let body = json!({"name": format!("Hero {n}"), "race": "human", "class": "fighter", "generation": "standard_array",
            "abilities": {"str": 15, "dex": 14, "con": 13, "int": 12, "wis": 10, "cha": 8}});
        // 503 `unavailable` (with Retry-After) is an answer the API allows: on a loaded
        // machine the 2 s lease can lapse between taking it and writing. A client retries
        // with the same Idempotency-Key, as this one does.
        let mut tries = 0;
        let character = loop {
            tries += 1;
            let response = api
                .http
                .post(format!("{}/v1/characters", api.base))
                .bearer_auth(&t)
                .header("idempotency-key", format!("create-{n}"))
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
            let character: serde_json::Value = response.json().await.unwrap_or_default();
            match (status, retry_after) {
                (201, _) => break character,
                (503, Some(secs)) if tries < 5 => {
                    tokio::time::sleep(Duration::from_secs(secs)).await;
                }
                _ => panic!("create answered {status}: {character}"),
            }
        };
        let (api, stop, tally) = (api.clone(), stop.clone(), tally.clone());
        clients.push(tokio::spawn(async move {
            let id = character["id"].as_str().unwrap().to_owned();
            let mut acked = (1i64, character["hp"].as_i64().unwrap());
            let mut version = 1i64;
            let mut attempt = 0u64;
            while !stop.load(Ordering::Relaxed) {
                attempt += 1;
                let delta = if version % 2 == 0 { 1 } else { -1 };
                let key = format!("{id}-{attempt}");
                loop {
                    let response = api
                        .http
                        .patch(format!("{}/v1/characters/{id}/stats/hitpoints", api.base))
                        .bearer_auth(&t)
                        .header("idempotency-key", &key)
                        .json(&json!({"delta": delta, "version": version}))
                        .send()
                        .await
                        .unwrap();
                    let status = response.status().as_u16();
                    let body: serde_json::Value = response.json().await.unwrap_or_default();
                    match status {
                        200 => {
                            let v = body["version"].as_i64().unwrap();
                            assert!(
                                v > acked.0,
                                "an acknowledged version never repeats: {v} after {}",
                                acked.0
                            );
                            acked = (v, body["hp"].as_i64().unwrap());
                            version = v;
                            tally.acked.fetch_add(1, Ordering::Relaxed);
                        }
                        409 => {
                            let current = &body["character"];
                            let v = current["version"].as_i64().unwrap();
                            if v < acked.0 {
                                tally.regressions.fetch_add(1, Ordering::Relaxed);
                                acked = (v, current["hp"].as_i64().unwrap());
                            }
                            version = v;
                        }
                        502 | 503 => {
                            tally.unavailable.fetch_add(1, Ordering::Relaxed);
                            if stop.load(Ordering::Relaxed) {
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                        other => panic!("unexpected {other}: {body}"),
                    }
                    break;
                }
            }
            (id, acked)
        }));
    }

    let run = |secs: u64| tokio::time::sleep(Duration::from_secs(secs));
    run(2).await;
    cluster.stop_players(1, Signal::SIGTERM).await;
    run(2).await;
    cluster.start_players(1).await;
    run(2).await;
    let graceful_regressions = tally.regressions.load(Ordering::Relaxed);
    cluster.stop_players(2, Signal::SIGKILL).await;
    run(4).await;
    cluster.start_players(2).await;
    run(2).await;
    stop.store(true, Ordering::Relaxed);
    let mut last_acked = Vec::new();
    for client in clients {
        last_acked.push(client.await.unwrap());
    }
    for i in 0..3 {
        cluster.stop_players(i, Signal::SIGTERM).await;
    }

    let acked = tally.acked.load(Ordering::Relaxed);
    let regressions = tally.regressions.load(Ordering::Relaxed);
    println!(
        "{write_mode}: {acked} acknowledged intents, {regressions} regressions ({graceful_regressions} before the crash), {} unavailable answers",
        tally.unavailable.load(Ordering::Relaxed)
    );
    assert!(acked > 100, "clients made progress: {acked}");
    assert_eq!(
        graceful_regressions, 0,
        "stopping and starting instances loses nothing"
    );
    if write_mode == "write_through" {
        assert_eq!(
            regressions, 0,
            "write-through never loses an acknowledged write, even on SIGKILL"
        );
    }

    // Every stored character is exactly its client's last acknowledged state.
    let store = Store::connect(&StoreOptions {
        url: cluster.db.url().to_owned(),
        max_connections: 1,
        connect_timeout: Duration::from_secs(5),
    })
    .await
    .unwrap();
    for (id, (version, hp)) in last_acked {
        let state: String = with_pool!(&store, |pool| {
            sqlx::query_scalar("SELECT state FROM players_characters WHERE id = $1")
                .bind(uuid::Uuid::parse_str(&id).unwrap())
                .fetch_one(pool)
                .await
                .unwrap()
        });
        let state: serde_json::Value = serde_json::from_str(&state).unwrap();
        assert_eq!(
            (state["version"].as_i64(), state["hp"].as_i64()),
            (Some(version), Some(hp)),
            "character {id}"
        );
    }
    store.close().await;
    assert!(head.shutdown().await);
    assert!(auth.shutdown().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_behind_loses_nothing_on_moves_and_only_the_crash_window_on_sigkill() {
    scenario("write_behind").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_through_loses_nothing_even_on_sigkill() {
    scenario("write_through").await;
}
