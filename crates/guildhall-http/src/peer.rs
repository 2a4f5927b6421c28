//! Calls from one service to another.
//!
//! Every call carries the current W3C trace context and a timeout. Retries, backoff and
//! circuit breaking are the caller's policy (only idempotent calls may be retried), built
//! on [`PeerError::is_transient`].

use std::time::Duration;

use http::StatusCode;

/// Why a call to a peer failed.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// The peer could not be reached or did not answer in time: worth a retry.
    #[error("peer unreachable: {0}")]
    Unreachable(String),
    /// The peer answered with an error status: its body (the start of it) and its
    /// `Retry-After` in seconds, if it sent one, to pass on to our caller.
    #[error("peer answered {0}: {1}")]
    Status(StatusCode, String, Option<u64>),
}

impl PeerError {
    /// Unreachable peers and 502/503/504 answers may succeed on a retry.
    pub fn is_transient(&self) -> bool {
        match self {
            PeerError::Unreachable(_) => true,
            PeerError::Status(status, _, _) => {
                matches!(
                    *status,
                    StatusCode::BAD_GATEWAY
                        | StatusCode::SERVICE_UNAVAILABLE
                        | StatusCode::GATEWAY_TIMEOUT
                )
            }
        }
    }
}

/// A client for one peer's base URL. Cheap to clone (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct PeerClient {
    base: String,
    http: reqwest::Client,
}

impl PeerClient {
    pub fn new(base_url: &str, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .expect("a client with no TLS configuration always builds");
        Self {
            base: base_url.trim_end_matches('/').to_owned(),
            http,
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// A request to `path` on the peer, with trace context already attached.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut headers = http::HeaderMap::new();
        guildhall_telemetry::inject_trace_context(&mut headers);
        self.http
            .request(method, format!("{}{path}", self.base))
            .headers(headers)
    }

    /// Sends a request and returns the response of a 2xx answer.
    pub async fn send(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, PeerError> {
        let response = builder
            .send()
            .await
            .map_err(|e| PeerError::Unreachable(e.to_string()))?;
        if response.status().is_success() {
            Ok(response)
        } else {
            let status = response.status();
            let retry_after = response
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok());
            let body = response.text().await.unwrap_or_default();
            Err(PeerError::Status(
                status,
                body.chars().take(512).collect(),
                retry_after,
            ))
        }
    }

    /// GETs `path` and returns only the status.
    pub async fn get_status(&self, path: &str) -> Result<StatusCode, PeerError> {
        let response = self
            .request(reqwest::Method::GET, path)
            .send()
            .await
            .map_err(|e| PeerError::Unreachable(e.to_string()))?;
        Ok(response.status())
    }
}
