//! Card-table bots: guests that sit at Briscola chiamata tables and play them over the
//! tables protocol like any client (`docs/tables.md`): `POST /v1/tables` or
//! `/v1/tables/{id}/join`, a WebSocket to the `ws_url` they were given, a `join`, then
//! an action whenever their seat is to act.
//!
//! - [`Player::create_table`] and [`Player::join_table`]: the HTTP half.
//! - [`choose`]: the policy, a pure function of the seat's [`View`](guildhall_briscola::View) and a random stream
//!   (the same policy as the boardgame.io peer's bots in
//!   `bench/peers/boardgameio-tricks/bots.mjs`): in the auction, with probability ½ bid a
//!   uniformly random rank that beats the highest bid (never a point target), otherwise
//!   pass; calling, a uniformly random suit; in play, a uniformly random card it may play.
//! - [`Tracker`]: the seat's view kept current from the `sync` snapshots and the events
//!   in between (`bid.made`, `trick.played`, `trick.won`, `hand.update`, ...); every phase
//!   change is followed by a `sync`, so the events only move the turn within a phase.
//! - [`TableBot`]: one seat's connection: acts when its view says it is its turn, one
//!   action in flight at a time, each with a fresh `action_id`; measures the time from
//!   sending an action to its `action.result`; recovers like the protocol asks
//!   (`recovery: sync` → a `sync`; `game_unavailable` → wait for the next `sync`, then
//!   send the unanswered action again with the same `action_id`; an action unanswered
//!   for [`BotSettings::retry_after`] is sent again with the same `action_id`) and
//!   reconnects with the same token when the socket drops.
//! - [`Fleet`] and [`run_tables`]: N tables of five bots, each table playing one match
//!   after another (create, four joins, five connections, play to `match_over`), with
//!   actions per second, latency quantiles, errors and hands completed over a window.

mod bot;
mod fleet;
mod policy;
mod stats;
#[cfg(test)]
mod tests;
mod tracker;

pub use bot::*;
pub use fleet::*;
pub use policy::*;
pub use stats::*;
pub use tracker::*;

use anyhow::{Context, bail};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Player;
/// Chance that a bot bids (rather than passes) when some rank still beats the highest
/// bid; the boardgame.io peer's bots use the same.
pub const BID_PROBABILITY: f64 = 0.5;
/// Players at a table.
pub const SEATS: usize = 5;

/// A seat at a table, as `POST /v1/tables` and `/v1/tables/{id}/join` answer.
#[derive(Debug, Clone, Deserialize)]
pub struct Seat {
    pub game_id: String,
    pub seat: u8,
    pub player_token: String,
    pub ws_url: String,
}

impl Player {
    /// Creates a table with `options` (`null` for the defaults) and takes seat 0.
    pub async fn create_table(&self, options: &Value) -> anyhow::Result<Seat> {
        self.table_call("/v1/tables", json!({ "options": options }), 201)
            .await
    }

    /// Takes the first free seat at `game_id` (or the seat this player holds).
    pub async fn join_table(&self, game_id: &str) -> anyhow::Result<Seat> {
        self.table_call(&format!("/v1/tables/{game_id}/join"), json!({}), 200)
            .await
    }

    async fn table_call(&self, path: &str, body: Value, want: u16) -> anyhow::Result<Seat> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .with_context(|| format!("POST {path}"))?;
        let status = response.status();
        let body: Value = response.json().await?;
        if status.as_u16() != want {
            bail!("POST {path} answered {status}: {body}");
        }
        Ok(serde_json::from_value(body)?)
    }
}
