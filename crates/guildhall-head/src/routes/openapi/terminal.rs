//! The OpenAPI description of `GET /v1/terminal/events` (mounted by
//! `guildhall-terminal` on head and on terminal services). Documentation only.

use utoipa::ToSchema;

/// Deaths in terminal games as they happen, as server-sent events (`text/event-stream`).
///
/// Each death is an event named `game.death` whose data is a [`Death`](DeathDoc) as JSON.
/// An event named `gap` (data `{}`) means deaths may have been missed while the event bus
/// was away. A comment line keeps the stream alive every 15 seconds. No authentication:
/// deaths are public, as on every public NetHack server. The stream never ends by itself.
#[utoipa::path(
    get,
    path = "/v1/terminal/events",
    operation_id = "terminal_events",
    tag = "terminal",
    responses(
        (
            status = 200,
            description = "The stream of `game.death` (data: a `Death` as JSON) and `gap` events.",
            content_type = "text/event-stream",
            body = String,
        ),
        (status = 503, response = super::EventsUnavailable),
    ),
)]
#[allow(dead_code)]
pub(super) async fn events() {}

/// A finished terminal game, from the game's own record (NetHack's xlogfile line).
#[derive(ToSchema)]
#[schema(as = Death)]
#[allow(dead_code)]
pub(super) struct DeathDoc {
    /// The configured game (`nethack`...).
    game: String,
    /// The player's username; null if the line's name is not one.
    user: Option<String>,
    entry: XlogEntryDoc,
}

/// One xlogfile line: the fields every NetHack 3.6 line has, typed, and all of them as
/// written.
#[derive(ToSchema)]
#[schema(as = XlogEntry)]
#[allow(dead_code)]
struct XlogEntryDoc {
    /// The player name the game ran under.
    name: String,
    /// Three-letter role, race, gender and alignment (`Val`, `Hum`, `Fem`, `Law`).
    role: String,
    race: String,
    gender: String,
    align: String,
    /// How the game ended: `killed by a jackal`, `quit`, `ascended`...
    death: String,
    points: i64,
    turns: i64,
    /// The deepest level reached.
    maxlvl: i64,
    /// Unix times the game started and ended.
    starttime: i64,
    endtime: i64,
    /// Every field of the line, those above included.
    fields: std::collections::BTreeMap<String, String>,
}
