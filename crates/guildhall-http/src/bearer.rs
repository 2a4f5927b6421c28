//! `Authorization: Bearer` on any service's routes, verified locally.
//!
//! A service's state provides its [`Trust`] through `FromRef`; handlers then take a
//! [`Bearer`] (required) or [`MaybeBearer`] (optional) argument.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use guildhall_core::{ApiError, ErrorCode};
use guildhall_tokens::AccessClaims;
use guildhall_tokens::sync::Trust;

/// A caller with a valid, unrevoked access token.
#[derive(Debug, Clone)]
pub struct Bearer {
    pub claims: AccessClaims,
    pub token: String,
}

impl Bearer {
    /// The token from an `Authorization: Bearer` header; the scheme name is
    /// case-insensitive (RFC 9110 §11.1).
    pub fn token_in(parts: &Parts) -> Option<&str> {
        let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        let token = token.trim();
        (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
    }
}

impl<S> FromRequestParts<S> for Bearer
where
    Arc<Trust>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = Self::token_in(parts).ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unauthorized,
                "an `Authorization: Bearer` token is required",
            )
        })?;
        let trust = Arc::<Trust>::from_ref(state);
        let claims = trust.verify_access(token).await.map_err(|err| {
            tracing::debug!(%err, "bearer token refused");
            metrics::counter!("http_tokens_refused_total").increment(1);
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

impl<S> FromRequestParts<S> for MaybeBearer
where
    Arc<Trust>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if Bearer::token_in(parts).is_none() {
            return Ok(MaybeBearer(None));
        }
        Bearer::from_request_parts(parts, state)
            .await
            .map(|b| MaybeBearer(Some(b)))
    }
}
