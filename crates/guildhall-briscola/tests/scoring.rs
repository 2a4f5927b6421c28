//! Hands played to the end: winning and losing, alone and with a partner, cappotto,
//! the rotation of the deal and the end of the match.

mod common;

use Suit::{Bastoni, Coppe, Denari, Spade};
use common::{Chooser, bid, c, game_with, play_first_cards, scored};
use guildhall_briscola::{Action, Bid, Card, Event, Game, HandResult, Phase, Suit, TableOptions};

/// Dealer 1: seat 0 opens the auction and leads the first trick. Seat 0 holds seven
/// coppe and the two of spade, played in hand order, so with coppe trump it takes the
/// first seven tricks (no one else has a trump above the five) and loses the last to
/// seat 4's ace of spade: 109 card points to 11. Seat 4 holds the five of coppe, seat 3
/// the four, seat 2 the two.
fn hands() -> [Vec<Card>; 5] {
    [
        vec![
            c(1, Coppe),
            c(3, Coppe),
            c(10, Coppe),
            c(9, Coppe),
            c(8, Coppe),
            c(7, Coppe),
            c(6, Coppe),
            c(2, Spade),
        ],
        vec![
            c(3, Spade),
            c(10, Spade),
            c(9, Spade),
            c(8, Spade),
            c(7, Spade),
            c(6, Spade),
            c(5, Bastoni),
            c(6, Bastoni),
        ],
        vec![
            c(2, Coppe),
            c(2, Denari),
            c(4, Denari),
            c(5, Denari),
            c(6, Denari),
            c(2, Bastoni),
            c(4, Bastoni),
            c(5, Spade),
        ],
        vec![
            c(4, Coppe),
            c(1, Bastoni),
            c(3, Bastoni),
            c(10, Bastoni),
            c(9, Bastoni),
            c(8, Bastoni),
            c(7, Bastoni),
            c(4, Spade),
        ],
        vec![
            c(5, Coppe),
            c(1, Denari),
            c(3, Denari),
            c(10, Denari),
            c(9, Denari),
            c(8, Denari),
            c(7, Denari),
            c(1, Spade),
        ],
    ]
}

/// Seat 0 wins the auction with `winning`, calls coppe, and everyone plays their
/// cards in hand order.
fn play_hand(hands: [Vec<Card>; 5], winning: Bid) -> (Game, Vec<Event>) {
    let mut game = game_with(TableOptions::default(), 1, hands);
    bid(&mut game, 0, winning);
    for seat in [4, 3, 2, 1] {
        bid(&mut game, seat, Bid::Pass);
    }
    game.apply(0, Action::CallPartnerSuit { suit: Coppe })
        .unwrap();
    let events = play_first_cards(&mut game);
    (game, events)
}

fn result(hands: [Vec<Card>; 5], winning: Bid) -> HandResult {
    let (game, events) = play_hand(hands, winning);
    let result = scored(&events).expect("the hand was scored").clone();
    assert_eq!(game.phase(), Phase::HandOver);
    assert_eq!(game.scores(), result.match_points);
    assert_eq!(game.last_hand(), Some(&result));
    assert_eq!(result.caller_points + result.defender_points, 120);
    result
}

#[test]
fn calling_ones_own_card_plays_alone_for_four_points() {
    // The king of coppe is in seat 0's own hand.
    let (_, events) = play_hand(hands(), Bid::rank(10));
    assert!(events.contains(&Event::PartnerRevealed {
        seat: 0,
        alone: true
    }));
    let result = scored(&events).unwrap();
    assert!(result.alone && result.caller_won && !result.cappotto);
    assert_eq!((result.caller, result.partner), (0, 0));
    assert_eq!((result.caller_points, result.defender_points), (109, 11));
    assert_eq!(result.match_points, [4, -1, -1, -1, -1]);
}

#[test]
fn alone_with_all_120_is_a_doubled_cappotto() {
    let mut hands = hands();
    // Swap the two of spade for the five of coppe: eight trumps, every trick.
    hands[0][7] = c(5, Coppe);
    hands[4][0] = c(2, Spade);
    let result = result(hands, Bid::rank(1));
    assert!(result.alone && result.caller_won && result.cappotto);
    assert_eq!(result.caller_points, 120);
    assert_eq!(result.match_points, [8, -2, -2, -2, -2]);
}

#[test]
fn a_caller_and_partner_who_make_61_share_three_points() {
    // The four of coppe: seat 3 is the partner.
    let result = result(hands(), Bid::rank(4));
    assert!(!result.alone && result.caller_won && !result.cappotto);
    assert_eq!(result.partner, 3);
    assert_eq!(result.caller_points, 109);
    assert_eq!(result.match_points, [2, -1, -1, 1, -1]);
}

#[test]
fn a_partner_who_takes_the_last_trick_makes_a_cappotto() {
    // The five of coppe: seat 4, who takes the last trick, is the partner.
    let result = result(hands(), Bid::rank(5));
    assert_eq!(result.partner, 4);
    assert!(result.caller_won && result.cappotto);
    assert_eq!(result.match_points, [4, -2, -2, -2, 2]);
}

