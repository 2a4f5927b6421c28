//! The relational store.
//!
//! One [`Store`] per process, chosen by the database URL: `sqlite://` for `guildhall up`
//! (one file in the data directory), `postgres://` for the split shape. The two are
//! separate implementations with their own SQL and their own migrations
//! (`migrations/sqlite`, `migrations/postgres`), not sqlx's `Any` driver, so each can use
//! its dialect fully. Each service keeps the SQL for its own tables in its own crate and
//! runs it with [`with_pool!`]: one text where the dialects agree (both accept `$1`
//! placeholders, `ON CONFLICT` and `RETURNING`), one per backend where they do not.
//! Timestamps are stored as Unix seconds (`BIGINT`), ids as UUIDs (native on PostgreSQL,
//! 16-byte blobs on SQLite), so the same Rust types bind on both.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

mod batch;
mod meta;

pub use batch::{Batcher, BatcherGone};

/// Evaluates `$body` with `$pool` bound to the store's pool, whichever backend it is.
/// The body is compiled once per backend, so SQL text and bind types must suit both.
/// For reads; writes use [`write_with_pool!`].
#[macro_export]
macro_rules! with_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match $store {
            $crate::Store::Sqlite(sqlite) => {
                let $pool = sqlite.pool();
                $body
            }
            $crate::Store::Postgres($pool) => $body,
        }
    };
}

/// Like [`with_pool!`], for statements that write. On SQLite, writers first queue on the
/// store's in-process writer lock: SQLite admits one writer at a time, and a writer that
/// finds the database locked sleeps in SQLite's busy handler (1, 2, 5 ... 100 ms) instead
/// of waking when the lock frees, which caps throughput and inflates tail latency. On
/// PostgreSQL writers run concurrently. The body must not itself take the writer lock.
#[macro_export]
macro_rules! write_with_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match $store {
            $crate::Store::Sqlite(sqlite) => {
                let _writer = sqlite.writer().await;
                let $pool = sqlite.pool();
                $body
            }
            $crate::Store::Postgres($pool) => $body,
        }
    };
}

/// A SQLite pool and the lock its writers queue on.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl SqliteStore {
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Waits for this process's turn to write.
    pub async fn writer(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.writer.lock().await
    }
}

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL scheme `{0}` (expected sqlite:// or postgres://)")]
    UnsupportedScheme(String),
    #[error("database unreachable: {0}")]
    Unreachable(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
}

/// How to open the store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub url: String,
    pub max_connections: u32,
    pub connect_timeout: Duration,
}

/// Which database a [`Store`] speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A pooled connection to the platform's database. Cheap to clone.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgPool),
}

impl Store {
    /// Opens a pool for the URL. Connections are made lazily, so a database that is down at
    /// startup makes readiness fail instead of the process.
    pub fn open(options: &StoreOptions) -> Result<Self, StoreError> {
        let scheme = options.url.split("://").next().unwrap_or("");
        match scheme {
            "sqlite" => {
                let connect = SqliteConnectOptions::from_str(&options.url)
                    .map_err(StoreError::Unreachable)?
                    .create_if_missing(true)
                    // WAL lets readers proceed while the write-behind flusher writes.
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(options.connect_timeout)
                    .foreign_keys(true);
                let pool = SqlitePoolOptions::new()
                    // A local file does not drop connections: skip the ping before each use
                    // (a round trip to the connection's worker thread per query).
                    .test_before_acquire(false)
                    .max_connections(options.max_connections)
                    .acquire_timeout(options.connect_timeout)
                    .connect_lazy_with(connect);
                Ok(Store::Sqlite(SqliteStore {
                    pool,
                    writer: Default::default(),
                }))
            }
            "postgres" | "postgresql" => {
                let connect =
                    PgConnectOptions::from_str(&options.url).map_err(StoreError::Unreachable)?;
                let pool = PgPoolOptions::new()
                    .max_connections(options.max_connections)
                    .acquire_timeout(options.connect_timeout)
                    .connect_lazy_with(connect);
                Ok(Store::Postgres(pool))
            }
            other => Err(StoreError::UnsupportedScheme(other.to_owned())),
        }
    }

    /// Opens the store and makes sure the database answers.
    pub async fn connect(options: &StoreOptions) -> Result<Self, StoreError> {
        let store = Self::open(options)?;
        store.ping().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        match self {
            Store::Sqlite(_) => Backend::Sqlite,
            Store::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies every pending migration of this backend. Safe to run repeatedly and from
    /// several processes at once (sqlx takes an advisory lock on PostgreSQL).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(sqlite) => SQLITE_MIGRATIONS.run(sqlite.pool()).await?,
            Store::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        tracing::info!(backend = ?self.backend(), "database migrations applied");
        Ok(())
    }

    /// The versions of the migrations applied so far, in order.
    pub async fn applied_migrations(&self) -> Result<Vec<i64>, StoreError> {
        const SQL: &str = "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version";
        Ok(with_pool!(self, |pool| sqlx::query_scalar(SQL)
            .fetch_all(pool)
            .await?))
    }

    /// The versions this build knows, so `guildhall migrate` can say what is pending.
    pub fn known_migrations(&self) -> Vec<i64> {
        let migrator = match self {
            Store::Sqlite(_) => &SQLITE_MIGRATIONS,
            Store::Postgres(_) => &POSTGRES_MIGRATIONS,
        };
        migrator.iter().map(|m| m.version).collect()
    }

    /// One round trip to the database; the readiness probe.
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_pool!(self, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(StoreError::Unreachable)
    }

    /// Waits for in-flight queries and closes every connection (SQLite checkpoints its WAL).
    pub async fn close(&self) {
        match self {
            Store::Sqlite(sqlite) => sqlite.pool().close().await,
            Store::Postgres(pool) => pool.close().await,
        }
    }
}
