//! Signing tokens with the current key.

use jsonwebtoken::{Algorithm, Header};
use serde::Serialize;

use crate::KeyPair;

/// Signs claims with one key. Replace the signer to rotate keys.
#[derive(Clone)]
pub struct Signer {
    key: KeyPair,
    encoding: jsonwebtoken::EncodingKey,
    header: Header,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("kid", &self.key.kid())
            .finish()
    }
}

impl Signer {
    pub fn new(key: KeyPair) -> Self {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.kid().to_owned());
        header.typ = Some("JWT".into());
        Self {
            encoding: key.encoding_key(),
            key,
            header,
        }
    }

    pub fn kid(&self) -> &str {
        self.key.kid()
    }

    /// A compact JWS of `claims`.
    pub fn sign<C: Serialize>(&self, claims: &C) -> String {
        jsonwebtoken::encode(&self.header, claims, &self.encoding)
            .expect("Ed25519 signing of serializable claims")
    }
}
