//! The players service: characters, server-authoritative.
//!
//! Clients send intents (take 7 damage, equip chain mail), never final state; the rules
//! (`guildhall-characters`) decide the outcome. Every request is authenticated and checked
//! against the character's owner; concurrent edits are settled by versions (409 with the
//! latest state). Characters live in an in-memory cache, loaded lazily from the database;
//! writes reach the database either in deduplicated batches (write-behind, the default)
//! or before the answer (write-through).
//!
//! - [`cache`]: the cache, one async lock per character, bounded, evicting clean entries.
//! - [`service::Players`]: the operations (create, list, get, intents, delete, idempotency).
//! - [`flusher`]: the write-behind task, retries, dead letters, the final flush at shutdown.
//! - [`ownership`]: per-user leases, so one instance at a time serves a user.
//! - [`store`]: the `players_*` tables.
//! - [`routes`]: the HTTP API.

pub mod cache;
mod error;
pub mod flusher;
pub mod ownership;
pub mod routes;
pub mod service;
pub mod store;
mod telemetry;

pub use error::PlayersError;
pub use service::Players;

/// A players service on a fresh SQLite file in `dir`, with the in-process bus.
#[cfg(test)]
pub(crate) async fn players_on_sqlite(
    dir: &std::path::Path,
    config: guildhall_config::PlayersConfig,
) -> std::sync::Arc<Players> {
    let store = guildhall_store::Store::connect(&guildhall_store::StoreOptions {
        url: format!("sqlite://{}", dir.join("players.db").display()),
        max_connections: 4,
        connect_timeout: std::time::Duration::from_secs(5),
    })
    .await
    .unwrap();
    store.migrate().await.unwrap();
    let bus = guildhall_bus::connect("memory://", "").await.unwrap();
    Players::new(store, config, bus)
}

/// A level-1 dwarf fighter's creation request (standard array).
#[cfg(test)]
pub(crate) fn new_tordek() -> guildhall_characters::NewCharacter {
    serde_json::from_value(serde_json::json!({
        "name": "Tordek", "race": "dwarf", "class": "fighter", "generation": "standard_array",
        "abilities": {"str": 15, "dex": 12, "con": 14, "int": 8, "wis": 13, "cha": 10}
    }))
    .unwrap()
}
