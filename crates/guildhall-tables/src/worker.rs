//! A game's worker: the only writer of one table's state.
//!
//! It listens on `game.<id>.actions`, opens each sealed envelope (dropping forgeries),
//! answers a retried `action_id` with its first result, applies new actions to the rules
//! ([`guildhall_briscola::Game`]), saves the change before anyone hears of the result,
//! then publishes the result to the action's origin and the events to their audiences.
//! A restarted worker loads the state, so nothing acknowledged is lost or applied twice,
//! and publishes a fresh `sync` to everyone.
//!
//! The state is kept as a snapshot, `game:<id>:state`, and the changes accepted since,
//! `game:<id>:log`: an accepted action (or presence change) appends its envelope to the
//! log in the same step that publishes its events, and every [`SNAPSHOT_EVERY`] changes
//! the whole state is saved again and the log emptied. Loading reads both and applies
//! the logged envelopes again through the same rules, which are deterministic (the deal
//! comes from the table's seed), so the loaded state is exactly the one acknowledged.
//! Saving the whole state (about 12 KB with its remembered results) on every action was
//! a large part of what an action cost the worker and Redis.

use guildhall_core::now_ms;
use std::time::Duration;

use guildhall_briscola::{Game, TableOptions};
use guildhall_bus::{Bus, Delivery, SharedBus};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::envelope::{
    ActionEnvelope, EventBatch, EventRef, PROTOCOL_VERSION, Seal, actions_channel, events_channel,
    heartbeat_key, log_key, state_key,
};
use crate::play::{Published, Step, snapshots, step};
use crate::results::Results;

/// Event numbers reserved at a time (see [`TableState::seq_ceiling`]).
const SEQ_BLOCK: u64 = 1024;
/// Changes logged after a snapshot before the state is saved whole again: a load applies
/// at most this many again.
pub const SNAPSHOT_EVERY: usize = 64;
/// How often the worker says it is alive, and how long that lasts.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);
pub const HEARTBEAT_TTL: Duration = Duration::from_secs(20);

/// Who sits where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeatHolder {
    pub player_id: Uuid,
    pub display_name: Option<String>,
}

/// An action's outcome, as `action.result` carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// `ok` or `error`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// What the client should do: `retry`, `noop` or `sync`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Extra answer data (the seat a `seat` action gave).
    #[serde(skip_serializing_if = "Value::is_null", default)]
    pub data: Value,
}

impl Outcome {
    pub(crate) fn ok(data: Value) -> Self {
        Self {
            status: "ok".into(),
            code: None,
            recovery: None,
            message: None,
            data,
        }
    }

    pub(crate) fn error(code: &str, message: impl Into<String>) -> Self {
        Self {
            status: "error".into(),
            code: Some(code.into()),
            recovery: Some(recovery(code).into()),
            message: Some(message.into()),
            data: Value::Null,
        }
    }
}

/// What a client should do after an error with `code`: `sync` when its state is out
/// of step with the game's (or the game was away), `retry` when the action never
/// reached the game, `noop` otherwise (fix the action or drop it).
pub fn recovery(code: &str) -> &'static str {
    match code {
        "desync" | "game_unavailable" => "sync",
        "routing_failed" => "retry",
        _ => "noop",
    }
}

/// Everything about one table: saved whole every [`SNAPSHOT_EVERY`] changes, and
/// rebuilt from that snapshot and the changes logged since (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableState {
    pub game_id: String,
    pub options: TableOptions,
    pub seed: u64,
    pub seats: [Option<SeatHolder>; 5],
    /// Dealt when the fifth seat is taken.
    pub game: Option<Game>,
    /// Recent results by action id, oldest first. Saved by [`TableState::encode`], which
    /// copies their kept JSON text in.
    #[serde(skip_serializing)]
    pub results: Results,
    /// The last event's sequence number.
    pub event_seq: u64,
    /// Event numbers up to this one may have been published: a restarted worker goes on
    /// from here, so `seq` never repeats (it is saved ahead in blocks).
    #[serde(default)]
    pub seq_ceiling: u64,
    /// The gateway connection holding each seat (its origin), if any.
    #[serde(default)]
    pub connections: [Option<String>; 5],
    /// Seats whose player has connected at least once.
    #[serde(default)]
    pub seen: [bool; 5],
}

