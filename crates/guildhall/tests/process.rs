//! The real binary, as a user runs it: commands, config handling, and shutdown on signals
//! while under load.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use guildhall_testkit::pg::TestDatabase;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

fn guildhall() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_guildhall"));
    // Tests must not pick up a developer's environment.
    for (key, _) in std::env::vars() {
        if key.starts_with("GUILDHALL_") || key.starts_with("OTEL_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// Starts `guildhall <args>` and returns it with the base URL it printed.
fn spawn(args: &[&str], prefix: &str) -> (Child, String) {
    spawn_command(guildhall().args(args), prefix)
}

/// Starts `cmd` (a [`guildhall`] command with its arguments and environment) and returns
/// it with the base URL it printed after `prefix`.
fn spawn_command(cmd: &mut Command, prefix: &str) -> (Child, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        let line = lines
            .next()
            .expect("the banner before stdout closes")
            .unwrap();
        if let Some(rest) = line.trim().strip_prefix(prefix) {
            break rest.trim().to_owned();
        }
    };
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, base)
}

fn wait_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Hammers `url` with 32 clients until told to stop; returns (ok, server errors).
fn load(
    url: String,
    stop: Arc<std::sync::atomic::AtomicBool>,
    ok: Arc<AtomicU64>,
    bad: Arc<AtomicU64>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        let workers: Vec<_> = (0..32)
            .map(|_| {
                let (client, url, stop, ok, bad) = (
                    client.clone(),
                    url.clone(),
                    stop.clone(),
                    ok.clone(),
                    bad.clone(),
                );
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        match client.get(&url).send().await {
                            Ok(r) if r.status().is_success() => {
                                ok.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(_) => {
                                bad.fetch_add(1, Ordering::Relaxed);
                            }
                            // After shutdown begins, connections are refused: that is expected.
                            Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                        }
                    }
                })
            })
            .collect();
        for w in workers {
            let _ = w.await;
        }
    })
}

async fn signal_under_load(args: &[&str], prefix: &str, signal: Signal) {
    let (mut child, base) = spawn(args, prefix);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (ok, bad) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let loader = load(
        format!("{base}/health/ready"),
        stop.clone(),
        ok.clone(),
        bad.clone(),
    );
    guildhall_testkit::eventually("load to be flowing", Duration::from_secs(20), || async {
        (ok.load(Ordering::Relaxed) >= 500).then_some(())
    })
    .await;

    let sent = Instant::now();
    kill(Pid::from_raw(child.id() as i32), signal).unwrap();
    let status =
        tokio::task::spawn_blocking(move || wait_exit(&mut child, Duration::from_secs(10)))
            .await
            .unwrap();
    let took = sent.elapsed();
    stop.store(true, Ordering::Relaxed);
    loader.await.unwrap();

    assert!(
        status.success(),
        "clean exit after {signal}, got {status:?}"
    );
    assert!(took < Duration::from_secs(10), "exited in {took:?}");
    assert_eq!(
        bad.load(Ordering::Relaxed),
        0,
        "no request got an error status while draining"
    );
}

#[tokio::test]
async fn up_exits_cleanly_on_sigterm_under_load() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    signal_under_load(
        &[
            "up",
            "--data-dir",
            data,
            "--http",
            "127.0.0.1:0",
            "--ssh",
            "127.0.0.1:0",
        ],
        "http",
        Signal::SIGTERM,
    )
    .await;
    // The SQLite file was closed cleanly: it opens and has the installation's tables.
    assert!(dir.path().join("guildhall.db").exists());
}

