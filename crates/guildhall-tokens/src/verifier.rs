//! Local token verification.

use std::collections::HashMap;
use std::sync::RwLock;

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
}

impl Verifier {
    pub fn new(issuer: &str, leeway_secs: u64) -> Self {
        Self {
            issuer: issuer.to_owned(),
            leeway_secs,
            keys: RwLock::new(HashMap::new()),
            revoked: RwLock::new(RevocationSet::default()),
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

    pub fn replace_revocations(&self, snapshot: &[Revocation]) {
        let mut set = self.revoked.write().unwrap();
        set.replace(snapshot);
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
        let claims: AccessClaims = self.verify(token, ACCESS_AUDIENCE)?;
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
