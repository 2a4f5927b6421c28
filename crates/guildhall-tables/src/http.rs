//! Table routes: head's public API (`/v1/tables...`) and the gateway (`/tables/ws`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRef, Path, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use guildhall_briscola::TableOptions;
use guildhall_core::{ApiError, ErrorCode};
use guildhall_http::{Bearer, check_internal_token};
use guildhall_tokens::sync::Trust;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::host::Host;
use crate::service::{Tables, seated_json};

#[derive(Clone)]
struct Api {
    tables: Arc<Tables>,
    trust: Arc<Trust>,
}

impl FromRef<Api> for Arc<Trust> {
    fn from_ref(api: &Api) -> Self {
        api.trust.clone()
    }
}

/// `/v1/tables`, `/v1/tables/{id}/join`, `/v1/tables/{id}/observer-token`.
pub fn public_routes(tables: Arc<Tables>, trust: Arc<Trust>) -> Router {
    Router::new()
        .route("/v1/tables", post(create))
        .route("/v1/tables/{id}/join", post(join))
        .route("/v1/tables/{id}/observer-token", post(observer))
        .with_state(Api { tables, trust })
}

/// The game host's internal view: `GET /internal/v1/tables/workers` lists its worker
/// processes (pid, games, restarts) for operators; it needs the internal token.
pub fn host_routes(host: Arc<Host>, internal_token: &str) -> Router {
    let token: Arc<str> = internal_token.into();
    Router::new().route(
        "/internal/v1/tables/workers",
        get(move |headers: HeaderMap| {
            let (host, token) = (host.clone(), token.clone());
            async move {
                check_internal_token(&headers, &token)?;
                Ok::<_, ApiError>(Json(json!({
                    "games": host.game_count(),
                    "processes": host.processes(),
                })))
            }
        }),
    )
}

/// The WebSocket gateway.
pub fn gateway_routes(tables: Arc<Tables>) -> Router {
    Router::new()
        .route("/tables/ws", get(crate::gateway::upgrade))
        .with_state(tables)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    #[serde(default)]
    options: Option<TableOptions>,
    #[serde(default)]
    display_name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NameBody {
    #[serde(default)]
    display_name: Option<String>,
}

/// An optional JSON body: empty means the defaults.
fn optional_json<T: serde::de::DeserializeOwned + Default>(body: &Bytes) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::new(ErrorCode::InvalidRequest, format!("invalid JSON body: {e}")))
}

fn game_id(raw: &str) -> Result<String, ApiError> {
    let id = raw.to_ascii_uppercase();
    if id.len() == 6 && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(id)
    } else {
        Err(ApiError::new(ErrorCode::GameNotFound, "no such table"))
    }
}

/// A name shown at the table, held to the platform's display-name rules (no control
/// characters, no look-alike tricks, 1 to 32 characters).
fn name(raw: Option<String>) -> Result<Option<String>, ApiError> {
    raw.map(|raw| {
        guildhall_names::DisplayName::parse(&raw)
            .map(guildhall_names::DisplayName::into_string)
            .map_err(|e| ApiError::new(ErrorCode::InvalidDisplayName, e.to_string()))
    })
    .transpose()
}

async fn create(
    State(api): State<Api>,
    bearer: Bearer,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = optional_json::<CreateBody>(&body)?;
    let display_name = name(body.display_name)?;
    let options = body.options.unwrap_or_default();
    let seated = api
        .tables
        .create(bearer.claims.sub, options, display_name)
        .await?;
    Ok((StatusCode::CREATED, Json(seated_json(&seated))))
}

async fn join(
    State(api): State<Api>,
    bearer: Bearer,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = game_id(&id)?;
    let display_name = name(optional_json::<NameBody>(&body)?.display_name)?;
    let seated = api
        .tables
        .join(bearer.claims.sub, &id, display_name)
        .await?;
    Ok(Json(seated_json(&seated)))
}

async fn observer(
    State(api): State<Api>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = game_id(&id)?;
    let display_name = name(optional_json::<NameBody>(&body)?.display_name)?;
    let token = api.tables.observer_token(&id, display_name).await?;
    Ok(Json(
        json!({ "observer_token": token, "ws_url": api.tables.ws_url() }),
    ))
}
