//! The matchmaker's internal HTTP API, behind the shared internal token. Head calls the
//! ticket routes on behalf of a user it has authenticated; game servers call the server
//! routes. Clients never reach these: they use head's `/v1/matchmaking/*`.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use guildhall_core::{ApiError, ApiJson};
use guildhall_http::check_internal_token;
use serde::Deserialize;
use uuid::Uuid;

use crate::Matchmaker;
use crate::api::{Heartbeat, MatchmakerApi, NewTicket, TicketView};
use crate::engine::ServerInfo;

pub use guildhall_http::INTERNAL_TOKEN_HEADER;

#[derive(Clone)]
struct AppState {
    matchmaker: Arc<Matchmaker>,
    internal_token: Arc<str>,
}

pub fn routes(matchmaker: Arc<Matchmaker>, internal_token: &str) -> Router {
    Router::new()
        .route("/internal/v1/matchmaking/tickets", post(create))
        .route(
            "/internal/v1/matchmaking/tickets/{id}",
            get(show).delete(cancel),
        )
        .route("/internal/v1/matchmaking/servers", post(register))
        .route(
            "/internal/v1/matchmaking/servers/{id}/heartbeat",
            post(heartbeat),
        )
        .with_state(AppState {
            matchmaker,
            internal_token: internal_token.into(),
        })
}

struct Internal;

impl FromRequestParts<AppState> for Internal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        check_internal_token(&parts.headers, &state.internal_token)?;
        Ok(Internal)
    }
}

#[derive(Deserialize)]
struct CreateBody {
    user_id: Uuid,
    #[serde(flatten)]
    ticket: NewTicket,
}

#[derive(Deserialize)]
struct Owner {
    user_id: Uuid,
    #[serde(default)]
    wait: Option<String>,
}

async fn create(
    _: Internal,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<TicketView>), ApiError> {
    let view = state
        .matchmaker
        .create_ticket(body.user_id, body.ticket)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(view)))
}

async fn show(
    _: Internal,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Query(owner): Query<Owner>,
) -> Result<Json<TicketView>, ApiError> {
    let wait = crate::api::long_poll_wait(owner.wait.as_deref())?;
    Ok(Json(
        state.matchmaker.ticket(owner.user_id, id, wait).await?,
    ))
}

async fn cancel(
    _: Internal,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    Query(owner): Query<Owner>,
) -> Result<Json<TicketView>, ApiError> {
    Ok(Json(
        state.matchmaker.cancel_ticket(owner.user_id, id).await?,
    ))
}

async fn register(
    _: Internal,
    State(state): State<AppState>,
    ApiJson(info): ApiJson<ServerInfo>,
) -> Result<StatusCode, ApiError> {
    state.matchmaker.register_server(info).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn heartbeat(
    _: Internal,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(beat): ApiJson<Heartbeat>,
) -> Result<StatusCode, ApiError> {
    state.matchmaker.heartbeat(&id, beat).await?;
    Ok(StatusCode::NO_CONTENT)
}
