//! Bearer tokens on head's routes, verified locally.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use guildhall_core::{ApiError, ErrorCode};
use guildhall_tokens::AccessClaims;

use crate::Head;

/// A caller with a valid, unrevoked access token.
#[derive(Debug, Clone)]
pub struct Bearer {
    pub claims: AccessClaims,
    pub token: String,
}

impl Bearer {
    /// The token from an `Authorization: Bearer` header, if there is one.
    /// The auth scheme name is case-insensitive (RFC 9110 §11.1).
    pub fn token_in(parts: &Parts) -> Option<&str> {
        let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        let token = token.trim();
        (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
    }
}

impl FromRequestParts<Head> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, head: &Head) -> Result<Self, Self::Rejection> {
        let token = Self::token_in(parts).ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unauthorized,
                "an `Authorization: Bearer` token is required",
            )
        })?;
        let claims = head.trust.verify_access(token).await.map_err(|err| {
            tracing::debug!(%err, "bearer token refused");
            metrics::counter!("head_tokens_refused_total").increment(1);
            ApiError::new(
                ErrorCode::Unauthorized,
                "the token is invalid, expired or revoked",
            )
        })?;
        Ok(Bearer {
            claims,
            token: token.to_owned(),
        })
    }
}

/// An optional bearer: absent is fine, present must be valid.
#[derive(Debug, Clone)]
pub struct MaybeBearer(pub Option<Bearer>);

impl FromRequestParts<Head> for MaybeBearer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, head: &Head) -> Result<Self, Self::Rejection> {
        if Bearer::token_in(parts).is_none() {
            return Ok(MaybeBearer(None));
        }
        Bearer::from_request_parts(parts, head)
            .await
            .map(|b| MaybeBearer(Some(b)))
    }
}
