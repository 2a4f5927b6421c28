use guildhall_briscola::{
    Action, Bid, BidRecord, Card, Event, Game, Phase, PlayedCard, RANKS_BY_STRENGTH, Suit,
    TableOptions, next_seat,
};
use guildhall_rng::SplitMix64;
use serde_json::json;

use super::*;

/// What one seat's connection receives for `events` (as the worker routes them),
/// fed to its tracker: hand updates to their seat only, everything else to all, a
/// `sync` after every phase change.
fn deliver(tracker: &mut Tracker, game: &Game, seat: u8, events: &[Event]) {
    for event in events {
        if let Event::HandUpdate { seat: s } = event {
            if *s == seat {
                let hand = game.player_view(seat).hand.unwrap_or_default();
                tracker.on_message("hand.update", &json!({ "seat": s, "hand": hand }));
            }
            continue;
        }
        let value = serde_json::to_value(event).unwrap();
        let message_type = value["type"].as_str().unwrap().to_owned();
        tracker.on_message(&message_type, &value);
        if matches!(event, Event::PhaseChange { .. }) {
            let view = serde_json::to_value(game.player_view(seat)).unwrap();
            tracker.on_message("sync", &view);
        }
    }
}

/// Plays whole matches with five bots that only see their own views (kept current
/// by their trackers), checking every choice is legal and every tracker knows whose
/// turn it is.
fn play_match(options: TableOptions, seed: u64) -> (u64, u32) {
    let mut game = Game::new(options, seed);
    let mut trackers: Vec<Tracker> = (0..5u8)
        .map(|seat| {
            let mut tracker = Tracker::default();
            let view = serde_json::to_value(game.player_view(seat)).unwrap();
            tracker.on_message("sync", &view);
            tracker
        })
        .collect();
    let mut rngs: Vec<SplitMix64> = (0..5).map(|s| SplitMix64::new(seed + s)).collect();
    let mut actions = 0;
    while game.phase() != Phase::MatchOver {
        let turn = game.turn().expect("someone is to act");
        for (seat, tracker) in trackers.iter().enumerate() {
            assert_eq!(
                tracker.my_turn(),
                seat as u8 == turn,
                "seat {seat} after {actions} actions"
            );
        }
        let view = trackers[usize::from(turn)].view.clone().unwrap();
        let action = choose(&view, &mut rngs[usize::from(turn)]).expect("an action");
        assert!(
            game.legal_actions(turn).contains(&action),
            "{action:?} is not legal"
        );
        let mut events = game
            .apply(turn, action.clone())
            .unwrap_or_else(|e| panic!("{action:?} refused: {e}"));
        actions += 1;
        for seat in 0..5u8 {
            deliver(&mut trackers[usize::from(seat)], &game, seat, &events);
        }
        if game.phase() == Phase::HandOver {
            events = game.deal_next_hand().unwrap();
            for seat in 0..5u8 {
                deliver(&mut trackers[usize::from(seat)], &game, seat, &events);
            }
        }
        assert!(actions < 100_000, "the match ends");
    }
    assert!(trackers.iter().all(|t| t.match_over));
    (trackers[0].hands_scored, actions)
}

#[test]
fn bots_play_whole_matches_with_legal_moves_and_always_know_whose_turn_it_is() {
    for seed in 0..20 {
        let (hands, _) = play_match(TableOptions::default(), seed);
        assert!(hands >= 1);
    }
    let strict = TableOptions {
        must_follow_suit: true,
        first_lead: guildhall_briscola::FirstLead::AuctionWinner,
        target_score: 5,
    };
    for seed in 100..110 {
        play_match(strict, seed);
    }
    // One hand per match, as the benchmark plays.
    let one_hand = TableOptions {
        target_score: 1,
        ..TableOptions::default()
    };
    let (hands, actions) = play_match(one_hand, 7);
    assert_eq!(hands, 1);
    assert!((46..=60).contains(&actions), "{actions}");
}

