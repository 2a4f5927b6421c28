//! Readiness of a split-shape service follows its real PostgreSQL and Redis: cut either
//! (through a chaos proxy, so the shared servers stay up for other tests) and readiness
//! turns 503 naming it; restore it and readiness returns to 200.

use std::time::Duration;

use guildhall::platform::{self, Shape};
use guildhall::service::ServiceKind;
use guildhall_testkit::pg::TestDatabase;
use guildhall_testkit::proxy::ChaosProxy;
use guildhall_testkit::{eventually, host_port, redis_prefix, redis_url, with_host_port};
use serde_json::Value;

async fn ready(base: &str) -> (u16, Value) {
    let response = reqwest::get(format!("{base}/health/ready")).await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn readiness_follows_postgres_and_redis() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let Some(redis) = redis_url() else { return };
    let pg_proxy = ChaosProxy::start(&host_port(db.url())).await;
    let redis_proxy = ChaosProxy::start(&host_port(&redis)).await;

    let mut config = guildhall_config::Config::default();
    config.http.listen = "127.0.0.1:0".parse().unwrap();
    config.ssh.listen = "127.0.0.1:0".parse().unwrap();
    config.gamehost.nethack = false;
    config.database.url = with_host_port(db.url(), &pg_proxy.addr().to_string());
    config.database.connect_timeout_secs = 1;
    config.bus.url = with_host_port(&redis, &redis_proxy.addr().to_string());
    config.bus.key_prefix = redis_prefix();
    config.auth.internal_token = "readiness-test-internal-token".into();
    let running = platform::start(config, Shape::Serve(ServiceKind::Auth))
        .await
        .unwrap();
    let base = format!("http://{}", running.http_addr());

    let (status, body) = ready(&base).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["checks"]["bus:redis"], "ok");

    pg_proxy.set_down(true);
    let body = eventually(
        "readiness to report the database",
        Duration::from_secs(10),
        || async {
            let (status, body) = ready(&base).await;
            (status == 503).then_some(body)
        },
    )
    .await;
    assert_eq!(body["error"]["code"], "not_ready");
    assert_eq!(
        body["error"]["details"]["failing"],
        serde_json::json!(["database"])
    );
    pg_proxy.set_down(false);
    eventually(
        "readiness to recover from the database",
        Duration::from_secs(10),
        || async { (ready(&base).await.0 == 200).then_some(()) },
    )
    .await;

    redis_proxy.set_down(true);
    let body = eventually(
        "readiness to report Redis",
        Duration::from_secs(10),
        || async {
            let (status, body) = ready(&base).await;
            (status == 503).then_some(body)
        },
    )
    .await;
    assert_eq!(
        body["error"]["details"]["failing"],
        serde_json::json!(["bus:redis"])
    );
    // Liveness stays 200: restarting the process would not bring Redis back.
    assert_eq!(
        reqwest::get(format!("{base}/health/live"))
            .await
            .unwrap()
            .status(),
        200
    );
    redis_proxy.set_down(false);
    eventually(
        "readiness to recover from Redis",
        Duration::from_secs(15),
        || async { (ready(&base).await.0 == 200).then_some(()) },
    )
    .await;

    assert!(running.shutdown().await);
}

#[tokio::test]
async fn a_required_peer_that_is_down_makes_the_service_unready() {
    let mut config = guildhall_config::Config::default();
    let dir = tempfile::tempdir().unwrap();
    config.data_dir = dir.path().to_owned();
    config.http.listen = "127.0.0.1:0".parse().unwrap();
    config.ssh.listen = "127.0.0.1:0".parse().unwrap();
    config.gamehost.nethack = false;
    // Nothing listens on port 1.
    config.peers.auth = "http://127.0.0.1:1".into();
    config.peers.required = vec!["auth".into()];
    let running = platform::start(config, Shape::Serve(ServiceKind::Terminal))
        .await
        .unwrap();
    let base = format!("http://{}", running.http_addr());
    let (status, body) = ready(&base).await;
    assert_eq!(status, 503);
    assert_eq!(
        body["error"]["details"]["failing"],
        serde_json::json!(["peer:auth"])
    );
    assert!(running.shutdown().await);
}

#[tokio::test]
async fn up_shape_is_ready_with_embedded_adapters() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = guildhall_config::Config {
        data_dir: dir.path().to_owned(),
        ..Default::default()
    };
    config.http.listen = "127.0.0.1:0".parse().unwrap();
    config.ssh.listen = "127.0.0.1:0".parse().unwrap();
    config.gamehost.nethack = false;
    let running = platform::start(config, Shape::Up).await.unwrap();
    let base = format!("http://{}", running.http_addr());
    let (status, body) = ready(&base).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["checks"]["bus:memory"], "ok");
    assert!(
        dir.path().join("guildhall.db").exists(),
        "SQLite lives in the data dir"
    );
    assert!(
        dir.path().join("secrets/internal-token").exists(),
        "secrets are generated there"
    );
    assert!(running.shutdown().await);
}
