//! The HTTP shell every Guildhall service runs in.
//!
//! A service contributes only its routes. [`app`] wraps them with what every service must
//! have: `/health/live`, `/health/ready`, `/metrics`, a 404/405 fallback in the error
//! envelope, a body-size limit, a request timeout, a concurrency cap, per-route metrics
//! and trace-context extraction. [`serve`] runs the result until a shutdown token fires,
//! then drains in-flight requests within the grace period.

pub mod bearer;
mod envelope;
mod health;
pub mod internal;
mod peer;
mod serve;

pub use bearer::{Bearer, MaybeBearer};
pub use health::{BusProbe, PeerProbe, Probe, Readiness, StoreProbe};
pub use internal::{INTERNAL_TOKEN_HEADER, check_internal_token};
pub use peer::{PeerClient, PeerError};
pub use serve::{Server, serve};

use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use guildhall_config::HttpConfig;
use guildhall_core::{ApiError, ErrorCode};
use tower::ServiceBuilder;

/// Wraps a service's routes with the platform's endpoints and middleware.
pub fn app(routes: Router, readiness: Readiness, config: &HttpConfig) -> Router {
    let metrics = guildhall_telemetry::metrics_handle();
    let timeout = Duration::from_secs(config.request_timeout_secs);
    Router::new()
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .with_state(readiness)
        .route(
            "/metrics",
            get(move || std::future::ready(metrics.render())),
        )
        .merge(routes)
        .fallback(|| async { ApiError::new(ErrorCode::NotFound, "no route for this path") })
        .layer(
            ServiceBuilder::new()
                // Outermost: every response, including the layers' own, gets the envelope.
                .layer(axum::middleware::from_fn(envelope::ensure_envelope))
                .layer(axum::middleware::from_fn(guildhall_telemetry::http_trace))
                .layer(HandleErrorLayer::new(|err: tower::BoxError| async move {
                    if err.is::<tower::timeout::error::Elapsed>() {
                        ApiError::new(ErrorCode::Timeout, "the request took too long")
                    } else {
                        ApiError::internal(err)
                    }
                }))
                .timeout(timeout)
                .concurrency_limit(config.max_concurrent_requests),
        )
        // Router::layer reaches the fallback too, where the route label is `unmatched`.
        .layer(axum::middleware::from_fn(guildhall_telemetry::http_metrics))
        .layer(DefaultBodyLimit::max(config.body_limit_bytes))
}
