//! With an OTLP endpoint configured, spans reach the collector over OTLP/HTTP (protobuf),
//! carrying the service name; flushing happens when the guard drops at shutdown.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post;

mod common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_are_exported_to_the_configured_collector() {
    let received: Arc<Mutex<Vec<(String, Bytes)>>> = Arc::default();
    let collector = {
        let received = received.clone();
        Router::new().route(
            "/v1/traces",
            post(move |headers: HeaderMap, body: Bytes| {
                let received = received.clone();
                async move {
                    let content_type = headers
                        .get("content-type")
                        .map(|v| v.to_str().unwrap().to_owned());
                    received
                        .lock()
                        .unwrap()
                        .push((content_type.unwrap_or_default(), body));
                    ""
                }
            }),
        )
    };
    let guard = common::exporting_to(collector, "otlp-test").await;
    {
        let span = tracing::info_span!("checkout_trace_export");
        let _entered = span.enter();
        assert!(
            guildhall_telemetry::current_trace_id().is_some(),
            "spans carry OTel ids"
        );
    }
    // Shutdown flushes the batch; it blocks, so keep it off the async workers.
    tokio::task::spawn_blocking(move || drop(guard))
        .await
        .unwrap();

    let received = received.lock().unwrap();
    assert!(!received.is_empty(), "the collector received an export");
    let (content_type, body) = &received[0];
    assert_eq!(content_type, "application/x-protobuf");
    let raw = String::from_utf8_lossy(body);
    assert!(
        raw.contains("checkout_trace_export"),
        "the span name is in the export"
    );
    assert!(
        raw.contains("guildhall-otlp-test"),
        "the service name is in the export"
    );
}