#[test]
fn the_policy_is_fixed_by_the_seed() {
    let game = Game::new(TableOptions::default(), 3);
    let turn = game.turn().unwrap();
    let view = game.player_view(turn);
    let picks = |seed| {
        let mut rng = SplitMix64::new(seed);
        (0..20)
            .map(|_| choose(&view, &mut rng).unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(picks(9), picks(9));
    assert_ne!(picks(9), picks(10));
    // Only the seat to act acts.
    let other = game.player_view(next_seat(turn));
    assert_eq!(choose(&other, &mut SplitMix64::new(1)), None);
}

#[test]
fn bids_beat_the_highest_and_stop_at_the_two() {
    assert_eq!(biddable_ranks(None), RANKS_BY_STRENGTH.to_vec());
    let king = BidRecord {
        seat: 1,
        bid: Bid::rank(10),
    };
    assert_eq!(biddable_ranks(Some(&king)), [9, 8, 7, 6, 5, 4, 2]);
    let two = BidRecord {
        seat: 1,
        bid: Bid::rank(2),
    };
    assert!(biddable_ranks(Some(&two)).is_empty());
    let seventy = BidRecord {
        seat: 1,
        bid: Bid::two_for(70),
    };
    assert!(biddable_ranks(Some(&seventy)).is_empty());
    // With nothing left to bid, a bot passes.
    let mut game = Game::new(TableOptions::default(), 1);
    let first = game.turn().unwrap();
    game.apply(first, Action::Bid(Bid::rank(2))).unwrap();
    let turn = game.turn().unwrap();
    let view = game.player_view(turn);
    for seed in 0..20 {
        assert_eq!(
            choose(&view, &mut SplitMix64::new(seed)),
            Some(Action::Bid(Bid::Pass))
        );
    }
}

#[test]
fn cards_follow_suit_only_when_the_table_says_so() {
    let card = |suit, rank| Card { suit, rank };
    let hand = [
        card(Suit::Coppe, 1),
        card(Suit::Spade, 3),
        card(Suit::Spade, 4),
    ];
    let led = [PlayedCard {
        seat: 2,
        card: card(Suit::Spade, 10),
    }];
    assert_eq!(playable(&hand, &led, false), hand);
    assert_eq!(playable(&hand, &led, true), &hand[1..]);
    assert_eq!(playable(&hand, &[], true), hand);
    let bastoni = [PlayedCard {
        seat: 2,
        card: card(Suit::Bastoni, 10),
    }];
    assert_eq!(playable(&hand, &bastoni, true), hand);
}

#[test]
fn actions_go_on_the_wire_as_the_protocol_has_them() {
    let (t, p) = wire(&Action::Bid(Bid::rank(3)));
    assert_eq!((t.as_str(), p), ("bid", json!({"rank": 3})));
    let (t, p) = wire(&Action::Bid(Bid::Pass));
    assert_eq!((t.as_str(), p), ("bid", json!({"pass": true})));
    let (t, p) = wire(&Action::CallPartnerSuit { suit: Suit::Coppe });
    assert_eq!(
        (t.as_str(), p),
        ("call-partner-suit", json!({"suit": "coppe"}))
    );
    let (t, p) = wire(&Action::Play {
        card: Card {
            suit: Suit::Denari,
            rank: 3,
        },
    });
    assert_eq!(
        (t.as_str(), p),
        ("play", json!({"card": {"suit": "denari", "rank": 3}}))
    );
}

#[test]
fn a_snapshot_before_the_deal_is_no_view() {
    let mut tracker = Tracker::default();
    tracker.on_message(
        "sync",
        &json!({"phase": "waiting", "turn": null, "dealer": 0, "hand_sizes": [0, 0, 0, 0, 0], "seat": 1}),
    );
    assert!(tracker.view.is_none());
    assert!(!tracker.my_turn());
    // A real snapshot, with the keys the worker adds.
    let game = Game::new(TableOptions::default(), 5);
    let turn = game.turn().unwrap();
    let mut snapshot = serde_json::to_value(game.player_view(turn)).unwrap();
    snapshot["game_id"] = "K7M2PQ".into();
    snapshot["seats"] = json!([{"taken": true, "display_name": null, "connected": true}]);
    snapshot["role"] = "player".into();
    tracker.on_message("sync", &snapshot);
    assert!(tracker.my_turn());
}

#[test]
fn frames_are_read_in_one_pass_whatever_their_key_order() {
    let frame = r#"{"payload": {"seat": 2, "card": {"suit": "spade", "rank": 3}},
        "seq": 9, "message_type": "trick.played", "action_id": "b-\u0031"}"#;
    let head: Frame = serde_json::from_str(frame).unwrap();
    assert_eq!(head.message_type, "trick.played");
    assert_eq!(head.action_id.as_deref(), Some("b-1"));
    assert_eq!(
        head.payload(),
        r#"{"seat": 2, "card": {"suit": "spade", "rank": 3}}"#
    );
    let fields: Fields = serde_json::from_str(head.payload()).unwrap();
    assert_eq!(fields.seat, Some(2));
    assert_eq!(fields.card.map(|c| c.rank), Some(3));
    // No payload (or null): nothing to read, which the readers take as unreadable.
    for frame in [
        r#"{"message_type": "match.over"}"#,
        r#"{"message_type": "match.over", "payload": null}"#,
    ] {
        let head: Frame = serde_json::from_str(frame).unwrap();
        assert_eq!(head.payload(), "");
        assert!(serde_json::from_str::<Fields>(head.payload()).is_err());
    }
    // A tracker given an unreadable event forgets whose turn it is, until a `sync`.
    let game = Game::new(TableOptions::default(), 7);
    let view = serde_json::to_value(game.player_view(0)).unwrap();
    let mut tracker = Tracker::default();
    tracker.on_message("sync", &view);
    assert!(tracker.view.as_ref().unwrap().turn.is_some());
    tracker.on_payload("bid.made", "");
    assert_eq!(tracker.view.as_ref().unwrap().turn, None);
}
