//! Role-aware snapshots of a table, as `sync` messages carry them: a player's view of the
//! game (their hand only), or the observers' view (no hand at all); before the deal, the
//! waiting room. Serialized straight from the game's [`View`], without a `Value` between.

use guildhall_briscola::View;
use serde::Serialize;
use serde_json::Value;

use crate::worker::TableState;

impl TableState {
    /// A role-aware snapshot: a player's view of the game (their hand only), or the
    /// observers' view (no hand at all); before the deal, just the seats.
    pub fn snapshot(&self, seat: Option<u8>) -> Value {
        serde_json::to_value(self.snapshot_view(seat)).unwrap_or_default()
    }

    /// [`snapshot`](Self::snapshot) as it is serialized, without building a `Value`.
    pub(crate) fn snapshot_view(&self, seat: Option<u8>) -> Snapshot<'_> {
        let seats = std::array::from_fn(|i| match &self.seats[i] {
            Some(holder) => SeatView::Taken {
                taken: true,
                display_name: holder.display_name.as_deref(),
                connected: self.connections[i].is_some(),
            },
            None => SeatView::Free { taken: false },
        });
        let view = self.game.as_ref().map(|game| {
            let mut view = match seat {
                Some(seat) => game.player_view(seat),
                None => game.observer_view(),
            };
            // The view names whose it is; so the snapshot does not again.
            view.seat = seat;
            view
        });
        let waiting = view.is_none().then_some(Waiting {
            phase: "waiting",
            turn: None,
            dealer: 0,
            hand_sizes: [0; 5],
        });
        Snapshot {
            seat: waiting.as_ref().and(seat),
            view,
            waiting,
            game_id: &self.game_id,
            seats,
            role: if seat.is_some() { "player" } else { "observer" },
        }
    }
}

/// A snapshot as clients get it: the game as the role may see it (or, before the deal,
/// the waiting room), and the table around it.
#[derive(Serialize)]
pub(crate) struct Snapshot<'a> {
    #[serde(flatten)]
    view: Option<View>,
    #[serde(flatten)]
    waiting: Option<Waiting>,
    game_id: &'a str,
    seats: [SeatView<'a>; 5],
    role: &'static str,
    /// A player's seat before the deal (after it, the view carries it).
    #[serde(skip_serializing_if = "Option::is_none")]
    seat: Option<u8>,
}

/// The game part of a snapshot before the hand is dealt.
#[derive(Serialize)]
struct Waiting {
    phase: &'static str,
    turn: Option<u8>,
    dealer: u8,
    hand_sizes: [u8; 5],
}

#[derive(Serialize)]
#[serde(untagged)]
enum SeatView<'a> {
    Taken {
        taken: bool,
        display_name: Option<&'a str>,
        connected: bool,
    },
    Free {
        taken: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::SeatHolder;
    use guildhall_briscola::{Action, Game, Phase, TableOptions};
    use serde_json::json;
    use uuid::Uuid;

    /// The snapshot as it was built before it was serialized directly: the oracle.
    fn as_values(state: &TableState, seat: Option<u8>) -> Value {
        let seats: Vec<Value> = state
            .seats
            .iter()
            .zip(&state.connections)
            .map(|(s, connection)| match s {
                Some(h) => json!({
                    "taken": true,
                    "display_name": h.display_name,
                    "connected": connection.is_some(),
                }),
                None => json!({ "taken": false }),
            })
            .collect();
        let game = state.game.as_ref().map(|g| match seat {
            Some(seat) => serde_json::to_value(g.player_view(seat)).unwrap(),
            None => serde_json::to_value(g.observer_view()).unwrap(),
        });
        let mut snapshot = match game {
            Some(Value::Object(view)) => Value::Object(view),
            _ => {
                json!({ "phase": "waiting", "turn": null, "dealer": 0, "hand_sizes": [0, 0, 0, 0, 0] })
            }
        };
        snapshot["game_id"] = state.game_id.clone().into();
        snapshot["seats"] = seats.into();
        snapshot["role"] = if seat.is_some() { "player" } else { "observer" }.into();
        if let Some(seat) = seat {
            snapshot["seat"] = seat.into();
        }
        snapshot
    }

    /// The top-level keys of a JSON object, in order, duplicates kept (a `Value` would
    /// keep only the last of two).
    fn keys(text: &str) -> Vec<String> {
        struct Keys;
        impl<'de> serde::de::Visitor<'de> for Keys {
            type Value = Vec<String>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut keys = Vec::new();
                while let Some((key, _)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                    keys.push(key);
                }
                Ok(keys)
            }
        }
        use serde::Deserializer;
        serde_json::Deserializer::from_str(text)
            .deserialize_map(Keys)
            .unwrap()
    }

    fn check(state: &TableState) {
        for seat in [None, Some(0), Some(1), Some(2), Some(3), Some(4)] {
            let text = serde_json::to_string(&state.snapshot_view(seat)).unwrap();
            let mut names = keys(&text);
            let count = names.len();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), count, "a key twice in {text}");
            let direct: Value = serde_json::from_str(&text).expect("one JSON object");
            assert_eq!(direct, as_values(state, seat), "seat {seat:?}");
            assert_eq!(state.snapshot(seat), direct);
            if seat.is_none() {
                assert!(direct.get("hand").is_none(), "observers never get a hand");
            }
        }
    }

    /// The first of these that the game takes for the seat to act.
    fn act(game: &mut Game) {
        let seat = game.turn().expect("someone acts");
        let mut candidates = vec![
            json!({"type": "bid", "rank": 1}),
            json!({"type": "bid", "pass": true}),
            json!({"type": "call-partner-suit", "suit": "coppe"}),
        ];
        candidates.extend(
            game.hand(seat)
                .iter()
                .map(|card| json!({"type": "play", "card": card})),
        );
        let applied = candidates.into_iter().any(|action| {
            let action: Action = serde_json::from_value(action).unwrap();
            game.apply(seat, action).is_ok()
        });
        assert!(applied, "no candidate action applied in {:?}", game.phase());
    }

    #[test]
    fn snapshots_serialize_as_the_values_they_were_built_from_in_every_phase() {
        let mut state = TableState::new("ABC234", TableOptions::default(), 11);
        check(&state);
        let players: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
        for (i, player) in players.iter().enumerate() {
            state.seats[i] = Some(SeatHolder {
                player_id: *player,
                display_name: (i % 2 == 0).then(|| format!("Player \"{i}\"")),
            });
            state.connections[i] = (i != 3).then(|| format!("gw:{i}"));
            check(&state);
        }
        state.game = Some(Game::new(state.options, state.seed));
        let mut phases = vec![];
        while let Some(game) = state.game.as_mut()
            && game.phase() != Phase::HandOver
            && game.phase() != Phase::MatchOver
        {
            act(game);
            if phases.last() != Some(&game.phase()) {
                phases.push(game.phase());
            }
            check(&state);
        }
        assert!(phases.contains(&Phase::Playing), "{phases:?}");
    }
}
