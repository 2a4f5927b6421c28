//! Grants: narrow, short-lived tokens auth signs on behalf of other services.
//!
//! A grant lets a client into one thing (an arena lobby, a card table seat) and nothing
//! else. It is signed with the same keys as access tokens, so every service verifies it
//! offline against the same JWKS, but its audience is never [`crate::ACCESS_AUDIENCE`],
//! so a grant can never be used as an access token.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// The audience of arena join tokens.
pub const ARENA_AUDIENCE: &str = "guildhall:arena";

/// The audience of card-table tokens (players and observers).
pub const TABLES_AUDIENCE: &str = "guildhall:tables";

/// Longest lifetime a grant may ask for.
pub const MAX_GRANT_TTL_SECS: u64 = 24 * 3600;

/// What a service asks auth to sign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    /// Who the grant is for; never `guildhall` (access tokens).
    pub aud: String,
    /// The user the grant admits.
    pub sub: Uuid,
    /// Lifetime in seconds, `1..=MAX_GRANT_TTL_SECS`.
    pub ttl_secs: u64,
    /// Further claims (`lobby`, `seat`, ...). `iss`, `aud`, `sub`, `iat`, `exp` and `jti`
    /// are auth's and cannot be set here.
    #[serde(default)]
    pub claims: Map<String, Value>,
}

impl Grant {
    /// Why auth must refuse to sign this grant, if it must.
    pub fn problem(&self) -> Option<&'static str> {
        if self.aud.is_empty() || self.aud == crate::ACCESS_AUDIENCE {
            return Some("a grant needs its own audience");
        }
        if self.ttl_secs == 0 || self.ttl_secs > MAX_GRANT_TTL_SECS {
            return Some("ttl_secs must be between 1 and 86400");
        }
        const RESERVED: [&str; 6] = ["iss", "aud", "sub", "iat", "exp", "jti"];
        if self.claims.keys().any(|k| RESERVED.contains(&k.as_str())) {
            return Some("claims may not set iss, aud, sub, iat, exp or jti");
        }
        None
    }

    /// The full claim set auth signs.
    pub fn into_claims(self, issuer: &str, now: i64) -> Map<String, Value> {
        let mut claims = self.claims;
        claims.insert("iss".into(), issuer.into());
        claims.insert("aud".into(), self.aud.into());
        claims.insert("sub".into(), self.sub.to_string().into());
        claims.insert("iat".into(), now.into());
        claims.insert("exp".into(), (now + self.ttl_secs as i64).into());
        claims.insert("jti".into(), Uuid::new_v4().to_string().into());
        claims
    }
}

/// Claims of an arena join token: one user into one lobby on one game server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinClaims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: Uuid,
    /// The lobby this token admits to.
    pub lobby: Uuid,
    /// The matchmaking mode the lobby runs.
    pub mode: String,
    /// The game server the lobby lives on.
    pub srv: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: Uuid,
}

/// Claims of a card-table token: a seat at one table, or a place among its observers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableClaims {
    pub iss: String,
    pub aud: String,
    /// The user (players) or a fresh id per observer token.
    pub sub: Uuid,
    pub game_id: String,
    /// `player` or `observer`.
    pub role: String,
    /// The player's seat.
    #[serde(default)]
    pub seat: Option<u8>,
    #[serde(default)]
    pub display_name: Option<String>,
    pub iat: i64,
    pub exp: i64,
    pub jti: Uuid,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> Grant {
        Grant {
            aud: ARENA_AUDIENCE.into(),
            sub: Uuid::new_v4(),
            ttl_secs: 60,
            claims: Map::new(),
        }
    }

    #[test]
    fn a_grant_can_never_be_an_access_token() {
        let mut g = grant();
        g.aud = crate::ACCESS_AUDIENCE.into();
        assert!(g.problem().is_some());
        g.aud = String::new();
        assert!(g.problem().is_some());
    }

    #[test]
    fn reserved_claims_and_silly_lifetimes_are_refused() {
        let mut g = grant();
        g.claims.insert("exp".into(), 1.into());
        assert!(g.problem().is_some());
        let mut g = grant();
        g.ttl_secs = 0;
        assert!(g.problem().is_some());
        g.ttl_secs = MAX_GRANT_TTL_SECS + 1;
        assert!(g.problem().is_some());
        assert!(grant().problem().is_none());
    }

    #[test]
    fn auth_fills_its_own_claims() {
        let mut g = grant();
        g.claims.insert("lobby".into(), "x".into());
        let claims = g.clone().into_claims("guildhall", 1000);
        assert_eq!(claims["exp"], 1060);
        assert_eq!(claims["iss"], "guildhall");
        assert_eq!(claims["aud"], ARENA_AUDIENCE);
        assert_eq!(claims["lobby"], "x");
        assert_eq!(claims["sub"], g.sub.to_string());
    }
}
