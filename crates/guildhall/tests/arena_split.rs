//! Matchmaking and the arena in the split shape: auth, matchmaker, head and two arena
//! servers, each its own platform on its own port, on PostgreSQL and Redis. The whole
//! client path goes through head; a join token only opens its own server; a matchmaker
//! restart loses no queued ticket; a game server that stops heartbeating gets no lobbies.

mod support;

use std::time::Duration;

use guildhall::platform::Running;
use guildhall::service::ServiceKind;
use guildhall_bots::{Incoming, Player, Session};
use guildhall_testkit::pg::TestDatabase;
use guildhall_testkit::{free_port, redis_prefix, redis_url};
use serde_json::json;
use support::test_config;

const INTERNAL_TOKEN: &str = "arena-split-internal-token";

struct Deployment {
    db: TestDatabase,
    redis: String,
    prefix: String,
    auth: String,
    matchmaker_port: u16,
    dirs: Vec<tempfile::TempDir>,
    running: Vec<Running>,
}

impl Deployment {
    async fn new() -> Option<Self> {
        let db = TestDatabase::create().await?;
        let redis = redis_url()?;
        let mut deployment = Self {
            db,
            redis,
            prefix: redis_prefix(),
            auth: String::new(),
            matchmaker_port: free_port(),
            dirs: Vec::new(),
            running: Vec::new(),
        };
        let auth = deployment.start(ServiceKind::Auth, 0).await;
        deployment.auth = format!("http://{}", auth.http_addr());
        deployment.running.push(auth);
        Some(deployment)
    }

    async fn start(&mut self, service: ServiceKind, port: u16) -> Running {
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(dir.path());
        config.http.listen = format!("127.0.0.1:{port}").parse().unwrap();
        config.database.url = self.db.url().to_owned();
        config.bus.url = self.redis.clone();
        config.bus.key_prefix = self.prefix.clone();
        config.auth.internal_token = INTERNAL_TOKEN.into();
        config.auth.register_per_ip_per_minute = 1_000_000;
        config.peers.auth = self.auth.clone();
        config.peers.matchmaker = format!("http://127.0.0.1:{}", self.matchmaker_port);
        config.matchmaker.server_timeout_ms = 1500;
        config.arena.heartbeat_interval_ms = 200;
        self.dirs.push(dir);
        support::serve(config, service, Duration::from_secs(10)).await
    }
}

#[tokio::test]
async fn the_whole_path_through_head_and_a_join_token_only_opens_its_own_server() {
    let Some(mut d) = Deployment::new().await else {
        return;
    };
    let port = d.matchmaker_port;
    let matchmaker = d.start(ServiceKind::Matchmaker, port).await;
    let head = d.start(ServiceKind::Head, 0).await;
    let arena_a = d.start(ServiceKind::Arena, 0).await;
    let arena_b = d.start(ServiceKind::Arena, 0).await;
    let base = format!("http://{}", head.http_addr());
    let http = reqwest::Client::new();

    let a = Player::guest(&http, &base).await.unwrap();
    let b = Player::guest(&http, &base).await.unwrap();
    let ta = a
        .queue("arena-ffa", Some(json!({"rating": 1500})))
        .await
        .unwrap();
    let tb = b
        .queue("arena-ffa", Some(json!({"rating": 1450})))
        .await
        .unwrap();
    let wait = Duration::from_secs(20);
    let (sa, sb) = (
        a.assignment(ta, wait).await.unwrap(),
        b.assignment(tb, wait).await.unwrap(),
    );
    assert_eq!(sa.lobby_id, sb.lobby_id);

    // The matchmaker's internal ticket read refuses a wait that is not a non-negative
    // number of seconds, as the public read does (it used to panic the request on NaN,
    // and took a negative wait for none), and still answers a real one.
    let internal = format!("http://127.0.0.1:{port}/internal/v1/matchmaking/tickets/{ta}");
    for (wait, status) in [
        ("NaN", 400),
        ("inf", 400),
        ("-1", 400),
        ("abc", 400),
        ("0.1", 200),
        ("", 200),
    ] {
        let response = http
            .get(format!("{internal}?user_id={}&wait={wait}", a.user_id))
            .header(guildhall_http::INTERNAL_TOKEN_HEADER, INTERNAL_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "wait={wait}");
        let body: serde_json::Value = response.json().await.unwrap();
        if status == 400 {
            assert_eq!(
                body["error"]["code"], "invalid_request",
                "wait={wait}: {body}"
            );
        } else {
            assert_eq!(body["status"], "assigned", "wait={wait}: {body}");
        }
    }
    let servers = [
        format!("ws://{}/arena/ws", arena_a.http_addr()),
        format!("ws://{}/arena/ws", arena_b.http_addr()),
    ];
    assert!(
        servers.contains(&sa.ws_url),
        "{} is not one of {servers:?}",
        sa.ws_url
    );

    // The token opens the server it was issued for...
    let mut session = Session::connect(&sa.ws_url, false).await.unwrap();
    let welcome = session.join(&sa.join_token).await.unwrap();
    assert_eq!(welcome["lobby_id"], sa.lobby_id.to_string());
    session
        .expect("snapshot", Duration::from_secs(5))
        .await
        .unwrap();
    // ...and not the other one.
    let other = servers.iter().find(|s| **s != sb.ws_url).unwrap();
    let mut wrong = Session::connect(other, false).await.unwrap();
    wrong
        .send(&json!({"type": "join", "token": sb.join_token}))
        .await
        .unwrap();
    let error = wrong.expect("error", Duration::from_secs(5)).await.unwrap();
    assert_eq!(error["code"], "lobby_closed");
    assert!(matches!(
        wrong.recv().await.unwrap(),
        Some(Incoming::Closed { code: 4410, .. })
    ));

    for running in [arena_b, arena_a, head, matchmaker] {
        running.shutdown().await;
    }
}

