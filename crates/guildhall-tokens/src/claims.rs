//! What an access token says.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Whether the user is a guest (device secret) or has an account (username and password).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    Guest,
    Account,
}

impl SubjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Guest => "guest",
            SubjectKind::Account => "account",
        }
    }
}

/// Claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: Uuid,
    /// The session id; revoking the session revokes every token it issued.
    pub sid: Uuid,
    pub kind: SubjectKind,
    pub iat: i64,
    pub exp: i64,
    /// Unique per token.
    pub jti: Uuid,
}

/// Seconds since the Unix epoch.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
