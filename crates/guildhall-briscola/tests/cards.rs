//! Cards, bids, actions and events: their values and their wire shapes.

mod common;

use common::c;
use guildhall_briscola::{
    Action, Bid, Card, Event, FirstLead, Phase, RANKS_BY_STRENGTH, Suit, TOTAL_POINTS,
    TableOptions, deck, rank_strength,
};
use serde_json::{Value, json};

#[test]
fn card_points_follow_the_table_and_total_120() {
    let points: Vec<u8> = (1..=10).map(|rank| c(rank, Suit::Coppe).points()).collect();
    //                 A   2  3   4  5  6  7  J  C  K
    assert_eq!(points, [11, 0, 10, 0, 0, 0, 0, 2, 3, 4]);
    let total: u32 = deck().iter().map(|card| u32::from(card.points())).sum();
    assert_eq!(total, u32::from(TOTAL_POINTS));
    assert_eq!(total, 120);
}

#[test]
fn strength_runs_ace_three_king_horse_jack_then_seven_down_to_two() {
    assert_eq!(RANKS_BY_STRENGTH, [1, 3, 10, 9, 8, 7, 6, 5, 4, 2]);
    for pair in RANKS_BY_STRENGTH.windows(2) {
        let (stronger, weaker) = (c(pair[0], Suit::Spade), c(pair[1], Suit::Spade));
        assert!(
            stronger.strength() > weaker.strength(),
            "{stronger} vs {weaker}"
        );
    }
    assert_eq!(rank_strength(1), Some(9));
    assert_eq!(rank_strength(2), Some(0));
    assert_eq!(c(11, Suit::Spade).strength(), 0);
    assert_eq!(c(0, Suit::Spade).points(), 0);
}

#[test]
fn the_deck_has_forty_distinct_cards() {
    let mut cards = deck();
    assert_eq!(cards.len(), 40);
    cards.sort_unstable();
    cards.dedup();
    assert_eq!(cards.len(), 40);
    assert!(cards.iter().all(Card::is_valid));
    assert_eq!(Card::new(Suit::Denari, 11), None);
    assert_eq!(c(9, Suit::Bastoni).to_string(), "horse of bastoni");
}

#[test]
fn cards_have_their_wire_shape() {
    let card = c(1, Suit::Coppe);
    assert_eq!(
        serde_json::to_value(card).unwrap(),
        json!({"suit": "coppe", "rank": 1})
    );
    let back: Card = serde_json::from_value(json!({"suit": "bastoni", "rank": 10})).unwrap();
    assert_eq!(back, c(10, Suit::Bastoni));
    for bad in [
        json!({"suit": "coppe", "rank": 0}),
        json!({"suit": "coppe", "rank": 11}),
        json!({"suit": "hearts", "rank": 1}),
        json!({"suit": "coppe"}),
        json!({"suit": "coppe", "rank": 1, "extra": 1}),
        json!({"suit": "coppe", "rank": -1}),
    ] {
        assert!(
            serde_json::from_value::<Card>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn bids_have_their_wire_shape() {
    let cases = [
        (Bid::rank(1), json!({"rank": 1})),
        (Bid::rank(10), json!({"rank": 10})),
        (Bid::rank(2), json!({"rank": 2})),
        (Bid::two_for(61), json!({"rank": 2, "points": 61})),
        (Bid::two_for(120), json!({"rank": 2, "points": 120})),
        (Bid::Pass, json!({"pass": true})),
    ];
    for (bid, wire) in cases {
        assert_eq!(serde_json::to_value(bid).unwrap(), wire);
        assert_eq!(serde_json::from_value::<Bid>(wire).unwrap(), bid);
    }
    for bad in [
        json!({"rank": 0}),
        json!({"rank": 11}),
        json!({"rank": 3, "points": 70}),
        json!({"rank": 2, "points": 60}),
        json!({"rank": 2, "points": 121}),
        json!({"pass": false}),
        json!({"pass": true, "rank": 2}),
        json!({"points": 70}),
        json!({}),
        json!({"rank": 1, "bluff": true}),
        json!("pass"),
        json!(null),
    ] {
        assert!(serde_json::from_value::<Bid>(bad.clone()).is_err(), "{bad}");
    }
}

#[test]
fn actions_have_their_wire_shape() {
    let cases = [
        (Action::Bid(Bid::rank(3)), json!({"type": "bid", "rank": 3})),
        (
            Action::Bid(Bid::two_for(70)),
            json!({"type": "bid", "rank": 2, "points": 70}),
        ),
        (Action::Bid(Bid::Pass), json!({"type": "bid", "pass": true})),
        (
            Action::CallPartnerRank { rank: 3 },
            json!({"type": "call-partner-rank", "rank": 3}),
        ),
        (
            Action::CallPartnerSuit { suit: Suit::Spade },
            json!({"type": "call-partner-suit", "suit": "spade"}),
        ),
        (
            Action::Play {
                card: c(1, Suit::Denari),
            },
            json!({"type": "play", "card": {"suit": "denari", "rank": 1}}),
        ),
        (
            Action::Reorder {
                order: vec![c(2, Suit::Spade), c(1, Suit::Coppe)],
            },
            json!({"type": "reorder", "order": [
                {"suit": "spade", "rank": 2}, {"suit": "coppe", "rank": 1}
            ]}),
        ),
    ];
    for (action, wire) in cases {
        assert_eq!(serde_json::to_value(&action).unwrap(), wire);
        assert_eq!(serde_json::from_value::<Action>(wire).unwrap(), action);
    }
    for bad in [
        json!({"type": "bid", "rank": 3, "points": 70}),
        json!({"type": "bid", "pass": false}),
        json!({"type": "bid"}),
        json!({"type": "play", "card": {"suit": "denari", "rank": 12}}),
        json!({"type": "call-partner-suit", "suit": "hearts"}),
        json!({"type": "fold"}),
        json!({"rank": 3}),
    ] {
        assert!(
            serde_json::from_value::<Action>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn events_phases_and_options_have_their_wire_shape() {
    let event = Event::TrickPlayed {
        seat: 3,
        card: c(7, Suit::Spade),
    };
    assert_eq!(
        serde_json::to_value(&event).unwrap(),
        json!({"type": "trick.played", "seat": 3, "card": {"suit": "spade", "rank": 7}})
    );
    let phase = Event::PhaseChange {
        phase: Phase::HandOver,
    };
    assert_eq!(
        serde_json::to_value(&phase).unwrap(),
        json!({"type": "phase.change", "phase": "hand_over"})
    );
    let made = Event::BidMade {
        seat: 0,
        bid: Bid::Pass,
    };
    let wire = serde_json::to_value(&made).unwrap();
    assert_eq!(
        wire,
        json!({"type": "bid.made", "seat": 0, "bid": {"pass": true}})
    );
    assert_eq!(serde_json::from_value::<Event>(wire).unwrap(), made);

    let options: TableOptions = serde_json::from_value(json!({"must_follow_suit": true})).unwrap();
    assert_eq!(options.first_lead, FirstLead::DealerRight);
    assert_eq!(options.target_score, 11);
    assert!(options.must_follow_suit);
    let wire = serde_json::to_value(TableOptions {
        first_lead: FirstLead::AuctionWinner,
        ..options
    })
    .unwrap();
    assert_eq!(wire["first_lead"], Value::from("auction_winner"));
}
