//! Accounts: registration (or a guest's upgrade) and password changes.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use guildhall_auth::api::{PasswordChange, Register};
use guildhall_core::{ApiError, ApiJson};
use guildhall_names::{DisplayName, Username};
use guildhall_tokens::{SubjectKind, now_unix};
use serde::Deserialize;

use super::session::SessionResponse;
use crate::auth::MaybeBearer;
use crate::{Bearer, Head, HeadError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    username: String,
    password: String,
    email: String,
}

/// Registers an account. With a guest's bearer token, upgrades that guest: same user id,
/// same profile, everything it owns.
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    current_password: String,
    new_password: String,
}

/// Changes the password: every other session ends; a new pair is returned.
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
