//! [`Game`]: the table as the tables worker sees it. One value holds the whole match;
//! [`Game::apply`] is the only way a player changes it.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::action::Action;
use crate::card::{Card, deck};
use crate::error::{RuleError, SetupError};
use crate::events::{Event, Phase};
use crate::options::TableOptions;
use crate::scoring::HandResult;
use crate::seat::{SEATS, index};
use crate::state::{HAND_SIZE, State};
use crate::trick::{CompletedTrick, PlayedCard};

/// A match of Briscola chiamata at one table of five.
///
/// Serializes to plain JSON (or any serde format) and back to an equal game that plays
/// on identically, random deals included. Deserializing checks the state's invariants
/// and refuses a damaged one, so a game that loads is a game every action can be
/// applied to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Game {
    state: State,
}

impl Game {
    /// A new match: dealer seat 0, the first hand dealt from a deck shuffled by the
    /// random stream seeded with `seed`, the auction open at the dealer's right.
    ///
    /// # Panics
    ///
    /// If `options` fail [`TableOptions::validate`]: check them where they come in.
    pub fn new(options: TableOptions, seed: u64) -> Self {
        if let Err(error) = options.validate() {
            panic!("{error}");
        }
        let mut state = State::empty(options, seed);
        state.deal(&mut Vec::new());
        Game { state }
    }

    /// A new match whose first hand is `hands` (seat 0's cards first) rather than a
    /// shuffle, dealt by `dealer`; later hands are shuffled by the stream seeded with
    /// `seed`. For tests, teaching and replaying a known deal. The hands keep the order
    /// given.
    pub fn with_deal(
        options: TableOptions,
        dealer: u8,
        hands: [Vec<Card>; 5],
        seed: u64,
    ) -> Result<Self, SetupError> {
        options.validate()?;
        if dealer >= SEATS {
            return Err(SetupError::InvalidDeal(format!("no seat {dealer}")));
        }
        if hands.iter().any(|hand| hand.len() != HAND_SIZE) {
            return Err(SetupError::InvalidDeal(
                "every seat gets eight cards".to_owned(),
            ));
        }
        let mut all: Vec<Card> = hands.iter().flatten().copied().collect();
        all.sort_unstable();
        if all != deck() {
            return Err(SetupError::InvalidDeal(
                "the hands must hold the 40 cards of the deck, each once".to_owned(),
            ));
        }
        let mut state = State::empty(options, seed);
        state.dealer = dealer;
        state.hands = hands;
        state.open_auction(&mut Vec::new());
        Ok(Game { state })
    }

    /// `seat` (0 to 4) takes `action`. Returns what happened, in order; on error the
    /// game is unchanged. Never panics.
    ///
    /// Checks, in order: the seat exists (else `invalid_turn`); the phase takes this
    /// action (else `invalid_action`); it is the seat's turn (else `invalid_turn`;
    /// [`Action::Reorder`] needs no turn); then the content (`invalid_bid`,
    /// `invalid_card` or `invalid_action`).
    pub fn apply(&mut self, seat: u8, action: Action) -> Result<Vec<Event>, RuleError> {
        // Work on a copy and keep it only on success: a refused action cannot leave
        // part of a change behind, whichever check refused it. A copy is a few hundred
        // bytes.
        let mut next = self.state.clone();
        // Reordering one's own hand changes nothing the others act on: it keeps the
        // version, so their next action is not refused as out of step.
        let moves_game = !matches!(action, Action::Reorder { .. });
        let events = next.apply(seat, action)?;
        if moves_game {
            next.version += 1;
        }
        self.state = next;
        Ok(events)
    }

    /// Deals the next hand once a hand has been scored ([`Phase::HandOver`]); the deal
    /// passes to the previous dealer's right. The worker calls this when it is ready
    /// (after showing the score), not a player. `invalid_action` in any other phase.
    pub fn deal_next_hand(&mut self) -> Result<Vec<Event>, RuleError> {
        let mut events = Vec::new();
        self.state.deal_next_hand(&mut events)?;
        self.state.version += 1;
        Ok(events)
    }

    /// What `seat` may do now that moves the game on: every bid that beats the highest
    /// (each level once: a plain Two, not also a Two for 61) and the pass; the rank
    /// restatement and the four suits when calling; the playable cards in hand order.
    /// Empty when it is not `seat`'s turn. [`Action::Reorder`] is always allowed while
    /// holding cards and is not listed.
    pub fn legal_actions(&self, seat: u8) -> Vec<Action> {
        if self.state.turn != Some(seat) {
            return Vec::new();
        }
        match self.state.phase {
            Phase::Auction | Phase::Calling => self.state.auction_actions(),
            Phase::Playing => self.state.play_actions(seat),
            Phase::HandOver | Phase::MatchOver => Vec::new(),
        }
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.state.phase
    }

