//! Head's public matchmaking API: `/v1/matchmaking/tickets`. The caller is the bearer
//! token's user; head forwards to the matchmaker in process or over HTTP.

use std::sync::Arc;

use axum::extract::{FromRef, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use guildhall_core::{ApiError, ApiJson, ErrorCode};
use guildhall_http::Bearer;
use guildhall_tokens::sync::Trust;
use serde::Deserialize;
use uuid::Uuid;

use crate::api::{MatchmakerApi, NewTicket, TicketView};

#[derive(Clone)]
struct Public {
    matchmaker: Arc<dyn MatchmakerApi>,
    trust: Arc<Trust>,
}

impl FromRef<Public> for Arc<Trust> {
    fn from_ref(state: &Public) -> Self {
        state.trust.clone()
    }
}

pub fn routes(matchmaker: Arc<dyn MatchmakerApi>, trust: Arc<Trust>) -> Router {
    Router::new()
        .route("/v1/matchmaking/tickets", post(create))
        .route("/v1/matchmaking/tickets/{id}", get(show).delete(cancel))
        .with_state(Public { matchmaker, trust })
}

fn ticket_id(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::new(ErrorCode::TicketNotFound, "no such ticket"))
}

async fn create(
    State(state): State<Public>,
    bearer: Bearer,
    ApiJson(ticket): ApiJson<NewTicket>,
) -> Result<(StatusCode, Json<TicketView>), ApiError> {
    let view = state
        .matchmaker
        .create_ticket(bearer.claims.sub, ticket)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(view)))
}

#[derive(Deserialize)]
struct Wait {
    wait: Option<String>,
}

async fn show(
    State(state): State<Public>,
    bearer: Bearer,
    Path(id): Path<String>,
    Query(query): Query<Wait>,
) -> Result<Json<TicketView>, ApiError> {
    let id = ticket_id(&id)?;
    let wait = crate::api::long_poll_wait(query.wait.as_deref())?;
    Ok(Json(
        state.matchmaker.ticket(bearer.claims.sub, id, wait).await?,
    ))
}

async fn cancel(
    State(state): State<Public>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<Json<TicketView>, ApiError> {
    let id = ticket_id(&id)?;
    Ok(Json(
        state
            .matchmaker
            .cancel_ticket(bearer.claims.sub, id)
            .await?,
    ))
}
