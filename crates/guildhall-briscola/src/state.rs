//! Everything a table is, in one serializable value, and the invariants a stored copy
//! must meet before it is trusted again.
//!
//! The tables worker persists this after every action and reloads it after a crash, so
//! every field is plain data and nothing is derived that could disagree with it: the
//! highest bid is the last bid that is not a pass, card points taken are read off the
//! completed tricks, and so on.

use serde::{Deserialize, Serialize};

use crate::bid::{Bid, BidRecord};
use crate::card::{Card, deck, sort_hand};
use crate::events::{Event, Phase};
use crate::options::TableOptions;
use crate::rng::SplitMix64;
use crate::scoring::HandResult;
use crate::seat::{SEATS, index, next_seat, seats};
use crate::trick::{CompletedTrick, PlayedCard};

/// Cards dealt to each seat.
pub const HAND_SIZE: usize = 8;
/// Tricks in a hand.
pub const TRICKS_PER_HAND: usize = 8;

/// The whole table. See [`Game`](crate::Game) for the public face.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct State {
    /// Fixed at creation.
    pub(crate) options: TableOptions,
    /// Deals draw from it, so its position is persisted: a reloaded game deals the same
    /// next hands as the one that crashed.
    pub(crate) rng: SplitMix64,
    /// Successful actions and deals so far, for the worker to spot stale clients.
    pub(crate) version: u64,
    pub(crate) phase: Phase,
    /// Deals this hand; the deal passes to `next_seat(dealer)` after each scored hand
    /// and stays put on a redeal.
    pub(crate) dealer: u8,
    /// The current (or just scored) hand's number in the match, from 1.
    pub(crate) hand_number: u32,
    /// Who acts next in the auction, the call or the play; `None` between hands and
    /// after the match.
    pub(crate) turn: Option<u8>,
    /// Each seat's cards in the order that seat chose. Empty between hands.
    pub(crate) hands: [Vec<Card>; 5],
    /// Every bid and pass of this deal, in order. Each bid beats all before it, so the
    /// highest is the last that is not a pass.
    pub(crate) bids: Vec<BidRecord>,
    /// Seats that passed this deal; they bid no more.
    pub(crate) passed: [bool; 5],
    /// Set when the auction is won; kept after the hand is scored until the next deal,
    /// so the last hand stays on screen.
    pub(crate) contract: Option<Contract>,
    /// The trick being played, in the order played.
    pub(crate) trick: Vec<PlayedCard>,
    /// This hand's completed tricks, in order.
    pub(crate) tricks: Vec<CompletedTrick>,
    /// Match points by seat.
    pub(crate) scores: [i32; 5],
    /// How the previous hand ended.
    pub(crate) last_hand: Option<HandResult>,
    /// The seats with the most match points once the match is over; empty until then.
    pub(crate) winners: Vec<u8>,
}

/// What the auction decided, and the call that followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Contract {
    /// Who won the auction.
    pub(crate) caller: u8,
    /// The winning bid: the partner card's rank and the target.
    pub(crate) bid: Bid,
    /// Set by `call-partner-suit`.
    pub(crate) called: Option<Call>,
}

/// The partner card and who holds it. `partner` is the secret of the hand: nothing
/// outside this crate learns it before `revealed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Call {
    /// The called card; its suit is trump.
    pub(crate) card: Card,
    /// Who held the card when it was called; the caller when they play alone.
    pub(crate) partner: u8,
    /// The card has been played.
    pub(crate) revealed: bool,
}

impl State {
    /// A table before any deal: dealer seat 0, hand 1, no scores.
    pub(crate) fn empty(options: TableOptions, seed: u64) -> State {
        State {
            options,
            rng: SplitMix64::new(seed),
            version: 0,
            phase: Phase::Auction,
            dealer: 0,
            hand_number: 1,
            turn: None,
            hands: Default::default(),
            bids: Vec::new(),
            passed: [false; 5],
            contract: None,
            trick: Vec::new(),
            tricks: Vec::new(),
            scores: [0; 5],
            last_hand: None,
            winners: Vec::new(),
        }
    }

    /// Shuffles and deals eight cards to each seat, in packets of eight from the
    /// dealer's right in play order, then opens the auction.
    pub(crate) fn deal(&mut self, events: &mut Vec<Event>) {
        let mut cards = deck();
        self.rng.shuffle(&mut cards);
        let mut seat = next_seat(self.dealer);
        for packet in cards.chunks(HAND_SIZE) {
            let mut hand = packet.to_vec();
            sort_hand(&mut hand);
            self.hands[index(seat)] = hand;
            seat = next_seat(seat);
        }
        self.open_auction(events);
    }

    /// Clears the previous deal and gives the first bid to the dealer's right. The
    /// hands must already be dealt.
    pub(crate) fn open_auction(&mut self, events: &mut Vec<Event>) {
        self.bids.clear();
        self.passed = [false; 5];
        self.contract = None;
        self.trick.clear();
        self.tricks.clear();
        self.phase = Phase::Auction;
        self.turn = Some(next_seat(self.dealer));
        events.push(Event::HandDealt {
            dealer: self.dealer,
            hand_number: self.hand_number,
        });
        events.extend(seats().map(|seat| Event::HandUpdate { seat }));
        events.push(Event::PhaseChange {
            phase: Phase::Auction,
        });
    }

