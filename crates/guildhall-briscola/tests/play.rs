//! Tricks in a real hand: who wins, following suit, the partner's reveal, reordering
//! and the errors of the play.

mod common;

use Suit::{Bastoni, Coppe, Denari, Spade};
use common::{bid, c, game_with};
use guildhall_briscola::{
    Action, Bid, Card, Event, Game, Phase, PlayedCard, RuleError, Suit, TableOptions, trick_winner,
};

/// Dealer 1, so seat 0 opens the auction and leads; play goes 0, 4, 3, 2, 1.
/// Seat 3 holds the ace of coppe, the card seat 0 calls.
fn hands() -> [Vec<Card>; 5] {
    [
        [1, 2, 4, 5, 6, 7, 8, 9].map(|r| c(r, Denari)).to_vec(),
        [3, 4, 5, 6, 7, 8, 9, 10].map(|r| c(r, Bastoni)).to_vec(),
        vec![
            c(1, Spade),
            c(3, Spade),
            c(7, Spade),
            c(8, Spade),
            c(9, Spade),
            c(10, Spade),
            c(1, Bastoni),
            c(2, Bastoni),
        ],
        vec![
            c(3, Denari),
            c(10, Denari),
            c(1, Coppe),
            c(3, Coppe),
            c(2, Spade),
            c(4, Spade),
            c(5, Spade),
            c(6, Spade),
        ],
        [2, 4, 5, 6, 7, 8, 9, 10].map(|r| c(r, Coppe)).to_vec(),
    ]
}

/// Seat 0 bids the ace, everyone passes, seat 0 calls the ace of coppe.
fn called_game(options: TableOptions) -> Game {
    let mut game = game_with(options, 1, hands());
    bid(&mut game, 0, Bid::rank(1));
    for seat in [4, 3, 2, 1] {
        bid(&mut game, seat, Bid::Pass);
    }
    game.apply(0, Action::CallPartnerSuit { suit: Coppe })
        .unwrap();
    assert_eq!(
        (game.phase(), game.turn(), game.partner()),
        (Phase::Playing, Some(0), Some(3))
    );
    game
}

fn play(game: &mut Game, seat: u8, card: Card) -> Vec<Event> {
    game.apply(seat, Action::Play { card })
        .unwrap_or_else(|e| panic!("seat {seat} playing the {card}: {e}"))
}

fn refused(game: &mut Game, seat: u8, action: Action) -> RuleError {
    let before = game.clone();
    let error = game.apply(seat, action).unwrap_err();
    assert_eq!(*game, before);
    error
}

#[test]
fn the_lowest_trump_beats_every_ace_of_another_suit() {
    let mut game = called_game(TableOptions::default());
    play(&mut game, 0, c(1, Denari));
    assert_eq!(game.turn(), Some(4));
    play(&mut game, 4, c(2, Coppe));
    play(&mut game, 3, c(3, Denari));
    play(&mut game, 2, c(1, Spade));
    let events = play(&mut game, 1, c(3, Bastoni));
    let trick = vec![
        PlayedCard {
            seat: 0,
            card: c(1, Denari),
        },
        PlayedCard {
            seat: 4,
            card: c(2, Coppe),
        },
        PlayedCard {
            seat: 3,
            card: c(3, Denari),
        },
        PlayedCard {
            seat: 2,
            card: c(1, Spade),
        },
        PlayedCard {
            seat: 1,
            card: c(3, Bastoni),
        },
    ];
    assert_eq!(
        events,
        [
            Event::TrickPlayed {
                seat: 1,
                card: c(3, Bastoni)
            },
            Event::HandUpdate { seat: 1 },
            Event::TrickWon {
                seat: 4,
                points: 42,
                trick: trick.clone()
            },
        ]
    );
    assert_eq!(game.turn(), Some(4), "the winner leads");
    let view = game.observer_view();
    assert!(view.trick.is_empty());
    assert_eq!(view.last_trick.unwrap().cards, trick);
    assert_eq!(view.tricks_won, [0, 0, 0, 0, 1]);
    assert_eq!(view.points_taken, [0, 0, 0, 0, 42]);
    assert_eq!(view.hand_sizes, [7, 7, 7, 7, 7]);
}

#[test]
fn without_trumps_the_highest_card_of_the_suit_led_wins() {
    let trick =
        |cards: [(u8, Card); 5]| cards.map(|(seat, card)| PlayedCard { seat, card }).to_vec();
    // The two of denari, led, beats aces of other suits.
    let t = trick([
        (2, c(2, Denari)),
        (1, c(1, Spade)),
        (0, c(1, Bastoni)),
        (4, c(3, Spade)),
        (3, c(4, Denari)),
    ]);
    assert_eq!(trick_winner(&t, Coppe), Some(3));
    // The ace of the suit led beats the three; a second trump beats the first.
    let t = trick([
        (2, c(3, Denari)),
        (1, c(1, Denari)),
        (0, c(10, Denari)),
        (4, c(2, Spade)),
        (3, c(9, Bastoni)),
    ]);
    assert_eq!(trick_winner(&t, Coppe), Some(1));
    assert_eq!(trick_winner(&t, Spade), Some(4));
    let t = trick([
        (2, c(3, Denari)),
        (1, c(2, Coppe)),
        (0, c(4, Coppe)),
        (4, c(1, Denari)),
        (3, c(9, Bastoni)),
    ]);
    assert_eq!(trick_winner(&t, Coppe), Some(0));
    // Trump led: the highest trump wins.
    let t = trick([
        (2, c(7, Coppe)),
        (1, c(1, Denari)),
        (0, c(6, Coppe)),
        (4, c(8, Coppe)),
        (3, c(1, Spade)),
    ]);
    assert_eq!(trick_winner(&t, Coppe), Some(4));
}

