//! Profiles (`head_profiles`) and the username skeletons display names are checked against
//! (`head_username_skeletons`).

use std::sync::Arc;
use std::time::Duration;

use guildhall_auth::api::rfc3339;
use guildhall_bus::SharedBus;
use guildhall_names::DisplayName;
use guildhall_store::{Batcher, Store, with_pool, write_with_pool};
use serde::Serialize;
use uuid::Uuid;

use crate::profile_cache::{self, PROFILES_CHANNEL, ProfileCache};

/// A profile as clients see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    pub user_id: Uuid,
    pub display_name: String,
    pub kind: String,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(sqlx::FromRow)]
struct Row {
    user_id: Uuid,
    display_name: String,
    kind: String,
    version: i64,
    created_at: i64,
    updated_at: i64,
}

impl From<Row> for Profile {
    fn from(row: Row) -> Self {
        Profile {
            user_id: row.user_id,
            display_name: row.display_name,
            kind: row.kind,
            version: row.version,
            created_at: rfc3339(row.created_at),
            updated_at: rfc3339(row.updated_at),
        }
    }
}

/// The outcome of a conditional update.
#[derive(Debug)]
pub enum Update {
    Done(Profile),
    /// The version did not match; here is the current profile.
    Conflict(Profile),
    Missing,
}

const COLUMNS: &str = "user_id, display_name, kind, version, created_at, updated_at";

/// Most profiles one statement creates (see [`ProfileStore::create`]).
const MAX_PROFILES_PER_BATCH: usize = 128;

/// A profile to create: user, display name, comparison key, kind, time.
type NewProfile = (Uuid, String, String, String, i64);

/// Head's profiles: the table, and (for a serving head) the cache in front of it.
#[derive(Debug, Clone)]
pub struct ProfileStore {
    store: Store,
    new_profiles: Batcher<NewProfile, Result<Profile, sqlx::Error>>,
    cache: Arc<ProfileCache>,
    /// Where changes are announced to the other head instances.
    bus: Option<SharedBus>,
}

impl ProfileStore {
    /// Profiles without a cache (one-shot commands).
    pub fn new(store: Store) -> Self {
        Self::build(store, ProfileCache::new(Duration::ZERO), None)
    }

    /// Profiles with a cache whose entries live at most `ttl` (zero: no cache), kept
    /// coherent with the other head instances through `bus` until `shutdown`.
    pub async fn cached(
        store: Store,
        bus: SharedBus,
        ttl: Duration,
        shutdown: tokio_util::sync::CancellationToken,
        tasks: &tokio_util::task::TaskTracker,
    ) -> Result<Self, guildhall_bus::BusError> {
        let profiles = Self::build(store, ProfileCache::new(ttl), Some(bus.clone()));
        if !ttl.is_zero() {
            // Subscribe before serving, so no change announced after this is missed.
            let changes = bus.subscribe(PROFILES_CHANNEL).await?;
            tasks.spawn(profiles.cache.clone().follow(changes, shutdown));
        }
        Ok(profiles)
    }

    fn build(store: Store, cache: ProfileCache, bus: Option<SharedBus>) -> Self {
        let writer = store.clone();
        Self {
            store,
            new_profiles: Batcher::new("head_new_profiles", MAX_PROFILES_PER_BATCH, move |batch| {
                create_batch(writer.clone(), batch)
            }),
            cache: Arc::new(cache),
            bus,
        }
    }

    /// Caches a row this instance wrote and tells the other instances about it.
    async fn wrote(&self, profile: &Profile) {
        self.cache.wrote(profile);
        if let Some(bus) = &self.bus {
            profile_cache::announce(bus, profile.user_id, profile.version).await;
        }
    }

    /// Creates the profile if the user has none; returns the profile in force.
    /// Concurrent calls share one multi-row insert (group commit); if that fails, each
    /// profile is created on its own, so every caller gets its own outcome.
    pub async fn create(
        &self,
        user_id: Uuid,
        name: &DisplayName,
        kind: &str,
        now: i64,
    ) -> Result<Profile, sqlx::Error> {
        let item = (
            user_id,
            name.as_str().to_owned(),
            name.comparison_key(),
            kind.to_owned(),
            now,
        );
        let profile = self.new_profiles.submit(item).await??;
        // New (or found in place): nobody can hold an older version, so no announcement.
        self.cache.wrote(&profile);
        Ok(profile)
    }

