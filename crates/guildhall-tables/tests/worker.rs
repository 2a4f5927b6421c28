//! A game's worker on the in-process bus and on Redis: seating, a full hand played by
//! bots that mirror the rules, role-aware events, refusals, forged envelopes, retried
//! action ids, and a worker killed mid-hand that resumes from its persisted state.

use std::sync::Arc;
use std::time::Duration;

use guildhall_briscola::{Action, Game, Phase, TableOptions};
use guildhall_bus::{Delivery, MemoryBus, RedisBus, SharedBus, Subscription};
use guildhall_tables::envelope::{
    PROTOCOL_VERSION, actions_channel, events_channel, log_key, state_key,
};
use guildhall_tables::worker::SNAPSHOT_EVERY;
use guildhall_tables::{
    ActionEnvelope, Audience, EventEnvelope, Role, Seal, TableState, Worker, decode_batch,
};
use guildhall_testkit::{redis_prefix, redis_url};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const KEY: &str = "tables-test-internal-token";
const GAME: &str = "K7M2PQ";
const SEED: u64 = 20_261_121;
const WAIT: Duration = Duration::from_secs(5);

async fn memory() -> Option<SharedBus> {
    Some(Arc::new(MemoryBus::new()))
}

async fn redis() -> Option<SharedBus> {
    let url = redis_url()?;
    Some(Arc::new(RedisBus::open(&url, &redis_prefix()).unwrap()))
}

struct Table {
    bus: SharedBus,
    worker: Arc<Worker>,
    events: Subscription,
    /// Events of a batch already received and not yet looked at.
    unread: std::collections::VecDeque<EventEnvelope>,
    players: [Uuid; 5],
    mirror: Game,
    running: Option<(CancellationToken, tokio::task::JoinHandle<()>)>,
    next: u64,
}

impl Table {
    async fn new(bus: SharedBus) -> Self {
        Self::with_lifetime(bus, Duration::from_secs(3600)).await
    }

    /// A table whose state lives `state_ttl` untouched.
    async fn with_lifetime(bus: SharedBus, state_ttl: Duration) -> Self {
        let worker = Arc::new(Worker::new(bus.clone(), Seal::new(KEY), state_ttl));
        let options = TableOptions::default();
        worker
            .create(&TableState::new(GAME, options, SEED))
            .await
            .unwrap();
        let events = bus.subscribe(&events_channel(GAME)).await.unwrap();
        let mut table = Self {
            bus,
            worker,
            events,
            unread: Default::default(),
            players: std::array::from_fn(|_| Uuid::new_v4()),
            mirror: Game::new(options, SEED),
            running: None,
            next: 0,
        };
        table.start().await;
        table
    }

    /// Starts a worker and waits for its start-up resync (it is listening by then); the
    /// events of that resync.
    async fn start(&mut self) -> Vec<EventEnvelope> {
        let token = CancellationToken::new();
        let (worker, stop) = (self.worker.clone(), token.clone());
        let handle = tokio::spawn(async move {
            worker.run(GAME, stop).await;
        });
        self.running = Some((token, handle));
        let mut seen = Vec::new();
        loop {
            let event = self.next_event("the worker's start-up sync").await;
            let done = event.message_type == "sync" && event.to == Audience::Observers;
            seen.push(event);
            if done {
                return seen;
            }
        }
    }

    /// The next event, from the batch in hand or the next one published.
    async fn next_event(&mut self, what: &str) -> EventEnvelope {
        while self.unread.is_empty() {
            let delivery = tokio::time::timeout(WAIT, self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("{what} within 5 s"))
                .expect("the bus is alive");
            if let Delivery::Message(bytes) = delivery {
                let batch = decode_batch(&bytes);
                assert!(!batch.is_empty(), "an empty or unreadable batch");
                self.unread.extend(batch);
            }
        }
        self.unread.pop_front().unwrap()
    }

    /// Kills the worker where it stands, like `kill -9`: no cleanup runs.
    fn kill(&mut self) {
        if let Some((_, handle)) = self.running.take() {
            handle.abort();
        }
    }

