//! Starting platforms for integration tests and speaking JSON to them.

#![allow(dead_code, unused_macros)]

/// Runs each named scenario (an `async fn(Db)`) as two tests: on SQLite and on PostgreSQL.
macro_rules! on_both_stores {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() { super::$name(super::Db::Sqlite).await }
                #[tokio::test]
                async fn postgres() { super::$name(super::Db::Postgres).await }
            }
        )+
    };
}

pub mod characters;

use guildhall::platform::{self, Running, Shape};
use guildhall_testkit::pg::TestDatabase;
use serde_json::Value;

/// Which store a test runs against.
#[derive(Debug, Clone, Copy)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A running platform and what must live as long as it.
pub struct Stack {
    pub running: Running,
    pub base: String,
    pub _dir: tempfile::TempDir,
    pub _db: Option<TestDatabase>,
}

/// A config for tests: port 0, a fresh data dir, fast password hashing.
pub fn test_config(dir: &std::path::Path) -> guildhall_config::Config {
    // `GH_TEST_LOG=debug cargo nextest run ... --no-capture` shows the server's logs.
    if let Ok(filter) = std::env::var("GH_TEST_LOG") {
        let telemetry = guildhall_config::TelemetryConfig {
            log_filter: filter,
            ..Default::default()
        };
        std::mem::forget(guildhall_telemetry::init(&telemetry, "test"));
    }
    let mut config = guildhall_config::Config {
        data_dir: dir.to_owned(),
        ..Default::default()
    };
    config.http.listen = "127.0.0.1:0".parse().unwrap();
    config.ssh.listen = "127.0.0.1:0".parse().unwrap();
    config.gamehost.nethack = false;
    config.auth.argon2_memory_kib = 8192;
    config.auth.argon2_iterations = 1;
    config.auth.admin_token = "test-admin-token-0123456789".into();
    config
}

/// `guildhall serve <service>` in this process, once its `/health/ready` answers 200
/// (for head and the others, that includes having the signing keys from auth).
pub async fn serve(
    config: guildhall_config::Config,
    service: guildhall::service::ServiceKind,
    patience: std::time::Duration,
) -> Running {
    let running = platform::start(config, Shape::Serve(service))
        .await
        .unwrap();
    let url = format!("http://{}/health/ready", running.http_addr());
    guildhall_testkit::eventually("the service to be ready", patience, || async {
        let status = reqwest::get(&url).await.ok()?.status();
        (status == 200).then_some(())
    })
    .await;
    running
}

/// `guildhall up` against SQLite or a fresh PostgreSQL database; `None` when PostgreSQL is
/// unavailable outside CI.
pub async fn up(db: Db, tune: impl FnOnce(&mut guildhall_config::Config)) -> Option<Stack> {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    let pg = match db {
        Db::Sqlite => None,
        Db::Postgres => {
            let pg = TestDatabase::create().await?;
            config.database.url = pg.url().to_owned();
            Some(pg)
        }
    };
    tune(&mut config);
    let running = platform::start(config, Shape::Up).await.unwrap();
    let base = format!("http://{}", running.http_addr());
    Some(Stack {
        running,
        base,
        _dir: dir,
        _db: pg,
    })
}

/// A JSON client for one base URL.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
}

impl Api {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            http: reqwest::Client::new(),
        }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap_or(Value::String(text))
            },
        )
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, token, None).await
    }

    /// Creates a guest; returns the 201 body.
    pub async fn guest(&self, display_name: Option<&str>) -> Value {
        let body = match display_name {
            Some(name) => serde_json::json!({ "display_name": name }),
            None => serde_json::json!({}),
        };
        let (status, body) = self.post("/v1/guest/init", None, body).await;
        assert_eq!(status, 201, "{body}");
        body
    }

    /// Registers an account; returns the 201 body.
    pub async fn account(&self, username: &str, password: &str) -> Value {
        let (status, body) = self
            .post("/v1/accounts", None, serde_json::json!({"username": username, "password": password, "email": format!("{username}@example.com")}))
            .await;
        assert_eq!(status, 201, "{body}");
        body
    }
}

/// Asserts an error envelope with `status` and `code`.
pub fn expect_error((status, body): (u16, Value), want_status: u16, code: &str) -> Value {
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (want_status, Some(code)),
        "{body}"
    );
    body
}

pub fn token(body: &Value) -> &str {
    body["session_token"].as_str().unwrap()
}

/// The stack's `/metrics` text.
pub async fn scrape(stack: &Stack) -> String {
    reqwest::get(format!("{}/metrics", stack.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}
