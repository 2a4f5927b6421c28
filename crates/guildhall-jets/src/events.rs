//! What a step reports back: kills, the end of a match and the start of the next, and
//! the phase the world is in. The lobby turns these into messages and match history.

use serde::Serialize;

use crate::jet::JetId;

/// Whether the world is playing or paused between two matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// A match is running.
    Playing,
    /// A match has ended and the world is frozen: nothing moves, held controls do
    /// nothing, no projectiles fly.
    Intermission {
        /// The step that reaches this tick starts the next match.
        resumes_at_tick: u64,
    },
}

/// Everything notable that happened in one [`World::step`](crate::World::step), in the
/// order it happened.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StepEvents {
    /// Jets killed this tick, in projectile id order.
    pub kills: Vec<Kill>,
    /// The match that ended this tick. Reported exactly once per match.
    pub match_over: Option<MatchResult>,
    /// The number of the match that started this tick: every jet has just respawned
    /// with scores reset.
    pub match_started: Option<u32>,
}

/// One jet shot down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Kill {
    /// The owner of the projectile. If that jet has left the world, nobody scored.
    pub killer: JetId,
    /// The jet that died.
    pub victim: JetId,
}

/// How a match ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// A jet's score reached the score limit (checked first: a kill on the last tick
    /// ends the match by score).
    ScoreLimit,
    /// The time limit ran out.
    TimeLimit,
}

/// The outcome of one match, for `match_end` and the match history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MatchResult {
    /// The match's number in this world, from 1.
    pub number: u32,
    /// One entry per jet in the world when the match ended, in id order. Jets that left
    /// during the match are not here. Empty when the world had no jets.
    pub results: Vec<JetResult>,
    /// Score limit or time limit.
    pub ended_by: EndReason,
    /// Ticks of play the match lasted.
    pub ticks: u32,
    /// Ticks until the next match starts: the intermission.
    pub next_match_in_ticks: u32,
}

/// One jet's line in a [`MatchResult`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct JetResult {
    /// The jet.
    pub jet_id: JetId,
    /// Kills this match (its score).
    pub kills: u32,
    /// Deaths this match.
    pub deaths: u32,
    /// Whether its score was the highest. Ties all win, so when every jet ends on the
    /// same score (0 to 0 included) every jet wins.
    pub winner: bool,
}
