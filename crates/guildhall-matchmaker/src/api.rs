//! The matchmaker's contract with head (tickets) and game servers (registration and
//! heartbeats). In `guildhall up` it is [`crate::Matchmaker`] itself; in the split shape
//! [`crate::client::MatchmakerClient`] over HTTP to [`crate::http`].

use std::time::Duration;

use async_trait::async_trait;
use guildhall_core::{ApiError, ErrorCode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::engine::{Assignment, LobbyReport, ServerInfo, Status};

/// The longest a ticket read waits for a change.
pub const MAX_WAIT: Duration = Duration::from_secs(60);

/// A ticket read's `wait`, in seconds: absent is no wait, above a minute is a minute.
/// Anything that is not a finite, non-negative number of seconds is refused (`f64`
/// parsing takes "NaN" and "inf", which `Duration` refuses with a panic). The public and
/// the internal read both take it through here.
pub fn long_poll_wait(raw: Option<&str>) -> Result<Duration, ApiError> {
    let seconds = match raw {
        None | Some("") => 0.0,
        Some(raw) => raw
            .parse::<f64>()
            .ok()
            .filter(|w| w.is_finite() && *w >= 0.0)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidRequest,
                    "wait must be a number of seconds",
                )
            })?,
    };
    Ok(Duration::from_secs_f64(seconds).min(MAX_WAIT))
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_is_a_non_negative_number_of_seconds_up_to_a_minute() {
        assert_eq!(long_poll_wait(None).unwrap(), Duration::ZERO);
        assert_eq!(long_poll_wait(Some("")).unwrap(), Duration::ZERO);
        assert_eq!(
            long_poll_wait(Some("0.25")).unwrap(),
            Duration::from_millis(250)
        );
        assert_eq!(long_poll_wait(Some("3600")).unwrap(), MAX_WAIT);
        for bad in ["-1", "-0.5", "NaN", "inf", "-inf", "abc", "1e400"] {
            let err = long_poll_wait(Some(bad)).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidRequest, "{bad}");
        }
    }
}
