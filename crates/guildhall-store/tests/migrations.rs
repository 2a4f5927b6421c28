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