    /// The profile of `user_id`, from the cache when it holds it.
    pub async fn get(&self, user_id: Uuid) -> Result<Option<Arc<Profile>>, sqlx::Error> {
        if let Some(cached) = self.cache.get(user_id) {
            return Ok(Some(cached));
        }
        Ok(self.load(user_id).await?.map(Arc::new))
    }

    /// The profile of `user_id` from the database (refreshing the cache).
    async fn load(&self, user_id: Uuid) -> Result<Option<Profile>, sqlx::Error> {
        let ticket = self.cache.ticket();
        let loaded = profile(&self.store, user_id).await?;
        if let Some(profile) = &loaded {
            self.cache.loaded(ticket, profile);
        }
        Ok(loaded)
    }

    /// Sets the display name if `expected_version` (when given) is current; bumps the version.
    pub async fn set_display_name(
        &self,
        user_id: Uuid,
        name: &DisplayName,
        expected_version: Option<i64>,
        now: i64,
    ) -> Result<Update, sqlx::Error> {
        let sql = format!(
            "UPDATE head_profiles SET display_name = $2, display_key = $3, version = version + 1, updated_at = $4
             WHERE user_id = $1 AND ($5 = 0 OR version = $5) RETURNING {COLUMNS}"
        );
        let row: Option<Row> = write_with_pool!(&self.store, |pool| {
            sqlx::query_as(&sql)
                .bind(user_id)
                .bind(name.as_str())
                .bind(name.comparison_key())
                .bind(now)
                .bind(expected_version.unwrap_or(0))
                .fetch_optional(pool)
                .await?
        });
        Ok(match row {
            Some(row) => {
                let profile = Profile::from(row);
                self.wrote(&profile).await;
                Update::Done(profile)
            }
            // Not the cache: the conflict was found in the database, and the client
            // needs the version that beat it.
            None => match self.load(user_id).await? {
                Some(current) => Update::Conflict(current),
                None => Update::Missing,
            },
        })
    }

    /// Marks the profile as belonging to an account (after a guest upgrade).
    pub async fn set_kind(&self, user_id: Uuid, kind: &str, now: i64) -> Result<(), sqlx::Error> {
        let sql = format!(
            "UPDATE head_profiles SET kind = $2, version = version + 1, updated_at = $3 WHERE user_id = $1 RETURNING {COLUMNS}"
        );
        let row: Option<Row> = write_with_pool!(&self.store, |pool| {
            sqlx::query_as(&sql)
                .bind(user_id)
                .bind(kind)
                .bind(now)
                .fetch_optional(pool)
                .await?
        });
        if let Some(row) = row {
            self.wrote(&row.into()).await;
        }
        Ok(())
    }

