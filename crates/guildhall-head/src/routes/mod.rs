//! Head's public HTTP API, assembled in one place.

mod accounts;
pub mod characters;
mod guest;
pub mod openapi;
mod profile;
mod session;

use std::net::{IpAddr, SocketAddr};

use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::routing::{get, post};
use guildhall_names::DisplayName;
use uuid::Uuid;

use crate::{Head, HeadError};

/// Every public route of head, and the OpenAPI document of the platform's public API.
pub fn routes(head: Head) -> Router {
    Router::new()
        .route("/v1/guest/init", post(guest::init))
        .route("/v1/guest/login", post(guest::login))
        .route("/v1/accounts", post(accounts::register))
        .route("/v1/account/password", post(accounts::change_password))
        .route("/v1/session/login", post(session::login))
        .route("/v1/session/refresh", post(session::refresh))
        .route("/v1/session/logout", post(session::logout))
        .route("/v1/profile", get(profile::show).put(profile::update))
        .route("/v1/users/{user_id}/profile", get(profile::public))
        .route("/openapi.json", get(openapi::openapi_json))
        .with_state(head)
}

/// The client's address, for auth's rate limits (the TCP peer; run head behind a proxy
/// that preserves it, or per-IP limits apply to the proxy).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        Ok(ClientIp(peer.unwrap_or(IpAddr::from([127, 0, 0, 1]))))
    }
}

impl Head {
    /// Parses a display name and refuses names that imitate a reserved name or another
    /// user's username.
    pub async fn check_display_name(
        &self,
        raw: &str,
        owner: Option<Uuid>,
    ) -> Result<DisplayName, HeadError> {
        let name = DisplayName::parse(raw).map_err(HeadError::InvalidDisplayName)?;
        if self.reserved.is_reserved(&name) {
            return Err(HeadError::DisplayNameReserved);
        }
        match self.profiles.username_owner(&name.skeleton_key()).await? {
            Some(user) if Some(user) != owner => Err(HeadError::DisplayNameReserved),
            _ => Ok(name),
        }
    }
}
