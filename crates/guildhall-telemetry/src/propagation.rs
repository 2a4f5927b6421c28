//! W3C trace context on outgoing calls.

use opentelemetry::trace::TraceContextExt;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The trace context of the work in progress: the current span's when spans are
/// exported, else the caller's context that [`crate::http_trace`] made current.
fn current_context() -> opentelemetry::Context {
    if crate::exporting() {
        tracing::Span::current().context()
    } else {
        opentelemetry::Context::current()
    }
}

/// Writes the current `traceparent` (and `tracestate`) into outgoing headers.
pub fn inject_trace_context(headers: &mut http::HeaderMap) {
    let context = current_context();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut opentelemetry_http::HeaderInjector(headers))
    });
}

/// The current trace id as 32 hex digits, when a trace is active.
pub fn current_trace_id() -> Option<String> {
    let context = current_context();
    let span = context.span();
    let id = span.span_context().trace_id();
    (id != opentelemetry::trace::TraceId::INVALID).then(|| id.to_string())
}
