//! Card tables in the split shape on PostgreSQL and a real Redis: auth, head, a tables
//! service whose game host runs workers in child processes, and gateways. Five bots play
//! through head and the gateway while an observer watches, and the game survives:
//!
//! - its worker process killed with SIGKILL in the middle of a trick;
//! - the gateway the players are connected to restarting;
//! - Redis restarting (a Redis of the test's own, with an append-only file).
//!
//! Each time the hand finishes: every one of the 40 cards played once, the tricks worth
//! 120 points, every action a bot saw acknowledged present in the stored state, and
//! every client resynced after the failure.

mod support;

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use guildhall::platform::Running;
use guildhall::service::ServiceKind;
use guildhall_bots::tables::{BotSettings, Ended, Halt, Seat, TableBot, TableStats};
use guildhall_bots::{Incoming, Player, Session};
use guildhall_config::{Config, WorkerMode};
use guildhall_tables::TableState;
use guildhall_testkit::pg::TestDatabase;
use guildhall_testkit::{eventually, free_port, redis_prefix, redis_url};
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use serde_json::{Value, json};
use support::test_config;
use tokio::task::JoinSet;

const INTERNAL_TOKEN: &str = "tables-split-internal-token";
const GAME_OVER: Duration = Duration::from_secs(90);

struct Deployment {
    db: TestDatabase,
    redis: String,
    prefix: String,
    auth: String,
    /// Where head sends players: the gateway's fixed port.
    gateway_port: u16,
    dirs: Vec<tempfile::TempDir>,
}

impl Deployment {
    async fn new(redis: String) -> Option<(Self, Running)> {
        let db = TestDatabase::create().await?;
        let mut deployment = Self {
            db,
            redis,
            prefix: redis_prefix(),
            auth: String::new(),
            gateway_port: free_port(),
            dirs: Vec::new(),
        };
        let auth = deployment.start(ServiceKind::Auth, 0, |_| {}).await;
        deployment.auth = format!("http://{}", auth.http_addr());
        Some((deployment, auth))
    }

    fn config(&mut self, port: u16) -> Config {
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(dir.path());
        self.dirs.push(dir);
        config.http.listen = format!("127.0.0.1:{port}").parse().unwrap();
        config.database.url = self.db.url().to_owned();
        config.bus.url = self.redis.clone();
        config.bus.key_prefix = self.prefix.clone();
        config.auth.internal_token = INTERNAL_TOKEN.into();
        config.peers.auth = self.auth.clone();
        config.tables.public_url = format!("ws://127.0.0.1:{}/tables/ws", self.gateway_port);
        config.tables.workers = WorkerMode::Processes;
        config.tables.worker_processes = 2;
        config.tables.worker_program = env!("CARGO_BIN_EXE_guildhall").into();
        config.tables.action_timeout_ms = 1000;
        config
    }

    async fn start(
        &mut self,
        service: ServiceKind,
        port: u16,
        tune: impl FnOnce(&mut Config),
    ) -> Running {
        let mut config = self.config(port);
        tune(&mut config);
        support::serve(config, service, Duration::from_secs(20)).await
    }

    async fn state(&self, game_id: &str) -> Option<TableState> {
        let bus = guildhall_bus::connect(&self.redis, &self.prefix)
            .await
            .ok()?;
        guildhall_tables::worker::load_state(&*bus, game_id)
            .await
            .ok()?
    }
}

