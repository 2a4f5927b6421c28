//! Installation facts kept in `guildhall_meta`.

use crate::{Store, StoreError, with_pool, write_with_pool};

impl Store {
    /// Reads one installation fact.
    pub async fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_scalar("SELECT value FROM guildhall_meta WHERE key = $1")
                .bind(key)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Stores `value` under `key` unless the key already has a value; returns the value in
    /// force afterwards (so concurrent first starts agree on one installation id).
    pub async fn meta_get_or_insert(&self, key: &str, value: &str) -> Result<String, StoreError> {
        write_with_pool!(self, |pool| {
            sqlx::query("INSERT INTO guildhall_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
                .bind(key)
                .bind(value)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(self
            .meta_get(key)
            .await?
            .unwrap_or_else(|| value.to_owned()))
    }
}
