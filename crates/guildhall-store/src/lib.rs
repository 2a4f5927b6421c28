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

/// How often the background checkpointer copies SQLite's WAL into the database.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(100);
/// The WAL size, in pages, at which a committing writer checkpoints by itself: a
/// backstop for when the background checkpointer is not running or cannot keep up.
/// SQLite's default is 1,000.
pub const WAL_BACKSTOP_PAGES: u32 = 8_000;

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
                    .foreign_keys(true)
                    // Checkpoints run beside the writers (`Store::checkpoints`); a
                    // commit only checkpoints itself if the WAL grows this far regardless.
                    .pragma("wal_autocheckpoint", WAL_BACKSTOP_PAGES.to_string());
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

    /// On SQLite, a future that copies the write-ahead log back into the database every
    /// [`CHECKPOINT_INTERVAL`] until `shutdown`, for the caller to spawn with its other
    /// background tasks; `None` on PostgreSQL, which needs none. Left to SQLite, the
    /// commit that fills the WAL to 1,000 pages runs the checkpoint itself, with the page
    /// copies and the fsync, while it holds the write lock and every queued writer waits
    /// behind it: a stall of several milliseconds a few times a second under load. A
    /// passive checkpoint from another connection takes no write lock, so writers go on
    /// appending while it copies. If this future is not running (a CLI command, a test
    /// store), commits still checkpoint at [`WAL_BACKSTOP_PAGES`].
    pub fn checkpoints(
        &self,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> Option<impl std::future::Future<Output = ()> + Send + 'static> {
        let Store::Sqlite(sqlite) = self else {
            return None;
        };
        let pool = sqlite.pool().clone();
        Some(async move {
            let mut every = tokio::time::interval(CHECKPOINT_INTERVAL);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = every.tick() => {}
                }
                if pool.is_closed() {
                    return;
                }
                let started = std::time::Instant::now();
                // (busy, frames in the WAL, frames copied); busy when another checkpoint ran.
                match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
                    .fetch_one(&pool)
                    .await
                {
                    Ok((_, _, copied)) => {
                        metrics::histogram!("store_checkpoint_seconds")
                            .record(started.elapsed().as_secs_f64());
                        metrics::histogram!("store_checkpoint_pages").record(copied.max(0) as f64);
                    }
                    Err(err) => tracing::warn!(%err, "SQLite checkpoint failed"),
                }
            }
        })
    }

    /// Waits for in-flight queries and closes every connection (SQLite checkpoints its WAL).
    pub async fn close(&self) {
        match self {
            Store::Sqlite(sqlite) => sqlite.pool().close().await,
            Store::Postgres(pool) => pool.close().await,
        }
    }
}
