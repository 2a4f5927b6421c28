//! What the seat knows: its view, kept current from snapshots and the events between.

use std::borrow::Cow;

use guildhall_briscola::{Bid, BidRecord, Card, Phase, PlayedCard, View, next_seat};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::*;

/// A seat's view of its table, kept current from what its connection receives.
#[derive(Debug, Clone, Default)]
pub struct Tracker {
    /// The latest view; `None` before the first `sync` of a dealt game.
    pub view: Option<View>,
    /// The match is over (seen in a `sync`, `phase.change` or `match.over`).
    pub match_over: bool,
    /// `score.update`s seen: hands played to the end.
    pub hands_scored: u64,
}

impl Tracker {
    /// Whether the view says this seat is to act.
    pub fn my_turn(&self) -> bool {
        self.view
            .as_ref()
            .is_some_and(|view| view.seat.is_some() && view.turn == view.seat)
    }

    /// Takes in one message given as its `message_type` and `payload`.
    pub fn on_message(&mut self, message_type: &str, payload: &Value) {
        self.on_payload(message_type, &payload.to_string());
    }

    /// Takes in one message of type `message_type`, given as its payload's JSON text
    /// (empty when the frame had none); only the fields the bots use are read.
    pub fn on_payload(&mut self, message_type: &str, payload: &str) {
        match message_type {
            "sync" => {
                // `None` before the deal (`"phase": "waiting"` is no phase of a game).
                self.view = serde_json::from_str::<View>(payload).ok();
                if self
                    .view
                    .as_ref()
                    .is_some_and(|view| view.phase == Phase::MatchOver)
                {
                    self.match_over = true;
                }
            }
            "match.over" => self.match_over = true,
            "score.update" => {
                self.hands_scored += 1;
                if let Some(view) = &mut self.view {
                    view.turn = None;
                }
            }
            "hand.update" | "bid.made" | "trick.played" | "trick.won" | "phase.change" => {
                let Some(view) = &mut self.view else { return };
                // Unreadable: the turn is unknown until the next `sync`.
                let Ok(payload) = serde_json::from_str::<Fields>(payload) else {
                    view.turn = None;
                    return;
                };
                if track(view, message_type, payload) == Some(Phase::MatchOver) {
                    self.match_over = true;
                }
            }
            _ => {}
        }
    }
}

/// A message read in one pass: its `message_type` and `action_id`, and its payload as
/// the JSON text it arrived as, read further only by those who need it.
#[derive(Deserialize)]
pub(super) struct Frame<'a> {
    #[serde(borrow)]
    pub(super) message_type: Cow<'a, str>,
    #[serde(default, borrow)]
    pub(super) action_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    payload: Option<&'a RawValue>,
}

impl Frame<'_> {
    /// The payload's JSON text; empty (which reads as nothing) when there was none.
    pub(super) fn payload(&self) -> &str {
        self.payload.map_or("", RawValue::get)
    }
}

/// The payload fields the bots read, of events and results; others are skipped.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Fields {
    pub(super) seat: Option<u8>,
    pub(super) bid: Option<Bid>,
    pub(super) card: Option<Card>,
    pub(super) phase: Option<Phase>,
    pub(super) hand: Option<Vec<Card>>,
    pub(super) status: Option<String>,
    pub(super) code: Option<String>,
    pub(super) recovery: Option<String>,
    pub(super) message: Option<String>,
}

/// Applies one event to `view`; the phase it announced, if any.
pub(super) fn track(view: &mut View, message_type: &str, payload: Fields) -> Option<Phase> {
    match message_type {
        "hand.update" => {
            if payload.seat == view.seat
                && let Some(hand) = payload.hand
            {
                view.hand = Some(hand);
            }
        }
        "bid.made" => {
            let (Some(seat), Some(bid)) = (payload.seat, payload.bid) else {
                view.turn = None;
                return None;
            };
            let record = BidRecord { seat, bid };
            view.bids.push(record);
            if bid == Bid::Pass {
                view.passed[usize::from(seat) % SEATS] = true;
            } else {
                view.highest_bid = Some(record);
            }
            let still_in = view.passed.iter().filter(|passed| !**passed).count();
            view.turn = match (still_in, view.highest_bid) {
                // A redeal or the end of the auction: a `sync` follows.
                (0, _) | (1, Some(_)) => None,
                _ => {
                    let mut next = next_seat(seat);
                    while next != seat && view.passed[usize::from(next) % SEATS] {
                        next = next_seat(next);
                    }
                    Some(next)
                }
            };
        }
        "trick.played" => {
            let (Some(seat), Some(card)) = (payload.seat, payload.card) else {
                view.turn = None;
                return None;
            };
            view.trick.push(PlayedCard { seat, card });
            if let Some(size) = view.hand_sizes.get_mut(usize::from(seat)) {
                *size = size.saturating_sub(1);
            }
            if Some(seat) == view.seat
                && let Some(hand) = &mut view.hand
            {
                hand.retain(|held| *held != card);
            }
            view.turn = (view.trick.len() < SEATS).then(|| next_seat(seat));
        }
        "trick.won" => {
            view.trick.clear();
            let Some(winner) = payload.seat else {
                view.turn = None;
                return None;
            };
            if let Some(won) = view.tricks_won.get_mut(usize::from(winner)) {
                *won += 1;
            }
            let tricks: u32 = view.tricks_won.iter().map(|&t| u32::from(t)).sum();
            // After the eighth trick the hand is scored and a `sync` follows.
            view.turn = (tricks < guildhall_briscola::TRICKS_PER_HAND as u32).then_some(winner);
        }
        "phase.change" => {
            let phase = payload.phase?;
            // A new phase: wait for its `sync` (the first deal announces the phase after
            // the snapshots, which already show it).
            if phase != view.phase {
                view.phase = phase;
                view.turn = None;
            }
            return Some(phase);
        }
        _ => {}
    }
    None
}
