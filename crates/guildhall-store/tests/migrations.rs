//! Migrations and basic queries against real SQLite files and real PostgreSQL databases.

use std::time::Duration;

use guildhall_store::{Backend, Store, StoreOptions};
use guildhall_testkit::pg::TestDatabase;

fn options(url: String) -> StoreOptions {
    StoreOptions {
        url,
        max_connections: 4,
        connect_timeout: Duration::from_secs(5),
    }
}

async fn exercise(store: &Store) {
    store.migrate().await.unwrap();
    // Running again is a no-op, not an error.
    store.migrate().await.unwrap();
    assert_eq!(
        store.applied_migrations().await.unwrap(),
        store.known_migrations()
    );
    assert!(!store.known_migrations().is_empty());

    let first = store
        .meta_get_or_insert("installation_id", "a")
        .await
        .unwrap();
    let second = store
        .meta_get_or_insert("installation_id", "b")
        .await
        .unwrap();
    assert_eq!(
        (first.as_str(), second.as_str()),
        ("a", "a"),
        "the first value stays"
    );
    assert_eq!(store.meta_get("missing").await.unwrap(), None);
    // SQL meta-characters are data, not syntax.
    let tricky = "x'); DROP TABLE guildhall_meta; --";
    assert_eq!(
        store.meta_get_or_insert(tricky, tricky).await.unwrap(),
        tricky
    );
    assert_eq!(
        store.meta_get("installation_id").await.unwrap().as_deref(),
        Some("a")
    );
}

#[tokio::test]
async fn sqlite_migrates_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("g.db").display());
    let store = Store::connect(&options(url.clone())).await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    exercise(&store).await;
    store.close().await;

    let reopened = Store::connect(&options(url)).await.unwrap();
    reopened.migrate().await.unwrap();
    assert_eq!(
        reopened
            .meta_get("installation_id")
            .await
            .unwrap()
            .as_deref(),
        Some("a")
    );
}

#[tokio::test]
async fn postgres_migrates() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let store = Store::connect(&options(db.url().to_owned())).await.unwrap();
    assert_eq!(store.backend(), Backend::Postgres);
    exercise(&store).await;
}

#[tokio::test]
async fn concurrent_postgres_migrations_agree() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let a = Store::open(&options(db.url().to_owned())).unwrap();
    let b = Store::open(&options(db.url().to_owned())).unwrap();
    let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
    ra.unwrap();
    rb.unwrap();
    assert_eq!(a.applied_migrations().await.unwrap(), a.known_migrations());
}

#[tokio::test]
async fn unreachable_and_unsupported() {
    let err = Store::open(&options("mysql://x/y".into())).unwrap_err();
    assert!(err.to_string().contains("unsupported"), "{err}");
    // A closed port: open succeeds (lazy), ping reports the database unreachable.
    let store = Store::open(&StoreOptions {
        url: "postgres://postgres@127.0.0.1:1/none".into(),
        max_connections: 1,
        connect_timeout: Duration::from_millis(500),
    })
    .unwrap();
    let err = store.ping().await.unwrap_err();
    assert!(err.to_string().contains("unreachable"), "{err}");
}

/// Writes about 3 MiB to a fresh SQLite store and returns it with its database file's path.
async fn sqlite_with_a_full_wal(dir: &std::path::Path) -> (Store, std::path::PathBuf) {
    let path = dir.join("g.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let store = Store::connect(&options(url)).await.unwrap();
    store.migrate().await.unwrap();
    let Store::Sqlite(sqlite) = &store else {
        unreachable!("a sqlite:// URL opens SQLite")
    };
    let big = "x".repeat(4096);
    for i in 0..750 {
        sqlx::query("INSERT INTO guildhall_meta (key, value) VALUES ($1, $2)")
            .bind(format!("filler-{i}"))
            .bind(&big)
            .execute(sqlite.pool())
            .await
            .unwrap();
    }
    (store, path)
}

fn file_len(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

#[tokio::test]
async fn sqlite_checkpoints_in_the_background_not_in_commits() {
    const WRITTEN: u64 = 3 * 1024 * 1024;

    // Without the background checkpointer, no commit checkpoints below the backstop: the
    // writes stay in the WAL and the database file stays small.
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = sqlite_with_a_full_wal(dir.path()).await;
    let wal = path.with_extension("db-wal");
    assert!(file_len(&wal) > WRITTEN, "the writes are in the WAL");
    assert!(
        file_len(&path) < WRITTEN / 2,
        "a commit checkpointed by itself: {} bytes in the database file",
        file_len(&path)
    );
    store.close().await;

    // With it, the pages reach the database file without anyone writing.
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = sqlite_with_a_full_wal(dir.path()).await;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let checkpoints = tokio::spawn(
        store
            .checkpoints(shutdown.clone())
            .expect("SQLite has them"),
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while file_len(&path) < WRITTEN {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no checkpoint copied the WAL within 20 s ({} bytes in the database file)",
            file_len(&path)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.cancel();
    checkpoints.await.unwrap();
    store.close().await;
}

#[tokio::test]
async fn postgres_needs_no_checkpointer() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let store = Store::connect(&options(db.url().to_owned())).await.unwrap();
    assert!(
        store
            .checkpoints(tokio_util::sync::CancellationToken::new())
            .is_none()
    );
}
