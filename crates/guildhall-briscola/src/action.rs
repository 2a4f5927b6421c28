//! What a player asks to do. On the wire an action is one object tagged by `type`, in
//! the kebab-case names of the tables protocol:
//!
//! ```json
//! {"type": "bid", "rank": 3}
//! {"type": "bid", "rank": 2, "points": 70}
//! {"type": "bid", "pass": true}
//! {"type": "call-partner-rank", "rank": 3}
//! {"type": "call-partner-suit", "suit": "spade"}
//! {"type": "play", "card": {"suit": "spade", "rank": 1}}
//! {"type": "reorder", "order": [{"suit": "coppe", "rank": 1}, ...]}
//! ```

use serde::{Deserialize, Serialize};

use crate::bid::Bid;
use crate::card::{Card, Suit};

/// One player action, for [`Game::apply`](crate::Game::apply).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Action {
    /// A bid or a pass, in the auction, on one's turn.
    Bid(Bid),
    /// The caller restates the rank of the partner card. Optional: the rank was fixed
    /// by the winning bid, so this must equal it (else `invalid_action`) and changes
    /// nothing; it exists because the tables protocol has it.
    CallPartnerRank {
        /// Must be the winning bid's rank.
        rank: u8,
    },
    /// The caller names the suit of the partner card, which also makes that suit
    /// trump. Ends the calling phase.
    CallPartnerSuit {
        /// The suit of the partner card and trump.
        suit: Suit,
    },
    /// A card from one's hand, on one's turn, in play.
    Play {
        /// The card.
        card: Card,
    },
    /// Rearranges one's own hand, at any time a hand is held (auction, calling, play)
    /// and out of turn: `order` must hold exactly the cards in hand. The order is kept
    /// and is the order the player's view shows.
    Reorder {
        /// The cards in hand, in the new order.
        order: Vec<Card>,
    },
}
