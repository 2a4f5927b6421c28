//! Table routes: head's public API (`/v1/tables...`) and the gateway (`/tables/ws`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use guildhall_briscola::TableOptions;
use guildhall_core::{ApiError, ErrorCode};
use guildhall_http::Bearer;
use guildhall_tokens::sync::Trust;
use serde::Deserialize;
use serde_json::{Value, json};

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

fn name(body: NameBody) -> Result<Option<String>, ApiError> {
    let name = body.display_name;
    if let Some(name) = &name
        && (name.trim().is_empty() || name.chars().count() > 32)
    {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "display_name must be 1 to 32 characters",
        ));
    }
    Ok(name)
}

async fn create(
    State(api): State<Api>,
    bearer: Bearer,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let options = optional_json::<CreateBody>(&body)?
        .options
        .unwrap_or_default();
    let seated = api.tables.create(bearer.claims.sub, options).await?;
    Ok((StatusCode::CREATED, Json(seated_json(&seated))))
}

async fn join(
    State(api): State<Api>,
    bearer: Bearer,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = game_id(&id)?;
    let display_name = name(optional_json(&body)?)?;
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
    let display_name = name(optional_json(&body)?)?;
    let token = api.tables.observer_token(&id, display_name).await?;
    Ok(Json(
        json!({ "observer_token": token, "ws_url": api.tables.ws_url() }),
    ))
}
