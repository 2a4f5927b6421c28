//! Guests: a player who has not registered, identified by a device secret.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use guildhall_auth::api::GuestLogin;
use guildhall_core::{ApiError, ApiJson, ErrorCode};
use guildhall_names::DisplayName;
use guildhall_tokens::now_unix;
use rand::Rng;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Head;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitRequest {
    display_name: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct InitResponse {
    guest_id: Uuid,
    guest_secret: String,
    display_name: String,
    session_token: String,
    refresh_token: String,
    expires_at: String,
}

/// Creates a guest: an identity, its profile and a first session.
pub async fn init(
    State(head): State<Head>,
    super::ClientIp(ip): super::ClientIp,
    body: Bytes,
) -> Result<(StatusCode, Json<InitResponse>), ApiError> {
    // The body is optional: empty means no display name.
    let request: InitRequest = if body.iter().all(u8::is_ascii_whitespace) {
        InitRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.to_string()))?
    };
    // Validate before creating anything, so a bad name changes nothing.
    let name = match &request.display_name {
        Some(raw) => head.check_display_name(raw, None).await?,
        None => DisplayName::parse(&default_guest_name())
            .map_err(crate::HeadError::InvalidDisplayName)?,
    };
    let created = head.auth.create_guest(ip).await?;
    let user_id = created.tokens.user_id;
    head.profiles
        .create(user_id, &name, "guest", now_unix())
        .await
        .map_err(crate::HeadError::from)?;
    metrics::counter!("head_guests_initialized_total").increment(1);
    Ok((
        StatusCode::CREATED,
        Json(InitResponse {
            guest_id: user_id,
            guest_secret: created.guest_secret,
            display_name: name.into_string(),
            session_token: created.tokens.session_token,
            refresh_token: created.tokens.refresh_token,
            expires_at: created.tokens.expires_at,
        }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    guest_id: Uuid,
    guest_secret: String,
}

/// Signs a guest in again with its secret.
pub async fn login(
    State(head): State<Head>,
    super::ClientIp(ip): super::ClientIp,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Json<super::session::SessionResponse>, ApiError> {
    let tokens = head
        .auth
        .guest_login(
            GuestLogin {
                guest_id: request.guest_id,
                guest_secret: request.guest_secret,
            },
            ip,
        )
        .await?;
    Ok(Json(tokens.into()))
}

/// `Guest-XXXXXX` from an alphabet without look-alikes.
fn default_guest_name() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let suffix: String = (0..6)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("Guest-{suffix}")
}
