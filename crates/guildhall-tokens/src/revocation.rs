//! Tokens that must be refused before they expire.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::AccessClaims;

/// The bus channel auth publishes revocations on.
pub const REVOCATIONS_CHANNEL: &str = "auth.revocations";

/// One revocation, as published on the bus and listed by auth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Revocation {
    /// Every token of one session (logout, refresh-token reuse).
    Session { sid: Uuid, exp: i64 },
    /// Every token of a user issued before `before` (ban, password change).
    User { sub: Uuid, before: i64, exp: i64 },
}

impl Revocation {
    /// When the entry can be forgotten: after it, every token it covers has expired.
    pub fn expires(&self) -> i64 {
        match self {
            Revocation::Session { exp, .. } | Revocation::User { exp, .. } => *exp,
        }
    }
}

/// Revoked sessions and users, each kept until the last token it covers has expired.
#[derive(Debug, Default, Clone)]
pub struct RevocationSet {
    sessions: HashMap<Uuid, i64>,
    /// user → (tokens issued before this are revoked, entry expiry).
    users: HashMap<Uuid, (i64, i64)>,
}

impl RevocationSet {
    pub fn apply(&mut self, revocation: &Revocation) {
        match *revocation {
            Revocation::Session { sid, exp } => {
                let entry = self.sessions.entry(sid).or_insert(exp);
                *entry = (*entry).max(exp);
            }
            Revocation::User { sub, before, exp } => {
                let entry = self.users.entry(sub).or_insert((before, exp));
                *entry = (entry.0.max(before), entry.1.max(exp));
            }
        }
    }

    /// Adds a snapshot of every revocation still in force, read from the database (at
    /// start, after a bus gap, every minute). Revocations are never withdrawn, so what
    /// this set holds already stays: a revocation applied while the snapshot was being
    /// read is missing from it, and replacing the set would have undone it.
    pub fn merge(&mut self, snapshot: &[Revocation]) {
        for revocation in snapshot {
            self.apply(revocation);
        }
    }

    pub fn is_revoked(&self, claims: &AccessClaims) -> bool {
        self.sessions.contains_key(&claims.sid)
            || self
                .users
                .get(&claims.sub)
                .is_some_and(|(before, _)| claims.iat < *before)
    }

    /// Forgets entries whose tokens have all expired.
    pub fn prune(&mut self, now: i64) {
        self.sessions.retain(|_, exp| *exp >= now);
        self.users.retain(|_, (_, exp)| *exp >= now);
    }

    pub fn len(&self) -> usize {
        self.sessions.len() + self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
