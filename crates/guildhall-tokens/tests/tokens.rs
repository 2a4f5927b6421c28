//! Signing and local verification, including the forgeries a verifier must refuse.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use guildhall_bus::{Bus, MemoryBus};
use guildhall_tokens::sync::{TrustSource, keep_in_sync};
use guildhall_tokens::*;
use uuid::Uuid;

fn claims(iat: i64, exp: i64) -> AccessClaims {
    AccessClaims {
        iss: "guildhall".into(),
        aud: ACCESS_AUDIENCE.into(),
        sub: Uuid::new_v4(),
        sid: Uuid::new_v4(),
        kind: SubjectKind::Guest,
        iat,
        exp,
        jti: Uuid::new_v4(),
    }
}

fn setup() -> (Signer, Verifier, KeyPair) {
    let key = KeyPair::generate();
    let verifier = Verifier::new("guildhall", 5);
    verifier.set_keys(&Jwks {
        keys: vec![key.public_jwk()],
    });
    (Signer::new(key.clone()), verifier, key)
}

#[test]
fn round_trip_and_claims() {
    let (signer, verifier, _) = setup();
    let now = now_unix();
    let c = claims(now, now + 900);
    let token = signer.sign(&c);
    assert_eq!(verifier.verify_access(&token).unwrap(), c);
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
    assert_eq!(header.kid.as_deref(), Some(signer.kid()));
}

#[test]
fn expiry_with_small_leeway() {
    let (signer, verifier, _) = setup();
    let now = now_unix();
    assert!(
        verifier
            .verify_access(&signer.sign(&claims(now - 900, now - 2)))
            .is_ok(),
        "within leeway"
    );
    assert_eq!(
        verifier.verify_access(&signer.sign(&claims(now - 900, now - 60))),
        Err(TokenError::Expired)
    );
}

#[test]
fn wrong_issuer_or_audience() {
    let (signer, verifier, _) = setup();
    let now = now_unix();
    let mut c = claims(now, now + 60);
    c.aud = "guildhall:table".into();
    assert_eq!(
        verifier.verify_access(&signer.sign(&c)),
        Err(TokenError::WrongIssuerOrAudience)
    );
    let mut c = claims(now, now + 60);
    c.iss = "evil".into();
    assert_eq!(
        verifier.verify_access(&signer.sign(&c)),
        Err(TokenError::WrongIssuerOrAudience)
    );
}

#[test]
fn forgeries_are_refused() {
    let (signer, verifier, key) = setup();
    let now = now_unix();
    let token = signer.sign(&claims(now, now + 60));
    let parts: Vec<&str> = token.split('.').collect();

    // Tampered payload, original signature.
    let mut forged_claims = claims(now, now + 60);
    forged_claims.kind = SubjectKind::Account;
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged_claims).unwrap());
    let tampered = format!("{}.{}.{}", parts[0], payload, parts[2]);
    assert_eq!(
        verifier.verify_access(&tampered),
        Err(TokenError::BadSignature)
    );

    // alg=none.
    let none_header = URL_SAFE_NO_PAD.encode(format!(
        r#"{{"alg":"none","typ":"JWT","kid":"{}"}}"#,
        key.kid()
    ));
    assert_eq!(
        verifier.verify_access(&format!("{none_header}.{}.", parts[1])),
        Err(TokenError::Malformed)
    );

    // HS256 keyed with our public key (the classic algorithm-confusion attack).
    let public = key.public_jwk().ed25519_public_key().unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(key.kid().into());
    let hs = jsonwebtoken::encode(
        &header,
        &claims(now, now + 60),
        &jsonwebtoken::EncodingKey::from_secret(&public),
    )
    .unwrap();
    assert_eq!(verifier.verify_access(&hs), Err(TokenError::Malformed));

    // Signed by a key nobody published.
    let stranger = Signer::new(KeyPair::generate());
    assert!(matches!(
        verifier.verify_access(&stranger.sign(&claims(now, now + 60))),
        Err(TokenError::UnknownKey(_))
    ));

    for junk in ["", "a.b", "a.b.c", "..", "😀.😀.😀", &"x".repeat(100_000)] {
        assert!(verifier.verify_access(junk).is_err(), "{junk:.20}");
    }
}