    fn envelope(
        &mut self,
        role: Role,
        player: Option<usize>,
        message_type: &str,
        payload: Value,
    ) -> ActionEnvelope {
        self.next += 1;
        ActionEnvelope {
            game_id: GAME.into(),
            player_id: player.map(|p| self.players[p]),
            role,
            seat: player.map(|p| p as u8),
            action_id: format!("action-{}", self.next),
            ts: 0,
            version: PROTOCOL_VERSION.into(),
            origin: "test:1".into(),
            message_type: message_type.into(),
            payload: payload.into(),
        }
    }

    async fn publish(&self, envelope: &ActionEnvelope, seal: &Seal) {
        self.bus
            .publish(&actions_channel(GAME), &seal.seal(envelope))
            .await
            .unwrap();
    }

    /// Sends an action and collects every event up to and including its result.
    async fn send(&mut self, envelope: &ActionEnvelope) -> (Value, Vec<EventEnvelope>) {
        self.publish(envelope, &Seal::new(KEY)).await;
        self.until_result(&envelope.action_id).await
    }

    async fn until_result(&mut self, action_id: &str) -> (Value, Vec<EventEnvelope>) {
        let mut seen = Vec::new();
        loop {
            let event = self.next_event("an answer").await;
            if event.message_type == "action.result"
                && event.action_id.as_deref() == Some(action_id)
            {
                return (event.payload, seen);
            }
            seen.push(event);
        }
    }

    async fn seat_everyone(&mut self) -> Vec<EventEnvelope> {
        let mut all = Vec::new();
        for p in 0..5 {
            let env = self.envelope(
                Role::System,
                Some(p),
                "seat",
                json!({"display_name": format!("P{p}")}),
            );
            let (result, events) = self.send(&env).await;
            assert_eq!(result["status"], "ok", "{result}");
            assert_eq!(result["data"]["seat"], p);
            all.extend(events);
        }
        all
    }

    /// The next legal action, as the player whose turn it is sends it.
    fn next_action(&mut self) -> (usize, ActionEnvelope, Action) {
        let seat = self.mirror.turn().expect("someone is to act") as usize;
        // The first bidder bids, everyone after passes: short auctions, never a redeal.
        // (Restating the partner's rank is optional and changes nothing: skip it.)
        let legal: Vec<Action> = self
            .mirror
            .legal_actions(seat as u8)
            .into_iter()
            .filter(|a| !matches!(a, Action::CallPartnerRank { .. }))
            .collect();
        let is_pass = |a: &&Action| matches!(a, Action::Bid(guildhall_briscola::Bid::Pass));
        let someone_bid = self.mirror.player_view(seat as u8).highest_bid.is_some();
        let action = if someone_bid {
            legal.iter().find(is_pass)
        } else {
            legal.iter().find(|a| !is_pass(a))
        }
        .unwrap_or(&legal[0])
        .clone();
        let mut value = serde_json::to_value(&action).unwrap();
        let message_type = value["type"].as_str().unwrap().to_owned();
        value.as_object_mut().unwrap().remove("type");
        let env = self.envelope(Role::Player, Some(seat), &message_type, value);
        (seat, env, action)
    }

    async fn play_one(&mut self) -> ActionEnvelope {
        let (seat, env, action) = self.next_action();
        let (result, _) = self.send(&env).await;
        assert_eq!(result["status"], "ok", "{result} for {action:?}");
        self.mirror.apply(seat as u8, action).unwrap();
        if self.mirror.phase() == Phase::HandOver {
            self.mirror.deal_next_hand().unwrap();
        }
        env
    }

    /// How many changes are logged after the stored snapshot.
    async fn log_len(&self) -> usize {
        let (snapshot, log) = self
            .bus
            .get_with_log(&state_key(GAME), &log_key(GAME))
            .await
            .unwrap();
        assert!(snapshot.is_some(), "a snapshot is stored");
        log.len()
    }

    async fn stored(&self) -> TableState {
        self.worker.load(GAME).await.unwrap().unwrap()
    }
}

