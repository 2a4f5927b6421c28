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
use utoipa::ToSchema;
use uuid::Uuid;

use crate::Head;

/// A new guest's wishes; the whole body may be omitted.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InitRequest {
    /// The display name (RFC 8266 nickname rules); absent or null for `Guest-XXXXXX`.
    #[schema(example = "Rose Tyler")]
    display_name: Option<String>,
}

/// A new guest: its id, its secret (shown this once) and its first session.
#[derive(Debug, Serialize, ToSchema)]
pub struct InitResponse {
    guest_id: Uuid,
    /// Keep it on the device: with `guest_id` it signs the guest in again.
    guest_secret: String,
    /// The display name as stored, after normalization.
    display_name: String,
    /// The access token, for `Authorization: Bearer`.
    session_token: String,
    refresh_token: String,
    /// When `session_token` expires.
    #[schema(format = DateTime)]
    expires_at: String,
}

/// Creates a guest: an identity, its profile and a first session.
#[utoipa::path(
    post,
    path = "/v1/guest/init",
    operation_id = "guest_init",
    tag = "guests",
    request_body(
        content = InitRequest,
        description = "Optional: an empty body is the same as `{}`.",
    ),
    responses(
        (status = 201, description = "The guest was created.", body = InitResponse),
        (status = 400, response = super::openapi::InvalidRequest),
        (status = 413, response = super::openapi::PayloadTooLarge),
        (status = 422, response = super::openapi::DisplayNameRejected),
        (status = 429, response = super::openapi::RateLimited),
        (status = 500, response = super::openapi::Internal),
        (status = 503, response = super::openapi::AuthUnavailable),
    ),
)]
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

/// A guest's id and secret.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = GuestLoginRequest)]
pub struct LoginRequest {
    #[schema(example = "0199a3c4-5b6e-7f80-9a1b-2c3d4e5f6071")]
    guest_id: Uuid,
    #[schema(example = "l3Vb0a8Qm2Jd6x1Zr9Kp4Tn7Hs5Wc0Ye3Gu8Ai2Fo6")]
    guest_secret: String,
}

/// Signs a guest in again with its secret.
#[utoipa::path(
    post,
    path = "/v1/guest/login",
    operation_id = "guest_login",
    tag = "guests",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "A new session.", body = super::session::SessionResponse),
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
