//! With an OTLP exporter, a request's span is an OpenTelemetry span: a child of the
//! caller's `traceparent`, in the same trace, and the parent of the calls it makes.
//! (Without one, the caller's context passes through unchanged: `guildhall-http`'s shell
//! test.) Its own binary, because the first `init` of a process decides.

use axum::Router;
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod common;

/// What an outgoing call made while serving the request would carry.
async fn outgoing() -> String {
    let mut headers = http::HeaderMap::new();
    guildhall_telemetry::inject_trace_context(&mut headers);
    headers
        .get("traceparent")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// Sends `GET /` with these extra header lines and returns the response body.
async fn get_body(addr: std::net::SocketAddr, extra: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET / HTTP/1.1\r\nhost: test\r\n{extra}connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_exporter_the_request_span_parents_outgoing_calls() {
    // A collector that accepts every export; only the ids matter here.
    let collector = Router::new().route("/v1/traces", axum::routing::post(|| async { "" }));
    let guard = common::exporting_to(collector, "propagation-test").await;

    let app = Router::new()
        .route("/", get(outgoing))
        .layer(axum::middleware::from_fn(guildhall_telemetry::http_trace));
    let addr = common::serve(app).await;

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let sent = get_body(
        addr,
        &format!("traceparent: 00-{trace_id}-00f067aa0ba902b7-01\r\n"),
    )
    .await;
    let parts: Vec<&str> = sent.split('-').collect();
    assert_eq!(parts.len(), 4, "a traceparent: {sent:?}");
    assert_eq!(parts[1], trace_id, "same trace: {sent:?}");
    assert_ne!(
        parts[2], "00f067aa0ba902b7",
        "a child span, not the caller's: {sent:?}"
    );

    // Without a caller's context the request starts a trace of its own.
    let sent = get_body(addr, "").await;
    let parts: Vec<&str> = sent.split('-').collect();
    assert_eq!(parts.len(), 4, "a traceparent: {sent:?}");
    assert_ne!(parts[1], trace_id, "a new trace: {sent:?}");

    tokio::task::spawn_blocking(move || drop(guard))
        .await
        .unwrap();
}
