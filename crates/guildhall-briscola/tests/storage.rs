//! Stored games: what a persisted game looks like and how a damaged one is refused.

mod common;

use common::{Chooser, win_auction_with};
use guildhall_briscola::{Bid, Game, Suit, TableOptions};
use serde_json::{Value, json};

fn mid_hand() -> Game {
    let mut game = Game::new(TableOptions::default(), 5);
    win_auction_with(&mut game, Bid::rank(9));
    common::call_suit(&mut game, Suit::Bastoni);
    let mut chooser = Chooser::new(1);
    for _ in 0..7 {
        chooser.step(&mut game);
    }
    game
}

/// A change made to a stored game.
type Damage = fn(&mut Value);

fn reload(value: Value) -> Result<Game, String> {
    serde_json::from_value(value).map_err(|e| e.to_string())
}

#[test]
fn a_game_mid_hand_round_trips() {
    let game = mid_hand();
    let value = serde_json::to_value(&game).unwrap();
    assert_eq!(reload(value.clone()).unwrap(), game);
    // The secret is stored, so the server can recover it; views never show it.
    assert!(value["contract"]["called"]["partner"].is_u64());
    assert_eq!(value["phase"], "playing");
    assert_eq!(value["hands"].as_array().unwrap().len(), 5);
}

#[test]
fn damaged_games_are_refused_not_trusted() {
    let good = serde_json::to_value(mid_hand()).unwrap();
    let tamper = |change: Damage| {
        let mut value = good.clone();
        change(&mut value);
        reload(value)
    };
    let cases: [(&str, Damage); 10] = [
        ("dealer", (|v: &mut Value| v["dealer"] = json!(7))),
        ("turn", (|v: &mut Value| v["turn"] = json!(5))),
        (
            "duplicate card",
            (|v: &mut Value| {
                let card = v["hands"][0][0].clone();
                v["hands"][1][0] = card;
            }),
        ),
        (
            "missing card",
            (|v: &mut Value| {
                v["hands"][2].as_array_mut().unwrap().pop();
            }),
        ),
        (
            "bad rank",
            (|v: &mut Value| v["hands"][3][0]["rank"] = json!(11)),
        ),
        ("phase", (|v: &mut Value| v["phase"] = json!("auction"))),
        (
            "partner",
            (|v: &mut Value| v["contract"]["called"]["partner"] = json!(9)),
        ),
        (
            "target",
            (|v: &mut Value| v["options"]["target_score"] = json!(0)),
        ),
        (
            "unknown phase",
            (|v: &mut Value| v["phase"] = json!("bidding")),
        ),
        (
            "missing field",
            (|v: &mut Value| {
                v.as_object_mut().unwrap().remove("rng");
            }),
        ),
    ];
    for (name, change) in cases {
        assert!(tamper(change).is_err(), "{name} was accepted");
    }
    let error = tamper(|v| v["dealer"] = json!(7)).unwrap_err();
    assert!(error.contains("corrupt game state"), "{error}");
    assert!(serde_json::from_str::<Game>("{}").is_err());
    assert!(serde_json::from_str::<Game>("[1, 2]").is_err());
}
