//! Properties of every game: random seeds, random legal play and random garbage.

mod common;

use std::collections::HashSet;

use common::Chooser;
use guildhall_briscola::{
    Action, Bid, Card, Event, Game, Phase, PlayedCard, Suit, TableOptions, deck,
};
use proptest::prelude::*;
use serde_json::Value;

/// Who wins a trick, worked out the slow way: walk the cards keeping the best so far;
/// a card beats it if it is of the same suit and stronger, or a trump over a
/// non-trump.
fn expected_winner(trick: &[PlayedCard], trump: Suit) -> u8 {
    const WEAKEST_FIRST: [u8; 10] = [2, 4, 5, 6, 7, 8, 9, 10, 3, 1];
    let place = |card: &Card| WEAKEST_FIRST.iter().position(|&r| r == card.rank).unwrap();
    let mut best = trick[0];
    for played in &trick[1..] {
        let beats = if played.card.suit == best.card.suit {
            place(&played.card) > place(&best.card)
        } else {
            played.card.suit == trump
        };
        if beats {
            best = *played;
        }
    }
    best.seat
}

/// The match points the rules table gives, written out independently.
fn expected_points(caller: u8, partner: u8, won: bool, cappotto: bool) -> [i32; 5] {
    let mut points = [-1; 5];
    if caller == partner {
        points[usize::from(caller)] = 4;
    } else {
        points[usize::from(caller)] = 2;
        points[usize::from(partner)] = 1;
    }
    let factor = if cappotto { 2 } else { 1 } * if won { 1 } else { -1 };
    points.map(|p| p * factor)
}

/// What one hand looked like from outside, checked when it is scored.
#[derive(Default)]
struct HandLog {
    played: Vec<Card>,
    trick_points: u32,
    trump: Option<Suit>,
    called: Option<Card>,
    holder: Option<u8>,
    revealed: bool,
    winners: Vec<(u8, u8)>,
}

/// Plays a random match to the end (or `max_steps`), checking after every step the
/// rules of each event and, when `views` is set, what every view shows.
fn random_match(
    options: TableOptions,
    seed: u64,
    chooser_seed: u64,
    views: bool,
    max_steps: usize,
) {
    let mut game = Game::new(options, seed);
    let mut chooser = Chooser::new(chooser_seed);
    let mut log = HandLog::default();
    for _ in 0..max_steps {
        let hands_before: Vec<Vec<Card>> = (0..5).map(|s| game.hand(s).to_vec()).collect();
        if let Some(seat) = game.turn() {
            // Every listed action is accepted.
            if game.phase() != Phase::Auction {
                for action in game.legal_actions(seat) {
                    assert!(
                        game.clone().apply(seat, action.clone()).is_ok(),
                        "{action:?}"
                    );
                }
            }
            for other in (0..5).filter(|&s| s != seat) {
                assert!(game.legal_actions(other).is_empty());
            }
        }
        let Some((_, events)) = chooser.step(&mut game) else {
            break;
        };
        for event in &events {
            check_event(&game, event, &hands_before, &mut log);
        }
        assert_eq!(game.scores().iter().sum::<i32>(), 0);
        if views {
            check_views(&game);
        }
    }
}