    /// The bid to beat.
    pub(crate) fn highest_bid(&self) -> Option<&BidRecord> {
        self.bids
            .iter()
            .rev()
            .find(|record| record.bid != Bid::Pass)
    }

    /// The called card and its holder, once called.
    pub(crate) fn call(&self) -> Option<&Call> {
        self.contract.as_ref()?.called.as_ref()
    }

    /// Checks what a stored state must satisfy for every action on it to be handled
    /// without panicking and by the rules: seats in range, the 40 cards each exactly
    /// once, hand sizes that match the tricks played, and a turn and contract that fit
    /// the phase.
    pub(crate) fn check(&self) -> Result<(), String> {
        self.options.validate().map_err(|error| error.to_string())?;
        let seat_ok = |seat: u8| seat < SEATS;
        ensure(seat_ok(self.dealer), "dealer out of range")?;
        ensure(self.turn.is_none_or(seat_ok), "turn out of range")?;
        ensure(
            self.bids
                .iter()
                .all(|record| seat_ok(record.seat) && record.bid.check().is_ok()),
            "malformed bid",
        )?;
        for seat in seats() {
            let passed = self
                .bids
                .iter()
                .any(|r| r.seat == seat && r.bid == Bid::Pass);
            ensure(
                self.passed[index(seat)] == passed,
                "passes disagree with the bids",
            )?;
        }
        if let Some(contract) = &self.contract {
            ensure(seat_ok(contract.caller), "caller out of range")?;
            ensure(
                contract.bid.check().is_ok() && contract.bid != Bid::Pass,
                "bad contract",
            )?;
            if let Some(call) = &contract.called {
                ensure(seat_ok(call.partner), "partner out of range")?;
                ensure(
                    Some(call.card.rank) == contract.bid.named_rank(),
                    "called the wrong rank",
                )?;
            }
        }
        ensure(self.trick.len() < 5, "a full trick was left on the table")?;
        ensure(self.tricks.len() <= TRICKS_PER_HAND, "too many tricks")?;
        for trick in &self.tricks {
            ensure(
                trick.cards.len() == 5 && seat_ok(trick.winner),
                "bad completed trick",
            )?;
        }
        let played = self.tricks.iter().flat_map(|t| &t.cards).chain(&self.trick);
        ensure(
            played.clone().all(|p| seat_ok(p.seat)),
            "card played by no seat",
        )?;
        let mut cards: Vec<Card> = self.hands.iter().flatten().copied().collect();
        cards.extend(played.map(|p| p.card));
        ensure(cards.iter().all(Card::is_valid), "invalid card")?;
        let count = cards.len();
        cards.sort_unstable();
        cards.dedup();
        ensure(cards.len() == count, "a card appears twice")?;
        ensure(
            self.winners.iter().all(|&s| seat_ok(s)),
            "winner out of range",
        )?;
        let over = self.phase == Phase::MatchOver;
        ensure(
            over != self.winners.is_empty(),
            "winners exactly when the match is over",
        )?;

        match self.phase {
            Phase::Auction | Phase::Calling | Phase::Playing => {
                ensure(count == 40, "cards are missing")?;
                let Some(turn) = self.turn else {
                    return Err("nobody's turn in play".to_owned());
                };
                for seat in seats() {
                    let in_trick = self.trick.iter().filter(|p| p.seat == seat).count();
                    let size = HAND_SIZE - self.tricks.len() - in_trick;
                    ensure(self.hands[index(seat)].len() == size, "wrong hand size")?;
                }
                self.check_phase(turn)
            }
            Phase::HandOver | Phase::MatchOver => {
                ensure(self.turn.is_none(), "a turn between hands")?;
                ensure(
                    self.hands.iter().all(Vec::is_empty),
                    "cards in hand between hands",
                )?;
                ensure(
                    self.trick.is_empty() && self.tricks.len() == TRICKS_PER_HAND,
                    "hand not finished",
                )
            }
        }
    }

    /// The part of [`check`](Self::check) that depends on the phase of a hand in
    /// progress.
    fn check_phase(&self, turn: u8) -> Result<(), String> {
        match (self.phase, &self.contract) {
            (Phase::Auction, None) => {
                ensure(
                    self.tricks.is_empty() && self.trick.is_empty(),
                    "tricks in the auction",
                )?;
                ensure(!self.passed[index(turn)], "turn to a seat that passed")
            }
            (Phase::Calling, Some(contract)) => {
                ensure(
                    self.tricks.is_empty() && self.trick.is_empty(),
                    "tricks before the call",
                )?;
                ensure(contract.called.is_none(), "called twice")?;
                ensure(
                    turn == contract.caller,
                    "turn to someone other than the caller",
                )
            }
            (
                Phase::Playing,
                Some(Contract {
                    called: Some(call), ..
                }),
            ) => {
                let in_hand = self.hands[index(call.partner)].contains(&call.card);
                ensure(in_hand != call.revealed, "partner card and reveal disagree")?;
                let expected = match self.trick.last() {
                    Some(last) => next_seat(last.seat),
                    None => turn,
                };
                ensure(turn == expected, "turn out of play order")?;
                let in_order = self
                    .trick
                    .windows(2)
                    .all(|w| w[1].seat == next_seat(w[0].seat));
                ensure(in_order, "trick out of play order")
            }
            _ => Err("contract does not fit the phase".to_owned()),
        }
    }
}

fn ensure(condition: bool, message: &str) -> Result<(), String> {
    if condition {
        Ok(())
    } else {
        Err(message.to_owned())
    }
}
