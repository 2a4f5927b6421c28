//! The head service: where every client starts.
//!
//! Clients call head first (guest init or login), receive a bearer token, and carry it to
//! every later call, here or on other services. Head owns profiles and display-name rules
//! (RFC 8266 nicknames, impersonation checks against reserved names and other accounts'
//! usernames); it asks auth for identities and sessions through [`AuthApi`], in process
//! or over HTTP, and verifies bearer tokens locally.

mod auth;
mod error;
pub mod import;
mod profile_cache;
mod profiles;
pub mod routes;
pub mod shards;

use std::sync::Arc;

use guildhall_auth::api::AuthApi;
use guildhall_names::ReservedNames;
use guildhall_tokens::sync::Trust;

pub use auth::Bearer;
pub use error::HeadError;
pub use profile_cache::{PROFILES_CHANNEL, announce_all as announce_profiles_changed};
pub use profiles::{Profile, ProfileStore};

/// What head's handlers share.
#[derive(Clone)]
pub struct Head {
    pub auth: Arc<dyn AuthApi>,
    /// Verifies bearer tokens locally (fetching keys on demand after a rotation).
    pub trust: Arc<Trust>,
    pub profiles: ProfileStore,
    pub reserved: Arc<ReservedNames>,
}

impl std::fmt::Debug for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Head").finish_non_exhaustive()
    }
}

impl Head {
    /// Head, following profile changes on `bus` until `shutdown`.
    pub async fn start(
        auth: Arc<dyn AuthApi>,
        trust: Arc<Trust>,
        store: guildhall_store::Store,
        bus: guildhall_bus::SharedBus,
        config: &guildhall_config::HeadConfig,
        shutdown: tokio_util::sync::CancellationToken,
        tasks: &tokio_util::task::TaskTracker,
    ) -> Result<Self, guildhall_bus::BusError> {
        let ttl = std::time::Duration::from_millis(config.profile_cache_ttl_ms);
        Ok(Self {
            auth,
            trust,
            profiles: ProfileStore::cached(store, bus, ttl, shutdown, tasks).await?,
            reserved: Arc::new(ReservedNames::with_defaults(&config.reserved_names)),
        })
    }
}
