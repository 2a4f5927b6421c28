//! The matchmaker's contract with head (tickets) and game servers (registration and
//! heartbeats). In `guildhall up` it is [`crate::Matchmaker`] itself; in the split shape
//! [`crate::client::MatchmakerClient`] over HTTP to [`crate::http`].

use std::time::Duration;

use async_trait::async_trait;
use guildhall_core::ApiError;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::engine::{Assignment, LobbyReport, ServerInfo, Status};

/// `POST /v1/matchmaking/tickets`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTicket {
    pub mode: String,
    /// Free-form; a numeric `rating` drives the skill window.
    #[serde(default)]
    pub properties: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A ticket as its owner sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketView {
    pub ticket_id: Uuid,
    pub mode: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignment: Option<Assignment>,
}

/// A game server's heartbeat.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Heartbeat {
    pub lobbies: Vec<LobbyReport>,
}

#[async_trait]
pub trait MatchmakerApi: Send + Sync {
    async fn create_ticket(&self, user: Uuid, request: NewTicket) -> Result<TicketView, ApiError>;
    /// The ticket; while it is queued, waits up to `wait` for it to change.
    async fn ticket(&self, user: Uuid, id: Uuid, wait: Duration) -> Result<TicketView, ApiError>;
    async fn cancel_ticket(&self, user: Uuid, id: Uuid) -> Result<TicketView, ApiError>;
    async fn register_server(&self, info: ServerInfo) -> Result<(), ApiError>;
    /// `not_found` when the matchmaker does not know the server: register again.
    async fn heartbeat(&self, server_id: &str, heartbeat: Heartbeat) -> Result<(), ApiError>;
}
