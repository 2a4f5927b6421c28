//! Auth over HTTP.
//!
//! - `GET /.well-known/jwks.json`: the public keys (public).
//! - `/internal/v1/*`: the [`AuthApi`] contract for head and other services, behind the
//!   shared internal token. Client IPs for rate limiting travel in `x-guildhall-client-ip`,
//!   trusted only from callers holding that token.
//! - `/admin/v1/*`: ban, unban and list sessions, behind the admin token.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use guildhall_core::{ApiError, ApiJson, ErrorCode};
use serde::Deserialize;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::AuthService;
use crate::api::{AuthApi, GuestLogin, InProcess, Login, PasswordChange, Register, TokenPair};

pub use guildhall_http::INTERNAL_TOKEN_HEADER;
/// Header carrying the end client's IP on internal calls.
pub const CLIENT_IP_HEADER: &str = "x-guildhall-client-ip";

#[derive(Clone)]
struct AppState {
    api: InProcess,
    internal_token: Arc<str>,
    admin_token: Arc<str>,
}

/// Auth's routes.
pub fn routes(service: Arc<AuthService>, internal_token: &str, admin_token: &str) -> Router {
    let state = AppState {
        api: InProcess(service),
        internal_token: internal_token.into(),
        admin_token: admin_token.into(),
    };
    Router::new()
        .route("/.well-known/jwks.json", get(jwks))
        .route("/internal/v1/revocations", get(revocations))
        .route("/internal/v1/guests", post(create_guest))
        .route("/internal/v1/guests/login", post(guest_login))
        .route("/internal/v1/accounts", post(register))
        .route("/internal/v1/sessions/login", post(login))
        .route("/internal/v1/sessions/refresh", post(refresh))
        .route("/internal/v1/sessions/logout", post(logout))
        .route("/internal/v1/account/password", post(change_password))
        .route("/internal/v1/grants", post(sign_grant))
        .route("/admin/v1/users/{user}/ban", post(ban))
        .route("/admin/v1/users/{user}/unban", post(unban))
        .route("/admin/v1/users/{user}/sessions", get(sessions))
        .with_state(state)
}

/// An internal caller, with the end client's IP it vouches for.
struct Internal {
    client_ip: IpAddr,
}

impl FromRequestParts<AppState> for Internal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        guildhall_http::check_internal_token(&parts.headers, &state.internal_token)?;
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let client_ip = parts
            .headers
            .get(CLIENT_IP_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .or(peer)
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        Ok(Internal { client_ip })
    }
}

/// An admin caller.
struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let presented = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if state.admin_token.is_empty()
            || !bool::from(presented.as_bytes().ct_eq(state.admin_token.as_bytes()))
        {
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                "admin credential required",
            ));
        }
        Ok(Admin)
    }
}

async fn jwks(State(state): State<AppState>) -> Json<guildhall_tokens::Jwks> {
    Json(state.api.0.jwks())
}

async fn revocations(
    _: Internal,
    State(state): State<AppState>,
) -> Result<Json<Vec<guildhall_tokens::Revocation>>, ApiError> {
    Ok(Json(state.api.0.revocations().await?))
}

async fn create_guest(
    caller: Internal,
    State(state): State<AppState>,
) -> Result<(StatusCode, Json<crate::api::GuestCreated>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.api.create_guest(caller.client_ip).await?),
    ))
}

async fn guest_login(
    caller: Internal,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<GuestLogin>,
) -> Result<Json<TokenPair>, ApiError> {
    Ok(Json(state.api.guest_login(body, caller.client_ip).await?))
}

#[derive(Deserialize)]
struct RegisterBody {
    #[serde(flatten)]
    account: Register,
    upgrade_token: Option<String>,
}

async fn register(
    caller: Internal,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RegisterBody>,
) -> Result<(StatusCode, Json<TokenPair>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .api
                .register(body.account, body.upgrade_token, caller.client_ip)
                .await?,
        ),
    ))
}

async fn login(
    caller: Internal,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Login>,
) -> Result<Json<TokenPair>, ApiError> {
    Ok(Json(state.api.login(body, caller.client_ip).await?))
}

#[derive(Deserialize)]
struct RefreshBody {
    refresh_token: String,
}

async fn refresh(
    caller: Internal,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RefreshBody>,
) -> Result<Json<TokenPair>, ApiError> {
    Ok(Json(
        state
            .api
            .refresh(body.refresh_token, caller.client_ip)
            .await?,
    ))
}

#[derive(Deserialize)]
struct AccessTokenBody {
    access_token: String,
}

async fn logout(
    _: Internal,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<AccessTokenBody>,
) -> Result<StatusCode, ApiError> {
    state.api.logout(body.access_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct PasswordBody {
    access_token: String,
    #[serde(flatten)]
    change: PasswordChange,
}

async fn change_password(
    _: Internal,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<Json<TokenPair>, ApiError> {
    Ok(Json(
        state
            .api
            .change_password(body.access_token, body.change)
            .await?,
    ))
}

async fn ban(
    _: Admin,
    State(state): State<AppState>,
    Path(user): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.api.0.ban(user).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn unban(
    _: Admin,
    State(state): State<AppState>,
    Path(user): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.api.0.unban(user).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn sessions(
    _: Admin,
    State(state): State<AppState>,
    Path(user): Path<Uuid>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let sessions = state.api.0.sessions(user).await.map_err(ApiError::from)?;
    Ok(Json(serde_json::json!({ "sessions": sessions })))
}

async fn sign_grant(
    _: Internal,
    State(state): State<AppState>,
    ApiJson(grant): ApiJson<guildhall_tokens::Grant>,
) -> Result<Json<crate::api::SignedGrant>, ApiError> {
    let token = state.api.0.sign_grant(grant)?;
    Ok(Json(crate::api::SignedGrant { token }))
}
