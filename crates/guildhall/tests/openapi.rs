//! The OpenAPI document at `/openapi.json`: what it lists, and schemathesis fuzzing the
//! running platform against it (no 5xx, every status, content type, header and body as
//! documented).

mod support;

use std::io::{Read, Seek};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Api, Db, token, up};

/// Every public route, as the document must list it.
const PUBLIC: &[(&str, &str)] = &[
    ("/v1/guest/init", "post"),
    ("/v1/guest/login", "post"),
    ("/v1/accounts", "post"),
    ("/v1/account/password", "post"),
    ("/v1/session/login", "post"),
    ("/v1/session/refresh", "post"),
    ("/v1/session/logout", "post"),
    ("/v1/profile", "get"),
    ("/v1/profile", "put"),
    ("/v1/users/{user_id}/profile", "get"),
    ("/v1/matchmaking/tickets", "post"),
    ("/v1/tables", "post"),
    ("/v1/tables/{game_id}/join", "post"),
    ("/v1/tables/{game_id}/observer-token", "post"),
    ("/v1/terminal/events", "get"),
    ("/v1/matchmaking/tickets/{ticket_id}", "get"),
    ("/v1/matchmaking/tickets/{ticket_id}", "delete"),
    ("/v1/users/{user_id}/stats", "get"),
    ("/.well-known/jwks.json", "get"),
    ("/health/live", "get"),
    ("/health/ready", "get"),
    ("/metrics", "get"),
    ("/openapi.json", "get"),
];

/// The fuzzing budget: examples per operation and phase (about 10 s on two cores), and a
/// hard stop that still leaves time to print the output before nextest's 120 s limit.
const MAX_EXAMPLES: u32 = 30;
const SEED: u32 = 20_250_101;
const DEADLINE: Duration = Duration::from_secs(90);

