//! The auction and the call: who bids when, what beats what, redeals, and the partner
//! card.

mod common;

use common::{bid, c, win_auction_with};
use guildhall_briscola::{
    Action, Bid, BidRecord, Event, FirstLead, Game, Phase, RuleError, Suit, TableOptions,
};

fn new_game() -> Game {
    Game::new(TableOptions::default(), 7)
}

/// Applies `action` expecting `error`, and checks the game did not change.
fn refused(game: &mut Game, seat: u8, action: Action) -> RuleError {
    let before = game.clone();
    let error = game.apply(seat, action.clone()).unwrap_err();
    assert_eq!(*game, before, "{action:?} by {seat} changed the game");
    error
}

fn invalid_bid(game: &mut Game, seat: u8, b: Bid) {
    let error = refused(game, seat, Action::Bid(b));
    assert_eq!(error.code(), "invalid_bid", "{b}: {error}");
}

#[test]
fn the_auction_opens_at_the_dealers_right_and_goes_right() {
    let mut game = new_game();
    assert_eq!(
        (game.phase(), game.dealer(), game.turn()),
        (Phase::Auction, 0, Some(4))
    );
    let mut order = Vec::new();
    for rank in [1, 3, 10, 9, 8] {
        let seat = game.turn().unwrap();
        order.push(seat);
        bid(&mut game, seat, Bid::rank(rank));
    }
    assert_eq!(order, [4, 3, 2, 1, 0]);
    assert_eq!(game.turn(), Some(4));
}

#[test]
fn out_of_turn_and_unknown_seats_are_invalid_turn() {
    let mut game = new_game();
    for seat in [0, 1, 2, 3, 5, 200] {
        assert_eq!(
            refused(&mut game, seat, Action::Bid(Bid::rank(1))),
            RuleError::InvalidTurn
        );
    }
}

#[test]
fn each_bid_names_a_strictly_lower_rank() {
    let mut game = new_game();
    bid(&mut game, 4, Bid::rank(3));
    invalid_bid(&mut game, 3, Bid::rank(3));
    invalid_bid(&mut game, 3, Bid::rank(1));
    bid(&mut game, 3, Bid::rank(10));
    invalid_bid(&mut game, 2, Bid::rank(1));
    bid(&mut game, 2, Bid::rank(4));
    invalid_bid(&mut game, 1, Bid::rank(5));
    invalid_bid(&mut game, 1, Bid::rank(7));
    assert_eq!(
        game.observer_view().highest_bid,
        Some(BidRecord {
            seat: 2,
            bid: Bid::rank(4)
        })
    );
}

#[test]
fn malformed_bids_are_invalid_bid() {
    let mut game = new_game();
    for b in [
        Bid::rank(0),
        Bid::rank(11),
        Bid::Rank {
            rank: 5,
            points: Some(70),
        },
        Bid::two_for(60),
        Bid::two_for(121),
        Bid::two_for(0),
    ] {
        invalid_bid(&mut game, 4, b);
    }
}

#[test]
fn a_pass_is_final() {
    let mut game = new_game();
    bid(&mut game, 4, Bid::Pass);
    bid(&mut game, 3, Bid::rank(1));
    bid(&mut game, 2, Bid::rank(3));
    bid(&mut game, 1, Bid::rank(10));
    bid(&mut game, 0, Bid::rank(9));
    // Seat 4 is skipped from now on.
    assert_eq!(game.turn(), Some(3));
    assert_eq!(
        refused(&mut game, 4, Action::Bid(Bid::rank(8))),
        RuleError::InvalidTurn
    );
    assert_eq!(
        refused(&mut game, 4, Action::Bid(Bid::Pass)),
        RuleError::InvalidTurn
    );
    assert!(game.legal_actions(4).is_empty());
    assert_eq!(
        game.observer_view().passed,
        [false, false, false, false, true]
    );
}

