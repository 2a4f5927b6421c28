//! Identity in the split shape: one auth and several head instances, each its own
//! platform on its own port, sharing PostgreSQL and Redis, head calling auth over HTTP.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use guildhall::platform::{self, Running, Shape};
use guildhall::service::ServiceKind;
use guildhall_testkit::pg::TestDatabase;
use guildhall_testkit::proxy::ChaosProxy;
use guildhall_testkit::{eventually, redis_prefix, redis_url};
use reqwest::Method;
use serde_json::json;
use support::{Api, expect_error, test_config, token};

const INTERNAL_TOKEN: &str = "split-shape-internal-token";

/// Shared settings of one split deployment.
struct Deployment {
    db: TestDatabase,
    redis: String,
    prefix: String,
    dirs: Vec<tempfile::TempDir>,
}

impl Deployment {
    async fn new() -> Option<Self> {
        let db = TestDatabase::create().await?;
        let redis = redis_url()?;
        Some(Self {
            db,
            redis,
            prefix: redis_prefix(),
            dirs: Vec::new(),
        })
    }

    async fn start(&mut self, service: ServiceKind, auth_url: Option<&str>) -> (Running, Api) {
        self.start_tuned(service, auth_url, |_| {}).await
    }

    async fn start_tuned(
        &mut self,
        service: ServiceKind,
        auth_url: Option<&str>,
        tune: impl FnOnce(&mut guildhall_config::Config),
    ) -> (Running, Api) {
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(dir.path());
        config.database.url = self.db.url().to_owned();
        config.bus.url = self.redis.clone();
        config.bus.key_prefix = self.prefix.clone();
        config.auth.internal_token = INTERNAL_TOKEN.into();
        config.peers.request_timeout_ms = 500;
        config.head.auth_breaker_cooldown_secs = 1;
        // All test traffic comes from 127.0.0.1.
        config.auth.register_per_ip_per_minute = 1_000_000;
        config.auth.login_per_ip_per_minute = 1_000_000;
        if let Some(url) = auth_url {
            config.peers.auth = url.to_owned();
        }
        tune(&mut config);
        self.dirs.push(dir);
        let running = platform::start(config, Shape::Serve(service))
            .await
            .unwrap();
        let api = Api::new(&format!("http://{}", running.http_addr()));
        // Ready means the head has loaded the signing keys from auth.
        eventually(
            "the instance to be ready",
            Duration::from_secs(10),
            || async { (api.get("/health/ready", None).await.0 == 200).then_some(()) },
        )
        .await;
        (running, api)
    }
}

