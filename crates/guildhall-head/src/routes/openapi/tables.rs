//! The OpenAPI description of the card-table routes `guildhall-tables` mounts on head's
//! listener (`crates/guildhall-tables/src/http.rs`). Documentation only.
//!
//! The three routes read their body as raw bytes: it is optional (empty or whitespace
//! means the defaults), parsed as JSON whatever the `Content-Type`, so there is no `415`.

use utoipa::openapi::RefOr;
use utoipa::{Modify, ToSchema};

use super::{
    GameNotFound, GameUnavailable, Internal, InvalidRequest, JoinFailed, PayloadTooLarge,
    RoutingFailed, TableNameRejected, TablesUnavailable, Unauthorized, link,
};

/// Creates a table and seats the caller at seat 0.
#[utoipa::path(
    post,
    path = "/v1/tables",
    operation_id = "create_table",
    tag = "tables",
    security(("bearerAuth" = [])),
    request_body(
        content = NewTableDoc,
        description = "Optional: an empty body is the same as `{}` (the default options).",
    ),
    responses(
        (status = 201, description = "The table exists and the caller holds seat 0; open \
            `ws_url` and send `join` with `player_token`.", body = SeatDoc),
        (status = 400, response = InvalidRequest),
        (status = 401, response = Unauthorized),
        (status = 413, response = PayloadTooLarge),
        (status = 422, response = TableNameRejected),
        (status = 500, response = Internal),
        (status = 502, response = RoutingFailed),
        (status = 503, response = TablesUnavailable),
    ),
)]
#[allow(dead_code)]
pub(super) async fn create_table() {}

/// Seats the caller at a table: their seat if they hold one, else the first free one (the
/// fifth seat deals the first hand). Each call signs a fresh player token.
#[utoipa::path(
    post,
    path = "/v1/tables/{game_id}/join",
    operation_id = "join_table",
    tag = "tables",
    security(("bearerAuth" = [])),
    params(("game_id" = String, Path,
        description = "The table's id, six letters and digits (upper-cased by the server).")),
    request_body(
        content = TableNameDoc,
        description = "Optional: an empty body is the same as `{}` (no display name).",
    ),
    responses(
        (status = 200, description = "The caller's seat and a fresh player token.", body = SeatDoc),
        (status = 400, response = InvalidRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = GameNotFound),
        (status = 409, response = JoinFailed),
        (status = 413, response = PayloadTooLarge),
        (status = 422, response = TableNameRejected),
        (status = 500, response = Internal),
        (status = 502, response = RoutingFailed),
        (status = 503, response = GameUnavailable),
    ),
)]
#[allow(dead_code)]
pub(super) async fn join_table() {}

/// A token to watch a table; anyone who knows the table's id may watch, no account needed.
#[utoipa::path(
    post,
    path = "/v1/tables/{game_id}/observer-token",
    operation_id = "table_observer_token",
    tag = "tables",
    params(("game_id" = String, Path,
        description = "The table's id, six letters and digits (upper-cased by the server).")),
    request_body(
        content = TableNameDoc,
        description = "Optional: an empty body is the same as `{}` (no display name).",
    ),
    responses(
        (status = 200, description = "An observer token for the table.", body = ObserverTokenDoc),
        (status = 400, response = InvalidRequest),
        (status = 404, response = GameNotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 422, response = TableNameRejected),
        (status = 500, response = Internal),
        (status = 503, response = GameUnavailable),
    ),
)]
#[allow(dead_code)]
pub(super) async fn observer_token() {}

/// The paths whose request body may be left out.
pub(super) const OPTIONAL_BODIES: [&str; 3] = [
    "/v1/tables",
    "/v1/tables/{game_id}/join",
    "/v1/tables/{game_id}/observer-token",
];

/// A new table's options; the whole body may be omitted.
#[derive(ToSchema)]
#[schema(as = NewTable)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct NewTableDoc {
    /// Absent or null for the defaults.
    options: Option<TableOptionsDoc>,
    /// The creator's name at the table (the platform's nickname rules, 1 to 32
    /// characters); absent or null for none.
    #[schema(
        min_length = 1,
        max_length = 32,
        pattern = "^[A-Za-z][A-Za-z0-9_]{0,31}$"
    )]
    display_name: Option<String>,
}