impl TableState {
    pub fn new(game_id: &str, options: TableOptions, seed: u64) -> Self {
        Self {
            game_id: game_id.to_owned(),
            options,
            seed,
            seats: Default::default(),
            game: None,
            results: Results::default(),
            event_seq: 0,
            seq_ceiling: 0,
            connections: Default::default(),
            seen: [false; 5],
        }
    }

    /// The state as saved: the JSON object of every field, `results` included.
    pub fn encode(&self) -> Vec<u8> {
        // Room for the fields besides the results (a dealt game is about 3 KB), so the
        // buffer is not grown and copied on the way.
        let mut bytes = Vec::with_capacity(self.results.json_len() + 4096);
        serde_json::to_writer(&mut bytes, self).expect("table states always serialize");
        // `{...}` without `results` (skipped above): append it before the closing brace.
        debug_assert_eq!(bytes.last(), Some(&b'}'));
        bytes.pop();
        bytes.extend_from_slice(b",\"results\":");
        self.results.write_json(&mut bytes);
        bytes.push(b'}');
        bytes
    }

    /// The seat `player` holds, if any.
    pub fn seat_of(&self, player: Uuid) -> Option<u8> {
        self.seats
            .iter()
            .position(|s| s.as_ref().is_some_and(|h| h.player_id == player))
            .map(|s| s as u8)
    }
}

/// A running worker's handles.
pub struct Worker {
    bus: SharedBus,
    seal: Seal,
    state_ttl: Duration,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").finish_non_exhaustive()
    }
}

/// Why a worker stopped.
#[derive(Debug)]
pub enum Stopped {
    Shutdown,
    /// The game's state is gone (never created, or expired).
    NoState,
    /// The bus failed; the supervisor restarts the worker.
    Bus(String),
}

impl Worker {
    pub fn new(bus: SharedBus, seal: Seal, state_ttl: Duration) -> Self {
        Self {
            bus,
            seal,
            state_ttl,
        }
    }

    /// Writes a new table's initial state (head does this at creation).
    pub async fn create(&self, state: &TableState) -> Result<(), String> {
        self.snapshot(state, None).await
    }

    /// Saves the state whole and empties its log (every logged change is in it), then
    /// publishes `events` when given.
    async fn snapshot(
        &self,
        state: &TableState,
        events: Option<(&str, &[u8])>,
    ) -> Result<(), String> {
        let bytes = state.encode();
        metrics::counter!("tables_state_snapshots_total").increment(1);
        self.bus
            .set_clearing_log(
                &state_key(&state.game_id),
                &bytes,
                Some(self.state_ttl),
                &log_key(&state.game_id),
                events,
            )
            .await
            .map_err(|e| e.to_string())
    }

    /// Loads a table's state: its snapshot and the changes logged since.
    pub async fn load(&self, game_id: &str) -> Result<Option<TableState>, String> {
        load_state(&*self.bus, game_id).await
    }

