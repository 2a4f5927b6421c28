//! What an action reports back, in the order it happened. The tables worker turns
//! these into broadcasts; the names follow the tables protocol (`trick.played`,
//! `trick.won`, `phase.change`, `hand.update`, `score.update`, ...).
//!
//! Events carry nothing secret: no hand and no partner before the reveal, so each may
//! go to every player and observer. [`Event::HandUpdate`] only says that a seat's hand
//! changed; the worker sends that seat its new [`View`](crate::View).

use serde::{Deserialize, Serialize};

use crate::bid::Bid;
use crate::card::Card;
use crate::scoring::HandResult;
use crate::trick::PlayedCard;

/// The phase of the game.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Bidding for the right to call, from the dealer's right.
    Auction,
    /// The caller names the suit of the partner card.
    Calling,
    /// Eight tricks.
    Playing,
    /// A hand was scored; the worker deals the next with
    /// [`Game::deal_next_hand`](crate::Game::deal_next_hand).
    HandOver,
    /// A seat reached the target score. Nothing more happens.
    MatchOver,
}

impl Phase {
    /// The phase's wire name, as in `{"phase": "hand_over"}`.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Auction => "auction",
            Phase::Calling => "calling",
            Phase::Playing => "playing",
            Phase::HandOver => "hand_over",
            Phase::MatchOver => "match_over",
        }
    }
}

/// Something that happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    /// A bid or a pass.
    #[serde(rename = "bid.made")]
    BidMade {
        /// The bidder.
        seat: u8,
        /// The bid.
        bid: Bid,
    },
    /// Everyone else passed: `seat` is the caller.
    #[serde(rename = "auction.won")]
    AuctionWon {
        /// The caller.
        seat: u8,
        /// The winning bid; its rank is the rank of the partner card.
        bid: Bid,
        /// The card points the caller's side needs.
        target: u8,
    },
    /// All five passed: the cards are shuffled and dealt again by the same dealer.
    #[serde(rename = "hand.redeal")]
    Redeal {
        /// The dealer, unchanged.
        dealer: u8,
    },
    /// Cards were dealt: a new hand, or a redeal. Followed by a `hand.update` for
    /// every seat.
    #[serde(rename = "hand.dealt")]
    HandDealt {
        /// Who dealt.
        dealer: u8,
        /// The hand's number in the match, from 1.
        hand_number: u32,
    },
    /// The caller restated the rank of the partner card.
    #[serde(rename = "partner.rank_called")]
    PartnerRankCalled {
        /// The caller.
        seat: u8,
        /// The rank.
        rank: u8,
    },
    /// The caller called the partner card; its suit is trump from now on.
    #[serde(rename = "partner.called")]
    PartnerCalled {
        /// The caller.
        seat: u8,
        /// The called card.
        card: Card,
    },
    /// A card was played to the trick.
    #[serde(rename = "trick.played")]
    TrickPlayed {
        /// Who played it.
        seat: u8,
        /// The card.
        card: Card,
    },
    /// The called card was played: `seat` is the partner.
    #[serde(rename = "partner.revealed")]
    PartnerRevealed {
        /// The partner.
        seat: u8,
        /// The caller held the card: they play alone against four.
        alone: bool,
    },
    /// The fifth card of a trick was played.
    #[serde(rename = "trick.won")]
    TrickWon {
        /// Who took the trick; they lead the next.
        seat: u8,
        /// The card points in it.
        points: u8,
        /// The five cards, in the order played.
        trick: Vec<PlayedCard>,
    },
    /// The eighth trick was won and the hand scored.
    #[serde(rename = "score.update")]
    HandScored {
        /// How the hand ended.
        result: HandResult,
        /// Match points of every seat after this hand.
        scores: [i32; 5],
    },
    /// The phase changed.
    #[serde(rename = "phase.change")]
    PhaseChange {
        /// The new phase.
        phase: Phase,
    },
    /// A seat's hand changed: dealt, played from or reordered.
    #[serde(rename = "hand.update")]
    HandUpdate {
        /// Whose hand.
        seat: u8,
    },
    /// A seat reached the target score.
    #[serde(rename = "match.over")]
    MatchOver {
        /// Final match points by seat.
        scores: [i32; 5],
        /// The seats with the most match points (several on a tie).
        winners: Vec<u8>,
    },
}

impl Event {
    /// The event's `type`, as it is serialized (`"trick.played"`, ...): the message type
    /// the tables protocol sends it as.
    pub fn message_type(&self) -> &'static str {
        match self {
            Event::BidMade { .. } => "bid.made",
            Event::AuctionWon { .. } => "auction.won",
            Event::Redeal { .. } => "hand.redeal",
            Event::HandDealt { .. } => "hand.dealt",
            Event::PartnerRankCalled { .. } => "partner.rank_called",
            Event::PartnerCalled { .. } => "partner.called",
            Event::TrickPlayed { .. } => "trick.played",
            Event::PartnerRevealed { .. } => "partner.revealed",
            Event::TrickWon { .. } => "trick.won",
            Event::HandScored { .. } => "score.update",
            Event::PhaseChange { .. } => "phase.change",
            Event::HandUpdate { .. } => "hand.update",
            Event::MatchOver { .. } => "match.over",
        }
    }
}