#[tokio::test]
async fn document_lists_every_public_route_and_nothing_internal() {
    let stack = up(Db::Sqlite, |_| {}).await.unwrap();
    let response = reqwest::get(format!("{}/openapi.json", stack.base))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let doc: Value =
        serde_json::from_str(&response.text().await.unwrap()).expect("/openapi.json is JSON");

    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().expect("paths");
    for (path, method) in PUBLIC {
        assert!(
            paths.get(*path).and_then(|p| p.get(*method)).is_some(),
            "{method} {path} is missing from the document"
        );
    }
    for path in paths.keys() {
        assert!(
            !path.starts_with("/internal") && !path.starts_with("/admin"),
            "{path} is not public"
        );
        assert!(
            PUBLIC.iter().any(|(p, _)| p == path),
            "{path} is documented but not in this test's list"
        );
    }
    let text = doc.to_string();
    assert!(!text.contains("/internal/") && !text.contains("/admin/"));

    // What every client needs: the error envelope, the bearer scheme, the profile headers.
    let components = &doc["components"];
    assert_eq!(
        components["schemas"]["ErrorEnvelope"]["required"],
        serde_json::json!(["error"])
    );
    assert_eq!(
        components["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
    let put = &paths["/v1/profile"]["put"];
    assert!(
        put["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "If-Match" && p["in"] == "header"),
        "{put}"
    );
    assert!(
        put["responses"]["200"]["headers"]["ETag"].is_object(),
        "{put}"
    );
    assert!(paths["/v1/profile"]["get"]["responses"]["200"]["headers"]["ETag"].is_object());

    // The document describes the server it came from: a real guest init matches it.
    let guest = Api::new(&stack.base).guest(None).await;
    let required = components["schemas"]["InitResponse"]["required"]
        .as_array()
        .unwrap();
    for key in required {
        assert!(guest[key.as_str().unwrap()].is_string(), "{key} in {guest}");
    }
    assert!(!token(&guest).is_empty());
}

/// Runs schemathesis (from the test virtualenv) against a live `guildhall up` on SQLite.
///
/// Authentication: schemathesis signs in by itself, through the API under test: it creates
/// a guest (`POST /v1/guest/init`) and sends its `session_token` as the bearer. Logout and
/// a guest upgrade (`POST /v1/accounts` with the bearer) end the caller's session (so would
/// a password change, which a guest's never is), and every later call would be a 401; so
/// the token is fetched again whenever an authenticated call answers 401, and that call is
/// replayed once with the fresh token (`retry_on = [401]`). Every operation is fuzzed,
/// those included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_contract_breaks() {
    let Some(python) = guildhall_testkit::python() else {
        return;
    };
    let schemathesis = python.with_file_name("schemathesis");
    assert!(
        schemathesis.exists(),
        "{} is missing: .ci/python-requirements.txt installs it",
        schemathesis.display()
    );

    // One client address makes every request: lift auth's per-IP and per-username limits
    // far above what the run sends (the limits themselves have their own tests).
    let stack = up(Db::Sqlite, |config| {
        config.auth.login_per_ip_per_minute = 1_000_000;
        config.auth.login_per_username_per_minute = 1_000_000;
        config.auth.register_per_ip_per_minute = 1_000_000;
    })
    .await
    .unwrap();

    // The sign-in schemathesis will use works (and so its failures are the API's own).
    let guest = Api::new(&stack.base).guest(None).await;
    let (status, _) = Api::new(&stack.base)
        .get("/v1/profile", Some(token(&guest)))
        .await;
    assert_eq!(status, 200);

    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("schemathesis.toml");
    std::fs::write(&config, SCHEMATHESIS_TOML).unwrap();
    let url = format!("{}/openapi.json", stack.base);
    let checks = [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "ignored_auth",
        "unsupported_method",
        "allow_header_conformance",
    ]
    .join(",");
    let mut command = Command::new(&schemathesis);
    command
        .arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(&url)
        .args(["--checks", &checks])
        // A stream that never ends: its own test reads real events from it.
        .args(["--exclude-path", "/v1/terminal/events"])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--max-examples", &MAX_EXAMPLES.to_string()])
        .args(["--seed", &SEED.to_string()])
        .args(["--workers", "2"])
        .args(["--request-timeout", "10"])
        .args(["--generation-database", "none"])
        .args(["--no-color", "--output-truncate", "false"])
        .current_dir(work.path())
        .stdin(Stdio::null());
    // Nothing leaves the machine: no proxy, no config or plugins from the environment.
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "SCHEMATHESIS_HOOKS",
    ] {
        command.env_remove(var);
    }
    command.env("NO_PROXY", "127.0.0.1,localhost");

    // The platform serves from this runtime; schemathesis runs on a blocking thread.
    let started = Instant::now();
    let (status, output) = tokio::task::spawn_blocking(move || run(command, DEADLINE))
        .await
        .unwrap();
    let elapsed = started.elapsed();
    eprintln!("schemathesis ran for {elapsed:.1?}");
    assert!(
        status == Some(0),
        "schemathesis exited with {status:?} after {elapsed:.1?}:\n{output}"
    );
    eprintln!("{}", tail(&output, 25));
    drop(work);
    drop(stack);
}

/// What schemathesis needs beyond the command line: how to sign in, and no state kept
/// between runs.
const SCHEMATHESIS_TOML: &str = r#"
[cache]
enabled = false

[auth]
auto-signup = false

[auth.dynamic.openapi.bearerAuth]
path = "/v1/guest/init"
method = "post"
extract_from = "body"
extract_selector = "/session_token"
retry_on = [401]
"#;

/// Runs `command` to completion or until `deadline`; returns its exit code and its
/// stdout and stderr together.
fn run(mut command: Command, deadline: Duration) -> (Option<i32>, String) {
    let out = tempfile::tempfile().unwrap();
    command
        .stdout(out.try_clone().unwrap())
        .stderr(out.try_clone().unwrap());
    let mut child = command.spawn().expect("starting schemathesis");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut out = out;
    let mut bytes = Vec::new();
    out.rewind().unwrap();
    out.read_to_end(&mut bytes).unwrap();
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    if status.is_none() {
        text.push_str(&format!("\n(killed after {deadline:?})"));
    }
    (status, text)
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
