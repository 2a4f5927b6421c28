//! The `players_*` tables.

use guildhall_store::{Store, with_pool, write_with_pool};
use uuid::Uuid;

/// A character row as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct Row {
    pub id: Uuid,
    pub owner: Uuid,
    pub version: i64,
    /// The rules crate's JSON of the character.
    pub state: String,
    /// JSON array of remembered Idempotency-Key answers.
    pub idempotency: String,
    pub deleted_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A write that kept failing on its own.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct DeadLetter {
    pub id: i64,
    pub character_id: Uuid,
    pub version: i64,
    pub error: String,
    pub failed_at: i64,
    pub replayed_at: Option<i64>,
}

const COLUMNS: &str = "id, owner, version, state, idempotency, deleted_at, created_at, updated_at";

/// Writes `row` unless the stored version is already as new (re-flushing the same version
/// is a no-op) or `$instance` no longer holds the owner's lease (an instance that lost its
/// claim can never overwrite the new owner's state).
macro_rules! upsert {
    ($row:expr, $instance:expr, $executor:expr) => {
        sqlx::query(
            "INSERT INTO players_characters (id, owner, version, state, idempotency, deleted_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (id) DO UPDATE SET version = excluded.version, state = excluded.state,
               idempotency = excluded.idempotency, deleted_at = excluded.deleted_at, updated_at = excluded.updated_at
             WHERE players_characters.version < excluded.version
               AND EXISTS (SELECT 1 FROM players_leases WHERE owner = $10 AND instance = $9)",
        )
        .bind($row.id)
        .bind($row.owner)
        .bind($row.version)
        .bind(&$row.state)
        .bind(&$row.idempotency)
        .bind($row.deleted_at)
        .bind($row.created_at)
        .bind($row.updated_at)
        .bind($instance)
        .bind($row.owner.to_string())
        .execute($executor)
        .await?
        .rows_affected()
    };
}

#[derive(Debug, Clone)]
pub struct PlayersStore {
    store: Store,
}

impl PlayersStore {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    pub async fn load(&self, id: Uuid) -> Result<Option<Row>, sqlx::Error> {
        let sql = format!("SELECT {COLUMNS} FROM players_characters WHERE id = $1");
        Ok(with_pool!(&self.store, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await?))
    }

    /// The owner's live characters as stored.
    pub async fn list_owner(&self, owner: Uuid) -> Result<Vec<Row>, sqlx::Error> {
        let sql = format!(
            "SELECT {COLUMNS} FROM players_characters WHERE owner = $1 AND deleted_at IS NULL ORDER BY created_at, id"
        );
        Ok(with_pool!(&self.store, |pool| sqlx::query_as(&sql)
            .bind(owner)
            .fetch_all(pool)
            .await?))
    }

