//! What an envelope does to a table: the state transition, and the events it makes.
//!
//! Pure, no I/O: [`step`] is what the worker does with each envelope it opens, before
//! saving and sending (see [`crate::worker`]), and what a load does again with each
//! change logged after the snapshot, keeping the state and dropping the events. One
//! function for both, so a loaded table is exactly the one the worker acknowledged.

use guildhall_briscola::{Action, Event, Game, Phase, RuleError};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::envelope::{ActionEnvelope, Audience, Role};
use crate::worker::{Outcome, SeatHolder, TableState};

/// What an envelope did to a table, and the events to publish for it.
pub(crate) enum Step {
    /// Nothing changed: a sync, a refused action, a presence change that moves no seat.
    Unchanged(Published),
    /// A retried action id: its first result, again.
    Retried(Published),
    /// A seat's connection changed hands: saved before the events go out.
    Presence(Published),
    /// An accepted action: saved before the events go out.
    Applied(Published),
}

/// Applies `envelope` to `state` in place (a refused action changes nothing: the rules
/// guarantee it).
pub(crate) fn step(state: &mut TableState, envelope: &ActionEnvelope) -> Step {
    let origin = Audience::Origin {
        origin: envelope.origin.clone(),
    };
    if envelope.message_type == "sync" {
        let seat = match envelope.role {
            Role::Player => envelope.player_id.and_then(|p| state.seat_of(p)),
            _ => None,
        };
        let snapshot = raw(&state.snapshot_view(seat));
        return Step::Unchanged(vec![
            (origin.clone(), "sync".to_owned(), snapshot),
            answer(origin, &Outcome::ok(Value::Null)),
        ]);
    }
    if envelope.message_type == "presence" {
        return match presence(state, envelope) {
            Some(published) => Step::Presence(published),
            None => Step::Unchanged(Vec::new()),
        };
    }
    let key = result_key(envelope);
    if envelope.role != Role::Observer
        && let Some(outcome) = state.results.get(&key)
    {
        return Step::Retried(vec![answer(origin, outcome)]);
    }
    let (outcome, mut events) = apply(state, envelope);
    events.push(answer(origin, &outcome));
    if outcome.status == "ok" {
        state.results.remember(key, &outcome);
        Step::Applied(events)
    } else {
        Step::Unchanged(events)
    }
}

/// The key an action's result is remembered by: action ids are the sender's own, so one
/// player's id never answers another's.
fn result_key(envelope: &ActionEnvelope) -> String {
    format!(
        "{}/{}",
        envelope
            .player_id
            .map(|p| p.to_string())
            .unwrap_or_default(),
        envelope.action_id
    )
}

/// A gateway saying a seat's player connected or left; the events when it changes who
/// holds the seat. The newest connection holds the seat: `seat.holder` (which gateways
/// act on and never forward) closes any other. `player.leave` when the holder goes,
/// `player.reconnect` when a player who had left is back.
fn presence(state: &mut TableState, envelope: &ActionEnvelope) -> Option<Published> {
    let seat = match (envelope.role, envelope.player_id) {
        (Role::Player, Some(player)) => state.seat_of(player).filter(|s| Some(*s) == envelope.seat),
        _ => None,
    }?;
    let index = seat as usize;
    let online = envelope.payload.value()["online"].as_bool().unwrap_or(true);
    let holder = state.connections[index].as_deref();
    let mut published: Published = Vec::new();
    if online {
        if holder == Some(envelope.origin.as_str()) {
            return None;
        }
        let back = holder.is_none() && state.seen[index];
        state.connections[index] = Some(envelope.origin.clone());
        state.seen[index] = true;
        published.push((
            Audience::Seat { seat },
            "seat.holder".into(),
            raw(&json!({ "seat": seat, "origin": envelope.origin })),
        ));
        if back {
            published.push((
                Audience::All,
                "player.reconnect".into(),
                raw(&json!({ "seat": seat })),
            ));
        }
    } else {
        if holder != Some(envelope.origin.as_str()) {
            return None;
        }
        state.connections[index] = None;
        published.push((
            Audience::All,
            "player.leave".into(),
            raw(&json!({ "seat": seat })),
        ));
    }
    Some(published)
}

/// An action's one `action.result`, to where it came from.
fn answer(origin: Audience, outcome: &Outcome) -> (Audience, String, Box<RawValue>) {
    (origin, "action.result".into(), raw(outcome))
}

/// Events to publish: each one's audience, message type and payload, the payload
/// serialized once, where it is made.
pub(crate) type Published = Vec<(Audience, String, Box<RawValue>)>;

fn raw<T: Serialize + ?Sized>(payload: &T) -> Box<RawValue> {
    serde_json::value::to_raw_value(payload).expect("payloads always serialize")
}