    /// Runs one game until `shutdown`, resuming from its persisted state.
    pub async fn run(&self, game_id: &str, shutdown: CancellationToken) -> Stopped {
        let mut actions = match self.bus.subscribe(&actions_channel(game_id)).await {
            Ok(actions) => actions,
            Err(err) => return Stopped::Bus(err.to_string()),
        };
        let (mut state, mut log) = match restore(&*self.bus, game_id).await {
            Ok(Some((state, logged))) => (state, Log::restored(logged)),
            Ok(None) => return Stopped::NoState,
            Err(err) => return Stopped::Bus(err),
        };
        // Events numbered after the last save may have gone out: go on above them.
        state.event_seq = state.event_seq.max(state.seq_ceiling);
        // Whoever is connected gets the state as it is now (after a restart: resynced).
        self.publish_syncs(&mut state, &mut log).await;
        let mut heartbeat = tokio::time::interval(HEARTBEAT_EVERY);
        // A game untouched for the state's lifetime is gone: its worker stops.
        let idle = tokio::time::sleep(self.state_ttl);
        // One wait on the shutdown token (which every worker shares) for the worker's
        // life, not one per action.
        let stopping = shutdown.cancelled();
        tokio::pin!(idle, stopping);
        loop {
            tokio::select! {
                _ = &mut stopping => {
                    // Stopped on purpose: another worker may take the game at once.
                    let _ = self.bus.delete(&heartbeat_key(game_id)).await;
                    return Stopped::Shutdown;
                }
                _ = &mut idle => match self.load(game_id).await {
                    Ok(None) => return Stopped::NoState,
                    _ => idle.as_mut().reset(tokio::time::Instant::now() + self.state_ttl),
                },
                _ = heartbeat.tick() => {
                    let _ = self.bus.set(&heartbeat_key(game_id), now_ms().to_string().as_bytes(), Some(HEARTBEAT_TTL)).await;
                }
                delivery = actions.recv() => match delivery {
                    None => return Stopped::Bus("the actions subscription ended".into()),
                    // Messages may have been lost: everyone re-reads the state.
                    Some(Delivery::Gap) => self.publish_syncs(&mut state, &mut log).await,
                    Some(Delivery::Message(bytes)) => {
                        let (envelope, body) = match self.seal.open_with_body(&bytes) {
                            Ok((envelope, body)) if envelope.game_id == game_id => (envelope, body),
                            Ok(_) | Err(_) => {
                                metrics::counter!("tables_envelopes_rejected_total").increment(1);
                                tracing::warn!(game = game_id, "dropping an unsigned, forged or misrouted action");
                                continue;
                            }
                        };
                        let change = Change { log: &mut log, entry: body };
                        if let Err(err) = self.handle(&mut state, change, envelope).await {
                            return Stopped::Bus(err);
                        }
                    }
                },
            }
        }
    }

    async fn handle(
        &self,
        state: &mut TableState,
        change: Change<'_>,
        envelope: ActionEnvelope,
    ) -> Result<(), String> {
        let action_id = Some(envelope.action_id.as_str());
        // Changes are saved before anyone hears of them: if the save fails the worker
        // stops and its successor reloads what was saved, so nothing unsaved is acted on.
        match step(state, &envelope) {
            Step::Unchanged(events) => self.send(state, change.log, action_id, events).await,
            Step::Retried(events) => {
                metrics::counter!("tables_actions_replayed_total").increment(1);
                self.send(state, change.log, action_id, events).await;
            }
            Step::Presence(events) => self.save_and_send(state, change, None, events).await?,
            Step::Applied(events) => {
                self.save_and_send(state, change, action_id, events).await?;
                metrics::counter!("tables_actions_applied_total").increment(1);
            }
        }
        Ok(())
    }

    /// Sends every seated player its own snapshot and observers theirs.
    async fn publish_syncs(&self, state: &mut TableState, log: &mut Log) {
        let events = snapshots(state);
        self.send(state, log, None, events).await;
    }

    /// Saves an accepted change and publishes its `events` as one batch, in one step of
    /// the bus: the change is durable before anyone hears of it, and what is saved
    /// already counts the events' numbers. The change is appended to the log, or, every
    /// [`SNAPSHOT_EVERY`] changes, whenever a new block of event numbers is reserved and
    /// when the game was left alone for half its state's lifetime, the whole state is
    /// saved instead. An error means the worker must stop (its
    /// successor reloads what was saved).
    async fn save_and_send(
        &self,
        state: &mut TableState,
        change: Change<'_>,
        action_id: Option<&str>,
        events: Published,
    ) -> Result<(), String> {
        let ceiling = state.seq_ceiling;
        let batch = number(state, action_id, events).into_bytes();
        let channel = events_channel(&state.game_id);
        if state.seq_ceiling != ceiling
            || change.log.logged >= SNAPSHOT_EVERY
            || change.log.stale(self.state_ttl)
        {
            self.snapshot(state, Some((&channel, &batch))).await?;
            change.log.snapshotted();
            return Ok(());
        }
        let renew = change.log.renew(self.state_ttl);
        self.bus
            .append_and_publish(
                &state_key(&state.game_id),
                &log_key(&state.game_id),
                change.entry,
                renew,
                &channel,
                &batch,
            )
            .await
            .map_err(|e| e.to_string())?;
        change.log.appended(renew.is_some());
        Ok(())
    }