fn cards_in(value: &Value) -> Vec<(String, u64)> {
    let mut found = Vec::new();
    match value {
        Value::Object(map) => {
            if let (Some(Value::String(suit)), Some(Value::Number(rank))) =
                (map.get("suit"), map.get("rank"))
            {
                found.push((suit.clone(), rank.as_u64().unwrap()));
            }
            for v in map.values() {
                found.extend(cards_in(v));
            }
        }
        Value::Array(items) => items.iter().for_each(|v| found.extend(cards_in(v))),
        _ => {}
    }
    found
}

macro_rules! on_both_buses {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn memory() {
                    if let Some(bus) = super::memory().await { super::$name(bus).await }
                }
                #[tokio::test]
                async fn redis() {
                    if let Some(bus) = super::redis().await { super::$name(bus).await }
                }
            }
        )+
    };
}

on_both_buses!(
    five_seats_deal_and_each_hand_reaches_only_its_owner,
    a_whole_hand_is_played_and_persisted_action_by_action,
    refusals_change_nothing,
    a_killed_worker_resumes_without_losing_or_doubling_an_action,
    snapshots_and_the_log_between_them_restore_every_acknowledged_change,
    a_game_left_alone_for_half_its_lifetime_is_saved_whole_by_its_next_change,
);

async fn five_seats_deal_and_each_hand_reaches_only_its_owner(bus: SharedBus) {
    let mut table = Table::new(bus).await;
    let events = table.seat_everyone().await;
    let joins = events
        .iter()
        .filter(|e| e.message_type == "player.join")
        .count();
    assert_eq!(joins, 5);
    for seat in 0..5u8 {
        let own: Vec<(String, u64)> = table
            .mirror
            .hand(seat)
            .iter()
            .map(|c| {
                (
                    serde_json::to_value(c.suit)
                        .unwrap()
                        .as_str()
                        .unwrap()
                        .to_owned(),
                    c.rank as u64,
                )
            })
            .collect();
        // Every event addressed to this seat carries only this seat's cards...
        for event in events.iter().filter(|e| e.to == Audience::Seat { seat }) {
            for card in cards_in(&event.payload) {
                assert!(own.contains(&card), "seat {seat} was sent {card:?}");
            }
        }
        // ...and it got its hand.
        assert!(
            events
                .iter()
                .any(|e| e.to == Audience::Seat { seat } && e.message_type == "hand.update")
        );
    }
    // Events for everyone and for observers carry no cards at all before play.
    for event in events
        .iter()
        .filter(|e| matches!(e.to, Audience::All | Audience::Observers))
    {
        assert!(cards_in(&event.payload).is_empty(), "{event:?}");
        assert!(event.payload.get("hand").is_none());
    }
    // Sequence numbers only go up.
    assert!(events.windows(2).all(|w| w[1].seq > w[0].seq));
}

async fn a_whole_hand_is_played_and_persisted_action_by_action(bus: SharedBus) {
    let mut table = Table::new(bus).await;
    table.seat_everyone().await;
    let mut actions = 0;
    while table.mirror.hand_number() == 1 {
        table.play_one().await;
        actions += 1;
        if actions % 7 == 0 {
            // What is stored is exactly the game the rules say.
            assert_eq!(table.stored().await.game.as_ref(), Some(&table.mirror));
        }
        assert!(
            actions < 200,
            "a hand takes at most a full auction and 40 cards"
        );
    }
    let stored = table.stored().await;
    let game = stored.game.unwrap();
    let last = game.last_hand().expect("the first hand is scored");
    assert_eq!(
        u32::from(last.caller_points) + u32::from(last.defender_points),
        120,
        "{last:?}"
    );
    assert_eq!(last.match_points.iter().sum::<i32>(), 0);
    assert_eq!(game.scores().iter().sum::<i32>(), 0);
}

