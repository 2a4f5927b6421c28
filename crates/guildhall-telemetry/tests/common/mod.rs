//! Shared by the test binaries that install telemetry with an exporter.

use std::net::SocketAddr;

use axum::Router;
use guildhall_config::TelemetryConfig;
use guildhall_telemetry::TelemetryGuard;

/// Serves `router` on a free loopback port.
pub async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// Installs telemetry for `service` exporting to `collector` (which serves
/// `/v1/traces`), with logs off.
pub async fn exporting_to(collector: Router, service: &str) -> TelemetryGuard {
    let config = TelemetryConfig {
        otlp_endpoint: format!("http://{}", serve(collector).await),
        log_filter: "off".into(),
        ..Default::default()
    };
    guildhall_telemetry::init(&config, service).unwrap()
}