#[test]
fn rotation_keeps_old_tokens_valid_until_the_key_is_withdrawn() {
    let old = KeyPair::generate();
    let new = KeyPair::generate();
    let verifier = Verifier::new("guildhall", 5);
    verifier.set_keys(&Jwks {
        keys: vec![new.public_jwk(), old.public_jwk()],
    });
    let now = now_unix();
    let old_token = Signer::new(old.clone()).sign(&claims(now, now + 60));
    let new_token = Signer::new(new.clone()).sign(&claims(now, now + 60));
    assert!(verifier.verify_access(&old_token).is_ok());
    assert!(verifier.verify_access(&new_token).is_ok());
    verifier.set_keys(&Jwks {
        keys: vec![new.public_jwk()],
    });
    assert!(matches!(
        verifier.verify_access(&old_token),
        Err(TokenError::UnknownKey(_))
    ));
}

#[test]
fn stored_keys_reload_with_the_same_kid() {
    let key = KeyPair::generate();
    let again = KeyPair::from_pkcs8_der(&key.to_pkcs8_der()).unwrap();
    assert_eq!(key.kid(), again.kid());
    assert_eq!(key.public_jwk(), again.public_jwk());
    assert!(KeyPair::from_pkcs8_der(b"not a key").is_err());
}

#[test]
fn malformed_jwks_entries_are_skipped_not_trusted() {
    let key = KeyPair::generate();
    let mut short = key.public_jwk();
    short.x = URL_SAFE_NO_PAD.encode([1u8; 16]);
    short.kid = "short".into();
    let mut wrong_curve = key.public_jwk();
    wrong_curve.crv = "X25519".into();
    wrong_curve.kid = "x25519".into();
    let verifier = Verifier::new("guildhall", 5);
    verifier.set_keys(&Jwks {
        keys: vec![short, wrong_curve, key.public_jwk()],
    });
    assert!(!verifier.knows_key("short") && !verifier.knows_key("x25519"));
    assert!(verifier.knows_key(key.kid()));
}

#[test]
fn session_and_user_revocations() {
    let (signer, verifier, _) = setup();
    let now = now_unix();
    let a = claims(now - 10, now + 900);
    let b = claims(now - 10, now + 900);
    verifier.revoke(&Revocation::Session {
        sid: a.sid,
        exp: now + 900,
    });
    assert_eq!(
        verifier.verify_access(&signer.sign(&a)),
        Err(TokenError::Revoked)
    );
    assert!(verifier.verify_access(&signer.sign(&b)).is_ok());

    // A user revocation covers tokens issued before it, not after (re-login after a
    // password change works).
    verifier.revoke(&Revocation::User {
        sub: b.sub,
        before: now,
        exp: now + 900,
    });
    assert_eq!(
        verifier.verify_access(&signer.sign(&b)),
        Err(TokenError::Revoked)
    );
    let mut later = b.clone();
    later.iat = now;
    later.sid = Uuid::new_v4();
    assert!(verifier.verify_access(&signer.sign(&later)).is_ok());

    // A snapshot from the database read before these revocations were made lacks them:
    // adding it undoes none of them (it used to replace the set, so a revocation made
    // while auth reloaded its snapshot stopped working until the next reload).
    let c = claims(now - 10, now + 900);
    verifier.add_revocations(&[Revocation::Session {
        sid: c.sid,
        exp: now + 900,
    }]);
    for revoked in [&a, &b, &c] {
        assert_eq!(
            verifier.verify_access(&signer.sign(revoked)),
            Err(TokenError::Revoked)
        );
    }
    assert_eq!(verifier.revocation_count(), 3);

    // Entries whose tokens have all expired are not kept.
    let (_, fresh, _) = setup();
    fresh.add_revocations(&[Revocation::Session {
        sid: a.sid,
        exp: now - 1,
    }]);
    assert_eq!(fresh.revocation_count(), 0);
}

