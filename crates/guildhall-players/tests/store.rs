//! The character table's batch write against real SQLite files and real PostgreSQL
//! databases: versions only move forward, and an instance without the owner's lease
//! cannot overwrite what the lease holder wrote.

use std::time::Duration;

use guildhall_players::store::{PlayersStore, Row};
use guildhall_store::{Store, StoreOptions};
use guildhall_testkit::pg::TestDatabase;
use uuid::Uuid;

const LEASE_UNTIL_MS: i64 = i64::MAX / 2;

fn row(id: Uuid, owner: Uuid, version: i64) -> Row {
    Row {
        id,
        owner,
        version,
        state: format!("{{\"v\":{version},\"quote\":\"it's; DROP TABLE x\"}}"),
        idempotency: "[]".into(),
        deleted_at: (version == 3).then_some(1_700_000_003),
        created_at: 1_700_000_000,
        updated_at: 1_700_000_000 + version,
    }
}

async fn open(url: String) -> PlayersStore {
    let store = Store::connect(&StoreOptions {
        url,
        max_connections: 4,
        connect_timeout: Duration::from_secs(5),
    })
    .await
    .unwrap();
    store.migrate().await.unwrap();
    PlayersStore::new(store)
}

async fn exercise(store: &PlayersStore) {
    let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
    assert!(
        store
            .take_lease(alice, "a", 0, LEASE_UNTIL_MS)
            .await
            .unwrap()
    );
    assert!(store.take_lease(bob, "b", 0, LEASE_UNTIL_MS).await.unwrap());
    let alices: Vec<Uuid> = (0..300).map(|_| Uuid::now_v7()).collect();
    let bobs = Uuid::now_v7();

    // New rows are inserted, every one of them.
    let first: Vec<Row> = alices.iter().map(|&id| row(id, alice, 1)).collect();
    assert_eq!(store.write_batch(&first, "a").await.unwrap(), 300);
    assert_eq!(store.load(alices[7]).await.unwrap(), Some(first[7].clone()));

    // Newer versions replace older ones; a stale or repeated version changes nothing.
    let mixed = vec![
        row(alices[0], alice, 3),
        row(alices[1], alice, 1),
        row(alices[2], alice, 0),
        row(alices[3], alice, 2),
    ];
    assert_eq!(store.write_batch(&mixed, "a").await.unwrap(), 2);
    let versions = |ids: &[Uuid]| {
        let ids = ids.to_vec();
        async move {
            let mut out = Vec::new();
            for id in ids {
                out.push(store.load(id).await.unwrap().unwrap().version);
            }
            out
        }
    };
    assert_eq!(versions(&alices[..4]).await, [3, 1, 1, 2]);
    assert_eq!(store.load(alices[0]).await.unwrap(), Some(mixed[0].clone()));

    // Instance "b" holds bob's lease, not alice's: its rows for alice's characters are
    // fenced off, its row for bob's goes in, in the same batch.
    let fenced = vec![row(alices[4], alice, 9), row(bobs, bob, 1)];
    assert_eq!(store.write_batch(&fenced, "b").await.unwrap(), 1);
    assert_eq!(versions(&[alices[4], bobs]).await, [1, 1]);

    // Once alice's lease is released, not even "a" may overwrite.
    store.release_leases("a", Some(alice)).await.unwrap();
    assert_eq!(
        store
            .write_batch(&[row(alices[5], alice, 2)], "a")
            .await
            .unwrap(),
        0
    );
    assert_eq!(versions(&[alices[5]]).await, [1]);

    // An empty batch is fine.
    assert_eq!(store.write_batch(&[], "a").await.unwrap(), 0);
}

#[tokio::test]
async fn batch_writes_are_versioned_and_fenced_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("players.db").display());
    exercise(&open(url).await).await;
}

#[tokio::test]
async fn batch_writes_are_versioned_and_fenced_on_postgres() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    exercise(&open(db.url().to_owned()).await).await;
}
