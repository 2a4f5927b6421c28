//! The characters API. Every route needs a bearer token; a character that is not the
//! caller's answers exactly like one that does not exist (404 `character_not_found`).
//!
//! Intents carry the version the client last saw: `{"delta": -7, "version": 5}`. A stale
//! version answers 409 `version_conflict` with the latest `character`. An
//! `Idempotency-Key` header makes a retried request return the first answer.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use guildhall_characters::{Intent, NewCharacter};
use guildhall_core::{ApiError, ApiJson, ErrorCode};
use guildhall_http::Bearer;
use guildhall_tokens::sync::Trust;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::service::Answer;
use crate::{Players, PlayersError};

#[derive(Clone)]
struct Api {
    players: Arc<Players>,
    trust: Arc<Trust>,
}

impl FromRef<Api> for Arc<Trust> {
    fn from_ref(api: &Api) -> Self {
        api.trust.clone()
    }
}

/// Every characters route.
pub fn routes(players: Arc<Players>, trust: Arc<Trust>) -> Router {
    Router::new()
        .route("/v1/characters", post(create).get(list))
        .route("/v1/characters/{id}", get(show).delete(delete))
        .route(
            "/v1/characters/{id}/stats/hitpoints",
            patch(|s, b, p, h, j| intent("hitpoints", s, b, p, h, j)),
        )
        .route(
            "/v1/characters/{id}/temp-hp",
            post(|s, b, p, h, j| intent("temp_hp", s, b, p, h, j)),
        )
        .route(
            "/v1/characters/{id}/equip-armor",
            post(|s, b, p, h, j| intent("equip_armor", s, b, p, h, j)),
        )
        .route(
            "/v1/characters/{id}/equip-weapon",
            post(|s, b, p, h, j| intent("equip_weapon", s, b, p, h, j)),
        )
        .route(
            "/v1/characters/{id}/shield",
            post(|s, b, p, h, j| intent("shield", s, b, p, h, j)),
        )
        .route(
            "/v1/characters/{id}/currency",
            patch(|s, b, p, h, j| intent("currency", s, b, p, h, j)),
        )
        .route(
            "/v1/characters/{id}/level-up",
            post(|s, b, p, h, j| intent("level_up", s, b, p, h, j)),
        )
        .with_state(Api { players, trust })
}

/// The `Idempotency-Key` header, if sent: 1–128 visible ASCII characters. Read from the
/// request's head without copying its other headers.
struct IdempotencyKey(Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get("idempotency-key") else {
            return Ok(Self(None));
        };
        let key = value
            .to_str()
            .ok()
            .filter(|k| (1..=128).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()));
        key.map(|k| Self(Some(k.to_owned()))).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidRequest,
                "Idempotency-Key must be 1-128 visible ASCII characters",
            )
        })
    }
}

fn answer(answer: Answer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    match answer.body {
        Some(body) => (status, json_text(body)).into_response(),
        None => status.into_response(),
    }
}

/// A body that is JSON text already.
fn json_text(body: Vec<u8>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
}

/// Parses a character id; anything else is as unknown as a missing character.
fn character_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| PlayersError::NotFound.into())
}

/// Splits `{"version": N, ...fields}` into the version and the intent's fields.
fn version_and_fields(mut body: Map<String, Value>) -> Result<(i64, Map<String, Value>), ApiError> {
    let version = body.remove("version").ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidRequest,
            "`version` is required: the version you last saw",
        )
    })?;
    let version = version.as_i64().filter(|v| *v >= 1).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidRequest,
            "`version` must be a positive integer",
        )
    })?;
    Ok((version, body))
}

/// Creates a character.
async fn create(
    State(api): State<Api>,
    bearer: Bearer,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let new: NewCharacter = serde_json::from_value(body)
        .map_err(|e| ApiError::new(ErrorCode::InvalidIntent, e.to_string()))?;
    Ok(answer(
        api.players
            .create(bearer.claims.sub, new, key.as_deref())
            .await?,
    ))
}

/// The caller's characters.
async fn list(State(api): State<Api>, bearer: Bearer) -> Result<Json<Value>, ApiError> {
    let characters = api.players.list(bearer.claims.sub).await?;
    Ok(Json(serde_json::json!({ "characters": characters })))
}

/// One character, from the cache (loaded from the database on a miss).
async fn show(
    State(api): State<Api>,
    bearer: Bearer,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let body = api
        .players
        .get(bearer.claims.sub, character_id(&id)?)
        .await?;
    Ok(json_text(body).into_response())
}

/// Applies one intent. A well-formed body is read straight into the intent; any other
/// is read field by field, for the error that names what is wrong.
async fn intent(
    name: &'static str,
    State(api): State<Api>,
    bearer: Bearer,
    Path(id): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(body): ApiJson<Box<RawValue>>,
) -> Result<Response, ApiError> {
    let (version, intent) = match Intent::versioned_from_json(name, body.get()) {
        Some(read) => read,
        None => {
            let axum::Json(body) =
                axum::Json::<Map<String, Value>>::from_bytes(body.get().as_bytes())
                    .map_err(guildhall_core::json::rejection_to_error)?;
            let (version, fields) = version_and_fields(body)?;
            let intent = Intent::from_fields(name, fields)
                .map_err(|e| ApiError::new(ErrorCode::InvalidIntent, e.to_string()))?;
            (version, intent)
        }
    };
    let id = character_id(&id)?;
    Ok(answer(
        api.players
            .act(
                bearer.claims.sub,
                id,
                Some(&intent),
                version,
                key.as_deref(),
            )
            .await?,
    ))
}

/// Deletes a character: `{"version": N}`.
async fn delete(
    State(api): State<Api>,
    bearer: Bearer,
    Path(id): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Response, ApiError> {
    let (version, rest) = version_and_fields(body)?;
    if let Some(field) = rest.keys().next() {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!("unknown field `{field}`"),
        ));
    }
    let id = character_id(&id)?;
    Ok(answer(
        api.players
            .act(bearer.claims.sub, id, None, version, key.as_deref())
            .await?,
    ))
}