    /// Records that `user_id`'s username has this skeleton.
    pub async fn claim_username(&self, skeleton: &str, user_id: Uuid) -> Result<(), sqlx::Error> {
        write_with_pool!(&self.store, |pool| {
            sqlx::query("INSERT INTO head_username_skeletons (skeleton, user_id) VALUES ($1, $2) ON CONFLICT (skeleton) DO NOTHING")
                .bind(skeleton)
                .bind(user_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(())
    }

    /// Whose username looks like `skeleton`, if anyone's.
    pub async fn username_owner(&self, skeleton: &str) -> Result<Option<Uuid>, sqlx::Error> {
        Ok(with_pool!(&self.store, |pool| {
            sqlx::query_scalar("SELECT user_id FROM head_username_skeletons WHERE skeleton = $1")
                .bind(skeleton)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Every username skeleton, for checking many names at once (imports).
    pub async fn username_skeletons(
        &self,
    ) -> Result<std::collections::HashSet<String>, sqlx::Error> {
        let all: Vec<String> = with_pool!(&self.store, |pool| {
            sqlx::query_scalar("SELECT skeleton FROM head_username_skeletons")
                .fetch_all(pool)
                .await?
        });
        Ok(all.into_iter().collect())
    }

    /// Legacy ids already imported (by any batch).
    pub async fn imported_legacy_ids(
        &self,
    ) -> Result<std::collections::HashSet<String>, sqlx::Error> {
        let all: Vec<String> = with_pool!(&self.store, |pool| {
            sqlx::query_scalar("SELECT legacy_id FROM head_profiles WHERE legacy_id IS NOT NULL")
                .fetch_all(pool)
                .await?
        });
        Ok(all.into_iter().collect())
    }

    /// Writes one chunk of an import in a transaction; rows whose legacy id or user id
    /// exists already are skipped. Returns how many were inserted.
    pub async fn import_chunk(
        &self,
        batch: &str,
        rows: &[crate::import::Planned],
        now: i64,
    ) -> Result<u64, sqlx::Error> {
        Ok(write_with_pool!(&self.store, |pool| {
            let mut tx = pool.begin().await?;
            let mut inserted = 0;
            for row in rows {
                inserted += sqlx::query(
                    "INSERT INTO head_profiles
                       (user_id, display_name, display_key, kind, version, legacy_id, import_batch, created_at, updated_at)
                     VALUES ($1, $2, $3, 'guest', 1, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                )
                .bind(row.user_id)
                .bind(row.name.as_str())
                .bind(row.name.comparison_key())
                .bind(&row.legacy_id)
                .bind(batch)
                .bind(row.created_at)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            tx.commit().await?;
            inserted
        }))
    }

    /// Removes exactly the profiles one import batch created. Running head instances serve
    /// their cached copies until told ([`profile_cache::announce_all`]) or until they expire.
    pub async fn rollback_import(&self, batch: &str) -> Result<u64, sqlx::Error> {
        Ok(write_with_pool!(&self.store, |pool| {
            sqlx::query("DELETE FROM head_profiles WHERE import_batch = $1")
                .bind(batch)
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }
}

/// Writes a batch of new profiles: all with one insert, or, if that fails, each alone.
async fn create_batch(store: Store, batch: Vec<NewProfile>) -> Vec<Result<Profile, sqlx::Error>> {
    if batch.len() > 1 {
        match insert_together(&store, &batch).await {
            Ok(inserted) => {
                let mut inserted: std::collections::HashMap<Uuid, Row> =
                    inserted.into_iter().map(|row| (row.user_id, row)).collect();
                let mut outcomes = Vec::with_capacity(batch.len());
                for (user_id, ..) in &batch {
                    outcomes.push(match inserted.remove(user_id) {
                        Some(row) => Ok(row.into()),
                        None => existing(&store, *user_id).await,
                    });
                }
                return outcomes;
            }
            Err(err) => {
                tracing::debug!(%err, profiles = batch.len(), "batched profile insert failed; inserting one by one")
            }
        }
    }
    let mut outcomes = Vec::with_capacity(batch.len());
    for item in &batch {
        outcomes.push(
            match insert_together(&store, std::slice::from_ref(item)).await {
                Ok(mut rows) if !rows.is_empty() => Ok(rows.swap_remove(0).into()),
                Ok(_) => existing(&store, item.0).await,
                Err(err) => Err(err),
            },
        );
    }
    outcomes
}

/// Inserts the profiles that do not exist yet; returns those it inserted.
async fn insert_together(store: &Store, batch: &[NewProfile]) -> Result<Vec<Row>, sqlx::Error> {
    Ok(write_with_pool!(store, |pool| {
        let mut insert = sqlx::QueryBuilder::new(
            "INSERT INTO head_profiles (user_id, display_name, display_key, kind, version, created_at, updated_at) ",
        );
        insert.push_values(batch, |mut row, (user_id, name, key, kind, now)| {
            row.push_bind(*user_id)
                .push_bind(name)
                .push_bind(key)
                .push_bind(kind)
                .push_bind(1_i64)
                .push_bind(*now)
                .push_bind(*now);
        });
        insert.push(format_args!(
            " ON CONFLICT (user_id) DO NOTHING RETURNING {COLUMNS}"
        ));
        insert.build_query_as().fetch_all(pool).await?
    }))
}

/// The profile a conflicting create found in place.
async fn existing(store: &Store, user_id: Uuid) -> Result<Profile, sqlx::Error> {
    profile(store, user_id)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

async fn profile(store: &Store, user_id: Uuid) -> Result<Option<Profile>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM head_profiles WHERE user_id = $1");
    let row: Option<Row> = with_pool!(store, |pool| sqlx::query_as(&sql)
        .bind(user_id)
        .fetch_optional(pool)
        .await?);
    Ok(row.map(Profile::from))
}