async fn refusals_change_nothing(bus: SharedBus) {
    let mut table = Table::new(bus).await;
    table.seat_everyone().await;
    let before = table.stored().await;

    // Out of turn.
    let not_turn = (table.mirror.turn().unwrap() as usize + 1) % 5;
    let env = table.envelope(Role::Player, Some(not_turn), "bid", json!({"pass": true}));
    let (result, _) = table.send(&env).await;
    assert_eq!(
        (result["code"].as_str(), result["recovery"].as_str()),
        (Some("invalid_turn"), Some("noop"))
    );

    // Someone else's seat.
    let turn = table.mirror.turn().unwrap() as usize;
    let mut env = table.envelope(Role::Player, Some(turn), "bid", json!({"pass": true}));
    env.player_id = Some(Uuid::new_v4());
    let (result, _) = table.send(&env).await;
    assert_eq!(result["code"], "forbidden");

    // An observer acting; a stale client; junk.
    let env = table.envelope(Role::Observer, None, "bid", json!({"pass": true}));
    assert_eq!(table.send(&env).await.0["code"], "forbidden");
    let env = table.envelope(
        Role::Player,
        Some(turn),
        "bid",
        json!({"pass": true, "state_version": 999}),
    );
    let (result, _) = table.send(&env).await;
    assert_eq!(
        (result["code"].as_str(), result["recovery"].as_str()),
        (Some("desync"), Some("sync"))
    );
    let env = table.envelope(Role::Player, Some(turn), "bid", json!({"rank": 42}));
    assert_eq!(table.send(&env).await.0["code"], "invalid_action");
    let env = table.envelope(
        Role::Player,
        Some(turn),
        "play",
        json!({"card": {"suit": "coppe", "rank": 1}}),
    );
    assert_eq!(table.send(&env).await.0["code"], "invalid_action");

    // A forged envelope is dropped unanswered; a sync after it shows it changed nothing.
    let forged = table.envelope(Role::Player, Some(turn), "bid", json!({"pass": true}));
    table.publish(&forged, &Seal::new("not the key")).await;
    let sync = table.envelope(Role::Observer, None, "sync", json!({}));
    let (result, events) = table.send(&sync).await;
    assert_eq!(result["status"], "ok");
    assert!(
        events
            .iter()
            .all(|e| e.action_id.as_deref() != Some(&forged.action_id))
    );
    let snapshot = events.iter().find(|e| e.message_type == "sync").unwrap();
    assert!(
        snapshot.payload.get("hand").is_none(),
        "observers never get a hand"
    );
    assert_eq!(table.stored().await, before);
}

async fn a_killed_worker_resumes_without_losing_or_doubling_an_action(bus: SharedBus) {
    let mut table = Table::new(bus).await;
    table.seat_everyone().await;
    for _ in 0..9 {
        table.play_one().await;
    }
    let last = table.play_one().await;
    let version = table.stored().await.game.unwrap().version();
    table.kill();
    // The new worker resyncs everyone: each seat its own view, observers theirs.
    let events = table.start().await;
    for seat in 0..5u8 {
        let sync = events
            .iter()
            .find(|e| e.message_type == "sync" && e.to == Audience::Seat { seat })
            .expect("a fresh sync for every seat");
        assert_eq!(sync.payload["seat"], seat);
        assert_eq!(sync.payload["version"], version);
    }
    // The last acknowledged action, retried, answers as before and is not applied again.
    let (result, _) = table.send(&last).await;
    assert_eq!(result["status"], "ok");
    assert_eq!(table.stored().await.game.unwrap().version(), version);
    // A third seat sending that id acts anew (its bid, out of turn, is refused) and is
    // not told how the other seat's action went.
    let turn = table.mirror.turn().unwrap();
    let other = (0..5u8)
        .find(|s| Some(*s) != last.seat && *s != turn)
        .unwrap() as usize;
    let mut borrowed = table.envelope(Role::Player, Some(other), "bid", json!({"pass": true}));
    borrowed.action_id = last.action_id.clone();
    let (result, seen) = table.send(&borrowed).await;
    assert_eq!(result["status"], "error", "{result} {seen:?}");
    assert_eq!(table.stored().await.game.unwrap().version(), version);
    // A worker killed while an action is in flight (stored or not, unanswered): the
    // client's retry of that action applies it exactly once.
    let (seat, in_flight, action) = table.next_action();
    table.publish(&in_flight, &Seal::new(KEY)).await;
    table.kill();
    table.start().await;
    let (result, _) = table.send(&in_flight).await;
    assert_eq!(result["status"], "ok", "{result}");
    table.mirror.apply(seat as u8, action).unwrap();
    assert_eq!(table.stored().await.game.as_ref(), Some(&table.mirror));
    // And play goes on from exactly where it was.
    let mut guard = 0;
    while table.mirror.hand_number() == 1 {
        table.play_one().await;
        guard += 1;
        assert!(guard < 200, "the hand ends");
    }
    assert_eq!(table.stored().await.game.as_ref(), Some(&table.mirror));
}

