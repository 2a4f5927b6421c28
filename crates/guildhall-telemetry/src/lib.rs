//! Logs, metrics and traces for every Guildhall process.
//!
//! - Logs: `tracing` events as one JSON object per line on stderr (or pretty text).
//! - Metrics: one process-wide Prometheus recorder; [`metrics_handle`] renders `/metrics`.
//!   [`http_metrics`] records request count, latency histogram and status class per route.
//! - Traces: with an OTLP endpoint configured (`OTEL_EXPORTER_OTLP_ENDPOINT`), every span
//!   is an OpenTelemetry span exported over OTLP/HTTP; an incoming `traceparent` becomes
//!   the parent of the request span ([`http_trace`]), and [`inject_trace_context`] writes
//!   that span's context into outgoing requests. Without an endpoint no span is recorded
//!   for traces (nothing would read it): the caller's trace context passes through
//!   unchanged to the calls a request makes, so a downstream service that does export
//!   still joins the caller's trace.

mod http_layer;
mod propagation;

use std::sync::OnceLock;

use guildhall_config::{LogFormat, TelemetryConfig};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

pub use http_layer::{http_metrics, http_trace};
pub use propagation::{current_trace_id, inject_trace_context};

/// Latency buckets in seconds: fine below 10 ms, where our targets live.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Arena tick durations: fine between 0.1 and 10 ms, where the 5 ms target lives.
const TICK_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01,
    0.02, 0.05, 0.1,
];

/// Whether spans are recorded as OpenTelemetry spans (an OTLP endpoint is configured),
/// as decided by the first [`init`] of the process.
static EXPORTING: OnceLock<bool> = OnceLock::new();

pub(crate) fn exporting() -> bool {
    EXPORTING.get().copied().unwrap_or(false)
}

/// Flushes exported spans when dropped; keep it alive for the life of the process.
#[derive(Debug)]
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        let _ = self.provider.shutdown();
    }
}

/// Installs logging, metrics and tracing for this process. `service` names the process in
/// traces (`guildhall-<service>` unless configured).
pub fn init(config: &TelemetryConfig, service: &str) -> anyhow::Result<TelemetryGuard> {
    metrics_handle();
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );

    let service_name = if config.service_name.is_empty() {
        format!("guildhall-{service}")
    } else {
        config.service_name.clone()
    };
    let mut builder = SdkTracerProvider::builder().with_resource(
        opentelemetry_sdk::Resource::builder()
            .with_service_name(service_name)
            .build(),
    );
    if !config.otlp_endpoint.is_empty() {
        use opentelemetry_otlp::WithExportConfig;
        let endpoint = format!("{}/v1/traces", config.otlp_endpoint.trim_end_matches('/'));
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(endpoint)
            .build()?;
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder.build();
    let tracer = provider.tracer("guildhall");
    opentelemetry::global::set_tracer_provider(provider.clone());

    let exporting = !config.otlp_endpoint.is_empty();
    let filter = EnvFilter::try_new(&config.log_filter)?;
    let fmt = match config.log_format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(std::io::stderr)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .boxed(),
    };
    // The log filter applies to logs only: when exporting, request spans exist whatever
    // the log level. Without an exporter the OpenTelemetry layer is left out: building,
    // entering and ending an OpenTelemetry span per request was about 15% of a loaded
    // service's CPU, for spans nobody receives. A second init in one process (tests,
    // benchmarks) keeps the first subscriber, and the first decision.
    // Not an `Option` layer: a `None` layer declares interest in every callsite, which
    // would turn every filtered-out span and event into a runtime check (and a span in the
    // registry).
    let logs = tracing_subscriber::registry().with(fmt.with_filter(filter));
    let installed = if exporting {
        logs.with(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                // Per span, these would read the clock on every poll (busy and idle
                // time) and attach the source location and worker thread, which say
                // nothing about an async request: about a third of the layer's cost.
                .with_tracked_inactivity(false)
                .with_location(false)
                .with_threads(false)
                .with_filter(LevelFilter::INFO),
        )
        .try_init()
    } else {
        logs.try_init()
    };
    if installed.is_ok() {
        let _ = EXPORTING.set(exporting);
    }
    Ok(TelemetryGuard { provider })
}

/// The process-wide Prometheus recorder, installed on first use.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            // Full-name matchers are consulted before suffix ones.
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .expect("buckets are non-empty")
                .set_buckets_for_metric(Matcher::Full("arena_tick_seconds".into()), TICK_BUCKETS)
                .expect("buckets are non-empty")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (a test harness); ours still renders.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}