    /// Writes rows in one transaction, as `instance`; returns how many rows changed. The
    /// rows must have distinct ids. Each row is fenced like [`Self::write_one`].
    ///
    /// On PostgreSQL the whole batch is one statement over arrays (`UNNEST`), so a flush
    /// of thousands of characters costs a few round trips instead of one per row. SQLite
    /// runs in the process, where a round trip is cheap, so it writes row by row inside
    /// one transaction.
    pub async fn write_batch(&self, rows: &[Row], instance: &str) -> Result<u64, sqlx::Error> {
        match &self.store {
            Store::Postgres(pool) => Ok(sqlx::query(
                "INSERT INTO players_characters (id, owner, version, state, idempotency, deleted_at, created_at, updated_at)
                 SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::int8[], $4::text[], $5::text[], $6::int8[], $7::int8[], $8::int8[])
                 ON CONFLICT (id) DO UPDATE SET version = excluded.version, state = excluded.state,
                   idempotency = excluded.idempotency, deleted_at = excluded.deleted_at, updated_at = excluded.updated_at
                 WHERE players_characters.version < excluded.version
                   AND EXISTS (SELECT 1 FROM players_leases WHERE owner = excluded.owner::text AND instance = $9)",
            )
            .bind(rows.iter().map(|r| r.id).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.owner).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.version).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.state.as_str()).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.idempotency.as_str()).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.deleted_at).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.created_at).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.updated_at).collect::<Vec<_>>())
            .bind(instance)
            .execute(pool)
            .await?
            .rows_affected()),
            Store::Sqlite(sqlite) => {
                let _writer = sqlite.writer().await;
                let mut tx = sqlite.pool().begin().await?;
                let mut changed = 0;
                for row in rows {
                    changed += upsert!(row, instance, &mut *tx);
                }
                tx.commit().await?;
                Ok(changed)
            }
        }
    }

    /// Writes one row as `instance`; `true` if it changed the stored state.
    pub async fn write_one(&self, row: &Row, instance: &str) -> Result<bool, sqlx::Error> {
        Ok(write_with_pool!(&self.store, |pool| upsert!(row, instance, pool)) == 1)
    }

    /// The instance holding `owner`'s lease and until when (Unix ms), if any.
    pub async fn lease(&self, owner: Uuid) -> Result<Option<(String, i64)>, sqlx::Error> {
        Ok(with_pool!(&self.store, |pool| {
            sqlx::query_as("SELECT instance, expires_at FROM players_leases WHERE owner = $1")
                .bind(owner.to_string())
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Takes `owner`'s lease for `instance` if it is free, expired or already ours.
    pub async fn take_lease(
        &self,
        owner: Uuid,
        instance: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, sqlx::Error> {
        let taken = write_with_pool!(&self.store, |pool| {
            sqlx::query(
                "INSERT INTO players_leases (owner, instance, expires_at) VALUES ($1, $2, $3)
                 ON CONFLICT (owner) DO UPDATE SET instance = excluded.instance, expires_at = excluded.expires_at
                 WHERE players_leases.instance = excluded.instance OR players_leases.expires_at < $4",
            )
            .bind(owner.to_string())
            .bind(instance)
            .bind(until_ms)
            .bind(now_ms)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(taken == 1)
    }

    /// Extends every lease of `instance`; returns the owners it still holds.
    pub async fn renew_leases(
        &self,
        instance: &str,
        until_ms: i64,
    ) -> Result<Vec<Uuid>, sqlx::Error> {
        let owners: Vec<String> = write_with_pool!(&self.store, |pool| {
            sqlx::query("UPDATE players_leases SET expires_at = $2 WHERE instance = $1")
                .bind(instance)
                .bind(until_ms)
                .execute(pool)
                .await?;
            sqlx::query_scalar("SELECT owner FROM players_leases WHERE instance = $1")
                .bind(instance)
                .fetch_all(pool)
                .await?
        });
        Ok(owners
            .iter()
            .filter_map(|o| Uuid::parse_str(o).ok())
            .collect())
    }

    /// Gives up `owner`'s lease (or every lease, with `None`) held by `instance`.
    pub async fn release_leases(
        &self,
        instance: &str,
        owner: Option<Uuid>,
    ) -> Result<(), sqlx::Error> {
        write_with_pool!(&self.store, |pool| {
            sqlx::query(
                "DELETE FROM players_leases WHERE instance = $1 AND ($2 = '' OR owner = $2)",
            )
            .bind(instance)
            .bind(owner.map(|o| o.to_string()).unwrap_or_default())
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    pub async fn ping(&self) -> bool {
        self.store.ping().await.is_ok()
    }

    pub async fn dead_letter(&self, row: &Row, error: &str, now: i64) -> Result<(), sqlx::Error> {
        let json = serde_json::to_string(row).expect("rows serialize");
        write_with_pool!(&self.store, |pool| {
            sqlx::query(
                "INSERT INTO players_dead_letters (character_id, version, row_json, error, failed_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(row.id)
            .bind(row.version)
            .bind(json)
            .bind(error)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(())
    }

    pub async fn dead_letters(&self) -> Result<Vec<DeadLetter>, sqlx::Error> {
        Ok(with_pool!(&self.store, |pool| {
            sqlx::query_as(
                "SELECT id, character_id, version, error, failed_at, replayed_at FROM players_dead_letters ORDER BY id",
            )
            .fetch_all(pool)
            .await?
        }))
    }

    /// Writes a dead letter's row again (conditionally on the version; the operator takes
    /// responsibility for ownership) and marks it replayed. Returns whether the stored state
    /// changed.
    pub async fn replay(&self, dead_letter: i64, now: i64) -> Result<Option<bool>, sqlx::Error> {
        let json: Option<String> = with_pool!(&self.store, |pool| {
            sqlx::query_scalar(
                "SELECT row_json FROM players_dead_letters WHERE id = $1 AND replayed_at IS NULL",
            )
            .bind(dead_letter)
            .fetch_optional(pool)
            .await?
        });
        let Some(json) = json else { return Ok(None) };
        let row: Row = serde_json::from_str(&json).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        let changed = write_with_pool!(&self.store, |pool| {
            sqlx::query(
                "INSERT INTO players_characters (id, owner, version, state, idempotency, deleted_at, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (id) DO UPDATE SET version = excluded.version, state = excluded.state,
                   idempotency = excluded.idempotency, deleted_at = excluded.deleted_at, updated_at = excluded.updated_at
                 WHERE players_characters.version < excluded.version",
            )
            .bind(row.id)
            .bind(row.owner)
            .bind(row.version)
            .bind(&row.state)
            .bind(&row.idempotency)
            .bind(row.deleted_at)
            .bind(row.created_at)
            .bind(row.updated_at)
            .execute(pool)
            .await?
            .rows_affected()
        }) == 1;
        write_with_pool!(&self.store, |pool| {
            sqlx::query("UPDATE players_dead_letters SET replayed_at = $2 WHERE id = $1")
                .bind(dead_letter)
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(Some(changed))
    }
}
