//! Sessions: sign in, refresh, sign out.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use guildhall_auth::api::{Login, TokenPair};
use guildhall_core::{ApiError, ApiJson};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{Bearer, Head};

/// A session's tokens.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Session)]
pub struct SessionResponse {
    pub user_id: Uuid,
    /// The access token, for `Authorization: Bearer`.
    pub session_token: String,
    /// Exchanges for a new pair once, at `/v1/session/refresh`.
    pub refresh_token: String,
    /// When `session_token` expires.
    #[schema(format = DateTime)]
    pub expires_at: String,
}

impl From<TokenPair> for SessionResponse {
    fn from(tokens: TokenPair) -> Self {
        SessionResponse {
            user_id: tokens.user_id,
            session_token: tokens.session_token,
            refresh_token: tokens.refresh_token,
            expires_at: tokens.expires_at,
        }
    }
}

/// An account's username and password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = LoginRequest)]
pub struct LoginRequest {
    #[schema(example = "rose_tyler")]
    username: String,
    #[schema(example = "correct horse battery staple")]
    password: String,
}

/// Signs an account in.
#[utoipa::path(
    post,
    path = "/v1/session/login",
    operation_id = "session_login",
    tag = "sessions",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "A new session.", body = SessionResponse),
        (status = 400, response = super::openapi::InvalidRequest),
        (status = 401, response = super::openapi::InvalidCredentials),
        (status = 403, response = super::openapi::Banned),
        (status = 413, response = super::openapi::PayloadTooLarge),
        (status = 415, response = super::openapi::UnsupportedMediaType),
        (status = 429, response = super::openapi::RateLimited),
        (status = 500, response = super::openapi::Internal),
        (status = 503, response = super::openapi::AuthUnavailable),
    ),
)]
pub async fn login(
    State(head): State<Head>,
    super::ClientIp(ip): super::ClientIp,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Json<SessionResponse>, ApiError> {
    let tokens = head
        .auth
        .login(
            Login {
                username: request.username,
                password: request.password,
            },
            ip,
        )
        .await?;
    Ok(Json(tokens.into()))
}

/// A refresh token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[schema(example = "q9Xo2Lk7Bv4Nc1Zm8Rt5Yw3Hs6Jd0Fg2Pa7Ue4Ki9")]
    refresh_token: String,
}

/// Exchanges a refresh token for a new pair (the old one stops working).
///
/// Presenting a refresh token that was already exchanged ends its whole session.
#[utoipa::path(
    post,
    path = "/v1/session/refresh",
    operation_id = "session_refresh",
    tag = "sessions",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "The new pair.", body = SessionResponse),
        (status = 400, response = super::openapi::InvalidRequest),
        (status = 401, response = super::openapi::Unauthorized),
        (status = 403, response = super::openapi::Banned),
        (status = 413, response = super::openapi::PayloadTooLarge),
        (status = 415, response = super::openapi::UnsupportedMediaType),
        (status = 500, response = super::openapi::Internal),
        (status = 503, response = super::openapi::AuthUnavailable),
    ),
)]
pub async fn refresh(
    State(head): State<Head>,
    super::ClientIp(ip): super::ClientIp,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> Result<Json<SessionResponse>, ApiError> {
    Ok(Json(
        head.auth.refresh(request.refresh_token, ip).await?.into(),
    ))
}

/// Ends the session; its tokens are refused everywhere from now on.
#[utoipa::path(
    post,
    path = "/v1/session/logout",
    operation_id = "session_logout",
    tag = "sessions",
    security(("bearerAuth" = [])),
    responses(
        (status = 204, description = "The session ended."),
        (status = 401, response = super::openapi::Unauthorized),
        (status = 500, response = super::openapi::Internal),
        (status = 503, response = super::openapi::AuthUnavailable),
    ),
)]
pub async fn logout(State(head): State<Head>, bearer: Bearer) -> Result<StatusCode, ApiError> {
    head.auth.logout(bearer.token).await?;
    // Refuse it here at once, without waiting for the bus.
    let exp = bearer.claims.exp;
    head.trust
        .verifier()
        .revoke(&guildhall_tokens::Revocation::Session {
            sid: bearer.claims.sid,
            exp,
        });
    Ok(StatusCode::NO_CONTENT)
}
