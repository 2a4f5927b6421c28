//! The 40-card Italian deck: suits, ranks, card points and trick strength.
//!
//! Ranks are the numbers printed on the cards, 1 to 10: 1 is the ace, 8 the jack
//! (fante), 9 the horse (cavallo) and 10 the king (re). Card points and trick strength
//! do not follow the numbers, so both are tables here and nowhere else.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The ace.
pub const ACE: u8 = 1;
/// The jack (fante).
pub const JACK: u8 = 8;
/// The horse (cavallo).
pub const HORSE: u8 = 9;
/// The king (re).
pub const KING: u8 = 10;

/// Every rank, strongest first: A, 3, K, horse, J, 7, 6, 5, 4, 2. The auction walks
/// down this list.
pub const RANKS_BY_STRENGTH: [u8; 10] = [ACE, 3, KING, HORSE, JACK, 7, 6, 5, 4, 2];

/// The card points in a deck: what the two sides of a hand share.
pub const TOTAL_POINTS: u8 = 120;

/// One of the four Italian suits. Serialized in snake_case: `"coppe"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Suit {
    /// Cups.
    Coppe,
    /// Coins.
    Denari,
    /// Swords.
    Spade,
    /// Clubs.
    Bastoni,
}

impl Suit {
    /// The four suits, in the order decks are built and hands are sorted.
    pub const ALL: [Suit; 4] = [Suit::Coppe, Suit::Denari, Suit::Spade, Suit::Bastoni];

    /// The suit's wire name: `"coppe"`, `"denari"`, `"spade"` or `"bastoni"`.
    pub fn name(self) -> &'static str {
        match self {
            Suit::Coppe => "coppe",
            Suit::Denari => "denari",
            Suit::Spade => "spade",
            Suit::Bastoni => "bastoni",
        }
    }
}

impl fmt::Display for Suit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One card: `{"suit": "coppe", "rank": 1}` on the wire.
///
/// Deserializing refuses a rank outside `1..=10`. The fields are public, so Rust code
/// can still build such a card; it scores 0, has strength 0, and is in nobody's hand,
/// so [`Game::apply`](crate::Game::apply) refuses it as `invalid_card`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "UncheckedCard")]
pub struct Card {
    /// The suit.
    pub suit: Suit,
    /// 1 (ace) to 10 (king).
    pub rank: u8,
}

impl Card {
    /// The card, if `rank` is in `1..=10`.
    pub fn new(suit: Suit, rank: u8) -> Option<Card> {
        is_rank(rank).then_some(Card { suit, rank })
    }

    /// Whether the rank is in `1..=10`.
    pub fn is_valid(&self) -> bool {
        is_rank(self.rank)
    }

    /// Card points: ace 11, three 10, king 4, horse 3, jack 2, the rest 0.
    pub fn points(&self) -> u8 {
        rank_points(self.rank)
    }

    /// Trick strength within a suit, 9 for the ace down to 0 for the two: a higher
    /// strength beats a lower one of the same suit.
    pub fn strength(&self) -> u8 {
        rank_strength(self.rank).unwrap_or(0)
    }
}

impl fmt::Display for Card {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} of {}", rank_name(self.rank), self.suit)
    }
}

/// The wire form of a card before its rank is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UncheckedCard {
    suit: Suit,
    rank: u8,
}

impl TryFrom<UncheckedCard> for Card {
    type Error = String;

    fn try_from(raw: UncheckedCard) -> Result<Self, Self::Error> {
        Card::new(raw.suit, raw.rank)
            .ok_or_else(|| format!("card rank must be 1 to 10, got {}", raw.rank))
    }
}

/// Whether `rank` is a card rank, `1..=10`.
pub(crate) fn is_rank(rank: u8) -> bool {
    (1..=10).contains(&rank)
}

/// Card points of a rank; 0 for anything that is not a rank.
pub fn rank_points(rank: u8) -> u8 {
    match rank {
        ACE => 11,
        3 => 10,
        KING => 4,
        HORSE => 3,
        JACK => 2,
        _ => 0,
    }
}

/// Trick strength of a rank, 9 (ace) down to 0 (two); `None` if `rank` is not in
/// `1..=10`.
pub fn rank_strength(rank: u8) -> Option<u8> {
    let position = RANKS_BY_STRENGTH.iter().position(|&r| r == rank)?;
    // Ten ranks, so the position fits and 9 - position cannot underflow.
    Some(9 - position as u8)
}

/// A rank for messages: "ace", "2" .. "7", "jack", "horse", "king".
pub fn rank_name(rank: u8) -> String {
    match rank {
        ACE => "ace".to_owned(),
        JACK => "jack".to_owned(),
        HORSE => "horse".to_owned(),
        KING => "king".to_owned(),
        other => other.to_string(),
    }
}

/// The 40 cards in a fixed order: suits in [`Suit::ALL`] order, ranks 1 to 10 within
/// each. Deals shuffle this order.
pub fn deck() -> Vec<Card> {
    Suit::ALL
        .iter()
        .flat_map(|&suit| (1..=10).map(move |rank| Card { suit, rank }))
        .collect()
}

/// The order a freshly dealt hand is shown in: by suit, strongest card first. Players
/// may [reorder](crate::Action::Reorder) it.
pub(crate) fn sort_hand(hand: &mut [Card]) {
    hand.sort_by_key(|card| (card.suit, std::cmp::Reverse(card.strength())));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength_follows_the_table() {
        let strengths: Vec<u8> = RANKS_BY_STRENGTH
            .iter()
            .map(|&r| rank_strength(r).unwrap())
            .collect();
        assert_eq!(strengths, [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
        assert_eq!(rank_strength(0), None);
        assert_eq!(rank_strength(11), None);
    }

    #[test]
    fn hands_sort_by_suit_then_strength() {
        let mut hand = vec![
            Card {
                suit: Suit::Spade,
                rank: 2,
            },
            Card {
                suit: Suit::Coppe,
                rank: 10,
            },
            Card {
                suit: Suit::Spade,
                rank: 3,
            },
            Card {
                suit: Suit::Coppe,
                rank: 1,
            },
        ];
        sort_hand(&mut hand);
        let ranks: Vec<(Suit, u8)> = hand.iter().map(|c| (c.suit, c.rank)).collect();
        assert_eq!(
            ranks,
            [
                (Suit::Coppe, 1),
                (Suit::Coppe, 10),
                (Suit::Spade, 3),
                (Suit::Spade, 2)
            ]
        );
    }
}