    /// Numbers `events` and publishes them as one batch, in order.
    async fn send(
        &self,
        state: &mut TableState,
        log: &mut Log,
        action_id: Option<&str>,
        events: Published,
    ) {
        if events.is_empty() {
            return;
        }
        let ceiling = state.seq_ceiling;
        let batch = number(state, action_id, events);
        if state.seq_ceiling != ceiling {
            // The next block of numbers is reserved before any of them goes out.
            match self.snapshot(state, None).await {
                Ok(()) => log.snapshotted(),
                Err(err) => {
                    tracing::warn!(%err, game = %state.game_id, "saving the event numbers failed")
                }
            }
        }
        if let Err(err) = self
            .bus
            .publish(&events_channel(&state.game_id), &batch.into_bytes())
            .await
        {
            tracing::warn!(%err, game = %state.game_id, "publishing events failed");
        }
    }
}

/// An accepted change, as the worker logs it: the envelope's JSON text, and the game's log.
struct Change<'a> {
    log: &'a mut Log,
    entry: &'a [u8],
}

/// What the worker knows of its game's log: how many changes it holds after the snapshot,
/// and when an append last renewed the lifetimes of both.
struct Log {
    logged: usize,
    renewed: Option<tokio::time::Instant>,
}

impl Log {
    /// A log read back at start: nobody knows when it was last renewed.
    fn restored(logged: usize) -> Self {
        Self {
            logged,
            renewed: None,
        }
    }

    /// A snapshot was saved (with the state's lifetime) and the log emptied.
    fn snapshotted(&mut self) {
        self.logged = 0;
        self.renewed = Some(tokio::time::Instant::now());
    }

    /// The lifetime the next append gives the snapshot and the log: the first append
    /// after a snapshot gives the new log one, then a renewal every quarter of `ttl`
    /// keeps both alive while the game is played (and each snapshot renews the state).
    fn renew(&self, ttl: Duration) -> Option<Duration> {
        let due = self.logged == 0 || self.renewed.is_none_or(|at| at.elapsed() >= ttl / 4);
        due.then_some(ttl)
    }

    /// Whether the snapshot may be near the end of its lifetime (the game was left alone
    /// for half of it): the next change saves the state whole rather than log to a record
    /// that may be gone.
    fn stale(&self, ttl: Duration) -> bool {
        self.renewed.is_some_and(|at| at.elapsed() >= ttl / 2)
    }

    fn appended(&mut self, renewed: bool) {
        self.logged += 1;
        if renewed {
            self.renewed = Some(tokio::time::Instant::now());
        }
    }
}

/// Loads a table's state from `bus`: its snapshot with the changes logged since applied
/// again.
pub async fn load_state(bus: &dyn Bus, game_id: &str) -> Result<Option<TableState>, String> {
    Ok(restore(bus, game_id).await?.map(|(state, _logged)| state))
}

/// A table's snapshot with its logged changes applied again, and how many there were.
async fn restore(bus: &dyn Bus, game_id: &str) -> Result<Option<(TableState, usize)>, String> {
    let (snapshot, log) = bus
        .get_with_log(&state_key(game_id), &log_key(game_id))
        .await
        .map_err(|e| e.to_string())?;
    let Some(snapshot) = snapshot else {
        return Ok(None);
    };
    let mut state: TableState = serde_json::from_slice(&snapshot)
        .map_err(|e| format!("unreadable state of {game_id}: {e}"))?;
    for entry in &log {
        let envelope: ActionEnvelope = serde_json::from_slice(entry)
            .map_err(|e| format!("unreadable change of {game_id}: {e}"))?;
        // Exactly what handling it first did, without sending its events.
        step(&mut state, &envelope);
    }
    Ok(Some((state, log.len())))
}

/// Numbers `events` into one batch. When they would pass `seq_ceiling`, the ceiling is
/// raised by a block first; the caller saves the state before publishing the batch.
fn number(state: &mut TableState, action_id: Option<&str>, events: Published) -> EventBatch {
    let last = state.event_seq + events.len() as u64;
    if last > state.seq_ceiling {
        state.seq_ceiling = last + SEQ_BLOCK;
    }
    let (ts, state_version) = (now_ms(), state.game.as_ref().map(Game::version));
    let mut batch = EventBatch::new();
    for (to, message_type, payload) in &events {
        state.event_seq += 1;
        batch.push_ref(EventRef {
            game_id: &state.game_id,
            seq: state.event_seq,
            to,
            message_type,
            action_id,
            ts,
            version: PROTOCOL_VERSION,
            state_version,
            payload,
        });
    }
    batch
}
