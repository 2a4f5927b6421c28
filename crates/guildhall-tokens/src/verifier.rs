//! Local token verification.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use crate::{ACCESS_AUDIENCE, AccessClaims, Jwks, Revocation, RevocationSet, now_unix};

/// Why a token was refused. Every variant answers `401 unauthorized`; the variant is
/// logged, not sent, so a client cannot probe which check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token")]
    Malformed,
    #[error("token signed with unknown key {0}")]
    UnknownKey(String),
    #[error("bad signature")]
    BadSignature,
    #[error("token expired")]
    Expired,
    #[error("wrong issuer or audience")]
    WrongIssuerOrAudience,
    #[error("token revoked")]
    Revoked,
}

/// Verifies tokens against the known public keys and the revocation set. Shared by every
/// request handler of a process; updated by [`crate::sync::keep_in_sync`].
#[derive(Debug)]
pub struct Verifier {
    issuer: String,
    leeway_secs: u64,
    keys: RwLock<HashMap<String, DecodingKey>>,
    revoked: RwLock<RevocationSet>,
    /// Access tokens whose signature, issuer and audience were already checked, by their
    /// exact text (a forged token differs in its signature, so it never hits). Expiry and
    /// revocation are still checked on every use; cleared whenever the trusted keys change
    /// and when full. Ed25519 verification is half the CPU of a cheap authenticated call.
    verified: Mutex<HashMap<String, AccessClaims>>,
}

/// Verified tokens remembered at most (about 0.5 KiB each).
const VERIFIED_CAPACITY: usize = 50_000;

impl Verifier {
    pub fn new(issuer: &str, leeway_secs: u64) -> Self {
        Self {
            issuer: issuer.to_owned(),
            leeway_secs,
            keys: RwLock::new(HashMap::new()),
            revoked: RwLock::new(RevocationSet::default()),
            verified: Mutex::new(HashMap::new()),
        }
    }

    /// Trusts exactly the keys of `jwks` (keys missing from it are no longer trusted).
    /// Malformed entries are skipped.
    pub fn set_keys(&self, jwks: &Jwks) {
        let keys = jwks
            .keys
            .iter()
            .filter(|jwk| jwk.alg == "EdDSA")
            .filter_map(|jwk| {
                let raw = jwk.ed25519_public_key()?;
                Some((jwk.kid.clone(), DecodingKey::from_ed_der(&raw)))
            })
            .collect();
        *self.keys.write().unwrap() = keys;
        // A withdrawn key must stop vouching for the tokens it signed.
        self.verified.lock().unwrap().clear();
    }

    /// Whether any key is trusted yet (false until the first JWKS load).
    pub fn has_keys(&self) -> bool {
        !self.keys.read().unwrap().is_empty()
    }

    pub fn knows_key(&self, kid: &str) -> bool {
        self.keys.read().unwrap().contains_key(kid)
    }

    pub fn revoke(&self, revocation: &Revocation) {
        self.revoked.write().unwrap().apply(revocation);
    }

    /// Adds a snapshot of the revocations in force (see [`RevocationSet::merge`]) and
    /// forgets those whose tokens have all expired.
    pub fn add_revocations(&self, snapshot: &[Revocation]) {
        let mut set = self.revoked.write().unwrap();
        set.merge(snapshot);
        set.prune(now_unix());
    }

    pub fn prune_revocations(&self) {
        self.revoked.write().unwrap().prune(now_unix());
    }

    pub fn revocation_count(&self) -> usize {
        self.revoked.read().unwrap().len()
    }

    /// Verifies an access token.
    pub fn verify_access(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let remembered = self.verified.lock().unwrap().get(token).cloned();
        let claims = match remembered {
            Some(claims) => {
                if claims.exp + self.leeway_secs as i64 <= now_unix() {
                    self.verified.lock().unwrap().remove(token);
                    return Err(TokenError::Expired);
                }
                claims
            }
            None => {
                let claims: AccessClaims = self.verify(token, ACCESS_AUDIENCE)?;
                let mut verified = self.verified.lock().unwrap();
                if verified.len() >= VERIFIED_CAPACITY {
                    verified.clear();
                }
                verified.insert(token.to_owned(), claims.clone());
                claims
            }
        };
        if self.revoked.read().unwrap().is_revoked(&claims) {
            return Err(TokenError::Revoked);
        }
        Ok(claims)
    }

    /// Verifies signature, issuer, audience and expiry of any token kind.
    pub fn verify<C: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        audience: &str,
    ) -> Result<C, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        // Pinned: a token claiming any other algorithm (none, HS256 with our public key) fails.
        if header.alg != Algorithm::EdDSA {
            return Err(TokenError::Malformed);
        }
        let kid = header.kid.ok_or(TokenError::Malformed)?;
        let keys = self.keys.read().unwrap();
        let key = keys
            .get(&kid)
            .ok_or_else(|| TokenError::UnknownKey(kid.clone()))?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[audience]);
        validation.leeway = self.leeway_secs;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "iat"]);
        jsonwebtoken::decode::<C>(token, key, &validation)
            .map(|data| data.claims)
            .map_err(|err| {
                use jsonwebtoken::errors::ErrorKind;
                match err.kind() {
                    ErrorKind::ExpiredSignature => TokenError::Expired,
                    ErrorKind::InvalidSignature => TokenError::BadSignature,
                    ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => {
                        TokenError::WrongIssuerOrAudience
                    }
                    _ => TokenError::Malformed,
                }
            })
    }
}