/// A table of five guests (the match ends after one scored hand) and an observer token.
async fn seat_table(base: &str) -> (Vec<Seat>, String) {
    let http = reqwest::Client::new();
    let mut seats = Vec::new();
    let creator = Player::guest(&http, base).await.unwrap();
    let first = creator
        .create_table(&json!({ "target_score": 1 }))
        .await
        .unwrap();
    let game_id = first.game_id.clone();
    seats.push(first);
    for _ in 0..4 {
        let player = Player::guest(&http, base).await.unwrap();
        seats.push(player.join_table(&game_id).await.unwrap());
    }
    let (status, body) = post(
        &format!("{base}/v1/tables/{game_id}/observer-token"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    (seats, body["observer_token"].as_str().unwrap().to_owned())
}

async fn post(url: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Everything an observer received, shared with the test.
type Seen = Arc<Mutex<Vec<Value>>>;

/// Watches the table (reconnecting when the gateway goes away) until the match is over.
fn observe(ws_url: String, token: String, halt: Halt) -> (Seen, tokio::task::JoinHandle<()>) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let task = tokio::spawn(async move {
        while !halt.stopped() {
            let Ok(mut session) = Session::connect(&ws_url, false).await else {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            };
            let join =
                json!({"message_type": "join", "action_id": "watch", "payload": {"token": token}});
            if session.send(&join).await.is_err() {
                continue;
            }
            loop {
                let next = tokio::select! {
                    next = session.recv() => next,
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {
                        if halt.stopped() { return } else { continue }
                    }
                };
                match next {
                    Ok(Some(Incoming::Message(message))) => log.lock().unwrap().push(message),
                    Ok(Some(_)) => continue,
                    _ => break,
                }
            }
        }
    });
    (seen, task)
}

/// Five bots playing until the match is over.
fn play(seats: Vec<Seat>, stats: Arc<TableStats>, halt: Halt) -> JoinSet<(TableBot, Ended)> {
    let mut bots = JoinSet::new();
    for (i, seat) in seats.into_iter().enumerate() {
        let settings = BotSettings {
            retry_after: Duration::from_millis(1500),
            stall_after: Duration::from_secs(2),
            // Slow enough that the test sees a trick in progress before the hand ends.
            think: Duration::from_millis(40),
            ..BotSettings::default()
        };
        let mut bot = TableBot::new(format!("bot{i}"), seat, 7 + i as u64, settings);
        let (stats, halt) = (stats.clone(), halt.clone());
        bots.spawn(async move {
            let session = bot.connect().await.expect("the bot joins");
            let ended = bot
                .play(session, &stats, &halt)
                .await
                .expect("the bot plays to the end");
            (bot, ended)
        });
    }
    bots
}

/// Every `trick.won` the observer saw.
fn tricks(seen: &[Value]) -> Vec<Value> {
    seen.iter()
        .filter(|m| m["message_type"] == "trick.won")
        .map(|m| m["payload"].clone())
        .collect()
}

/// What every test checks once the hand is over.
async fn the_hand_finished_whole(
    d: &Deployment,
    game_id: &str,
    bots: JoinSet<(TableBot, Ended)>,
    seen: &Seen,
    (failure_at, failed): (usize, Instant),
) {
    let finished = tokio::time::timeout(GAME_OVER, bots.join_all())
        .await
        .expect("the match ends");
    let seen = seen.lock().unwrap().clone();
    // The observer never saw a hand.
    for message in &seen {
        assert_ne!(message["message_type"], "hand.update", "{message}");
        assert!(message["payload"].get("hand").is_none(), "{message}");
    }
    // No card was played twice (events published while a subscription was down may be
    // missing here; the stored state below is the whole truth).
    let tricks = tricks(&seen);
    let mut cards: Vec<String> = tricks
        .iter()
        .flat_map(|t| t["trick"].as_array().unwrap().clone())
        .map(|played| played["card"].to_string())
        .collect();
    let played = cards.len();
    cards.sort();
    cards.dedup();
    assert_eq!(cards.len(), played, "a card was played twice: {tricks:?}");
    // The hand finished: eight tricks, 120 points, scored.
    let state = d.state(game_id).await.expect("the state is stored");
    let view = state.snapshot(None);
    assert_eq!(view["phase"], "match_over", "{view}");
    let sum = |field: &str| -> u64 {
        view[field]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_u64().unwrap())
            .sum()
    };
    assert_eq!(sum("tricks_won"), 8, "{view}");
    assert_eq!(sum("points_taken"), 120, "{view}");
    let last = &view["last_hand"];
    assert_eq!(
        last["caller_points"].as_u64().unwrap() + last["defender_points"].as_u64().unwrap(),
        120,
        "{last}"
    );
    // The observer was resynced after the failure (not only by a phase change).
    assert!(
        seen[failure_at..]
            .iter()
            .any(|m| m["message_type"] == "sync"
                && m["action_id"]
                    .as_str()
                    .is_none_or(|id| id.starts_with("sync-"))),
        "no resync reached the observer after the failure"
    );
    // Nothing a bot saw acknowledged is missing from the stored state.
    let stored: Vec<&str> = state.results.keys().collect();
    for (bot, ended) in &finished {
        assert_eq!(*ended, Ended::MatchOver, "{}", bot.name);
        assert!(
            bot.resyncs.iter().any(|at| *at > failed),
            "{} was not resynced after the failure",
            bot.name
        );
        for id in &bot.acknowledged {
            assert!(
                stored.iter().any(|key| key.ends_with(&format!("/{id}"))),
                "{}: acknowledged {id} is not in the stored state",
                bot.name
            );
        }
    }
}

/// Waits until the stored game is in the middle of a trick (one to four cards down).
async fn mid_trick(d: &Deployment, game_id: &str) {
    eventually("a trick in progress", GAME_OVER, || async {
        let state = d.state(game_id).await?;
        let view = state.snapshot(None);
        assert_ne!(
            view["phase"], "match_over",
            "the hand ended before the test could act"
        );
        let down = view["trick"].as_array().map_or(0, Vec::len);
        (view["phase"] == "playing" && (1..5).contains(&down)).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_worker_process_killed_mid_trick_resumes_where_it_was() {
    let Some(redis) = redis_url() else { return };
    let Some((mut d, _auth)) = Deployment::new(redis).await else {
        return;
    };
    let port = d.gateway_port;
    let tables = d.start(ServiceKind::Tables, port, |_| {}).await;
    let head = d.start(ServiceKind::Head, 0, |_| {}).await;
    let base = format!("http://{}", head.http_addr());
    let (seats, observer_token) = seat_table(&base).await;
    let (game_id, ws_url) = (seats[0].game_id.clone(), seats[0].ws_url.clone());
    assert_eq!(ws_url, format!("ws://127.0.0.1:{port}/tables/ws"));

    let halt = Halt::default();
    let (seen, watching) = observe(ws_url, observer_token, halt.clone());
    let stats = Arc::new(TableStats::default());
    let bots = play(seats, stats.clone(), halt.clone());

    mid_trick(&d, &game_id).await;
    let workers_url = format!("http://{}/internal/v1/tables/workers", tables.http_addr());
    let workers = internal_get(&workers_url).await;
    let process = workers["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["games"].as_array().unwrap().contains(&json!(game_id)))
        .unwrap_or_else(|| panic!("no process runs {game_id}: {workers}"))
        .clone();
    let pid = process["pid"].as_u64().unwrap();
    let failure_at = (seen.lock().unwrap().len(), Instant::now());
    signal(pid as u32, Signal::SIGKILL);

    // The host starts the process again, with the game.
    let slot = process["slot"].clone();
    eventually(
        "the worker process restarted",
        Duration::from_secs(10),
        || async {
            let workers = internal_get(&workers_url).await;
            let again = workers["processes"]
                .as_array()?
                .iter()
                .find(|p| p["slot"] == slot)?
                .clone();
            (again["pid"].as_u64().is_some_and(|p| p != pid)
                && again["restarts"].as_u64() >= Some(1)
                && again["games"].as_array()?.contains(&json!(game_id)))
            .then_some(())
        },
    )
    .await;

    the_hand_finished_whole(&d, &game_id, bots, &seen, failure_at).await;
    halt.stop_run();
    let _ = watching.await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn players_reconnect_through_a_restarted_gateway() {
    let Some(redis) = redis_url() else { return };
    let Some((mut d, _auth)) = Deployment::new(redis).await else {
        return;
    };
    // A host (whose own gateway nobody uses) and a gateway-only instance players reach.
    let _host = d.start(ServiceKind::Tables, 0, |_| {}).await;
    let port = d.gateway_port;
    let gateway = d
        .start(ServiceKind::Tables, port, |c| c.tables.host = false)
        .await;
    let head = d.start(ServiceKind::Head, 0, |_| {}).await;
    let base = format!("http://{}", head.http_addr());
    let (seats, observer_token) = seat_table(&base).await;
    let game_id = seats[0].game_id.clone();

    let halt = Halt::default();
    let (seen, watching) = observe(seats[0].ws_url.clone(), observer_token, halt.clone());
    let stats = Arc::new(TableStats::default());
    let bots = play(seats, stats.clone(), halt.clone());

    mid_trick(&d, &game_id).await;
    let failure_at = (seen.lock().unwrap().len(), Instant::now());
    assert!(gateway.shutdown().await, "the gateway stopped cleanly");
    // A new gateway on the same address; every client comes back through it.
    let _gateway = d
        .start(ServiceKind::Tables, port, |c| c.tables.host = false)
        .await;

    the_hand_finished_whole(&d, &game_id, bots, &seen, failure_at).await;
    assert!(
        stats.report(1, 1.0).reconnects >= 5,
        "every bot reconnected"
    );
    halt.stop_run();
    let _ = watching.await;
}

/// A Redis server of this test's own, with an append-only file, that can be restarted.
struct OwnRedis {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl OwnRedis {
    async fn start() -> Option<Self> {
        let mut redis = Self {
            port: free_port(),
            dir: tempfile::tempdir().ok()?,
            child: None,
        };
        redis.spawn().await?;
        Some(redis)
    }

    async fn spawn(&mut self) -> Option<()> {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .spawn()
            .ok()?;
        self.child = Some(child);
        let url = self.url();
        for _ in 0..100 {
            if let Ok(bus) = guildhall_bus::connect(&url, "probe:").await
                && bus.ping().await.is_ok()
            {
                return Some(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stops it (SIGTERM: Redis writes its append-only file and exits) and starts it again.
    async fn restart(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal(child.id(), Signal::SIGTERM);
            let _ = tokio::task::spawn_blocking(move || child.wait()).await;
        }
        self.spawn().await.expect("Redis starts again");
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_game_goes_on_after_redis_restarts() {
    // Needs redis-server itself, not only a running Redis.
    if redis_url().is_none() {
        return;
    }
    let Some(mut redis) = OwnRedis::start().await else {
        assert!(
            std::env::var_os("CI").is_none(),
            "redis-server is needed under CI"
        );
        eprintln!("notice: skipping, redis-server cannot be started");
        return;
    };
    let Some((mut d, _auth)) = Deployment::new(redis.url()).await else {
        return;
    };
    let port = d.gateway_port;
    let _tables = d.start(ServiceKind::Tables, port, |_| {}).await;
    let head = d.start(ServiceKind::Head, 0, |_| {}).await;
    let base = format!("http://{}", head.http_addr());
    let (seats, observer_token) = seat_table(&base).await;
    let game_id = seats[0].game_id.clone();

    let halt = Halt::default();
    let (seen, watching) = observe(seats[0].ws_url.clone(), observer_token, halt.clone());
    let stats = Arc::new(TableStats::default());
    let bots = play(seats, stats.clone(), halt.clone());

    mid_trick(&d, &game_id).await;
    let failure_at = (seen.lock().unwrap().len(), Instant::now());
    redis.restart().await;

    the_hand_finished_whole(&d, &game_id, bots, &seen, failure_at).await;
    halt.stop_run();
    let _ = watching.await;
}

fn signal(pid: u32, signal: Signal) {
    nix::sys::signal::kill(Pid::from_raw(pid as i32), signal).expect("the process exists");
}

async fn internal_get(url: &str) -> Value {
    reqwest::Client::new()
        .get(url)
        .header(guildhall_http::INTERNAL_TOKEN_HEADER, INTERNAL_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
