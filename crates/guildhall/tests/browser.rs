//! The browser clients in headless Chromium, each against its own `guildhall up`:
//!
//! - `/play/arena`: two pages are matched into the same lobby, and each sees the other's
//!   jet move (and turn, and come back after a dropped connection).
//! - `/play/tables`: a page creates a table, four bots fill it, and the page plays a
//!   whole hand of Briscola chiamata by clicking (auction, call, eight tricks, with a
//!   dropped connection on the way) while a second page watches through the table's
//!   watch link. The observer page never shows nor receives a hand; both pages show the
//!   tricks and the scores.
//!
//! The pages and the Playwright scripts live in `clients/arena-web` and
//! `clients/tables-web`; these tests start the server and run them. They need Node,
//! `npm ci` in those folders and Debian's `chromium` (`.ci/run` sets them up), and are
//! skipped with a notice when those are missing, unless `CI` is set.

mod support;

use std::path::PathBuf;
use std::process::Command;

use support::Db;

fn client_dir(client: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../clients")
        .join(client)
}

/// Whether the client's Node packages, Node and Chromium are here.
fn available(client: &str, packages: &[&str]) -> bool {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let modules = client_dir(client).join("node_modules");
    let npm = format!("npm ci in clients/{client}");
    let missing: Vec<&str> = [
        packages
            .iter()
            .any(|p| !modules.join(p).exists())
            .then_some(npm.as_str()),
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

/// Runs `script` of `client` against a fresh `guildhall up`; its standard output.
async fn run_script(client: &'static str, script: &'static str) -> String {
    let stack = support::up(Db::Sqlite, |_| {}).await.unwrap();
    let base = stack.base.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .arg(&base)
            .current_dir(client_dir(client))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{client}/{script} failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("\"ok\":true"), "{stdout}");
    stack.running.shutdown().await;
    stdout
}

#[tokio::test]
async fn two_browsers_are_matched_and_see_each_other_fly() {
    if !available("arena-web", &["playwright-core"]) {
        return;
    }
    run_script("arena-web", "tests/two-players.mjs").await;
}

#[tokio::test]
async fn a_browser_plays_a_hand_while_another_watches_without_seeing_hands() {
    if !available("tables-web", &["playwright-core", "ws"]) {
        return;
    }
    let stdout = run_script("tables-web", "tests/observer.mjs").await;
    assert!(
        stdout.contains("\"observer_frames_with_a_hand\":0"),
        "{stdout}"
    );
}