fn check_event(game: &Game, event: &Event, hands_before: &[Vec<Card>], log: &mut HandLog) {
    // The protocol's message type is the serialized `type`.
    let serialized = serde_json::to_value(event).unwrap();
    assert_eq!(serialized["type"], event.message_type(), "{serialized}");
    match event {
        Event::HandDealt { .. } => {
            *log = HandLog::default();
            let mut all: Vec<Card> = (0..5).flat_map(|s| game.hand(s).to_vec()).collect();
            all.sort_unstable();
            assert_eq!(all, deck());
        }
        Event::PartnerCalled { card, .. } => {
            log.trump = Some(card.suit);
            log.called = Some(*card);
            log.holder = (0..5).find(|&s| game.hand(s).contains(card));
            assert_eq!(game.partner(), log.holder);
        }
        Event::TrickPlayed { seat, card } => {
            assert!(
                hands_before[usize::from(*seat)].contains(card),
                "{card} was not in hand"
            );
            assert!(!log.played.contains(card), "{card} played twice");
            log.played.push(*card);
        }
        Event::PartnerRevealed { seat, alone } => {
            assert_eq!(Some(*seat), log.holder);
            assert_eq!(log.played.last(), log.called.as_ref());
            assert_eq!(*alone, game.caller() == Some(*seat));
            assert!(!log.revealed);
            log.revealed = true;
        }
        Event::TrickWon {
            seat,
            points,
            trick,
        } => {
            assert_eq!(trick.len(), 5);
            assert_eq!(*seat, expected_winner(trick, log.trump.unwrap()));
            let sum: u8 = trick.iter().map(|p| p.card.points()).sum();
            assert_eq!(*points, sum);
            log.trick_points += u32::from(*points);
            log.winners.push((*seat, *points));
        }
        Event::HandScored { result, scores } => {
            let mut played = log.played.clone();
            played.sort_unstable();
            assert_eq!(played, deck(), "every card played exactly once");
            assert_eq!(log.trick_points, 120);
            assert!(log.revealed, "the called card is always played");
            assert_eq!(
                u32::from(result.caller_points) + u32::from(result.defender_points),
                120
            );
            assert_eq!(Some(result.partner), log.holder);
            let side: u32 = log
                .winners
                .iter()
                .filter(|(w, _)| *w == result.caller || *w == result.partner)
                .map(|(_, p)| u32::from(*p))
                .sum();
            assert_eq!(side, u32::from(result.caller_points));
            let won = result.caller_points >= result.bid.target().unwrap();
            let cappotto = result.caller_points == 120 || result.caller_points == 0;
            assert_eq!((result.caller_won, result.cappotto), (won, cappotto));
            assert_eq!(
                result.match_points,
                expected_points(result.caller, result.partner, won, cappotto)
            );
            assert_eq!(result.match_points.iter().sum::<i32>(), 0);
            assert_eq!(*scores, game.scores());
        }
        _ => {}
    }
}

/// Every `{"suit", "rank"}` object in a view about the hand in progress: anywhere but
/// `last_hand`, the public result of a finished hand whose called card may well be in
/// someone's new hand.
fn cards_in_view(view: &Value) -> HashSet<Card> {
    let mut view = view.clone();
    view.as_object_mut().unwrap().remove("last_hand");
    let mut found = HashSet::new();
    cards_in(&view, &mut found);
    found
}

fn cards_in(value: &Value, found: &mut HashSet<Card>) {
    match value {
        Value::Object(map) => {
            if map.len() == 2 && map.contains_key("suit") && map.contains_key("rank") {
                found.insert(serde_json::from_value(value.clone()).unwrap());
            }
            map.values().for_each(|v| cards_in(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| cards_in(v, found)),
        _ => {}
    }
}

fn check_views(game: &Game) {
    // The called card's identity is public; who holds it is not.
    let called = game.called_card();
    let secret = |seat: Option<u8>| -> HashSet<Card> {
        (0..5)
            .filter(|&s| Some(s) != seat)
            .flat_map(|s| game.hand(s).to_vec())
            .filter(|card| Some(*card) != called)
            .collect()
    };
    let revealed = game.partner_revealed();
    let observer = serde_json::to_value(game.observer_view()).unwrap();
    assert!(observer.get("hand").is_none(), "an observer sees no hand");
    let shown = cards_in_view(&observer);
    assert!(
        shown.is_disjoint(&secret(None)),
        "observer view shows a hand"
    );
    assert_eq!(observer["partner"].is_null(), !revealed);
    assert_eq!(observer["you_are_partner"], false);
    for seat in 0..5u8 {
        let view = serde_json::to_value(game.player_view(seat)).unwrap();
        let shown = cards_in_view(&view);
        let others = secret(Some(seat));
        let leaked: Vec<&Card> = shown.intersection(&others).collect();
        assert!(leaked.is_empty(), "seat {seat} sees {leaked:?}");
        let hand: Vec<Card> = serde_json::from_value(view["hand"].clone()).unwrap();
        assert_eq!(hand, game.hand(seat));
        assert_eq!(view["partner"].is_null(), !revealed, "seat {seat}");
        let is_partner = game.partner() == Some(seat) && game.caller() != Some(seat);
        assert_eq!(view["you_are_partner"], is_partner);
    }
}

fn options() -> impl Strategy<Value = TableOptions> {
    (any::<bool>(), any::<bool>(), 1..12i32).prop_map(
        |(must_follow_suit, caller_leads, target_score)| TableOptions {
            must_follow_suit,
            first_lead: if caller_leads {
                guildhall_briscola::FirstLead::AuctionWinner
            } else {
                guildhall_briscola::FirstLead::DealerRight
            },
            target_score,
        },
    )
}

fn suit() -> impl Strategy<Value = Suit> {
    prop::sample::select(Suit::ALL.to_vec())
}

fn any_card() -> impl Strategy<Value = Card> {
    (suit(), 0u8..=12).prop_map(|(suit, rank)| Card { suit, rank })
}

/// Actions of any shape and content, mostly wrong.
fn any_action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (0u8..=12, prop::option::of(55u8..=125))
            .prop_map(|(rank, points)| Action::Bid(Bid::Rank { rank, points })),
        Just(Action::Bid(Bid::Pass)),
        (0u8..=12).prop_map(|rank| Action::CallPartnerRank { rank }),
        suit().prop_map(|suit| Action::CallPartnerSuit { suit }),
        any_card().prop_map(|card| Action::Play { card }),
        prop::collection::vec(any_card(), 0..10).prop_map(|order| Action::Reorder { order }),
    ]
}

