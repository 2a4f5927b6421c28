//! The policy: what a seat does now, a pure function of its view and a random stream.

use guildhall_briscola::{
    Action, Bid, BidRecord, Card, Phase, PlayedCard, RANKS_BY_STRENGTH, Suit, View, bid_level,
};
use guildhall_rng::SplitMix64;
use serde_json::Value;

use super::*;

/// What the seat of `view` does now, or `None` when it is not its turn (or nothing is
/// left to do). Deterministic given `rng`'s state. Only legal actions: a rank that beats
/// the highest bid (or a pass), a suit, a card from the hand that may be played (when
/// the table makes following suit compulsory, a card of the suit led if the hand holds
/// one).
pub fn choose(view: &View, rng: &mut SplitMix64) -> Option<Action> {
    let seat = view.seat?;
    if view.turn != Some(seat) {
        return None;
    }
    match view.phase {
        Phase::Auction => {
            let ranks = biddable_ranks(view.highest_bid.as_ref());
            if !ranks.is_empty() && rng.next_unit() < BID_PROBABILITY {
                let rank = ranks[rng.below(ranks.len() as u64) as usize];
                Some(Action::Bid(Bid::rank(rank)))
            } else {
                Some(Action::Bid(Bid::Pass))
            }
        }
        Phase::Calling => {
            let suit = Suit::ALL[rng.below(Suit::ALL.len() as u64) as usize];
            Some(Action::CallPartnerSuit { suit })
        }
        Phase::Playing => {
            let hand = view.hand.as_deref().unwrap_or_default();
            let legal = playable(hand, &view.trick, view.options.must_follow_suit);
            if legal.is_empty() {
                return None;
            }
            let card = legal[rng.below(legal.len() as u64) as usize];
            Some(Action::Play { card })
        }
        Phase::HandOver | Phase::MatchOver => None,
    }
}

/// The ranks (strongest first) whose plain bid beats `highest`: none once a Two stands.
pub fn biddable_ranks(highest: Option<&BidRecord>) -> Vec<u8> {
    let floor = highest.and_then(|record| bid_level(&record.bid));
    RANKS_BY_STRENGTH
        .iter()
        .copied()
        .filter(|&rank| match (floor, bid_level(&Bid::rank(rank))) {
            (Some(floor), Some(level)) => level > floor,
            (None, _) => true,
            (Some(_), None) => false,
        })
        .collect()
}

/// The cards of `hand` that may go on `trick`, in hand order.
pub fn playable(hand: &[Card], trick: &[PlayedCard], must_follow_suit: bool) -> Vec<Card> {
    let led = trick.first().map(|played| played.card.suit);
    let follows = |card: &Card| led.is_none_or(|led| card.suit == led);
    let holds_led = hand.iter().any(follows);
    hand.iter()
        .copied()
        .filter(|card| !must_follow_suit || !holds_led || follows(card))
        .collect()
}

/// An action as the protocol sends it: its `message_type` and `payload`.
pub fn wire(action: &Action) -> (String, Value) {
    let mut value = serde_json::to_value(action).unwrap_or(Value::Null);
    let message_type = value
        .as_object_mut()
        .and_then(|map| map.remove("type"))
        .and_then(|t| t.as_str().map(str::to_owned))
        .unwrap_or_default();
    (message_type, value)
}