/// Applies one action to a copy of the state; the events to publish when it holds.
fn apply(state: &mut TableState, envelope: &ActionEnvelope) -> (Outcome, Published) {
    match envelope.role {
        Role::Observer => {
            return (
                Outcome::error("forbidden", "observers cannot act"),
                Vec::new(),
            );
        }
        Role::System if envelope.message_type == "seat" => return seat(state, envelope),
        Role::System => {
            return (
                Outcome::error("invalid_action", "unknown system action"),
                Vec::new(),
            );
        }
        Role::Player => {}
    }
    let Some(player) = envelope.player_id else {
        return (
            Outcome::error("unauthorized", "a player action needs a player"),
            Vec::new(),
        );
    };
    let Some(seat) = state.seat_of(player).filter(|s| Some(*s) == envelope.seat) else {
        return (
            Outcome::error("forbidden", "that seat is not yours"),
            Vec::new(),
        );
    };
    let Some(game) = state.game.as_mut() else {
        return (
            Outcome::error(
                "invalid_action",
                "the hand is dealt when all five seats are taken",
            ),
            Vec::new(),
        );
    };
    // The payload is read once, here, from the text the client sent.
    let mut action = match envelope.payload.value() {
        Value::Object(map) => map,
        Value::Null => serde_json::Map::new(),
        _ => {
            return (
                Outcome::error("invalid_action", "the payload must be an object"),
                Vec::new(),
            );
        }
    };
    // A client acting on an older state than the server's is out of step: resync.
    if let Some(expected) = action.get("state_version").and_then(Value::as_u64)
        && expected != game.version()
    {
        return (
            Outcome::error(
                "desync",
                format!("the game is at version {}", game.version()),
            ),
            Vec::new(),
        );
    }
    action.remove("state_version");
    action.insert("type".into(), envelope.message_type.clone().into());
    let action: Action = match serde_json::from_value(Value::Object(action)) {
        Ok(action) => action,
        Err(err) => {
            return (
                Outcome::error("invalid_action", format!("not an action: {err}")),
                Vec::new(),
            );
        }
    };
    let events = match game.apply(seat, action) {
        Ok(events) => events,
        Err(err) => return (rule_error(&err), Vec::new()),
    };
    let mut published = Vec::new();
    route_events(state, events, &mut published);
    // A finished hand: the next one is dealt at once (the match goes on).
    if let Some(game) = state.game.as_mut().filter(|g| g.phase() == Phase::HandOver)
        && let Ok(events) = game.deal_next_hand()
    {
        route_events(state, events, &mut published);
    }
    (Outcome::ok(Value::Null), published)
}

fn rule_error(err: &RuleError) -> Outcome {
    Outcome::error(err.code(), err.to_string())
}

/// A seat's cards, to that seat only.
fn hand_update(game: &Game, seat: u8) -> (Audience, String, Box<RawValue>) {
    #[derive(Serialize)]
    struct HandUpdate<'a> {
        seat: u8,
        hand: &'a [guildhall_briscola::Card],
    }
    let hand = game.hand(seat);
    (
        Audience::Seat { seat },
        "hand.update".into(),
        raw(&HandUpdate { seat, hand }),
    )
}

/// A `sync` for every seated player (its own view) and one for observers.
pub(crate) fn snapshots(state: &TableState) -> Published {
    let mut published: Published = (0..5u8)
        .filter(|seat| state.seats[*seat as usize].is_some())
        .map(|seat| {
            (
                Audience::Seat { seat },
                "sync".into(),
                raw(&state.snapshot_view(Some(seat))),
            )
        })
        .collect();
    published.push((
        Audience::Observers,
        "sync".into(),
        raw(&state.snapshot_view(None)),
    ));
    published
}

/// Hand updates go to their seat only; everything else to all, and every phase change
/// is followed by fresh snapshots, each role its own.
fn route_events(state: &TableState, events: Vec<Event>, published: &mut Published) {
    let Some(game) = &state.game else { return };
    for event in events {
        if let Event::HandUpdate { seat } = event {
            published.push(hand_update(game, seat));
            continue;
        }
        published.push((Audience::All, event.message_type().into(), raw(&event)));
        if matches!(event, Event::PhaseChange { .. }) {
            published.extend(snapshots(state));
        }
    }
}

/// Seats a player (head's join): their existing seat, or the first free one; the fifth
/// seat deals the hand.
fn seat(state: &mut TableState, envelope: &ActionEnvelope) -> (Outcome, Published) {
    let Some(player) = envelope.player_id else {
        return (
            Outcome::error("invalid_action", "seat needs a player"),
            Vec::new(),
        );
    };
    let display_name = envelope.payload.value()["display_name"]
        .as_str()
        .map(str::to_owned);
    if let Some(seat) = state.seat_of(player) {
        // Joining again may name the seat anew.
        let holder = state.seats[seat as usize].as_mut();
        if let Some(holder) =
            holder.filter(|h| display_name.is_some() && h.display_name != display_name)
        {
            holder.display_name = display_name.clone();
            let named = json!({ "seat": seat, "display_name": display_name });
            return (
                Outcome::ok(json!({ "seat": seat })),
                vec![(Audience::All, "player.join".to_owned(), raw(&named))],
            );
        }
        return (Outcome::ok(json!({ "seat": seat })), Vec::new());
    }
    let Some(free) = state.seats.iter().position(Option::is_none) else {
        return (
            Outcome::error("join_failed", "the table is full"),
            Vec::new(),
        );
    };
    state.seats[free] = Some(SeatHolder {
        player_id: player,
        display_name: display_name.clone(),
    });
    let mut published = vec![(
        Audience::All,
        "player.join".to_owned(),
        raw(&json!({ "seat": free, "display_name": display_name })),
    )];
    if state.seats.iter().all(Option::is_some) && state.game.is_none() {
        let game = Game::new(state.options, state.seed);
        published.extend((0..5u8).map(|seat| hand_update(&game, seat)));
        state.game = Some(game);
        published.extend(snapshots(state));
        published.push((
            Audience::All,
            "phase.change".into(),
            raw(&json!({ "type": "phase.change", "phase": "auction" })),
        ));
    }
    (Outcome::ok(json!({ "seat": free })), published)
}