#[derive(Clone, Debug)]
enum Step {
    /// The seat to act takes a random legal action (or the next hand is dealt).
    Legal,
    /// Any seat, real or not, tries anything.
    Garbage(u8, Action),
    /// A seat reorders its hand by a rotation (or tries to, between hands).
    Rotate(u8, usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => Just(Step::Legal),
        3 => (0u8..8, any_action()).prop_map(|(seat, action)| Step::Garbage(seat, action)),
        1 => (0u8..5, 0usize..8).prop_map(|(seat, by)| Step::Rotate(seat, by)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_matches_follow_the_rules(
        options in options(),
        seed in any::<u64>(),
        chooser in any::<u64>(),
    ) {
        random_match(options, seed, chooser, false, 5_000);
    }

    #[test]
    fn views_never_leak_hands_or_the_partner(
        options in options(),
        seed in any::<u64>(),
        chooser in any::<u64>(),
    ) {
        random_match(TableOptions { target_score: options.target_score.min(4), ..options }, seed, chooser, true, 400);
    }

    #[test]
    fn a_stored_game_reloads_equal_and_plays_on_identically(
        options in options(),
        seed in any::<u64>(),
        chooser_seed in any::<u64>(),
        steps in 0usize..400,
    ) {
        let mut game = Game::new(options, seed);
        let mut chooser = Chooser::new(chooser_seed);
        for _ in 0..steps {
            if chooser.step(&mut game).is_none() {
                break;
            }
        }
        let stored = serde_json::to_string(&game).unwrap();
        let mut reloaded: Game = serde_json::from_str(&stored).unwrap();
        prop_assert_eq!(&reloaded, &game);
        prop_assert_eq!(serde_json::to_string(&reloaded).unwrap(), stored);

        let mut twin = Chooser(chooser.0.clone());
        for _ in 0..200 {
            let a = chooser.step(&mut game);
            let b = twin.step(&mut reloaded);
            prop_assert_eq!(&a, &b);
            prop_assert_eq!(&game, &reloaded);
            if a.is_none() {
                break;
            }
        }
    }

    #[test]
    fn garbage_never_panics_and_refusals_change_nothing(
        options in options(),
        seed in any::<u64>(),
        chooser_seed in any::<u64>(),
        steps in prop::collection::vec(step(), 0..300),
    ) {
        let mut game = Game::new(options, seed);
        let mut chooser = Chooser::new(chooser_seed);
        for step in steps {
            match step {
                Step::Legal => {
                    if chooser.step(&mut game).is_none() {
                        break;
                    }
                }
                Step::Garbage(seat, action) => {
                    let before = game.clone();
                    // Reordering one's own hand keeps the version; every other
                    // accepted action moves it by one.
                    let moves = u64::from(!matches!(action, Action::Reorder { .. }));
                    if game.apply(seat, action).is_err() {
                        prop_assert_eq!(&game, &before);
                    } else {
                        prop_assert_eq!(game.version(), before.version() + moves);
                    }
                }
                Step::Rotate(seat, by) => {
                    let mut order = game.hand(seat).to_vec();
                    let len = order.len().max(1);
                    order.rotate_left(by % len);
                    let holding = matches!(game.phase(), Phase::Auction | Phase::Calling | Phase::Playing);
                    prop_assert_eq!(game.apply(seat, Action::Reorder { order: order.clone() }).is_ok(), holding);
                    if holding {
                        prop_assert_eq!(game.hand(seat), order.as_slice());
                    }
                }
            }
            // Whatever happened, the state still passes the checks a reload makes.
            let json = serde_json::to_string(&game).unwrap();
            let reloaded: Game = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(&reloaded, &game);
        }
    }

    #[test]
    fn the_seed_fixes_the_deal(seed in any::<u64>()) {
        let game = Game::new(TableOptions::default(), seed);
        prop_assert_eq!(&game, &Game::new(TableOptions::default(), seed));
        let other = Game::new(TableOptions::default(), seed.wrapping_add(1));
        prop_assert_ne!(game.hand(0), other.hand(0));
    }
}
