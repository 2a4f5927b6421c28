//! Secrets: passwords (Argon2id, slow on purpose) and high-entropy opaque secrets (guest
//! secrets, refresh tokens: SHA-256 is enough, as nothing can be guessed).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Password hashing with the configured cost.
#[derive(Clone)]
pub struct Passwords {
    argon: Argon2<'static>,
    /// A hash of nothing in particular, verified against when the username does not exist,
    /// so both failures cost the same time.
    decoy: String,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passwords")
    }
}

impl Passwords {
    pub fn new(memory_kib: u32, iterations: u32) -> anyhow::Result<Self> {
        let params = Params::new(memory_kib, iterations, 1, None)
            .map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut this = Self {
            argon,
            decoy: String::new(),
        };
        this.decoy = this.hash("decoy password for timing")?;
        Ok(this)
    }

    pub fn hash(&self, password: &str) -> anyhow::Result<String> {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
        Ok(self
            .argon
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))?
            .to_string())
    }

    /// Whether `password` matches `stored`; with `None`, checks the decoy and returns false.
    pub fn verify(&self, password: &str, stored: Option<&str>) -> bool {
        let (hash, real) = match stored {
            Some(hash) => (hash, true),
            None => (self.decoy.as_str(), false),
        };
        let Ok(parsed) = PasswordHash::new(hash) else {
            return false;
        };
        self.argon
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
            && real
    }
}

/// A new random secret (256 bits) as URL-safe text, and its SHA-256 for storage.
pub fn new_secret() -> (String, Vec<u8>) {
    let text = random_text();
    let hash = hash_secret(&text);
    (text, hash)
}

/// 256 random bits as URL-safe text.
fn random_text() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hash_secret(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// A new refresh token for `session`, and the key it is stored and found under.
///
/// The token is `<session id, 32 hex digits>.<256-bit secret>`; the key is the session
/// id's 16 bytes followed by the SHA-256 of the whole token. Keys begin with the
/// time-ordered session id, so the unique index over them grows at its end like the
/// sessions table itself: a new session dirties the index's last page, not a random one
/// (a random 32-byte hash as the key made every new session write its own index page,
/// most of what a guest init wrote to disk).
pub fn new_refresh(session: uuid::Uuid) -> (String, Vec<u8>) {
    let token = format!("{}.{}", session.simple(), random_text());
    let key = refresh_key(&token);
    (token, key)
}

/// The storage key of a presented refresh token (see [`new_refresh`]). A token without a
/// session id in front, issued before keys carried one, is keyed by its hash alone, as
/// it was stored then.
pub fn refresh_key(token: &str) -> Vec<u8> {
    let hash = Sha256::digest(token.as_bytes());
    let session = token
        .split_once('.')
        .filter(|(id, _)| id.len() == 32)
        .and_then(|(id, _)| uuid::Uuid::try_parse(id).ok());
    match session {
        Some(session) => [session.as_bytes().as_slice(), hash.as_slice()].concat(),
        None => hash.to_vec(),
    }
}

/// Compares a presented secret with a stored hash in constant time.
pub fn secret_matches(presented: &str, stored: &[u8]) -> bool {
    hash_secret(presented).ct_eq(stored).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_and_decoy_never_matches() {
        let passwords = Passwords::new(8192, 1).unwrap();
        let hash = passwords.hash("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(passwords.verify("correct horse", Some(&hash)));
        assert!(!passwords.verify("wrong horse", Some(&hash)));
        assert!(!passwords.verify("decoy password for timing", None));
        assert!(!passwords.verify("x", Some("not a hash")));
    }

    #[test]
    fn secrets_are_unique_and_checked_by_hash() {
        let (a, hash_a) = new_secret();
        let (b, _) = new_secret();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(secret_matches(&a, &hash_a));
        assert!(!secret_matches(&b, &hash_a));
    }

    #[test]
    fn refresh_keys_lead_with_the_session_and_old_tokens_keep_theirs() {
        let (earlier, later) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        let (token, key) = new_refresh(earlier);
        assert!(token.starts_with(&format!("{}.", earlier.simple())));
        assert_eq!(key.len(), 48);
        assert_eq!(&key[..16], earlier.as_bytes());
        assert_eq!(
            refresh_key(&token),
            key,
            "the presented token finds its key"
        );
        // Later sessions sort after earlier ones: the index grows at its end.
        assert!(new_refresh(later).1 > key);
        // Another secret for the same session is another key.
        assert_ne!(new_refresh(earlier).1, key);
        // Tokens issued before keys carried the session: their hash alone, as stored.
        let (legacy, legacy_hash) = new_secret();
        assert_eq!(refresh_key(&legacy), legacy_hash);
        // Anything else is hashed too, never an error: it simply matches nothing.
        assert_eq!(refresh_key("not-a-uuid.x").len(), 32);
        assert_eq!(refresh_key("").len(), 32);
    }
}