impl Deployment {
    /// Runs a `guildhall` command against this deployment's database and bus, as an
    /// operator would from another machine; returns its stdout.
    fn cli(&self, args: &[&str]) -> String {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_guildhall"))
            .args(args)
            .env("GUILDHALL_DATABASE__URL", self.db.url())
            .env("GUILDHALL_BUS__URL", &self.redis)
            .env("GUILDHALL_BUS__KEY_PREFIX", &self.prefix)
            .env("GUILDHALL_TELEMETRY__LOG_FILTER", "warn")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

/// Polls until `api` refuses `token`; returns how long that took.
async fn refused_within(api: &Api, token: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let (status, _) = api.get("/v1/profile", Some(token)).await;
        if status == 401 {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "still accepted after {limit:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn revocation_reaches_every_head_within_a_second_and_survives_restarts() {
    let Some(mut deployment) = Deployment::new().await else {
        return;
    };
    let (_auth, auth_api) = deployment.start(ServiceKind::Auth, None).await;
    let (_head_a, a) = deployment
        .start(ServiceKind::Head, Some(&auth_api.base))
        .await;
    let (head_b, b) = deployment
        .start(ServiceKind::Head, Some(&auth_api.base))
        .await;

    let guest = a.guest(Some("Ace")).await;
    let t = token(&guest);
    let (status, profile) = b.get("/v1/profile", Some(t)).await;
    assert_eq!(
        (status, profile["display_name"].as_str()),
        (200, Some("Ace")),
        "head B verifies head A's token locally"
    );

    let (status, _) = a
        .send(Method::POST, "/v1/session/logout", Some(t), None)
        .await;
    assert_eq!(status, 204);
    let took = refused_within(&b, t, Duration::from_secs(1)).await;
    println!("logout on head A refused by head B after {took:?}");

    // A verifier that starts afterwards loads the revoked set and refuses it too.
    let (_head_c, c) = deployment
        .start(ServiceKind::Head, Some(&auth_api.base))
        .await;
    expect_error(c.get("/v1/profile", Some(t)).await, 401, "unauthorized");
    // And one that restarts (B) as well.
    assert!(head_b.shutdown().await);
    let (_head_b2, b2) = deployment
        .start(ServiceKind::Head, Some(&auth_api.base))
        .await;
    expect_error(b2.get("/v1/profile", Some(t)).await, 401, "unauthorized");

    // The admin CLI bans through the same database and bus: every head refuses at once.
    let other = a.account("sarahjane", "smith and k9 rule").await;
    let user = other["user_id"].as_str().unwrap();
    assert_eq!(c.get("/v1/profile", Some(token(&other))).await.0, 200);
    deployment.cli(&["admin", "ban", user]);
    refused_within(&a, token(&other), Duration::from_secs(1)).await;
    refused_within(&c, token(&other), Duration::from_secs(1)).await;
    let login = json!({"username": "sarahjane", "password": "smith and k9 rule"});
    expect_error(
        a.post("/v1/session/login", None, login).await,
        403,
        "banned",
    );
}

#[tokio::test]
async fn auth_outage_gives_auth_unavailable_never_a_hang_or_500() {
    let Some(mut deployment) = Deployment::new().await else {
        return;
    };
    let (_auth, auth_api) = deployment.start(ServiceKind::Auth, None).await;
    let proxy = ChaosProxy::start(auth_api.base.trim_start_matches("http://")).await;
    let (_head, head) = deployment
        .start(ServiceKind::Head, Some(&format!("http://{}", proxy.addr())))
        .await;
    let signed_in = head.guest(Some("Nardole")).await;

    // Load: guest inits from 8 clients while auth goes down and comes back.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (created, unavailable, other) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (head, stop, created, unavailable, other) = (
                head.clone(),
                stop.clone(),
                created.clone(),
                unavailable.clone(),
                other.clone(),
            );
            tokio::spawn(async move {
                let mut slowest = Duration::ZERO;
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let response = head
                        .http
                        .post(format!("{}/v1/guest/init", head.base))
                        .json(&json!({}))
                        .send()
                        .await
                        .unwrap();
                    slowest = slowest.max(started.elapsed());
                    match response.status().as_u16() {
                        201 => created.fetch_add(1, Ordering::Relaxed),
                        503 => {
                            assert!(
                                response.headers().get("retry-after").is_some(),
                                "503 carries Retry-After"
                            );
                            let body: serde_json::Value = response.json().await.unwrap();
                            assert_eq!(body["error"]["code"], "auth_unavailable");
                            unavailable.fetch_add(1, Ordering::Relaxed)
                        }
                        status => {
                            eprintln!("unexpected status {status}");
                            other.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                }
                slowest
            })
        })
        .collect();

    eventually("guests to be created", Duration::from_secs(10), || async {
        (created.load(Ordering::Relaxed) >= 20).then_some(())
    })
    .await;
    proxy.set_down(true);
    eventually(
        "auth_unavailable answers",
        Duration::from_secs(10),
        || async { (unavailable.load(Ordering::Relaxed) >= 20).then_some(()) },
    )
    .await;
    // While auth is down, reads that need only a token keep working: verification is local.
    assert_eq!(
        head.get("/v1/profile", Some(token(&signed_in))).await.0,
        200
    );
    let before = created.load(Ordering::Relaxed);
    proxy.set_down(false);
    eventually(
        "guest inits to succeed again",
        Duration::from_secs(15),
        || async { (created.load(Ordering::Relaxed) >= before + 20).then_some(()) },
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    let mut slowest = Duration::ZERO;
    for worker in workers {
        slowest = slowest.max(worker.await.unwrap());
    }
    assert_eq!(
        other.load(Ordering::Relaxed),
        0,
        "only 201 or 503 auth_unavailable, never a 500"
    );
    assert!(
        slowest < Duration::from_secs(3),
        "no request hung: slowest took {slowest:?}"
    );
    println!(
        "created {}, auth_unavailable {}, slowest {slowest:?}",
        created.load(Ordering::Relaxed),
        unavailable.load(Ordering::Relaxed)
    );
}

#[tokio::test]
async fn key_rotation_reaches_auth_and_heads_while_old_tokens_stay_valid() {
    let Some(mut deployment) = Deployment::new().await else {
        return;
    };
    let (_auth, auth_api) = deployment.start(ServiceKind::Auth, None).await;
    let (_head, head) = deployment
        .start(ServiceKind::Head, Some(&auth_api.base))
        .await;
    let before = head.guest(None).await;
    let old_kid = jsonwebtoken::decode_header(token(&before))
        .unwrap()
        .kid
        .unwrap();

    let printed = deployment.cli(&["keys", "rotate"]);
    let new_kid = printed
        .split_whitespace()
        .nth(3)
        .unwrap()
        .trim_end_matches(';')
        .to_owned();
    assert_ne!(new_kid, old_kid);

    // Auth hears the announcement and signs with the new key; head trusts it.
    let after = eventually(
        "auth to sign with the new key",
        Duration::from_secs(5),
        || async {
            let guest = head.guest(None).await;
            let kid = jsonwebtoken::decode_header(token(&guest))
                .unwrap()
                .kid
                .unwrap();
            (kid == new_kid).then_some(guest)
        },
    )
    .await;
    assert_eq!(
        head.get("/v1/profile", Some(token(&after))).await.0,
        200,
        "the head trusts the new key"
    );
    assert_eq!(
        head.get("/v1/profile", Some(token(&before))).await.0,
        200,
        "old tokens stay valid until they expire"
    );
    let (_, jwks) = auth_api.get("/.well-known/jwks.json", None).await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(
        kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()),
        "{kids:?}"
    );
}

#[tokio::test]
async fn a_login_burst_does_not_open_heads_circuit_to_auth() {
    let Some(mut deployment) = Deployment::new().await else {
        return;
    };
    let (_auth, auth_api) = deployment
        .start_tuned(ServiceKind::Auth, None, |c| {
            c.auth.argon2_memory_kib = 262_144;
            c.auth.argon2_iterations = 3;
            c.auth.login_per_username_per_minute = 1_000;
        })
        .await;
    let (_head, head) = deployment
        .start_tuned(ServiceKind::Head, Some(&auth_api.base), |c| {
            // Patient enough that slow hashing on a busy machine is not a timeout: the
            // point is that auth's own refusals (429 when its hashing slots are full) do
            // not count against it.
            c.peers.request_timeout_ms = 10_000;
            c.head.auth_breaker_cooldown_secs = 30;
        })
        .await;
    head.account("yaz", "sheffield police").await;
    let logins: Vec<_> = (0..12)
        .map(|_| {
            let head = head.clone();
            tokio::spawn(async move {
                head.post(
                    "/v1/session/login",
                    None,
                    json!({"username": "yaz", "password": "sheffield police"}),
                )
                .await
            })
        })
        .collect();
    for login in logins {
        let (status, body) = login.await.unwrap();
        assert!(
            status == 200 || (status == 429 && body["error"]["code"] == "rate_limited"),
            "{status}: {body}"
        );
    }
    // A breaker opened by the burst would fail this for 30 s.
    let (status, body) = head.post("/v1/guest/init", None, json!({})).await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn head_passes_auths_retry_after_on_through() {
    let Some(mut deployment) = Deployment::new().await else {
        return;
    };
    // Two logins per username per minute: auth's wait after the second is about 30 s.
    let (_auth, auth_api) = deployment
        .start_tuned(ServiceKind::Auth, None, |c| {
            c.auth.login_per_username_per_minute = 2;
        })
        .await;
    // A patient head: a slow answer under load must not turn into auth_unavailable.
    let (_head, head) = deployment
        .start_tuned(ServiceKind::Head, Some(&auth_api.base), |c| {
            c.peers.request_timeout_ms = 10_000;
        })
        .await;
    head.account("martha", "bad wolf bay").await;
    let mut limited = None;
    for _ in 0..4 {
        let response = head
            .http
            .post(format!("{}/v1/session/login", head.base))
            .json(&json!({"username": "martha", "password": "not her password"}))
            .send()
            .await
            .unwrap();
        if response.status() == 429 {
            limited = Some(response);
            break;
        }
    }
    let response = limited.expect("the third login is rate limited");
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    // Auth's own figure, not a made-up minute.
    assert!(
        (1..=30).contains(&retry_after),
        "Retry-After {retry_after}: {body}"
    );
}

/// Waits until `api` serves `path` to `token` with a body `check` accepts; returns how long
/// that took. Fails after one second: changes travel by the bus, not by cache expiry
/// (these heads keep profiles for a minute).
async fn served_within_a_second(
    api: &Api,
    path: &str,
    token: &str,
    check: impl Fn(u16, &serde_json::Value) -> bool,
) -> Duration {
    let started = Instant::now();
    eventually(
        "the change to reach the other head",
        Duration::from_secs(1),
        || async {
            let (status, body) = api.get(path, Some(token)).await;
            check(status, &body).then_some(())
        },
    )
    .await;
    started.elapsed()
}

/// `PUT /v1/profile` with `If-Match`.
async fn rename(api: &Api, token: &str, if_match: &str, name: &str) -> (u16, serde_json::Value) {
    let response = api
        .http
        .put(format!("{}/v1/profile", api.base))
        .bearer_auth(token)
        .header("if-match", if_match)
        .json(&json!({ "display_name": name }))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn profile_changes_reach_every_heads_cache_through_the_bus() {
    let Some(mut deployment) = Deployment::new().await else {
        return;
    };
    let (_auth, auth_api) = deployment.start(ServiceKind::Auth, None).await;
    let long_cache = |c: &mut guildhall_config::Config| c.head.profile_cache_ttl_ms = 60_000;
    let (_head_a, a) = deployment
        .start_tuned(ServiceKind::Head, Some(&auth_api.base), long_cache)
        .await;
    let (_head_b, b) = deployment
        .start_tuned(ServiceKind::Head, Some(&auth_api.base), long_cache)
        .await;

    // B caches the guest's profile...
    let guest = a.guest(Some("Ace")).await;
    let t = token(&guest);
    let (_, seen) = b.get("/v1/profile", Some(t)).await;
    assert_eq!(
        (seen["display_name"].as_str(), seen["version"].as_i64()),
        (Some("Ace"), Some(1))
    );
    // ...A renames it...
    assert_eq!(rename(&a, t, "\"1\"", "Dorothy").await.0, 200);
    // ...and B serves the new name well before its copy would expire.
    let took = served_within_a_second(&b, "/v1/profile", t, |status, body| {
        status == 200 && body["display_name"] == "Dorothy" && body["version"] == 2
    })
    .await;
    println!("a rename on head A reached head B's cache after {took:?}");
    // A conditional write with the old version fails on B too, naming the current one.
    let (status, body) = rename(&b, t, "\"1\"", "Ace Again").await;
    assert_eq!(
        (status, &body["profile"]["version"]),
        (409, &json!(2)),
        "{body}"
    );

    // An upgrade through B changes the kind; A (which cached its own rename) follows.
    let upgraded = b
        .post(
            "/v1/accounts",
            Some(t),
            json!({"username": "acemcshane", "password": "seven of them", "email": "ace@example.com"}),
        )
        .await;
    assert_eq!(upgraded.0, 201, "{}", upgraded.1);
    let account = token(&upgraded.1);
    served_within_a_second(&a, "/v1/profile", account, |status, body| {
        status == 200 && body["kind"] == "account" && body["version"] == 3
    })
    .await;

    // An import rolled back by the CLI disappears from every head's cache at once.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("legacy.csv");
    std::fs::write(&csv, "legacy_id,display_name,created_at\ng-77,Sophie,\n").unwrap();
    let out = deployment.cli(&["import", "guest-profiles", csv.to_str().unwrap()]);
    let batch = out
        .split_whitespace()
        .find(|w| w.starts_with("import-"))
        .expect("a batch id")
        .to_owned();
    let imported = uuid::Uuid::new_v5(&guildhall_head::import::LEGACY_NAMESPACE, b"g-77");
    let path = format!("/v1/users/{imported}/profile");
    for head in [&a, &b] {
        let (status, body) = head.get(&path, Some(account)).await;
        assert_eq!(
            (status, body["display_name"].as_str()),
            (200, Some("Sophie"))
        );
    }
    deployment.cli(&["import", "rollback", &batch]);
    for head in [&a, &b] {
        served_within_a_second(head, &path, account, |status, body| {
            status == 404 && body["error"]["code"] == "user_not_found"
        })
        .await;
    }
}
