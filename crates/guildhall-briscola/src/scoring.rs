//! The end of a hand: whether the caller's side made its target, and the match points
//! each seat wins or loses.
//!
//! | | caller | partner | each opponent |
//! |---|---|---|---|
//! | with a partner | +2 | +1 | −1 (three of them) |
//! | alone (called a card in their own hand) | +4 | | −1 (four of them) |
//!
//! doubled for a cappotto (one side took all 120 card points) and with every sign
//! flipped when the caller's side missed its target. Every row sums to zero, so match
//! points always do.

use serde::{Deserialize, Serialize};

use crate::bid::Bid;
use crate::card::{Card, TOTAL_POINTS};
use crate::seat::{SEATS, index, seats};

/// How a hand ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandResult {
    /// The hand's number in the match, from 1. A deal that everyone passed is not a
    /// hand.
    pub hand_number: u32,
    /// Who dealt it.
    pub dealer: u8,
    /// Who won the auction.
    pub caller: u8,
    /// Who held the called card; the caller when they played alone.
    pub partner: u8,
    /// The caller called a card in their own hand.
    pub alone: bool,
    /// The winning bid.
    pub bid: Bid,
    /// The partner card; its suit was trump.
    pub called_card: Card,
    /// The card points the caller's side needed.
    pub target: u8,
    /// Card points taken by the caller and partner.
    pub caller_points: u8,
    /// Card points taken by the others. With `caller_points`, always 120.
    pub defender_points: u8,
    /// Whether the caller's side reached its target.
    pub caller_won: bool,
    /// One side took all 120 card points, doubling the match points.
    pub cappotto: bool,
    /// Match points won (or lost, when negative) by each seat this hand.
    pub match_points: [i32; 5],
}

/// Match points for one hand, by seat. `partner == caller` means the caller played
/// alone.
pub fn match_points(caller: u8, partner: u8, caller_won: bool, cappotto: bool) -> [i32; 5] {
    let sign = if caller_won { 1 } else { -1 };
    let factor = if cappotto { 2 } else { 1 };
    let alone = caller == partner;
    let mut points = [0; SEATS as usize];
    for seat in seats() {
        let base = if seat == caller {
            if alone { 4 } else { 2 }
        } else if seat == partner {
            1
        } else {
            -1
        };
        points[index(seat)] = base * sign * factor;
    }
    points
}

/// Scores a finished hand from the card points the caller's side took.
pub(crate) fn score(
    hand_number: u32,
    dealer: u8,
    caller: u8,
    partner: u8,
    bid: Bid,
    called_card: Card,
    caller_points: u8,
) -> HandResult {
    let target = bid.target().unwrap_or(crate::bid::MIN_TARGET);
    let caller_won = caller_points >= target;
    let cappotto = caller_points == TOTAL_POINTS || caller_points == 0;
    HandResult {
        hand_number,
        dealer,
        caller,
        partner,
        alone: caller == partner,
        bid,
        called_card,
        target,
        caller_points,
        defender_points: TOTAL_POINTS.saturating_sub(caller_points),
        caller_won,
        cappotto,
        match_points: match_points(caller, partner, caller_won, cappotto),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table() {
        assert_eq!(match_points(0, 2, true, false), [2, -1, 1, -1, -1]);
        assert_eq!(match_points(0, 2, false, false), [-2, 1, -1, 1, 1]);
        assert_eq!(match_points(3, 3, true, false), [-1, -1, -1, 4, -1]);
        assert_eq!(match_points(3, 3, false, true), [2, 2, 2, -8, 2]);
        assert_eq!(match_points(4, 1, true, true), [-2, 2, -2, -2, 4]);
        for caller in seats() {
            for partner in seats() {
                for won in [true, false] {
                    for cappotto in [true, false] {
                        let points = match_points(caller, partner, won, cappotto);
                        assert_eq!(points.iter().sum::<i32>(), 0);
                    }
                }
            }
        }
    }

    #[test]
    fn targets_decide_and_zero_is_a_cappotto_too() {
        let card = Card {
            suit: crate::card::Suit::Spade,
            rank: 2,
        };
        let won = score(1, 0, 1, 2, Bid::rank(2), card, 61);
        assert!(won.caller_won && !won.cappotto);
        assert_eq!(won.defender_points, 59);
        let short = score(1, 0, 1, 2, Bid::two_for(80), card, 79);
        assert!(!short.caller_won);
        assert_eq!(short.match_points, [1, -2, -1, 1, 1]);
        let blank = score(1, 0, 1, 1, Bid::rank(1), card, 0);
        assert!(blank.cappotto && blank.alone);
        assert_eq!(blank.match_points, [2, -8, 2, 2, 2]);
    }
}
