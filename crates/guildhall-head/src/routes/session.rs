//! Sessions: sign in, refresh, sign out.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use guildhall_auth::api::{Login, TokenPair};
use guildhall_core::{ApiError, ApiJson};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Bearer, Head};

/// A session's tokens.
#[derive(Debug, Serialize)]
pub struct SessionResponse {
    pub user_id: Uuid,
    pub session_token: String,
    pub refresh_token: String,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    username: String,
    password: String,
}

/// Signs an account in.
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    refresh_token: String,
}

/// Exchanges a refresh token for a new pair (the old one stops working).
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
pub async fn logout(State(head): State<Head>, bearer: Bearer) -> Result<StatusCode, ApiError> {
    head.auth.logout(bearer.token).await?;
    // Refuse it here at once, without waiting for the bus.
    let exp = bearer.claims.exp;
    head.verifier
        .revoke(&guildhall_tokens::Revocation::Session {
            sid: bearer.claims.sid,
            exp,
        });
    Ok(StatusCode::NO_CONTENT)
}
