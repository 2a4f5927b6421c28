//! Keeping a [`Verifier`] current: keys from the JWKS, revocations from the bus.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use guildhall_bus::{Delivery, SharedBus};
use tokio_util::sync::CancellationToken;

use crate::{Jwks, REVOCATIONS_CHANNEL, Revocation, Verifier};

/// The bus channel auth announces new signing keys on.
pub const KEYS_CHANNEL: &str = "auth.keys";

/// Where a verifier learns the truth: the auth service, in process or over HTTP.
#[async_trait]
pub trait TrustSource: Send + Sync {
    async fn jwks(&self) -> Result<Jwks, String>;
    /// Every revocation whose tokens may still be unexpired.
    async fn revocations(&self) -> Result<Vec<Revocation>, String>;
}

/// How often keys and the full revocation list are re-read even without bus news.
const RESYNC_EVERY: Duration = Duration::from_secs(60);
const RETRY_START: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// Subscribes to the bus, then (in the background) loads keys and revocations, retrying
/// until it succeeds, and follows the bus until `shutdown`. Subscribing first means nothing
/// published during the load is missed. Until the first load, [`Verifier::has_keys`] is
/// false and every token is refused: readiness reports it.
pub async fn keep_in_sync(
    verifier: Arc<Verifier>,
    source: Arc<dyn TrustSource>,
    bus: SharedBus,
    shutdown: CancellationToken,
) -> Result<tokio::task::JoinHandle<()>, String> {
    let mut revocations = bus
        .subscribe(REVOCATIONS_CHANNEL)
        .await
        .map_err(|e| e.to_string())?;
    let mut keys = bus
        .subscribe(KEYS_CHANNEL)
        .await
        .map_err(|e| e.to_string())?;
    Ok(tokio::spawn(async move {
        resync_until_done(&verifier, &*source, &shutdown).await;
        let mut timer = tokio::time::interval(RESYNC_EVERY);
        timer.tick().await;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = timer.tick() => {
                    verifier.prune_revocations();
                    if let Err(err) = resync(&verifier, &*source).await {
                        tracing::warn!(%err, "periodic trust resync failed");
                    }
                }
                delivery = revocations.recv() => match delivery {
                    None => return,
                    Some(Delivery::Message(payload)) => match serde_json::from_slice::<Revocation>(&payload) {
                        Ok(revocation) => verifier.revoke(&revocation),
                        Err(err) => tracing::warn!(%err, "ignoring malformed revocation"),
                    },
                    // Something may have been missed: re-read the whole list.
                    Some(Delivery::Gap) => resync_until_done(&verifier, &*source, &shutdown).await,
                },
                delivery = keys.recv() => match delivery {
                    None => return,
                    Some(Delivery::Message(kid)) => {
                        let kid = String::from_utf8_lossy(&kid).into_owned();
                        until_key_known(&verifier, &*source, &kid, &shutdown).await;
                    }
                    Some(Delivery::Gap) => resync_until_done(&verifier, &*source, &shutdown).await,
                },
            }
        }
    }))
}

/// After a rotation announcement: the source (auth) may not have reloaded its own keys
/// yet when we ask, so re-read until the announced key is there (bounded).
async fn until_key_known(
    verifier: &Verifier,
    source: &dyn TrustSource,
    kid: &str,
    shutdown: &CancellationToken,
) {
    let mut delay = RETRY_START;
    for _ in 0..8 {
        resync_until_done(verifier, source, shutdown).await;
        if verifier.knows_key(kid) || shutdown.is_cancelled() {
            return;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(RETRY_MAX);
    }
    tracing::warn!(%kid, "announced signing key not published by auth; relying on periodic resync");
}

async fn resync(verifier: &Verifier, source: &dyn TrustSource) -> Result<(), String> {
    let (jwks, revocations) = tokio::try_join!(source.jwks(), source.revocations())?;
    verifier.set_keys(&jwks);
    verifier.add_revocations(&revocations);
    Ok(())
}

async fn resync_until_done(
    verifier: &Verifier,
    source: &dyn TrustSource,
    shutdown: &CancellationToken,
) {
    let mut delay = RETRY_START;
    loop {
        match resync(verifier, source).await {
            Ok(()) => return,
            Err(err) => tracing::warn!(%err, retry_in = ?delay, "cannot load keys and revocations"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(RETRY_MAX);
    }
}

/// A verifier plus where to fetch keys from when a token names a key it does not know yet
/// (a rotation racing the bus announcement). Refreshes are single-flight and at most one
/// per second, so tokens with made-up key ids cannot be used to hammer the source.
pub struct Trust {
    verifier: Arc<Verifier>,
    source: Option<Arc<dyn TrustSource>>,
    last_refresh: tokio::sync::Mutex<Option<tokio::time::Instant>>,
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trust")
            .field("verifier", &self.verifier)
            .finish_non_exhaustive()
    }
}

const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(1);

impl Trust {
    /// `source: None` when the verifier is updated directly (auth in the same process).
    pub fn new(verifier: Arc<Verifier>, source: Option<Arc<dyn TrustSource>>) -> Self {
        Self {
            verifier,
            source,
            last_refresh: tokio::sync::Mutex::new(None),
        }
    }

    pub fn verifier(&self) -> &Arc<Verifier> {
        &self.verifier
    }

    /// Verifies an access token, fetching the JWKS once if it names an unknown key.
    pub async fn verify_access(
        &self,
        token: &str,
    ) -> Result<crate::AccessClaims, crate::TokenError> {
        match self.verifier.verify_access(token) {
            Err(crate::TokenError::UnknownKey(kid)) if self.source.is_some() => {
                self.refresh_for(&kid).await;
                self.verifier.verify_access(token)
            }
            other => other,
        }
    }

    async fn refresh_for(&self, kid: &str) {
        let Some(source) = &self.source else { return };
        let mut last = self.last_refresh.lock().await;
        // Someone refreshed while we waited for the lock.
        if self.verifier.knows_key(kid) {
            return;
        }
        if last.is_some_and(|at| at.elapsed() < MIN_REFRESH_INTERVAL) {
            return;
        }
        *last = Some(tokio::time::Instant::now());
        match source.jwks().await {
            Ok(jwks) => self.verifier.set_keys(&jwks),
            Err(err) => tracing::warn!(%err, "on-demand JWKS refresh failed"),
        }
    }
}