/// A trust source whose answers the test controls.
struct FakeAuth {
    jwks: Jwks,
    revocations: Mutex<Vec<Revocation>>,
}

#[async_trait]
impl TrustSource for FakeAuth {
    async fn jwks(&self) -> Result<Jwks, String> {
        Ok(self.jwks.clone())
    }
    async fn revocations(&self) -> Result<Vec<Revocation>, String> {
        Ok(self.revocations.lock().unwrap().clone())
    }
}

#[tokio::test]
async fn sync_loads_the_snapshot_then_follows_the_bus() {
    let key = KeyPair::generate();
    let signer = Signer::new(key.clone());
    let now = now_unix();
    let early = claims(now, now + 900);
    let late = claims(now, now + 900);
    let source = Arc::new(FakeAuth {
        jwks: Jwks {
            keys: vec![key.public_jwk()],
        },
        revocations: Mutex::new(vec![Revocation::Session {
            sid: early.sid,
            exp: now + 900,
        }]),
    });
    let bus = Arc::new(MemoryBus::new());
    let verifier = Arc::new(Verifier::new("guildhall", 5));
    let shutdown = tokio_util::sync::CancellationToken::new();
    let task = keep_in_sync(
        verifier.clone(),
        source.clone(),
        bus.clone(),
        shutdown.clone(),
    )
    .await
    .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !verifier.has_keys() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "first load within 5s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // Snapshot: a restarted verifier still refuses what was revoked before it started.
    assert_eq!(
        verifier.verify_access(&signer.sign(&early)),
        Err(TokenError::Revoked)
    );
    assert!(verifier.verify_access(&signer.sign(&late)).is_ok());

    // Bus: refused within a second of the announcement.
    let news = serde_json::to_vec(&Revocation::Session {
        sid: late.sid,
        exp: now + 900,
    })
    .unwrap();
    bus.publish(REVOCATIONS_CHANNEL, &news).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    while verifier.verify_access(&signer.sign(&late)).is_ok() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "revocation not applied within 1s"
        );
        tokio::task::yield_now().await;
    }
    shutdown.cancel();
    task.await.unwrap();
}

#[test]
fn the_verified_cache_never_vouches_for_a_different_signature() {
    let (signer, verifier, _) = setup();
    let now = now_unix();
    let token = signer.sign(&claims(now, now + 60));
    assert!(
        verifier.verify_access(&token).is_ok(),
        "verified once, now cached"
    );
    // Same header and payload, another signature: a different string, so a full check.
    let (body, signature) = token.rsplit_once('.').unwrap();
    let mut forged_signature = signature.as_bytes().to_vec();
    forged_signature[10] = if forged_signature[10] == b'A' {
        b'B'
    } else {
        b'A'
    };
    let forged = format!("{body}.{}", String::from_utf8(forged_signature).unwrap());
    assert_eq!(
        verifier.verify_access(&forged),
        Err(TokenError::BadSignature)
    );
    assert!(verifier.verify_access(&token).is_ok());
}

#[test]
fn a_cached_token_still_expires() {
    let key = KeyPair::generate();
    let verifier = Verifier::new("guildhall", 0);
    verifier.set_keys(&Jwks {
        keys: vec![key.public_jwk()],
    });
    let now = now_unix();
    let token = Signer::new(key).sign(&claims(now, now + 1));
    assert!(verifier.verify_access(&token).is_ok());
    // Wait for the clock to pass `exp` (at most about two seconds), then ask again.
    while now_unix() <= now + 1 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(verifier.verify_access(&token), Err(TokenError::Expired));
}
