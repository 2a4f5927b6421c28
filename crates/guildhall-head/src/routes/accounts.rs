//! Accounts: registration (or a guest's upgrade) and password changes.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use guildhall_auth::api::{PasswordChange, Register};
use guildhall_core::{ApiError, ApiJson};
use guildhall_names::{DisplayName, Username};
use guildhall_tokens::{SubjectKind, now_unix};
use serde::Deserialize;
use utoipa::ToSchema;

use super::session::SessionResponse;
use crate::auth::MaybeBearer;
use crate::{Bearer, Head, HeadError};

/// A new account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// 3 to 20 characters (RFC 8265 rules); also the first display name.
    #[schema(example = "rose_tyler")]
    username: String,
    /// 8 to 128 characters, no control characters.
    #[schema(
        min_length = 8,
        max_length = 128,
        example = "correct horse battery staple"
    )]
    password: String,
    #[schema(format = Email, example = "rose@example.com")]
    email: String,
}

/// Registers an account, or upgrades the calling guest to one.
///
/// With a guest's bearer token, the guest becomes the account: same user id, same
/// profile, everything it owns; the guest's session ends and a new one is returned.
#[utoipa::path(
    post,
    path = "/v1/accounts",
    operation_id = "register",
    tag = "accounts",
    request_body = RegisterRequest,
    security((), ("bearerAuth" = [])),
    responses(
        (status = 201, description = "The account was created (or the guest upgraded).", body = SessionResponse),
        (status = 400, response = super::openapi::InvalidRequest),
        (status = 401, response = super::openapi::Unauthorized),
        (status = 403, response = super::openapi::UpgradeForbidden),
        (status = 409, response = super::openapi::UsernameTaken),
        (status = 413, response = super::openapi::PayloadTooLarge),
        (status = 415, response = super::openapi::UnsupportedMediaType),
        (status = 422, response = super::openapi::DisplayNameRejected),
        (status = 429, response = super::openapi::RateLimited),
        (status = 500, response = super::openapi::Internal),
        (status = 503, response = super::openapi::AuthUnavailable),
    ),
)]
pub async fn register(
    State(head): State<Head>,
    super::ClientIp(ip): super::ClientIp,
    MaybeBearer(bearer): MaybeBearer,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<SessionResponse>), ApiError> {
    // Reserved-looking usernames are refused here, before auth stores anything.
    if let Ok(username) = Username::parse(&request.username) {
        let skeleton = username.skeleton_key();
        if head.reserved.contains_skeleton(&skeleton) {
            return Err(HeadError::UsernameReserved.into());
        }
    }
    let upgrade = bearer.as_ref().map(|b| b.token.clone());
    let tokens = head
        .auth
        .register(
            Register {
                username: request.username.clone(),
                password: request.password,
                email: request.email,
            },
            upgrade,
            ip,
        )
        .await?;
    let user_id = tokens.user_id;
    let username = Username::parse(&request.username)
        .map_err(|e| ApiError::internal(format!("auth accepted {e}")))?;
    head.profiles
        .claim_username(&username.skeleton_key(), user_id)
        .await
        .map_err(HeadError::from)?;
    let now = now_unix();
    match bearer {
        Some(b) if b.claims.kind == SubjectKind::Guest => {
            head.profiles
                .set_kind(user_id, "account", now)
                .await
                .map_err(HeadError::from)?;
        }
        _ => {
            // A new account's display name starts as its username, as typed.
            let name = DisplayName::parse(&request.username)
                .or_else(|_| DisplayName::parse(username.as_str()))
                .map_err(HeadError::InvalidDisplayName)?;
            head.profiles
                .create(user_id, &name, "account", now)
                .await
                .map_err(HeadError::from)?;
        }
    }
    metrics::counter!("head_accounts_registered_total").increment(1);
    Ok((StatusCode::CREATED, Json(tokens.into())))
}

/// The current password and the new one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    #[schema(example = "correct horse battery staple")]
    current_password: String,
    /// 8 to 128 characters, no control characters.
    #[schema(
        min_length = 8,
        max_length = 128,
        example = "a longer passphrase than before"
    )]
    new_password: String,
}

/// Changes the password: every other session ends; a new pair is returned.
#[utoipa::path(
    post,
    path = "/v1/account/password",
    operation_id = "change_password",
    tag = "accounts",
    request_body = PasswordRequest,
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The password changed; the caller's new session.", body = SessionResponse),
        (status = 400, response = super::openapi::InvalidRequest),
        (status = 401, response = super::openapi::PasswordRejected),
        (status = 403, response = super::openapi::Banned),
        (status = 413, response = super::openapi::PayloadTooLarge),
        (status = 415, response = super::openapi::UnsupportedMediaType),
        (status = 500, response = super::openapi::Internal),
        (status = 503, response = super::openapi::AuthUnavailable),
    ),
)]
pub async fn change_password(
    State(head): State<Head>,
    bearer: Bearer,
    ApiJson(request): ApiJson<PasswordRequest>,
) -> Result<Json<SessionResponse>, ApiError> {
    let change = PasswordChange {
        current_password: request.current_password,
        new_password: request.new_password,
    };
    Ok(Json(
        head.auth
            .change_password(bearer.token, change)
            .await?
            .into(),
    ))
}
