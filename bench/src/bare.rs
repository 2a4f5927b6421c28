//! The baseline of the HTTP benchmarks: a bare axum hello-world answering
//! `GET /health/live` with the same JSON as the platform's liveness route, with none of the
//! platform's middleware.

use axum::Router;
use axum::routing::get;

/// Starts the bare server on a free port of 127.0.0.1, on the current runtime, and returns
/// its `http://HOST:PORT/health/live` URL. It runs until the runtime is dropped.
pub async fn spawn() -> anyhow::Result<String> {
    let bare = Router::new().route("/health/live", get(|| async { axum::Json(live()) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/health/live", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, bare).await });
    Ok(url)
}

/// The same body the platform's liveness route answers.
fn live() -> std::collections::BTreeMap<&'static str, &'static str> {
    std::collections::BTreeMap::from([("status", "live")])
}