async fn snapshots_and_the_log_between_them_restore_every_acknowledged_change(bus: SharedBus) {
    let mut table = Table::new(bus).await;
    table.seat_everyone().await;
    // A seat's connection is a logged change too.
    let mut online = table.envelope(Role::Player, Some(2), "presence", json!({"online": true}));
    online.origin = "gateway-a:7".into();
    table.publish(&online, &Seal::new(KEY)).await;
    let (mut log_high, mut emptied, mut played) = (0, 0, 0);
    let mut acknowledged = Vec::new();
    // Killed with a few changes logged and with many (a restarted worker saves the state
    // whole as it reserves event numbers anew).
    while table.mirror.hand_number() <= 4 {
        let before = table.log_len().await;
        acknowledged.push(table.play_one().await);
        played += 1;
        let after = table.log_len().await;
        assert!(after <= SNAPSHOT_EVERY, "the log holds {after} changes");
        log_high = log_high.max(after);
        if after < before {
            emptied += 1;
        }
        if [30, 100, 170].contains(&played) {
            let held = table.stored().await;
            table.kill();
            table.start().await;
            // The restarted worker holds what the last one acknowledged, remembered
            // results and connections included.
            let resumed = table.stored().await;
            assert_eq!(resumed.game.as_ref(), Some(&table.mirror));
            assert_eq!(resumed.results, held.results);
            assert_eq!(resumed.connections, held.connections);
            assert_eq!(
                resumed.connections[2].as_deref(),
                Some("gateway-a:7"),
                "the presence change survives"
            );
            // Retries of actions from before the last snapshot and after it answer as
            // first, applying nothing again.
            let version = resumed.game.unwrap().version();
            for retried in [&acknowledged[played - 1], &acknowledged[played - 20]] {
                let (result, _) = table.send(retried).await;
                assert_eq!(result["status"], "ok", "{result}");
            }
            assert_eq!(table.stored().await.game.unwrap().version(), version);
        }
        assert!(played < 500, "four hands end");
    }
    assert!(played > 170, "only {played} actions");
    assert!(
        log_high > 1,
        "changes were logged, not saved whole each time"
    );
    assert!(
        emptied >= 2,
        "the log was emptied by snapshots {emptied} times"
    );
    assert_eq!(table.stored().await.game.as_ref(), Some(&table.mirror));
}

async fn a_game_left_alone_for_half_its_lifetime_is_saved_whole_by_its_next_change(bus: SharedBus) {
    let lifetime = Duration::from_millis(1200);
    let mut table = Table::with_lifetime(bus, lifetime).await;
    table.seat_everyone().await;
    for _ in 0..3 {
        // Left alone for over half the state's lifetime: appending to a log whose
        // snapshot may lapse first would risk the game, so the change saves it whole.
        tokio::time::sleep(lifetime / 2 + Duration::from_millis(50)).await;
        table.play_one().await;
        assert_eq!(table.log_len().await, 0, "saved whole, the log emptied");
    }
    // Played at once, changes are logged again; and the game is there throughout, past
    // several of its lifetimes.
    table.play_one().await;
    table.play_one().await;
    assert!(table.log_len().await >= 1);
    assert_eq!(table.stored().await.game.as_ref(), Some(&table.mirror));
}
