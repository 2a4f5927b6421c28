//! Role-aware snapshots: what one player, or an observer, may know of the table.
//!
//! Secrets are the other seats' hands and, until the called card is played, who holds
//! it. A player's view holds their own hand and nothing of anyone else's but its size;
//! `partner` stays empty for everyone until the reveal, and only the holder of the
//! called card sees `you_are_partner`. An observer's view has no hand at all.

use serde::{Deserialize, Serialize};

use crate::bid::{BidRecord, MIN_TARGET};
use crate::card::{Card, Suit};
use crate::events::Phase;
use crate::game::Game;
use crate::options::TableOptions;
use crate::scoring::HandResult;
use crate::seat::{SEATS, index, seats};
use crate::trick::{CompletedTrick, PlayedCard};

/// A snapshot for one player or for observers, sent on join, on `sync` and whenever
/// the worker chooses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    /// Whose view this is; `None` for observers.
    pub seat: Option<u8>,
    /// The phase.
    pub phase: Phase,
    /// Who acts next.
    pub turn: Option<u8>,
    /// Who dealt this hand.
    pub dealer: u8,
    /// This hand's number in the match, from 1.
    pub hand_number: u32,
    /// [`Game::version`].
    pub version: u64,
    /// The table's options.
    pub options: TableOptions,
    /// This seat's cards, in its chosen order. Absent from observers' views.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hand: Option<Vec<Card>>,
    /// Cards in each seat's hand.
    pub hand_sizes: [u8; 5],
    /// This deal's bids and passes, in order.
    pub bids: Vec<BidRecord>,
    /// Seats that have passed this deal.
    pub passed: [bool; 5],
    /// The bid to beat.
    pub highest_bid: Option<BidRecord>,
    /// Who won the auction.
    pub caller: Option<u8>,
    /// The card points the caller's side needs, once the auction is won.
    pub target: Option<u8>,
    /// The called card, once called.
    pub called_card: Option<Card>,
    /// Trump: the called card's suit.
    pub trump: Option<Suit>,
    /// Who held the called card; only once it has been played.
    pub partner: Option<u8>,
    /// This seat holds the called card and is not the caller: the secret partner. Only
    /// ever true in that seat's own view.
    pub you_are_partner: bool,
    /// The trick on the table, in the order played.
    pub trick: Vec<PlayedCard>,
    /// The trick won last, this hand (or the last trick of the last hand, between
    /// hands).
    pub last_trick: Option<CompletedTrick>,
    /// Tricks taken this hand, by seat.
    pub tricks_won: [u8; 5],
    /// Card points taken this hand, by seat (announced trick by trick anyway).
    pub points_taken: [u8; 5],
    /// Match points by seat.
    pub scores: [i32; 5],
    /// How the previous hand ended.
    pub last_hand: Option<HandResult>,
    /// The match winners, once the match is over.
    pub winners: Vec<u8>,
}

impl Game {
    /// What `seat` may see: everything public plus its own hand, and whether it is the
    /// secret partner. A seat that does not exist gets the observer's view.
    pub fn player_view(&self, seat: u8) -> View {
        if seat >= SEATS {
            return self.observer_view();
        }
        let mut view = self.observer_view();
        let state = self.state();
        view.seat = Some(seat);
        view.hand = Some(state.hands[index(seat)].clone());
        view.you_are_partner = state
            .contract
            .and_then(|contract| {
                let call = contract.called?;
                Some(call.partner == seat && contract.caller != seat)
            })
            .unwrap_or(false);
        view
    }

    /// What anyone may see: no hand, and no partner before the reveal.
    pub fn observer_view(&self) -> View {
        let state = self.state();
        let call = state.call();
        let mut tricks_won = [0; 5];
        let mut points_taken = [0; 5];
        for trick in &state.tricks {
            if let Some(i) = seats().position(|s| s == trick.winner) {
                tricks_won[i] += 1;
                points_taken[i] += trick.points;
            }
        }
        View {
            seat: None,
            phase: state.phase,
            turn: state.turn,
            dealer: state.dealer,
            hand_number: state.hand_number,
            version: state.version,
            options: state.options,
            hand: None,
            hand_sizes: state.hands.each_ref().map(|hand| hand.len() as u8),
            bids: state.bids.clone(),
            passed: state.passed,
            highest_bid: state.highest_bid().copied(),
            caller: state.contract.map(|c| c.caller),
            target: state.contract.map(|c| c.bid.target().unwrap_or(MIN_TARGET)),
            called_card: call.map(|c| c.card),
            trump: call.map(|c| c.card.suit),
            partner: call.filter(|c| c.revealed).map(|c| c.partner),
            you_are_partner: false,
            trick: state.trick.clone(),
            last_trick: state.tricks.last().cloned(),
            tricks_won,
            points_taken,
            scores: state.scores,
            last_hand: state.last_hand.clone(),
            winners: state.winners.clone(),
        }
    }
}
