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
                    Some(_) => resync_until_done(&verifier, &*source, &shutdown).await,
                },
            }
        }
    }))
}

async fn resync(verifier: &Verifier, source: &dyn TrustSource) -> Result<(), String> {
    let (jwks, revocations) = tokio::try_join!(source.jwks(), source.revocations())?;
    verifier.set_keys(&jwks);
    verifier.replace_revocations(&revocations);
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
