//! The browser client in headless Chromium: two pages at `/play/arena` on one
//! `guildhall up` are matched into the same lobby, and each sees the other's jet move
//! (and turn, and come back after a dropped connection). The page logic and the
//! Playwright script live in `clients/arena-web`; this test starts the server and runs it.
//!
//! Needs Node, `npm ci` in `clients/arena-web` and Debian's `chromium` (`.ci/run` sets
//! them up). Skipped with a notice when they are missing, unless `CI` is set.

mod support;

use std::path::PathBuf;
use std::process::Command;

use support::Db;

fn client_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../clients/arena-web")
}

fn available() -> bool {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let missing: Vec<&str> = [
        (!client_dir().join("node_modules/playwright-core").exists())
            .then_some("npm ci in clients/arena-web"),
        (!std::path::Path::new(&chromium).exists()).then_some("chromium"),
        Command::new("node")
            .arg("--version")
            .output()
            .is_err()
            .then_some("node"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "the browser test needs {missing:?} under CI; .ci/run installs them"
    );
    eprintln!("notice: skipping the browser test, missing {missing:?} (run .ci/run once)");
    false
}

#[tokio::test]
async fn two_browsers_are_matched_and_see_each_other_fly() {
    if !available() {
        return;
    }
    let stack = support::up(Db::Sqlite, |_| {}).await.unwrap();
    let base = stack.base.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("tests/two-players.mjs")
            .arg(&base)
            .current_dir(client_dir())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the browser test failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("\"ok\":true"), "{stdout}");
    stack.running.shutdown().await;
}