#[test]
fn after_a_two_bids_raise_the_points_from_61_to_120() {
    let mut game = new_game();
    bid(&mut game, 4, Bid::rank(4));
    bid(&mut game, 3, Bid::rank(2)); // a plain two: a target of 61
    invalid_bid(&mut game, 2, Bid::rank(2));
    invalid_bid(&mut game, 2, Bid::two_for(61));
    invalid_bid(&mut game, 2, Bid::rank(4));
    bid(&mut game, 2, Bid::two_for(62));
    invalid_bid(&mut game, 1, Bid::two_for(62));
    invalid_bid(&mut game, 1, Bid::two_for(61));
    bid(&mut game, 1, Bid::two_for(90));
    invalid_bid(&mut game, 0, Bid::two_for(85));
    bid(&mut game, 0, Bid::two_for(120));
    // Nothing beats 120: passing is all that is left.
    assert_eq!(game.legal_actions(4), [Action::Bid(Bid::Pass)]);
    invalid_bid(&mut game, 4, Bid::two_for(120));
    for seat in [4, 3, 2] {
        bid(&mut game, seat, Bid::Pass);
    }
    let events = bid(&mut game, 1, Bid::Pass);
    assert!(events.contains(&Event::AuctionWon {
        seat: 0,
        bid: Bid::two_for(120),
        target: 120
    }));
    assert_eq!(game.observer_view().target, Some(120));
}

#[test]
fn a_two_for_61_is_a_plain_two() {
    let mut game = new_game();
    bid(&mut game, 4, Bid::two_for(61));
    invalid_bid(&mut game, 3, Bid::rank(2));
    bid(&mut game, 3, Bid::two_for(62));
}

#[test]
fn the_last_seat_standing_wins() {
    let mut game = new_game();
    bid(&mut game, 4, Bid::rank(1));
    bid(&mut game, 3, Bid::rank(3));
    for seat in [2, 1, 0] {
        bid(&mut game, seat, Bid::Pass);
    }
    bid(&mut game, 4, Bid::rank(10));
    assert_eq!(game.phase(), Phase::Auction);
    let events = bid(&mut game, 3, Bid::Pass);
    assert_eq!(
        events,
        [
            Event::BidMade {
                seat: 3,
                bid: Bid::Pass
            },
            Event::AuctionWon {
                seat: 4,
                bid: Bid::rank(10),
                target: 61
            },
            Event::PhaseChange {
                phase: Phase::Calling
            },
        ]
    );
    assert_eq!(
        (game.phase(), game.turn(), game.caller()),
        (Phase::Calling, Some(4), Some(4))
    );
}

#[test]
fn a_lone_seat_with_no_bid_must_still_bid_or_pass() {
    let mut game = new_game();
    for seat in [4, 3, 2, 1] {
        bid(&mut game, seat, Bid::Pass);
    }
    assert_eq!((game.phase(), game.turn()), (Phase::Auction, Some(0)));
    assert!(game.legal_actions(0).contains(&Action::Bid(Bid::rank(1))));
    let events = bid(&mut game, 0, Bid::two_for(100));
    assert!(events.contains(&Event::AuctionWon {
        seat: 0,
        bid: Bid::two_for(100),
        target: 100
    }));
}

#[test]
fn all_passing_redeals_with_the_same_dealer() {
    let mut game = new_game();
    let first_hands: Vec<Vec<_>> = (0..5).map(|s| game.hand(s).to_vec()).collect();
    for seat in [4, 3, 2, 1] {
        bid(&mut game, seat, Bid::Pass);
    }
    let events = bid(&mut game, 0, Bid::Pass);
    assert_eq!(
        events[0],
        Event::BidMade {
            seat: 0,
            bid: Bid::Pass
        }
    );
    assert_eq!(events[1], Event::Redeal { dealer: 0 });
    assert_eq!(
        events[2],
        Event::HandDealt {
            dealer: 0,
            hand_number: 1
        }
    );
    for seat in 0..5 {
        assert!(events.contains(&Event::HandUpdate { seat }));
    }
    assert_eq!(
        events.last(),
        Some(&Event::PhaseChange {
            phase: Phase::Auction
        })
    );
    assert_eq!(
        (game.phase(), game.dealer(), game.turn()),
        (Phase::Auction, 0, Some(4))
    );
    let view = game.observer_view();
    assert!(view.bids.is_empty() && view.passed == [false; 5] && view.highest_bid.is_none());
    let new_hands: Vec<Vec<_>> = (0..5).map(|s| game.hand(s).to_vec()).collect();
    assert_ne!(new_hands, first_hands, "a fresh shuffle");
    assert!(new_hands.iter().all(|hand| hand.len() == 8));
    // The new deal's auction works as usual.
    bid(&mut game, 4, Bid::rank(1));
}