#[test]
fn the_partner_is_revealed_by_playing_the_called_card() {
    let mut game = called_game(TableOptions::default());
    assert_eq!(game.observer_view().partner, None);
    for seat in 0..5 {
        let view = game.player_view(seat);
        assert_eq!(view.partner, None);
        assert_eq!(view.you_are_partner, seat == 3, "seat {seat}");
    }
    play(&mut game, 0, c(1, Denari));
    play(&mut game, 4, c(2, Coppe));
    let events = play(&mut game, 3, c(1, Coppe));
    assert_eq!(
        events,
        [
            Event::TrickPlayed {
                seat: 3,
                card: c(1, Coppe)
            },
            Event::HandUpdate { seat: 3 },
            Event::PartnerRevealed {
                seat: 3,
                alone: false
            },
        ]
    );
    assert!(game.partner_revealed());
    assert_eq!(game.observer_view().partner, Some(3));
    assert_eq!(game.player_view(1).partner, Some(3));
}

#[test]
fn following_suit_is_off_by_default() {
    let mut game = called_game(TableOptions::default());
    play(&mut game, 0, c(1, Denari));
    play(&mut game, 4, c(2, Coppe));
    // Seat 3 holds denari but may play anything.
    assert_eq!(game.legal_actions(3).len(), 8);
    play(&mut game, 3, c(2, Spade));
}

#[test]
fn must_follow_suit_makes_holders_of_the_suit_led_follow() {
    let options = TableOptions {
        must_follow_suit: true,
        ..TableOptions::default()
    };
    let mut game = called_game(options);
    play(&mut game, 0, c(1, Denari));
    // Seat 4 has no denari: anything goes.
    assert_eq!(game.legal_actions(4).len(), 8);
    play(&mut game, 4, c(2, Coppe));
    assert_eq!(
        game.legal_actions(3),
        [
            Action::Play { card: c(3, Denari) },
            Action::Play {
                card: c(10, Denari)
            }
        ]
    );
    let error = refused(&mut game, 3, Action::Play { card: c(2, Spade) });
    assert_eq!(error.code(), "invalid_card");
    let error = refused(&mut game, 3, Action::Play { card: c(1, Coppe) });
    assert_eq!(error.code(), "invalid_card", "a trump is no excuse");
    play(&mut game, 3, c(10, Denari));
    // The leader of a trick plays what they like.
    play(&mut game, 2, c(1, Spade));
    play(&mut game, 1, c(3, Bastoni));
    assert_eq!(game.turn(), Some(4));
    assert_eq!(game.legal_actions(4).len(), 7);
}

#[test]
fn bad_plays_are_refused() {
    let mut game = called_game(TableOptions::default());
    assert_eq!(
        refused(&mut game, 4, Action::Play { card: c(2, Coppe) }),
        RuleError::InvalidTurn
    );
    for card in [c(1, Spade), c(0, Denari), c(11, Denari)] {
        assert_eq!(
            refused(&mut game, 0, Action::Play { card }).code(),
            "invalid_card"
        );
    }
    assert_eq!(
        refused(&mut game, 0, Action::Bid(Bid::Pass)).code(),
        "invalid_action"
    );
    play(&mut game, 0, c(1, Denari));
    assert_eq!(
        refused(&mut game, 4, Action::Play { card: c(1, Denari) }).code(),
        "invalid_card"
    );
}

#[test]
fn a_player_reorders_their_hand_at_any_time() {
    let mut game = game_with(TableOptions::default(), 1, hands());
    let mut order = game.hand(2).to_vec();
    order.reverse();
    // Seat 2 is not to act, and may reorder anyway.
    assert_eq!(game.turn(), Some(0));
    let events = game
        .apply(
            2,
            Action::Reorder {
                order: order.clone(),
            },
        )
        .unwrap();
    assert_eq!(events, [Event::HandUpdate { seat: 2 }]);
    assert_eq!(game.hand(2), order.as_slice());
    assert_eq!(game.player_view(2).hand, Some(order.clone()));

    let mut missing = order.clone();
    missing.pop();
    let mut doubled = missing.clone();
    doubled.push(doubled[0]);
    let mut foreign = missing.clone();
    foreign.push(c(1, Denari));
    let mut extra = order.clone();
    extra.push(c(1, Denari));
    for bad in [vec![], missing, doubled, foreign, extra] {
        let error = refused(&mut game, 2, Action::Reorder { order: bad });
        assert_eq!(error.code(), "invalid_action");
    }
    assert_eq!(
        refused(&mut game, 9, Action::Reorder { order }),
        RuleError::InvalidTurn
    );

    // The new order is the order legal plays are listed in, and survives play.
    bid(&mut game, 0, Bid::rank(1));
    for seat in [4, 3, 2, 1] {
        bid(&mut game, seat, Bid::Pass);
    }
    game.apply(0, Action::CallPartnerSuit { suit: Coppe })
        .unwrap();
    play(&mut game, 0, c(1, Denari));
    play(&mut game, 4, c(2, Coppe));
    play(&mut game, 3, c(3, Denari));
    assert_eq!(
        game.legal_actions(2)[0],
        Action::Play {
            card: c(2, Bastoni)
        }
    );
    play(&mut game, 2, c(2, Bastoni));
    let expected: Vec<Card> = std::iter::once(c(1, Bastoni))
        .chain([10, 9, 8, 7, 3, 1].map(|r| c(r, Spade)))
        .collect();
    assert_eq!(game.hand(2), expected.as_slice());
}
