//! Ed25519 signing keys and their public JWKS form.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A signing key with its id.
#[derive(Clone)]
pub struct KeyPair {
    kid: String,
    key: ed25519_dalek::SigningKey,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl KeyPair {
    /// A fresh key. Its `kid` is derived from the public key (RFC 7638 style thumbprint),
    /// so the same key always has the same id.
    pub fn generate() -> Self {
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        Self::from_secret(ed25519_dalek::SigningKey::from_bytes(&secret))
    }

    fn from_secret(key: ed25519_dalek::SigningKey) -> Self {
        let public = key.verifying_key().to_bytes();
        let thumbprint = Sha256::digest(
            format!(
                r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
                URL_SAFE_NO_PAD.encode(public)
            )
            .as_bytes(),
        );
        Self {
            kid: URL_SAFE_NO_PAD.encode(&thumbprint[..12]),
            key,
        }
    }

    /// Reads a key stored with [`KeyPair::to_pkcs8_der`].
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, String> {
        ed25519_dalek::SigningKey::from_pkcs8_der(der)
            .map(Self::from_secret)
            .map_err(|e| e.to_string())
    }

    /// The private key as PKCS#8 DER, for storage.
    pub fn to_pkcs8_der(&self) -> Vec<u8> {
        self.key
            .to_pkcs8_der()
            .expect("an Ed25519 key always encodes")
            .as_bytes()
            .to_vec()
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn public_jwk(&self) -> PublicJwk {
        PublicJwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: URL_SAFE_NO_PAD.encode(self.key.verifying_key().to_bytes()),
            kid: self.kid.clone(),
            alg: "EdDSA".into(),
            use_: "sig".into(),
        }
    }

    pub(crate) fn signing_key(&self) -> &ed25519_dalek::SigningKey {
        &self.key
    }
}

/// One public key as published in the JWKS (RFC 8037 OKP key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicJwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub kid: String,
    pub alg: String,
    #[serde(rename = "use")]
    pub use_: String,
}

impl PublicJwk {
    /// The raw 32-byte public key, if this is a well-formed Ed25519 JWK.
    pub fn ed25519_public_key(&self) -> Option<[u8; 32]> {
        if self.kty != "OKP" || self.crv != "Ed25519" {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(&self.x).ok()?;
        let key: [u8; 32] = bytes.try_into().ok()?;
        // Reject points that are not valid public keys.
        ed25519_dalek::VerifyingKey::from_bytes(&key).ok()?;
        Some(key)
    }
}

/// The document at `/.well-known/jwks.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<PublicJwk>,
}
