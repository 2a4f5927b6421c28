//! [`MatchmakerApi`] over HTTP, for head and game servers in the split shape.

use std::time::Duration;

use async_trait::async_trait;
use guildhall_core::{ApiError, ErrorCode};
use guildhall_http::{PeerClient, PeerError};
use reqwest::Method;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::api::{Heartbeat, MatchmakerApi, NewTicket, TicketView};
use crate::engine::ServerInfo;
use crate::http::INTERNAL_TOKEN_HEADER;

#[derive(Debug, Clone)]
pub struct MatchmakerClient {
    peer: PeerClient,
    internal_token: String,
    timeout: Duration,
}

impl MatchmakerClient {
    pub fn new(peer: PeerClient, internal_token: &str, timeout: Duration) -> Self {
        Self {
            peer,
            internal_token: internal_token.to_owned(),
            timeout,
        }
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        timeout: Duration,
    ) -> Result<T, ApiError> {
        let mut request = self
            .peer
            .request(method, path)
            .header(INTERNAL_TOKEN_HEADER, &self.internal_token)
            .timeout(timeout);
        if let Some(body) = body {
            request = request.json(&body);
        }
        match self.peer.send(request).await {
            Ok(response) => {
                let bytes = response
                    .bytes()
                    .await
                    .map_err(|e| unavailable(&e.to_string()))?;
                let bytes = if bytes.is_empty() {
                    &b"null"[..]
                } else {
                    &bytes[..]
                };
                serde_json::from_slice(bytes).map_err(|e| {
                    ApiError::internal(format!("matchmaker answered unexpectedly: {e}"))
                })
            }
            Err(PeerError::Status(status, body, retry_after)) if status.is_client_error() => {
                Err(ApiError::from_envelope(
                    status.as_u16(),
                    &body,
                    retry_after,
                    "rejected by a peer service",
                ))
            }
            Err(err) => {
                tracing::warn!(%err, "call to the matchmaker failed");
                Err(unavailable(&err.to_string()))
            }
        }
    }
}

fn unavailable(cause: &str) -> ApiError {
    ApiError::new(ErrorCode::Unavailable, "the matchmaker is unavailable")
        .with_details(serde_json::json!({ "cause": cause.chars().take(200).collect::<String>() }))
}

#[async_trait]
impl MatchmakerApi for MatchmakerClient {
    async fn create_ticket(&self, user: Uuid, request: NewTicket) -> Result<TicketView, ApiError> {
        let mut body =
            serde_json::to_value(&request).map_err(|e| ApiError::internal(e.to_string()))?;
        body["user_id"] = user.to_string().into();
        self.call(
            Method::POST,
            "/internal/v1/matchmaking/tickets",
            Some(body),
            self.timeout,
        )
        .await
    }

    async fn ticket(&self, user: Uuid, id: Uuid, wait: Duration) -> Result<TicketView, ApiError> {
        let path = format!(
            "/internal/v1/matchmaking/tickets/{id}?user_id={user}&wait={}",
            wait.as_secs_f64()
        );
        self.call(Method::GET, &path, None, self.timeout + wait)
            .await
    }

    async fn cancel_ticket(&self, user: Uuid, id: Uuid) -> Result<TicketView, ApiError> {
        let path = format!("/internal/v1/matchmaking/tickets/{id}?user_id={user}");
        self.call(Method::DELETE, &path, None, self.timeout).await
    }

    async fn register_server(&self, info: ServerInfo) -> Result<(), ApiError> {
        let body = serde_json::to_value(&info).map_err(|e| ApiError::internal(e.to_string()))?;
        self.call::<serde_json::Value>(
            Method::POST,
            "/internal/v1/matchmaking/servers",
            Some(body),
            self.timeout,
        )
        .await?;
        Ok(())
    }

    async fn heartbeat(&self, server_id: &str, heartbeat: Heartbeat) -> Result<(), ApiError> {
        let body =
            serde_json::to_value(&heartbeat).map_err(|e| ApiError::internal(e.to_string()))?;
        let path = format!("/internal/v1/matchmaking/servers/{server_id}/heartbeat");
        self.call::<serde_json::Value>(Method::POST, &path, Some(body), self.timeout)
            .await?;
        Ok(())
    }
}
