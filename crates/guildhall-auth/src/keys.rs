//! The signing keys: the current one signs, recent ones still verify.

use std::sync::{Arc, RwLock};

use guildhall_tokens::{Jwks, KeyPair, Signer, now_unix};

use crate::store::AuthStore;

/// The signer in force and the JWKS every verifier should trust.
#[derive(Debug)]
pub struct KeyRing {
    signer: RwLock<Arc<Signer>>,
    jwks: RwLock<Jwks>,
}

impl KeyRing {
    /// Loads the keys from the store, creating the first one if there is none.
    /// `keep_secs`: how long a retired key stays in the JWKS (its tokens' lifetime).
    pub async fn load(store: &AuthStore, keep_secs: i64) -> anyhow::Result<Self> {
        let (signer, jwks) = Self::read(store, keep_secs).await?;
        Ok(Self {
            signer: RwLock::new(signer),
            jwks: RwLock::new(jwks),
        })
    }

    /// Re-reads the keys (after a rotation announced on the bus, or periodically).
    pub async fn reload(&self, store: &AuthStore, keep_secs: i64) -> anyhow::Result<()> {
        let (signer, jwks) = Self::read(store, keep_secs).await?;
        *self.signer.write().unwrap() = signer;
        *self.jwks.write().unwrap() = jwks;
        Ok(())
    }

    async fn read(store: &AuthStore, keep_secs: i64) -> anyhow::Result<(Arc<Signer>, Jwks)> {
        let mut rows = store.live_keys(now_unix() - keep_secs).await?;
        if !rows.iter().any(|(_, _, retired)| retired.is_none()) {
            rotate(store).await?;
            rows = store.live_keys(now_unix() - keep_secs).await?;
        }
        let mut keys = Vec::new();
        let mut current = None;
        for (kid, der, retired) in rows {
            let key = KeyPair::from_pkcs8_der(&der)
                .map_err(|e| anyhow::anyhow!("signing key {kid}: {e}"))?;
            if retired.is_none() && current.is_none() {
                current = Some(key.clone());
            }
            keys.push(key.public_jwk());
        }
        let current = current.ok_or_else(|| anyhow::anyhow!("no current signing key"))?;
        Ok((Arc::new(Signer::new(current)), Jwks { keys }))
    }

    pub fn signer(&self) -> Arc<Signer> {
        self.signer.read().unwrap().clone()
    }

    pub fn jwks(&self) -> Jwks {
        self.jwks.read().unwrap().clone()
    }
}

/// Adds a new current key; the previous one is retired but still verifies until the
/// tokens it signed have expired. Returns the new key id.
pub async fn rotate(store: &AuthStore) -> anyhow::Result<String> {
    let key = KeyPair::generate();
    store
        .insert_key(key.kid(), &key.to_pkcs8_der(), now_unix())
        .await?;
    Ok(key.kid().to_owned())
}