#[tokio::test]
async fn a_matchmaker_restart_loses_no_queued_ticket_and_silent_servers_are_evicted() {
    let Some(mut d) = Deployment::new().await else {
        return;
    };
    let port = d.matchmaker_port;
    let matchmaker = d.start(ServiceKind::Matchmaker, port).await;
    let head = d.start(ServiceKind::Head, 0).await;
    let arena = d.start(ServiceKind::Arena, 0).await;
    let base = format!("http://{}", head.http_addr());
    let http = reqwest::Client::new();

    // A queues alone, then the matchmaker goes down and comes back.
    let a = Player::guest(&http, &base).await.unwrap();
    let ta = a.queue("arena-ffa", None).await.unwrap();
    matchmaker.shutdown().await;
    let (status, body) = {
        let response = http
            .get(format!("{base}/v1/matchmaking/tickets/{ta}"))
            .bearer_auth(&a.token)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    };
    assert_eq!(status, 503, "while the matchmaker is down: {body}");
    let matchmaker = d.start(ServiceKind::Matchmaker, port).await;

    // A's ticket is still queued; B arrives and they are matched.
    let b = Player::guest(&http, &base).await.unwrap();
    let tb = b.queue("arena-ffa", None).await.unwrap();
    let wait = Duration::from_secs(20);
    let (sa, sb) = (
        a.assignment(ta, wait).await.unwrap(),
        b.assignment(tb, wait).await.unwrap(),
    );
    assert_eq!(sa.lobby_id, sb.lobby_id);
    assert_eq!(sa.ws_url, format!("ws://{}/arena/ws", arena.http_addr()));

    // The only game server stops: once evicted, new pairs wait instead of being sent to it.
    arena.shutdown().await;
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let c = Player::guest(&http, &base).await.unwrap();
    let e = Player::guest(&http, &base).await.unwrap();
    let tc = c.queue("arena-ffa", None).await.unwrap();
    e.queue("arena-ffa", None).await.unwrap();
    let still = c.assignment(tc, Duration::from_secs(2)).await;
    assert!(still.is_err(), "assigned to an evicted server: {still:?}");
    // A new server arrives and takes them.
    let fresh = d.start(ServiceKind::Arena, 0).await;
    let seat = c.assignment(tc, wait).await.unwrap();
    assert_eq!(seat.ws_url, format!("ws://{}/arena/ws", fresh.http_addr()));

    for running in [fresh, head, matchmaker] {
        running.shutdown().await;
    }
}
