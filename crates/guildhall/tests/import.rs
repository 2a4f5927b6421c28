//! `guildhall import guest-profiles` and `guildhall import rollback`, as an operator runs
//! them, on SQLite and PostgreSQL.

use std::process::Command;

use guildhall_store::{Store, StoreOptions, with_pool};
use guildhall_testkit::pg::TestDatabase;

fn guildhall(db_url: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_guildhall"))
        .args(args)
        .env("GUILDHALL_DATABASE__URL", db_url)
        .env("GUILDHALL_TELEMETRY__LOG_FILTER", "warn")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

async fn profiles(db_url: &str) -> Vec<(String, String, Option<String>)> {
    let store = Store::connect(&StoreOptions {
        url: db_url.to_owned(),
        max_connections: 1,
        connect_timeout: std::time::Duration::from_secs(5),
    })
    .await
    .unwrap();
    let rows: Vec<(String, String, Option<String>)> = with_pool!(&store, |pool| {
        sqlx::query_as("SELECT legacy_id, display_name, import_batch FROM head_profiles WHERE legacy_id IS NOT NULL ORDER BY legacy_id")
            .fetch_all(pool)
            .await
            .unwrap()
    });
    store.close().await;
    rows
}

fn batch_of(stdout: &str) -> String {
    stdout
        .split_whitespace()
        .find(|w| w.starts_with("import-"))
        .expect("a batch id")
        .to_owned()
}

async fn scenario(db_url: &str, dir: &std::path::Path) {
    let csv = dir.join("legacy.csv");
    std::fs::write(
        &csv,
        "legacy_id,display_name,created_at\n\
         g-1,Plain Name,2021-05-06T07:08:09Z\n\
         g-2,\"  Ｗｉｄｅ   Name \",1600000000\n\
         g-3,Administrator,\n\
         g-1,Duplicate,\n\
         g-4,Bad Date,last tuesday\n\
         g-5,\"\u{200B}\",\n",
    )
    .unwrap();
    let path = csv.to_str().unwrap();

    let (code, out, err) = guildhall(db_url, &["import", "guest-profiles", path, "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("6 rows: 2 to import (1 with changed names), 0 already imported, 4 rejected"),
        "{out}"
    );
    assert!(out.contains("dry run: nothing written"), "{out}");
    assert!(out.contains("\"Wide Name\""), "reports the change: {out}");
    assert!(
        profiles(db_url).await.is_empty(),
        "a dry run writes nothing"
    );

    let (code, out, err) = guildhall(
        db_url,
        &["import", "guest-profiles", path, "--batch-size", "1"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("imported 2 profiles"), "{out}");
    let first = batch_of(&out);

    // Idempotent: running it again imports nothing.
    let (code, out, _) = guildhall(db_url, &["import", "guest-profiles", path]);
    assert_eq!(code, 0);
    assert!(
        out.contains("0 to import (0 with changed names), 2 already imported"),
        "{out}"
    );

    let jsonl = dir.join("more.jsonl");
    std::fs::write(
        &jsonl,
        "{\"legacy_id\": \"g-9\", \"display_name\": \"Late Comer\"}\n\n{\"legacy_id\": 5}\n",
    )
    .unwrap();
    let (code, out, err) = guildhall(
        db_url,
        &["import", "guest-profiles", jsonl.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("1 rejected") && out.contains("imported 1 profiles"),
        "{out}"
    );
    let second = batch_of(&out);

    let rows = profiles(db_url).await;
    let names: Vec<(&str, &str)> = rows
        .iter()
        .map(|(id, name, _)| (id.as_str(), name.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("g-1", "Plain Name"),
            ("g-2", "Wide Name"),
            ("g-9", "Late Comer")
        ]
    );

    // Rollback removes exactly one batch.
    let (code, out, _) = guildhall(db_url, &["import", "rollback", &first]);
    assert_eq!(code, 0);
    assert!(out.contains("removed 2 profiles"), "{out}");
    let rows = profiles(db_url).await;
    assert_eq!(
        rows,
        [(
            "g-9".to_owned(),
            "Late Comer".to_owned(),
            Some(second.clone())
        )]
    );
    let (code, _, err) = guildhall(db_url, &["import", "rollback", &first]);
    assert_eq!(code, 1, "rolling back twice says so: {err}");
}

#[tokio::test]
async fn import_and_rollback_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/g.db?mode=rwc", dir.path().display());
    scenario(&url, dir.path()).await;
}

#[tokio::test]
async fn import_and_rollback_on_postgres() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    scenario(db.url(), dir.path()).await;
}