#[test]
fn the_caller_restates_the_rank_and_calls_the_suit() {
    let mut game = new_game();
    let caller = win_auction_with(&mut game, Bid::rank(3));
    assert_eq!(caller, 4);
    let legal = game.legal_actions(4);
    assert_eq!(legal.len(), 5);
    assert!(legal.contains(&Action::CallPartnerRank { rank: 3 }));
    assert!(game.legal_actions(3).is_empty());

    let wrong = refused(&mut game, 4, Action::CallPartnerRank { rank: 1 });
    assert_eq!(wrong.code(), "invalid_action");
    let bad = refused(&mut game, 4, Action::CallPartnerRank { rank: 42 });
    assert_eq!(bad.code(), "invalid_action");
    assert_eq!(
        refused(&mut game, 3, Action::CallPartnerSuit { suit: Suit::Coppe }),
        RuleError::InvalidTurn
    );
    assert_eq!(
        refused(&mut game, 4, Action::Bid(Bid::rank(2))).code(),
        "invalid_action"
    );
    assert_eq!(
        game.apply(4, Action::CallPartnerRank { rank: 3 }).unwrap(),
        [Event::PartnerRankCalled { seat: 4, rank: 3 }]
    );
    assert_eq!(game.phase(), Phase::Calling);

    let holder = (0..5)
        .find(|&s| game.hand(s).contains(&c(3, Suit::Denari)))
        .unwrap();
    let events = game
        .apply(4, Action::CallPartnerSuit { suit: Suit::Denari })
        .unwrap();
    assert_eq!(
        events,
        [
            Event::PartnerCalled {
                seat: 4,
                card: c(3, Suit::Denari)
            },
            Event::PhaseChange {
                phase: Phase::Playing
            },
        ]
    );
    assert_eq!(game.called_card(), Some(c(3, Suit::Denari)));
    assert_eq!(game.partner(), Some(holder));
    assert!(!game.partner_revealed());
    // The dealer's right leads by default.
    assert_eq!(game.turn(), Some(4));
    assert_eq!(
        refused(&mut game, 4, Action::CallPartnerSuit { suit: Suit::Spade }).code(),
        "invalid_action"
    );
}

#[test]
fn the_caller_leads_when_the_table_says_so() {
    let options = TableOptions {
        first_lead: FirstLead::AuctionWinner,
        ..TableOptions::default()
    };
    let mut game = Game::new(options, 7);
    bid(&mut game, 4, Bid::Pass);
    let caller = win_auction_with(&mut game, Bid::rank(1));
    assert_eq!(caller, 3);
    common::call_suit(&mut game, Suit::Bastoni);
    assert_eq!(game.turn(), Some(3));
}

#[test]
fn actions_of_other_phases_are_invalid_action() {
    let mut game = new_game();
    let card = game.hand(4)[0];
    assert_eq!(
        refused(&mut game, 4, Action::Play { card }).code(),
        "invalid_action"
    );
    assert_eq!(
        refused(&mut game, 4, Action::CallPartnerSuit { suit: Suit::Coppe }).code(),
        "invalid_action"
    );
    assert_eq!(
        refused(&mut game, 4, Action::CallPartnerRank { rank: 1 }).code(),
        "invalid_action"
    );
    assert!(game.deal_next_hand().is_err());
}
