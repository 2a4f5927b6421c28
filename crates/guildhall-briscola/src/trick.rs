//! Tricks: which cards may be played and who wins.

use serde::{Deserialize, Serialize};

use crate::card::{Card, Suit};

/// A card and the seat that played it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlayedCard {
    /// Who played it.
    pub seat: u8,
    /// The card.
    pub card: Card,
}

/// A trick of five cards, once won.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletedTrick {
    /// The cards in the order played; the first was led.
    pub cards: Vec<PlayedCard>,
    /// Who took it, and leads the next trick.
    pub winner: u8,
    /// The card points in it.
    pub points: u8,
}

/// The seat that wins `trick` with `trump` as briscola: the highest trump if any was
/// played, else the highest card of the suit led. A card of another suit never wins.
/// `None` for an empty trick.
pub fn trick_winner(trick: &[PlayedCard], trump: Suit) -> Option<u8> {
    let led = trick.first()?.card.suit;
    // Trumps rank above the suit led, which ranks above everything else.
    let rank = |card: &Card| {
        let class = if card.suit == trump {
            2
        } else if card.suit == led {
            1
        } else {
            0
        };
        (class, card.strength())
    };
    trick
        .iter()
        .max_by_key(|played| rank(&played.card))
        .map(|played| played.seat)
}

/// The card points in a set of played cards.
pub fn trick_points(trick: &[PlayedCard]) -> u8 {
    trick.iter().map(|played| played.card.points()).sum()
}

/// Whether `card`, held in `hand`, may be played on `trick`. Any card may be, unless
/// `must_follow_suit` is on, a suit has been led, the card is not of it and the hand
/// holds one that is.
pub(crate) fn may_play(
    hand: &[Card],
    trick: &[PlayedCard],
    card: &Card,
    must_follow_suit: bool,
) -> bool {
    let Some(led) = trick.first().map(|played| played.card.suit) else {
        return true;
    };
    !must_follow_suit || card.suit == led || hand.iter().all(|held| held.suit != led)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trick(cards: &[(Suit, u8)]) -> Vec<PlayedCard> {
        cards
            .iter()
            .enumerate()
            .map(|(seat, &(suit, rank))| PlayedCard {
                seat: seat as u8,
                card: Card { suit, rank },
            })
            .collect()
    }

    #[test]
    fn off_suit_cards_never_win() {
        use Suit::*;
        let t = trick(&[(Coppe, 2), (Denari, 1), (Spade, 1), (Coppe, 4), (Denari, 3)]);
        assert_eq!(trick_winner(&t, Bastoni), Some(3));
        assert_eq!(trick_winner(&t, Denari), Some(1));
        assert_eq!(trick_points(&t), 32);
        assert_eq!(trick_winner(&[], Coppe), None);
    }

    #[test]
    fn following_is_only_enforced_when_asked() {
        let hand = [
            Card {
                suit: Suit::Coppe,
                rank: 5,
            },
            Card {
                suit: Suit::Spade,
                rank: 1,
            },
        ];
        let led = trick(&[(Suit::Coppe, 1)]);
        assert!(may_play(&hand, &led, &hand[1], false));
        assert!(!may_play(&hand, &led, &hand[1], true));
        assert!(may_play(&hand, &led, &hand[0], true));
        assert!(may_play(&hand, &[], &hand[1], true));
        let bastoni = trick(&[(Suit::Bastoni, 1)]);
        assert!(may_play(&hand, &bastoni, &hand[1], true));
    }
}