#[test]
fn missing_the_target_flips_every_sign() {
    // A two for 110: the two of coppe makes seat 2 the partner; 109 is one short.
    let (_, events) = play_hand(hands(), Bid::two_for(110));
    let result = scored(&events).unwrap();
    assert_eq!(
        (result.partner, result.target, result.caller_points),
        (2, 110, 109)
    );
    assert!(!result.caller_won && !result.cappotto);
    assert_eq!(result.match_points, [-2, 1, -1, 1, 1]);
    // The partner was revealed on the first trick.
    assert!(events.contains(&Event::PartnerRevealed {
        seat: 2,
        alone: false
    }));

    // A plain two, target 61, is comfortably made by the same play.
    let made = result_of(Bid::rank(2));
    assert!(made.caller_won);
    assert_eq!(made.match_points, [2, -1, 1, -1, -1]);
}

fn result_of(winning: Bid) -> HandResult {
    result(hands(), winning)
}

#[test]
fn the_hand_ends_in_hand_over_and_the_deal_passes_right() {
    let (mut game, events) = play_hand(hands(), Bid::rank(4));
    let tail: Vec<&Event> = events.iter().rev().take(2).collect();
    assert_eq!(
        *tail[0],
        Event::PhaseChange {
            phase: Phase::HandOver
        }
    );
    assert!(matches!(tail[1], Event::HandScored { scores, .. } if *scores == [2, -1, -1, 1, -1]));
    assert_eq!(game.turn(), None);
    assert!(game.legal_actions(0).is_empty());
    let error = game
        .apply(0, Action::Reorder { order: vec![] })
        .unwrap_err();
    assert_eq!(error.code(), "invalid_action");
    assert_eq!(game.player_view(0).hand, Some(vec![]));

    let events = game.deal_next_hand().unwrap();
    assert_eq!(
        events[0],
        Event::HandDealt {
            dealer: 0,
            hand_number: 2
        }
    );
    assert_eq!(
        (game.phase(), game.dealer(), game.turn()),
        (Phase::Auction, 0, Some(4))
    );
    assert_eq!(game.scores(), [2, -1, -1, 1, -1], "match points carry over");
    assert!(game.observer_view().last_hand.is_some());
    assert!(game.deal_next_hand().is_err());
}

/// Plays random hands until the match ends, checking the deal's rotation and that the
/// match ends exactly when a seat reaches the target.
fn play_match(target_score: i32, seed: u64) -> (Game, u32) {
    let options = TableOptions {
        target_score,
        ..TableOptions::default()
    };
    let mut game = Game::new(options, seed);
    let mut chooser = Chooser::new(seed);
    let mut hands = 0;
    while let Some((_, events)) = chooser.step(&mut game) {
        if let Some(result) = scored(&events) {
            hands += 1;
            assert_eq!(result.hand_number, hands);
            // Seat 0 deals the first hand, then the deal passes right: 0, 4, 3, 2, 1.
            assert_eq!(u32::from(result.dealer), (4 * (hands - 1)) % 5);
            assert_eq!(result.match_points.iter().sum::<i32>(), 0);
            let best = *game.scores().iter().max().unwrap();
            assert_eq!(game.phase() == Phase::MatchOver, best >= target_score);
        }
        assert!(hands < 500, "the match never ended");
    }
    (game, hands)
}

#[test]
fn the_match_ends_when_a_seat_reaches_the_target() {
    let (game, hands) = play_match(1, 3);
    assert_eq!(hands, 1, "someone always scores at least 1");
    assert_eq!(game.phase(), Phase::MatchOver);

    for seed in 0..6 {
        let (mut game, hands) = play_match(9, seed);
        assert!(hands >= 2, "seed {seed}: at most +8 a hand");
        let scores = game.scores();
        let best = *scores.iter().max().unwrap();
        assert!(best >= 9);
        let winners: Vec<u8> = (0..5).filter(|&s| scores[usize::from(s)] == best).collect();
        assert_eq!(game.winners(), winners.as_slice());
        assert_eq!(game.observer_view().winners, winners);
        assert_eq!(scores.iter().sum::<i32>(), 0);
        assert_eq!(game.turn(), None);
        // Nothing more happens.
        assert!(game.deal_next_hand().is_err());
        let error = game.apply(0, Action::Bid(Bid::rank(1))).unwrap_err();
        assert_eq!(error.code(), "invalid_action");
    }
}

#[test]
fn the_match_over_events_close_the_last_hand() {
    let options = TableOptions {
        target_score: 4,
        ..TableOptions::default()
    };
    let mut game = game_with(options, 1, hands());
    bid(&mut game, 0, Bid::rank(10));
    for seat in [4, 3, 2, 1] {
        bid(&mut game, seat, Bid::Pass);
    }
    game.apply(0, Action::CallPartnerSuit { suit: Coppe })
        .unwrap();
    let events = play_first_cards(&mut game);
    let n = events.len();
    assert_eq!(
        events[n - 2],
        Event::PhaseChange {
            phase: Phase::MatchOver
        }
    );
    assert_eq!(
        events[n - 1],
        Event::MatchOver {
            scores: [4, -1, -1, -1, -1],
            winners: vec![0]
        }
    );
}