#[tokio::test]
async fn serve_exits_cleanly_on_sigint_under_load() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let db_url = format!("sqlite://{data}/auth.db?mode=rwc");
    // Config through the environment, as in a container.
    let (mut child, base) = {
        let mut cmd = guildhall();
        cmd.args(["serve", "auth", "--http", "127.0.0.1:0"])
            .env("GUILDHALL_DATABASE__URL", &db_url)
            .env(
                "GUILDHALL_AUTH__INTERNAL_TOKEN",
                "process-test-internal-token",
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = lines.next().unwrap().unwrap();
        let base = line.rsplit(' ').next().unwrap().to_owned();
        std::thread::spawn(move || for _ in lines {});
        (child, base)
    };
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let ready = reqwest::get(format!("{base}/health/ready")).await.unwrap();
    assert_eq!(ready.status(), 200);
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let status =
        tokio::task::spawn_blocking(move || wait_exit(&mut child, Duration::from_secs(10)))
            .await
            .unwrap();
    assert!(status.success(), "{status:?}");
    assert!(std::path::Path::new(&format!("{data}/auth.db")).exists());
}

/// `up` makes a missing data directory (and its parents) itself, also when the internal
/// token comes from the environment (before, only the token's generation made it, and
/// SQLite failed with "unable to open database file").
#[tokio::test]
async fn up_makes_a_missing_data_dir_with_an_internal_token_set() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("not/yet/here");
    let (mut child, base) = spawn_command(
        guildhall()
            .env(
                "GUILDHALL_AUTH__INTERNAL_TOKEN",
                "process-test-internal-token",
            )
            .args(["up", "--data-dir", data.to_str().unwrap()])
            .args(["--http", "127.0.0.1:0", "--ssh", "127.0.0.1:0"]),
        "http",
    );
    let ready = reqwest::get(format!("{base}/health/ready")).await.unwrap();
    assert_eq!(ready.status(), 200);
    assert!(data.join("guildhall.db").exists());
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    assert!(wait_exit(&mut child, Duration::from_secs(20)).success());
}

#[test]
fn help_explains_every_command() {
    let out = guildhall().arg("--help").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for word in ["up", "serve", "migrate", "config"] {
        assert!(text.contains(word), "{text}");
    }
    let out = guildhall().args(["serve", "--help"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for service in [
        "auth",
        "head",
        "players",
        "matchmaker",
        "arena",
        "tables",
        "terminal",
    ] {
        assert!(text.contains(service), "{text}");
    }
}

#[test]
fn config_print_redacts_secrets_and_check_names_bad_keys() {
    let out = guildhall()
        .args(["config", "print"])
        .env(
            "GUILDHALL_DATABASE__URL",
            "postgres://app:hunter2@db:5432/app",
        )
        .env("GUILDHALL_BUS__URL", "redis://:sesame@cache:6379")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("postgres://app:***@db:5432/app"), "{text}");
    assert!(
        !text.contains("hunter2") && !text.contains("sesame"),
        "{text}"
    );

    let out = guildhall()
        .args(["config", "check"])
        .env("GUILDHALL_HTTP__BODY_LIMIT_BYTES", "0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("http.body_limit_bytes"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("g.toml");
    std::fs::write(&file, "[database]\nurl = \"mysql://x/y\"\n").unwrap();
    let out = guildhall()
        .args(["config", "check", "--config", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("database.url")
    );

    let out = guildhall().args(["config", "check"]).output().unwrap();
    assert!(out.status.success(), "defaults are valid");
}

#[test]
fn deploy_example_config_is_valid() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/guildhall.toml");
    let out = guildhall()
        .args(["config", "check", "--config", example])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn migrate_sqlite_twice() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/m.db?mode=rwc", dir.path().display());
    for _ in 0..2 {
        let out = guildhall()
            .args(["migrate", "--database-url", &url])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8(out.stdout)
                .unwrap()
                .contains("Sqlite database is at migration 5")
        );
    }
}

#[tokio::test]
async fn migrate_postgres() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let out = guildhall()
        .args(["migrate", "--database-url", db.url()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("Postgres database is at migration 5")
    );
}

#[test]
fn migrate_unreachable_database_fails_clearly() {
    let out = guildhall()
        .args([
            "migrate",
            "--database-url",
            "postgres://postgres@127.0.0.1:1/none",
        ])
        .env("GUILDHALL_DATABASE__CONNECT_TIMEOUT_SECS", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("unreachable")
    );
}
