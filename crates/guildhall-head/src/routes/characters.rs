//! Forwarding character calls to the user's `players` instance (split shape).
//!
//! Head verifies the bearer token to learn the user, ranks the instances for that user
//! (`shards`), and forwards the request unchanged to the first healthy one. The players
//! instance verifies the token again and does the work. A connection refused means the
//! request never arrived: mark the instance down and try the next. Any other failure may
//! have reached the instance, so it is not repeated elsewhere: the client gets 503 and
//! retries with its `Idempotency-Key`.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{FromRef, Request, State};
use axum::http::{HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use guildhall_core::{ApiError, ErrorCode};
use guildhall_http::Bearer;
use guildhall_tokens::sync::Trust;

use crate::shards::Shards;

#[derive(Clone)]
struct Proxy {
    trust: Arc<Trust>,
    shards: Shards,
    http: reqwest::Client,
    body_limit: usize,
}

impl FromRef<Proxy> for Arc<Trust> {
    fn from_ref(proxy: &Proxy) -> Self {
        proxy.trust.clone()
    }
}

/// Headers passed through to players, and back.
const FORWARDED: [HeaderName; 4] = [
    header::AUTHORIZATION,
    header::CONTENT_TYPE,
    HeaderName::from_static("idempotency-key"),
    header::IF_MATCH,
];
const RETURNED: [HeaderName; 3] = [header::CONTENT_TYPE, header::RETRY_AFTER, header::ETAG];

pub fn routes(
    trust: Arc<Trust>,
    shards: Shards,
    http: reqwest::Client,
    body_limit: usize,
) -> Router {
    Router::new()
        .route("/v1/characters", any(forward))
        .route("/v1/characters/{*rest}", any(forward))
        .with_state(Proxy {
            trust,
            shards,
            http,
            body_limit,
        })
}

async fn forward(
    State(proxy): State<Proxy>,
    bearer: Bearer,
    request: Request,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, proxy.body_limit).await.map_err(|_| {
        ApiError::new(
            ErrorCode::PayloadTooLarge,
            "request body is larger than the limit",
        )
    })?;
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    for instance in proxy.shards.candidates(bearer.claims.sub) {
        let mut headers = reqwest::header::HeaderMap::new();
        for name in &FORWARDED {
            if let Some(value) = parts.headers.get(name) {
                headers.insert(name.clone(), value.clone());
            }
        }
        guildhall_telemetry::inject_trace_context(&mut headers);
        let sent = proxy
            .http
            .request(parts.method.clone(), format!("{}{path}", instance.url))
            .headers(headers)
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(response) => {
                metrics::counter!("head_characters_forwarded_total").increment(1);
                let mut out = Response::builder().status(response.status());
                for name in &RETURNED {
                    if let Some(value) = response.headers().get(name) {
                        out = out.header(name, value);
                    }
                }
                let bytes = response
                    .bytes()
                    .await
                    .map_err(|e| unavailable(&e.to_string()))?;
                return Ok(out
                    .body(Body::from(bytes))
                    .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response()));
            }
            Err(err) if err.is_connect() => {
                tracing::warn!(instance = %instance.url, %err, "players instance refused; trying the next");
                proxy.shards.mark(&instance.url, false);
            }
            Err(err) => return Err(unavailable(&err.to_string())),
        }
    }
    Err(unavailable("no players instance reachable"))
}

fn unavailable(cause: &str) -> ApiError {
    tracing::warn!(%cause, "character call not delivered");
    metrics::counter!("head_characters_forward_failures_total").increment(1);
    ApiError::new(
        ErrorCode::RoutingFailed,
        "the character service is unreachable; retry with the same Idempotency-Key",
    )
    .with_retry_after(1)
}