    /// Who acts next; `None` between hands and once the match is over.
    pub fn turn(&self) -> Option<u8> {
        self.state.turn
    }

    /// Who dealt the current (or last) hand.
    pub fn dealer(&self) -> u8 {
        self.state.dealer
    }

    /// The current (or last) hand's number, from 1.
    pub fn hand_number(&self) -> u32 {
        self.state.hand_number
    }

    /// Successful actions and deals so far. Bumped by every change, so two games of
    /// the same match with the same version are the same game.
    pub fn version(&self) -> u64 {
        self.state.version
    }

    /// The table's options.
    pub fn options(&self) -> &TableOptions {
        &self.state.options
    }

    /// `seat`'s cards in its chosen order; empty for a seat that does not exist. This
    /// is the server's knowledge: send players [`player_view`](Self::player_view).
    pub fn hand(&self, seat: u8) -> &[Card] {
        self.state.hands.get(index(seat)).map_or(&[], Vec::as_slice)
    }

    /// Who won the auction, once it is won (kept until the next deal).
    pub fn caller(&self) -> Option<u8> {
        self.state.contract.map(|contract| contract.caller)
    }

    /// The called card, once called; its suit is trump.
    pub fn called_card(&self) -> Option<Card> {
        self.state.call().map(|call| call.card)
    }

    /// Who holds (or held) the called card, once called, revealed or not. Server
    /// knowledge: views show it only after the reveal.
    pub fn partner(&self) -> Option<u8> {
        self.state.call().map(|call| call.partner)
    }

    /// Whether the called card has been played.
    pub fn partner_revealed(&self) -> bool {
        self.state.call().is_some_and(|call| call.revealed)
    }

    /// The trick on the table.
    pub fn trick(&self) -> &[PlayedCard] {
        &self.state.trick
    }

    /// This hand's completed tricks (the last hand's, between hands).
    pub fn tricks(&self) -> &[CompletedTrick] {
        &self.state.tricks
    }

    /// Match points by seat.
    pub fn scores(&self) -> [i32; 5] {
        self.state.scores
    }

    /// How the previous hand ended.
    pub fn last_hand(&self) -> Option<&HandResult> {
        self.state.last_hand.as_ref()
    }

    /// The seats with the most match points once the match is over.
    pub fn winners(&self) -> &[u8] {
        &self.state.winners
    }

    pub(crate) fn state(&self) -> &State {
        &self.state
    }
}

impl State {
    /// Routes one action; see [`Game::apply`] for the order of the checks.
    fn apply(&mut self, seat: u8, action: Action) -> Result<Vec<Event>, RuleError> {
        if seat >= SEATS {
            return Err(RuleError::InvalidTurn);
        }
        let mut events = Vec::new();
        match action {
            Action::Reorder { order } => self.reorder(seat, order, &mut events)?,
            Action::Bid(bid) => {
                self.expect(Phase::Auction, "bid", seat)?;
                self.bid(seat, bid, &mut events)?;
            }
            Action::CallPartnerRank { rank } => {
                self.expect(Phase::Calling, "call-partner-rank", seat)?;
                self.call_rank(seat, rank, &mut events)?;
            }
            Action::CallPartnerSuit { suit } => {
                self.expect(Phase::Calling, "call-partner-suit", seat)?;
                self.call_suit(seat, suit, &mut events)?;
            }
            Action::Play { card } => {
                self.expect(Phase::Playing, "play", seat)?;
                self.play(seat, card, &mut events)?;
            }
        }
        Ok(events)
    }

    fn expect(&self, phase: Phase, action: &str, seat: u8) -> Result<(), RuleError> {
        if self.phase != phase {
            return Err(RuleError::InvalidAction(format!(
                "{action} is not allowed in the {} phase",
                self.phase.name()
            )));
        }
        if self.turn != Some(seat) {
            return Err(RuleError::InvalidTurn);
        }
        Ok(())
    }
}

impl Serialize for Game {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.state.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Game {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let state = State::deserialize(deserializer)?;
        state
            .check()
            .map_err(|reason| D::Error::custom(SetupError::CorruptState(reason)))?;
        Ok(Game { state })
    }
}
