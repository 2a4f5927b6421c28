//! Helpers shared by the integration tests: building deals, running auctions and
//! playing hands out.

#![allow(dead_code)] // each test binary uses its own subset

use guildhall_briscola::{
    Action, Bid, Card, Event, Game, Phase, SplitMix64, Suit, TableOptions, deck,
};

pub fn c(rank: u8, suit: Suit) -> Card {
    Card { suit, rank }
}

/// Eight cards of `suit`: every rank except the two given.
pub fn suit_without(suit: Suit, missing: [u8; 2]) -> Vec<Card> {
    (1..=10)
        .filter(|rank| !missing.contains(rank))
        .map(|rank| c(rank, suit))
        .collect()
}

/// A deal where the seats in `fixed` hold exactly those cards (eight each) and the
/// other seats share the rest of the deck in deck order.
pub fn deal(fixed: &[(u8, Vec<Card>)]) -> [Vec<Card>; 5] {
    let mut hands: [Vec<Card>; 5] = Default::default();
    for (seat, cards) in fixed {
        assert_eq!(cards.len(), 8, "seat {seat}");
        hands[usize::from(*seat)] = cards.clone();
    }
    let taken: Vec<Card> = hands.iter().flatten().copied().collect();
    let mut rest = deck().into_iter().filter(|card| !taken.contains(card));
    for hand in hands.iter_mut().filter(|hand| hand.is_empty()) {
        hand.extend(rest.by_ref().take(8));
    }
    hands
}

pub fn game_with(options: TableOptions, dealer: u8, hands: [Vec<Card>; 5]) -> Game {
    Game::with_deal(options, dealer, hands, 99).unwrap()
}

pub fn bid(game: &mut Game, seat: u8, bid: Bid) -> Vec<Event> {
    game.apply(seat, Action::Bid(bid))
        .unwrap_or_else(|e| panic!("seat {seat} bidding {bid}: {e}"))
}

/// The seat to act bids `first`; everyone else passes until the auction is won.
pub fn win_auction_with(game: &mut Game, first: Bid) -> u8 {
    let caller = game.turn().unwrap();
    bid(game, caller, first);
    while game.phase() == Phase::Auction {
        let seat = game.turn().unwrap();
        bid(game, seat, Bid::Pass);
    }
    assert_eq!(game.phase(), Phase::Calling);
    caller
}

pub fn call_suit(game: &mut Game, suit: Suit) -> Vec<Event> {
    let caller = game.turn().unwrap();
    game.apply(caller, Action::CallPartnerSuit { suit })
        .unwrap()
}

/// Plays the hand out, each seat playing its first legal card, and returns every
/// event.
pub fn play_first_cards(game: &mut Game) -> Vec<Event> {
    let mut events = Vec::new();
    while game.phase() == Phase::Playing {
        let seat = game.turn().unwrap();
        let action = game.legal_actions(seat).remove(0);
        events.extend(game.apply(seat, action).unwrap());
    }
    events
}

/// Picks among the legal actions with its own random stream, passing half the time
/// in the auction so that auctions end at varied levels (and sometimes all pass).
pub struct Chooser(pub SplitMix64);

impl Chooser {
    pub fn new(seed: u64) -> Self {
        Chooser(SplitMix64::new(seed))
    }

    pub fn pick(&mut self, mut legal: Vec<Action>) -> Action {
        assert!(!legal.is_empty(), "no legal action for the seat to act");
        if legal.contains(&Action::Bid(Bid::Pass)) {
            if self.0.below(2) == 0 {
                return Action::Bid(Bid::Pass);
            }
            // Raise modestly (bids are listed weakest first), so targets stay in
            // reach and callers win hands as well as lose them.
            legal.truncate(legal.len().min(8));
        }
        let i = self.0.below(legal.len() as u64) as usize;
        legal.swap_remove(i)
    }

    /// One step of a random game: the seat to act takes a random legal action, or the
    /// next hand is dealt. `None` once the match is over.
    pub fn step(&mut self, game: &mut Game) -> Option<(Option<u8>, Vec<Event>)> {
        match game.phase() {
            Phase::MatchOver => None,
            Phase::HandOver => Some((None, game.deal_next_hand().unwrap())),
            _ => {
                let seat = game.turn().unwrap();
                let action = self.pick(game.legal_actions(seat));
                let events = game
                    .apply(seat, action.clone())
                    .unwrap_or_else(|e| panic!("legal {action:?} by {seat} refused: {e}"));
                Some((Some(seat), events))
            }
        }
    }
}

pub fn scored(events: &[Event]) -> Option<&guildhall_briscola::HandResult> {
    events.iter().find_map(|event| match event {
        Event::HandScored { result, .. } => Some(result),
        _ => None,
    })
}
