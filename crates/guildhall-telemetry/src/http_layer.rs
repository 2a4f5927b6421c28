//! Middleware every HTTP service runs behind.

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::TraceContextExt as _;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Records `http_requests_total` and `http_request_duration_seconds` by method, route
/// template (never the raw path, so cardinality stays bounded) and status class.
pub async fn http_metrics(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    let status = match response.status().as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    let (requests, duration) = route_metrics(method, route, status);
    requests.increment(1);
    duration.record(started.elapsed().as_secs_f64());
    response
}

/// The method as a label: the standard ones by name, any other as `other`, so clients
/// cannot mint label values.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// One route's request counter and latency histogram for a method and status class.
type Handles = (metrics::Counter, metrics::Histogram);

/// Per route template: the handles of each method and status class seen on it.
type Seen = HashMap<String, Vec<(&'static str, &'static str, Handles)>>;

/// The handles of each `(method, route, status)` seen so far, so a request costs a map
/// lookup instead of building and hashing a labelled key (and its strings) twice. Routes
/// are templates, methods and status classes few, so the map stays small.
fn route_metrics(method: &'static str, route: &str, status: &'static str) -> Handles {
    static SEEN: OnceLock<RwLock<Seen>> = OnceLock::new();
    let seen = SEEN.get_or_init(Default::default);
    let find = |of_route: &Vec<(&'static str, &'static str, Handles)>| {
        of_route
            .iter()
            .find(|(m, s, _)| *m == method && *s == status)
            .map(|(_, _, handles)| handles.clone())
    };
    if let Some(handles) = seen.read().unwrap().get(route).and_then(find) {
        return handles;
    }
    let mut seen = seen.write().unwrap();
    let of_route = seen.entry(route.to_owned()).or_default();
    if let Some(handles) = find(of_route) {
        return handles;
    }
    let labels = [
        ("method", method.to_owned()),
        ("route", route.to_owned()),
        ("status", status.to_owned()),
    ];
    let handles = (
        metrics::counter!("http_requests_total", &labels),
        metrics::histogram!("http_request_duration_seconds", &labels),
    );
    of_route.push((method, status, handles.clone()));
    handles
}

/// Runs the request inside a span whose parent is the caller's `traceparent`, if any.
/// Without an exporter the span serves logs only, and the caller's trace context is made
/// current as it came, so the calls this request makes carry it on.
pub async fn http_trace(request: Request, next: Next) -> Response {
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&opentelemetry_http::HeaderExtractor(request.headers()))
    });
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    let span = tracing::info_span!(
        "http_request",
        method = %request.method(),
        route = route.unwrap_or("unmatched"),
        status = tracing::field::Empty,
    );
    let handled = next.run(request).instrument(span.clone());
    let response = if crate::exporting() {
        let _ = span.set_parent(parent);
        handled.await
    } else if parent.span().span_context().is_valid() {
        handled.with_context(parent).await
    } else {
        handled.await
    };
    span.record("status", response.status().as_u16());
    if response.status().is_server_error() {
        span.in_scope(|| tracing::warn!(status = response.status().as_u16(), "request failed"));
    }
    response
}
