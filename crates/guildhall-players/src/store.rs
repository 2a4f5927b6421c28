//! The `players_*` tables.

use guildhall_store::{Store, with_pool};
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

/// Writes `row` unless the stored version is already as new: a stale instance can never
/// overwrite newer state, and re-flushing the same version is a no-op.
macro_rules! upsert {
    ($row:expr, $executor:expr) => {
        sqlx::query(
            "INSERT INTO players_characters (id, owner, version, state, idempotency, deleted_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (id) DO UPDATE SET version = excluded.version, state = excluded.state,
               idempotency = excluded.idempotency, deleted_at = excluded.deleted_at, updated_at = excluded.updated_at
             WHERE players_characters.version < excluded.version",
        )
        .bind($row.id)
        .bind($row.owner)
        .bind($row.version)
        .bind(&$row.state)
        .bind(&$row.idempotency)
        .bind($row.deleted_at)
        .bind($row.created_at)
        .bind($row.updated_at)
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

    /// Writes rows in one transaction; returns how many rows changed.
    pub async fn write_batch(&self, rows: &[Row]) -> Result<u64, sqlx::Error> {
        Ok(with_pool!(&self.store, |pool| {
            let mut tx = pool.begin().await?;
            let mut changed = 0;
            for row in rows {
                changed += upsert!(row, &mut *tx);
            }
            tx.commit().await?;
            changed
        }))
    }

    /// Writes one row; `true` if it changed the stored state.
    pub async fn write_one(&self, row: &Row) -> Result<bool, sqlx::Error> {
        Ok(with_pool!(&self.store, |pool| upsert!(row, pool)) == 1)
    }

    pub async fn ping(&self) -> bool {
        self.store.ping().await.is_ok()
    }

    pub async fn dead_letter(&self, row: &Row, error: &str, now: i64) -> Result<(), sqlx::Error> {
        let json = serde_json::to_string(row).expect("rows serialize");
        with_pool!(&self.store, |pool| {
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

    /// Writes a dead letter's row again (conditionally, like any flush) and marks it replayed.
    /// Returns whether the stored state changed.
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
        let changed = self.write_one(&row).await?;
        with_pool!(&self.store, |pool| {
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