/// What the table's creator chooses; each member may be omitted for its default (but not
/// sent as null).
#[derive(ToSchema)]
#[schema(as = TableOptions)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct TableOptionsDoc {
    /// When on, a player holding the suit led must play it (off by default: in Briscola
    /// any card may be played at any time).
    #[serde(default)]
    #[schema(default = false)]
    must_follow_suit: bool,
    /// Who leads the first trick of a hand (by default the dealer's right).
    #[serde(default)]
    first_lead: FirstLeadDoc,
    /// The match ends after the hand that brings any seat's match points to this or more.
    #[serde(default)]
    #[schema(minimum = 1, default = 11)]
    target_score: i32,
}

/// Who leads the first trick of a hand: the caller, who won the auction, or the dealer's
/// right, who also opened the auction (the default).
#[derive(ToSchema)]
#[schema(as = FirstLead, rename_all = "snake_case", default = "dealer_right")]
#[allow(dead_code)]
pub enum FirstLeadDoc {
    AuctionWinner,
    DealerRight,
}

/// The display name shown at the table; the whole body may be omitted.
#[derive(ToSchema)]
#[schema(as = TableName)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct TableNameDoc {
    /// The platform's nickname rules (1 to 32 characters, no control characters; the
    /// pattern shows the plain form, other letters and spaces are accepted too); absent
    /// or null for none. Joining again with a name renames the seat.
    #[schema(
        min_length = 1,
        max_length = 32,
        pattern = "^[A-Za-z][A-Za-z0-9_]{0,31}$"
    )]
    display_name: Option<String>,
}

/// A seat at a table and the token that opens it.
#[derive(ToSchema)]
#[schema(as = TableSeat)]
#[allow(dead_code)]
pub struct SeatDoc {
    /// Six characters from `23456789ABCDEFGHJKMNPQRSTUVWXYZ`.
    #[schema(pattern = "^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}$")]
    game_id: String,
    /// The seat, 0 to 4 (the table's creator holds 0).
    #[schema(minimum = 0, maximum = 4)]
    seat: u8,
    /// A table token (an EdDSA JWT, audience `guildhall:tables`): send it in the
    /// WebSocket `join` (docs/protocol/tables.md).
    player_token: String,
    /// The tables gateway's WebSocket URL.
    ws_url: String,
}

/// A token to watch a table.
#[derive(ToSchema)]
#[schema(as = ObserverToken)]
#[allow(dead_code)]
pub struct ObserverTokenDoc {
    /// A table token with `role: "observer"`: send it in the WebSocket `join`.
    observer_token: String,
    /// The tables gateway's WebSocket URL.
    ws_url: String,
}

/// Links from a seat (a new table's or a join's) to joining and watching that table, by
/// its `game_id`; they document the flow and let stateful testing reach real tables.
pub(super) struct TableLinks;

impl Modify for TableLinks {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let by_game_id = |operation_id: &str, description: &str| {
            let mut link = link(operation_id, description, None);
            link.parameters
                .insert("game_id".into(), "$response.body#/game_id".into());
            RefOr::T(link)
        };
        let links = [
            (
                "JoinTable",
                by_game_id(
                    "join_table",
                    "Take a seat at the table (the same user keeps theirs).",
                ),
            ),
            (
                "WatchTable",
                by_game_id("table_observer_token", "A token to watch the table."),
            ),
        ];
        for (path, status) in [("/v1/tables", "201"), ("/v1/tables/{game_id}/join", "200")] {
            let Some(RefOr::T(response)) = openapi
                .paths
                .paths
                .get_mut(path)
                .and_then(|item| item.post.as_mut())
                .and_then(|op| op.responses.responses.get_mut(status))
            else {
                panic!("POST {path} answers {status}");
            };
            for (name, link) in &links {
                response.links.insert((*name).into(), link.clone());
            }
        }
    }
}
