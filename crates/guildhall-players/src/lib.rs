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
