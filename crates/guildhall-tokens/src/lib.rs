//! Tokens: how Guildhall proves who is calling, without asking the auth service.
//!
//! - [`KeyPair`] / [`Jwks`]: Ed25519 signing keys, identified by `kid`, published as a JWKS.
//! - [`Signer`]: signs claims as `EdDSA` JWTs with the current key.
//! - [`Verifier`]: checks a token locally: algorithm pinned to `EdDSA`, signature by a
//!   known key, `iss` and `aud`, `exp` with a small leeway, then the revocation set.
//! - [`RevocationSet`]: sessions and users whose tokens must be refused before they expire
//!   (logout, password change, ban). [`sync::keep_in_sync`] loads it at start and follows
//!   the bus, so a revoked token stops working everywhere within a second, and stays
//!   refused after a restart.
//!
//! - [`Grant`]: narrow tokens (arena joins, table seats) auth signs for other services.
//!
//! Access tokens are short-lived (15 minutes by default); refresh tokens are opaque and
//! never pass through here.

mod claims;
mod grant;
mod keys;
mod revocation;
mod signer;
pub mod sync;
mod verifier;

pub use claims::{AccessClaims, SubjectKind, now_unix};
pub use grant::{
    ARENA_AUDIENCE, Grant, JoinClaims, MAX_GRANT_TTL_SECS, TABLES_AUDIENCE, TableClaims,
};
pub use keys::{Jwks, KeyPair, PublicJwk};
pub use revocation::{REVOCATIONS_CHANNEL, Revocation, RevocationSet};
pub use signer::Signer;
pub use verifier::{TokenError, Verifier};

/// The audience of access tokens.
pub const ACCESS_AUDIENCE: &str = "guildhall";
