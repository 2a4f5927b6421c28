//! Signing tokens with the current key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::Signer as _;
use jsonwebtoken::{Algorithm, Header};
use serde::Serialize;

use crate::KeyPair;

/// Signs claims with one key. Replace the signer to rotate keys.
///
/// Tokens are JWS compact serializations (RFC 7515 §7.1) of the same header and claims
/// JSON that `jsonwebtoken::encode` writes, and Ed25519 signatures are deterministic, so
/// the output is byte for byte what `jsonwebtoken::encode` would give (a test checks it).
/// The signer does not go through `jsonwebtoken::encode` because that parses the
/// PKCS#8 key and derives its public half again for every token (a scalar
/// multiplication, about as much work as the signature itself); here the key is parsed
/// once and the header encoded once.
#[derive(Clone)]
pub struct Signer {
    key: KeyPair,
    /// `BASE64URL(header JSON)`, the first part of every token.
    encoded_header: String,
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
        let encoded_header = URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&Self::header(&key)).expect("a JWT header serializes"));
        Self {
            key,
            encoded_header,
        }
    }

    fn header(key: &KeyPair) -> Header {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.kid().to_owned());
        header.typ = Some("JWT".into());
        header
    }

    pub fn kid(&self) -> &str {
        self.key.kid()
    }

    /// A compact JWS of `claims`: `header.claims.signature`, each part base64url without
    /// padding, the signature over the first two parts joined by the dot.
    pub fn sign<C: Serialize>(&self, claims: &C) -> String {
        let claims = serde_json::to_vec(claims).expect("claims serialize");
        let mut token =
            String::with_capacity(self.encoded_header.len() + claims.len() * 4 / 3 + 90);
        token.push_str(&self.encoded_header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&claims, &mut token);
        let signature = self.key.signing_key().sign(token.as_bytes());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut token);
        token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_exactly_what_jsonwebtoken_encodes() {
        let key = KeyPair::generate();
        let signer = Signer::new(key.clone());
        let encoding = jsonwebtoken::EncodingKey::from_ed_der(&key.to_pkcs8_der());
        for claims in [
            serde_json::json!({"sub": "a", "exp": 1_700_000_000u64}),
            serde_json::json!({"sub": "ünïcödé \"quoted\" </script>", "n": [1, 2, 3], "x": null}),
            serde_json::json!({}),
        ] {
            let ours = signer.sign(&claims);
            let theirs = jsonwebtoken::encode(&Signer::header(&key), &claims, &encoding).unwrap();
            assert_eq!(ours, theirs);
        }
    }
}
