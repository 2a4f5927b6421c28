//! The OpenAPI description of routes other crates mount on head's listener: matchmaking
//! (`guildhall-matchmaker`) and arena stats (`guildhall-arena`). Documentation only.

use std::collections::BTreeMap;

use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    Internal, InvalidRequest, MatchmakerUnavailable, PayloadTooLarge, TicketExists, TicketNotFound,
    Unauthorized, UnsupportedMediaType,
};

/// Queues the caller for a game.
#[utoipa::path(
    post,
    path = "/v1/matchmaking/tickets",
    operation_id = "create_ticket",
    tag = "matchmaking",
    security(("bearerAuth" = [])),
    request_body = NewTicketDoc,
    responses(
        (status = 202, description = "Queued; long-poll the ticket for its assignment.", body = TicketDoc),
        (status = 400, response = InvalidRequest),
        (status = 401, response = Unauthorized),
        (status = 409, response = TicketExists),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = MatchmakerUnavailable),
    ),
)]
#[allow(dead_code)]
pub(super) async fn create_ticket() {}

/// The caller's ticket; while it is queued, waits up to `wait` seconds for a change.
#[utoipa::path(
    get,
    path = "/v1/matchmaking/tickets/{ticket_id}",
    operation_id = "get_ticket",
    tag = "matchmaking",
    security(("bearerAuth" = [])),
    params(
        ("ticket_id" = String, Path, description = "The ticket's id."),
        ("wait" = Option<f64>, Query, minimum = 0, maximum = 60,
            description = "Seconds to wait for a queued ticket to change (capped by the server, 25 by default)."),
    ),
    responses(
        (status = 200, description = "The ticket.", body = TicketDoc),
        (status = 400, response = InvalidRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = TicketNotFound),
        (status = 503, response = MatchmakerUnavailable),
    ),
)]
#[allow(dead_code)]
pub(super) async fn show_ticket() {}

/// Cancels the caller's queued ticket (a finished one stays as it is).
#[utoipa::path(
    delete,
    path = "/v1/matchmaking/tickets/{ticket_id}",
    operation_id = "cancel_ticket",
    tag = "matchmaking",
    security(("bearerAuth" = [])),
    params(("ticket_id" = String, Path, description = "The ticket's id.")),
    responses(
        (status = 200, description = "The ticket, now `cancelled` if it was queued.", body = TicketDoc),
        (status = 401, response = Unauthorized),
        (status = 404, response = TicketNotFound),
        (status = 503, response = MatchmakerUnavailable),
    ),
)]
#[allow(dead_code)]
pub(super) async fn cancel_ticket() {}

/// A user's arena totals and last 20 matches (public, like profiles).
#[utoipa::path(
    get,
    path = "/v1/users/{user_id}/stats",
    operation_id = "get_user_stats",
    tag = "matchmaking",
    params(("user_id" = String, Path, description = "The user's id (a UUID).")),
    responses(
        (status = 200, description = "Totals (zeros for a user who never played).", body = StatsDoc),
        (status = 400, response = InvalidRequest),
        (status = 500, response = Internal),
    ),
)]
#[allow(dead_code)]
pub(super) async fn user_stats() {}

/// `POST /v1/matchmaking/tickets`.
#[derive(ToSchema)]
#[schema(as = NewTicket)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct NewTicketDoc {
    /// A configured mode, such as `arena-ffa`.
    mode: String,
    /// Free-form, at most 16 members; a numeric `rating` drives the skill window.
    properties: Option<BTreeMap<String, Value>>,
}

/// Where a ticket is in its life.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum TicketStatus {
    Queued,
    Assigned,
    Cancelled,
    Expired,
}

/// Where an assigned player goes.
#[derive(ToSchema)]
#[schema(as = Assignment)]
#[allow(dead_code)]
pub struct AssignmentDoc {
    lobby_id: Uuid,
    /// The game server's WebSocket URL.
    ws_url: String,
    /// Send as `{"type": "join", "token": ...}` within its lifetime (60 s by default).
    join_token: String,
}

/// A matchmaking ticket as its owner sees it.
#[derive(ToSchema)]
#[schema(as = Ticket)]
#[allow(dead_code)]
pub struct TicketDoc {
    ticket_id: Uuid,
    mode: String,
    status: TicketStatus,
    /// Present once `assigned`.
    assignment: Option<AssignmentDoc>,
}

/// A user's arena record.
#[derive(ToSchema)]
#[schema(as = Stats)]
#[allow(dead_code)]
pub struct StatsDoc {
    user_id: Uuid,
    matches: i64,
    wins: i64,
    kills: i64,
    deaths: i64,
    recent: Vec<RecentMatchDoc>,
}

/// One finished match of a user's.
#[derive(ToSchema)]
#[schema(as = RecentMatch)]
#[allow(dead_code)]
pub struct RecentMatchDoc {
    match_id: Uuid,
    /// Unix milliseconds.
    ended_at: i64,
    kills: i64,
    deaths: i64,
    winner: bool,
}
