//! One lobby: a task that owns its world and its players, takes commands over a channel,
//! and on a fixed tick applies inputs, steps the simulation and broadcasts a snapshot.
//! Nothing else touches its state, so a lobby that panics or runs slow harms only itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::ws::Message;
use guildhall_jets::{Controls, EndReason, JetId, Rules, World};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::outbox::{Ending, Outbox};
use crate::protocol::{
    ArenaSize, Codec, JetView, MatchClock, MatchInfo, ProjectileView, ResultView, RosterEntry,
    ServerMessage, round1,
};
use crate::results::MatchRecord;

/// A connection attached to a player.
#[derive(Debug, Clone)]
pub struct Connection {
    pub id: u64,
    pub codec: Codec,
    pub outbox: Arc<Outbox>,
}

/// Where a connection leaves its inputs for the lobby's next tick. Writing here wakes
/// nobody: the lobby reads every slot once per tick, so a flood of inputs costs the
/// lobby nothing between ticks.
#[derive(Debug, Default)]
pub struct InputSlot {
    state: Mutex<SlotState>,
}

#[derive(Debug, Default)]
struct SlotState {
    last_seq: u32,
    taken_this_tick: u32,
    /// Newest controls not yet applied, and whether any input this tick fired.
    pending: Option<Controls>,
    fired: bool,
}

/// Why an input was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputRejected {
    /// Its `seq` is not above the last one taken.
    Stale,
    /// The per-tick cap is reached.
    Flood,
}

impl InputSlot {
    /// Takes an input unless it is stale or over the per-tick cap.
    pub fn offer(&self, seq: u32, controls: Controls, cap: u32) -> Result<(), InputRejected> {
        let mut state = self.state.lock().unwrap();
        if seq <= state.last_seq {
            return Err(InputRejected::Stale);
        }
        if state.taken_this_tick >= cap {
            return Err(InputRejected::Flood);
        }
        state.taken_this_tick += 1;
        state.last_seq = seq;
        state.fired |= controls.fire;
        state.pending = Some(controls);
        Ok(())
    }

    /// What the tick applies: the newest controls (firing if any input of the tick fired),
    /// and the last `seq` taken. Starts the next tick's count.
    fn take(&self) -> (Option<Controls>, Option<Controls>, u32) {
        let mut state = self.state.lock().unwrap();
        let latest = state.pending.take();
        let applied = latest.map(|c| Controls {
            fire: c.fire || state.fired,
            ..c
        });
        state.fired = false;
        state.taken_this_tick = 0;
        (applied, latest, state.last_seq)
    }
}

/// How a player proves its seat.
#[derive(Debug)]
pub enum Proof {
    /// A join token from the matchmaker (already verified).
    JoinToken,
    /// The secret from an earlier `welcome`'s `rejoin_token`.
    Rejoin(String),
}

/// Why a join was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum JoinRefused {
    Full,
    /// The rejoin secret is wrong, or the player's seat is gone.
    BadRejoin,
}

#[derive(Debug)]
pub enum Command {
    Join {
        user: Uuid,
        proof: Proof,
        connection: Connection,
        reply: oneshot::Sender<Result<Arc<InputSlot>, JoinRefused>>,
    },
    /// The connection dropped; the seat is kept for the reconnect window.
    Dropped { user: Uuid, connection: u64 },
    /// The player left on purpose; the seat goes at once.
    Leave { user: Uuid, connection: u64 },
    /// Test hook: panic inside the lobby task.
    Crash,
}

/// Fixed settings of every lobby on a server.
#[derive(Debug, Clone)]
pub struct LobbySettings {
    pub rules: Rules,
    pub capacity: usize,
    pub reconnect_window: Duration,
    pub max_inputs_per_tick: u32,
    pub slow_client_timeout: Duration,
}

/// Who is in a lobby, for the matchmaker's heartbeat.
pub type Roster = Arc<Mutex<Vec<Uuid>>>;

struct Player {
    jet: JetId,
    name: String,
    rejoin_secret: String,
    connection: Option<Connection>,
    dropped_at: Option<Instant>,
    /// The current connection's inputs.
    inputs: Arc<InputSlot>,
    last_seq: u32,
}

/// Why a lobby task ended on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Empty,
    Shutdown,
}

pub struct Lobby {
    pub id: Uuid,
    pub mode: String,
    settings: LobbySettings,
    world: World,
    players: HashMap<Uuid, Player>,
    roster: Roster,
    results: mpsc::Sender<MatchRecord>,
    /// Whether anyone has joined yet: a lobby starts empty, a moment before its first
    /// player's join arrives.
    anyone_joined: bool,
}

/// A lobby nobody joins within this long closes.
const UNCLAIMED: Duration = Duration::from_secs(60);

fn secret() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 18];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The next tick boundary on a process-wide clock. Every lobby ticks in the same instant,
/// so the server wakes once per tick for all of them instead of once per lobby, and the
/// snapshots of all lobbies leave in one burst.
fn aligned_start(now: Instant, period: Duration) -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    let since = now.saturating_duration_since(epoch).as_nanos();
    let period_ns = period.as_nanos().max(1);
    let ticks = since.div_ceil(period_ns);
    epoch + Duration::from_nanos((ticks * period_ns) as u64)
}

/// `rj.<lobby>.<user>.<secret>`: what a dropped client presents to get its seat back.
pub fn rejoin_token(lobby: Uuid, user: Uuid, secret: &str) -> String {
    format!("rj.{lobby}.{user}.{secret}")
}

/// Splits a rejoin token into lobby, user and secret.
pub fn parse_rejoin(token: &str) -> Option<(Uuid, Uuid, String)> {
    let rest = token.strip_prefix("rj.")?;
    let mut parts = rest.splitn(3, '.');
    let lobby = parts.next()?.parse().ok()?;
    let user = parts.next()?.parse().ok()?;
    let secret = parts.next()?;
    (!secret.is_empty()).then(|| (lobby, user, secret.to_owned()))
}

impl Lobby {
    pub fn new(
        id: Uuid,
        mode: String,
        settings: LobbySettings,
        roster: Roster,
        results: mpsc::Sender<MatchRecord>,
    ) -> Self {
        // The lobby id seeds the world: a lobby's game is reproducible from its id and inputs.
        let seed = id.as_u64_pair().0 ^ id.as_u64_pair().1;
        Self {
            id,
            mode,
            world: World::new(settings.rules.clone(), seed),
            settings,
            players: HashMap::new(),
            roster,
            results,
            anyone_joined: false,
        }
    }

    /// Runs until the lobby is empty (after the reconnect window) or `shutdown`.
    pub async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        shutdown: CancellationToken,
    ) -> Exit {
        let period = Duration::from_secs_f64(1.0 / self.settings.rules.tick_rate as f64);
        let opened = Instant::now();
        let mut ticker = tokio::time::interval_at(aligned_start(opened, period).into(), period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => {
                    self.end_all(Ending {
                        error: None,
                        lobby_closed: Some("the server is shutting down".into()),
                        close_code: 1001,
                    });
                    return Exit::Shutdown;
                }
                _ = ticker.tick() => {
                    let started = Instant::now();
                    self.tick(started);
                    metrics::histogram!("arena_tick_seconds").record(started.elapsed().as_secs_f64());
                    // Empty after someone played, or nobody came at all: close.
                    if self.players.is_empty()
                        && (self.anyone_joined || started.duration_since(opened) > UNCLAIMED)
                    {
                        return Exit::Empty;
                    }
                }
                command = commands.recv() => match command {
                    Some(command) => self.handle(command),
                    None => return Exit::Shutdown,
                },
            }
        }
    }

    fn handle(&mut self, command: Command) {
        match command {
            Command::Join {
                user,
                proof,
                connection,
                reply,
            } => {
                let _ = reply.send(self.join(user, proof, connection));
            }
            Command::Dropped { user, connection } => {
                if let Some(player) = self.players.get_mut(&user)
                    && player.connection.as_ref().map(|c| c.id) == Some(connection)
                {
                    player.connection = None;
                    player.dropped_at = Some(Instant::now());
                    let _ = self.world.set_controls(player.jet, Controls::default());
                }
            }
            Command::Leave { user, connection } => {
                if self
                    .players
                    .get(&user)
                    .and_then(|p| p.connection.as_ref())
                    .map(|c| c.id)
                    == Some(connection)
                {
                    self.remove(user);
                }
            }
            Command::Crash => panic!("lobby {} crashed on request (test hook)", self.id),
        }
    }

    fn join(
        &mut self,
        user: Uuid,
        proof: Proof,
        connection: Connection,
    ) -> Result<Arc<InputSlot>, JoinRefused> {
        if let Some(player) = self.players.get_mut(&user) {
            if let Proof::Rejoin(secret) = &proof {
                use subtle::ConstantTimeEq;
                if !bool::from(secret.as_bytes().ct_eq(player.rejoin_secret.as_bytes())) {
                    return Err(JoinRefused::BadRejoin);
                }
            }
            // The same user again: the newer connection takes the jet over.
            if let Some(old) = player.connection.take() {
                old.outbox.end(Ending {
                    error: Some((
                        "duplicate_connection_handled".into(),
                        "this player connected again elsewhere".into(),
                    )),
                    lobby_closed: None,
                    close_code: 4409,
                });
            }
            player.connection = Some(connection.clone());
            player.dropped_at = None;
            // A new connection numbers its inputs afresh.
            player.last_seq = 0;
            player.inputs = Arc::default();
            let inputs = player.inputs.clone();
            self.welcome(user, &connection);
            connection
                .outbox
                .push_control(connection.codec.encode(&self.roster()));
            return Ok(inputs);
        }
        if matches!(proof, Proof::Rejoin(_)) {
            return Err(JoinRefused::BadRejoin);
        }
        if self.players.len() >= self.settings.capacity {
            return Err(JoinRefused::Full);
        }
        let jet = self.world.add_jet();
        let inputs = Arc::<InputSlot>::default();
        self.anyone_joined = true;
        self.players.insert(
            user,
            Player {
                jet,
                name: format!("Pilot {jet}"),
                rejoin_secret: secret(),
                connection: Some(connection.clone()),
                dropped_at: None,
                inputs: inputs.clone(),
                last_seq: 0,
            },
        );
        self.welcome(user, &connection);
        self.publish_roster();
        Ok(inputs)
    }

    fn welcome(&self, user: Uuid, connection: &Connection) {
        let player = &self.players[&user];
        let rules = self.world.rules();
        let message = ServerMessage::Welcome {
            lobby_id: self.id,
            jet_id: player.jet,
            tick_rate: rules.tick_rate,
            arena: ArenaSize {
                width: rules.width,
                height: rules.height,
            },
            rejoin_token: rejoin_token(self.id, user, &player.rejoin_secret),
            match_info: MatchInfo {
                number: self.world.match_number(),
                score_limit: rules.score_limit,
                time_limit_ticks: rules.time_limit_ticks(),
            },
        };
        connection
            .outbox
            .push_control(connection.codec.encode(&message));
    }

    fn remove(&mut self, user: Uuid) {
        if let Some(player) = self.players.remove(&user) {
            self.world.remove_jet(player.jet);
            self.publish_roster();
        }
    }

    /// Tells the matchmaker's heartbeat and every player who is here now.
    fn publish_roster(&mut self) {
        *self.roster.lock().unwrap() = self.players.keys().copied().collect();
        let roster = self.roster();
        self.send_all(&roster);
    }

    fn roster(&self) -> ServerMessage {
        let mut players: Vec<RosterEntry> = self
            .players
            .iter()
            .map(|(user, p)| RosterEntry {
                jet_id: p.jet,
                user_id: *user,
                name: p.name.clone(),
            })
            .collect();
        players.sort_by_key(|p| p.jet_id);
        ServerMessage::Roster { players }
    }

    fn end_all(&mut self, ending: Ending) {
        for player in self.players.values_mut() {
            if let Some(connection) = player.connection.take() {
                connection.outbox.end(ending.clone());
            }
        }
    }

    fn tick(&mut self, now: Instant) {
        // Inputs: the newest controls of the tick, firing if any input of the tick fired
        // (a tap shorter than a tick still shoots once).
        let mut tapped = Vec::new();
        for player in self.players.values_mut() {
            let (applied, latest, last_seq) = player.inputs.take();
            player.last_seq = last_seq;
            if let (Some(applied), Some(latest)) = (applied, latest) {
                self.world.set_controls(player.jet, applied);
                if applied != latest {
                    tapped.push((player.jet, latest));
                }
            }
        }
        let events = self.world.step();
        for (jet, held) in tapped {
            self.world.set_controls(jet, held);
        }
        if let Some(result) = events.match_over {
            self.finish_match(result);
        }

        // Seats whose reconnect window has passed go.
        let window = self.settings.reconnect_window;
        let expired: Vec<Uuid> = self
            .players
            .iter()
            .filter(|(_, p)| {
                p.dropped_at
                    .is_some_and(|at| now.duration_since(at) >= window)
            })
            .map(|(user, _)| *user)
            .collect();
        for user in expired {
            self.remove(user);
        }

        self.broadcast(now);
    }

    fn finish_match(&mut self, result: guildhall_jets::MatchResult) {
        let by_jet: HashMap<JetId, Uuid> = self.players.iter().map(|(u, p)| (p.jet, *u)).collect();
        let results: Vec<ResultView> = result
            .results
            .iter()
            .filter_map(|r| {
                by_jet.get(&r.jet_id).map(|user| ResultView {
                    jet_id: r.jet_id,
                    user_id: *user,
                    kills: r.kills,
                    deaths: r.deaths,
                    winner: r.winner,
                })
            })
            .collect();
        let message = ServerMessage::MatchEnd {
            number: result.number,
            results: results.clone(),
            next_match_in_ticks: result.next_match_in_ticks,
        };
        self.send_all(&message);
        let record = MatchRecord {
            match_id: Uuid::now_v7(),
            lobby_id: self.id,
            mode: self.mode.clone(),
            number: result.number,
            ended_by: match result.ended_by {
                EndReason::ScoreLimit => "score_limit",
                EndReason::TimeLimit => "time_limit",
            },
            ticks: result.ticks,
            players: results,
        };
        if !record.players.is_empty() && self.results.try_send(record).is_err() {
            metrics::counter!("arena_results_dropped_total").increment(1);
            tracing::warn!(lobby = %self.id, "match results queue full; a result was dropped");
        }
    }

    fn send_all(&mut self, message: &ServerMessage) {
        let mut frames: [Option<Message>; 2] = [None, None];
        for player in self.players.values() {
            if let Some(connection) = &player.connection {
                let slot = connection.codec as usize;
                let frame = frames[slot].get_or_insert_with(|| connection.codec.encode(message));
                connection.outbox.push_control(frame.clone());
            }
        }
    }

    fn snapshot(&self) -> ServerMessage {
        let seqs: HashMap<JetId, u32> =
            self.players.values().map(|p| (p.jet, p.last_seq)).collect();
        ServerMessage::Snapshot {
            tick: self.world.tick(),
            clock: MatchClock {
                number: self.world.match_number(),
                remaining_ticks: self.world.remaining_ticks(),
            },
            jets: self
                .world
                .jets()
                .iter()
                .filter_map(|jet| {
                    let last_seq = *seqs.get(&jet.id)?;
                    Some(JetView {
                        id: jet.id,
                        x: round1(jet.x),
                        y: round1(jet.y),
                        angle: (jet.angle * 1000.0).round() / 1000.0,
                        vx: round1(jet.vx),
                        vy: round1(jet.vy),
                        health: jet.health,
                        alive: jet.alive,
                        thrust: jet.controls().thrust,
                        score: jet.score,
                        deaths: jet.deaths,
                        last_seq,
                    })
                })
                .collect(),
            projectiles: self
                .world
                .projectiles()
                .iter()
                .map(|p| ProjectileView {
                    id: p.id,
                    owner: p.owner,
                    x: round1(p.x),
                    y: round1(p.y),
                    vx: round1(p.vx),
                    vy: round1(p.vy),
                })
                .collect(),
        }
    }

    fn broadcast(&mut self, now: Instant) {
        if self.players.values().all(|p| p.connection.is_none()) {
            return;
        }
        let snapshot = self.snapshot();
        let mut frames: [Option<Message>; 2] = [None, None];
        let timeout = self.settings.slow_client_timeout;
        let mut slow = Vec::new();
        for (user, player) in &self.players {
            let Some(connection) = &player.connection else {
                continue;
            };
            let slot = connection.codec as usize;
            let frame = frames[slot].get_or_insert_with(|| {
                let frame = connection.codec.encode(&snapshot);
                let bytes = match &frame {
                    Message::Text(t) => t.len(),
                    Message::Binary(b) => b.len(),
                    _ => 0,
                };
                metrics::histogram!("arena_snapshot_bytes").record(bytes as f64);
                frame
            });
            if let Some(stalled) = connection.outbox.push_snapshot(frame.clone(), now) {
                metrics::counter!("arena_snapshots_dropped_total").increment(1);
                if stalled >= timeout {
                    slow.push(*user);
                }
            }
        }
        for user in slow {
            if let Some(player) = self.players.get_mut(&user)
                && let Some(connection) = player.connection.take()
            {
                tracing::info!(lobby = %self.id, %user, "disconnecting a slow client");
                metrics::counter!("arena_slow_disconnects_total").increment(1);
                connection.outbox.end(Ending {
                    error: Some(("slow_consumer".into(), "the client reads too slowly".into())),
                    lobby_closed: None,
                    close_code: 4429,
                });
                player.dropped_at = Some(now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::Next;

    fn lobby() -> Lobby {
        let settings = LobbySettings {
            rules: Rules::default(),
            capacity: 10,
            reconnect_window: Duration::from_secs(15),
            max_inputs_per_tick: 4,
            slow_client_timeout: Duration::from_millis(500),
        };
        let (results, _) = mpsc::channel(1);
        Lobby::new(
            Uuid::new_v4(),
            "arena-ffa".into(),
            settings,
            Roster::default(),
            results,
        )
    }

    fn connect(lobby: &mut Lobby, id: u64) -> Arc<Outbox> {
        let outbox = Arc::new(Outbox::default());
        let connection = Connection {
            id,
            codec: Codec::Json,
            outbox: outbox.clone(),
        };
        lobby
            .join(Uuid::new_v4(), Proof::JoinToken, connection)
            .unwrap();
        outbox
    }

    #[tokio::test]
    async fn a_client_that_stops_reading_is_cut_off_and_holds_one_snapshot_at_most() {
        let mut lobby = lobby();
        let reader = connect(&mut lobby, 1);
        let stuck = connect(&mut lobby, 2);
        let start = Instant::now();
        let tick = Duration::from_millis(33);
        // 0.5 s of ticks: the reader drains, the stuck client does not.
        for i in 0..15 {
            lobby.tick(start + tick * i);
            while let Ok(Next::Send(_)) = tokio::time::timeout(Duration::ZERO, reader.next()).await
            {
            }
        }
        lobby.tick(start + tick * 16);
        let Next::End(ending) = stuck.next().await else {
            panic!("the stuck client was not cut off")
        };
        assert_eq!(ending.close_code, 4429);
        assert_eq!(ending.error.unwrap().0, "slow_consumer");
        // The reader is untouched, and the stuck one keeps its seat for a reconnect.
        assert!(matches!(reader.next().await, Next::Send(_)));
        assert_eq!(lobby.players.len(), 2);
        assert!(
            lobby
                .players
                .values()
                .any(|p| p.connection.is_none() && p.dropped_at.is_some())
        );
    }

    #[tokio::test]
    async fn a_new_lobby_waits_for_its_first_player() {
        let (tx, rx) = mpsc::channel(8);
        let task = tokio::spawn(lobby().run(rx, CancellationToken::new()));
        // Several ticks pass before the first join arrives: the lobby is still there.
        tokio::time::sleep(Duration::from_millis(150)).await;
        let (reply, joined) = oneshot::channel();
        let connection = Connection {
            id: 1,
            codec: Codec::Json,
            outbox: Arc::default(),
        };
        tx.send(Command::Join {
            user: Uuid::new_v4(),
            proof: Proof::JoinToken,
            connection,
            reply,
        })
        .await
        .unwrap();
        assert!(joined.await.unwrap().is_ok());
        assert!(!task.is_finished());
        task.abort();
    }

    #[tokio::test]
    async fn a_dropped_seat_goes_after_the_reconnect_window() {
        let mut lobby = lobby();
        let _outbox = connect(&mut lobby, 1);
        let user = *lobby.players.keys().next().unwrap();
        lobby.handle(Command::Dropped {
            user,
            connection: 1,
        });
        let dropped = lobby.players[&user].dropped_at.unwrap();
        lobby.tick(dropped + Duration::from_secs(14));
        assert_eq!(lobby.players.len(), 1);
        lobby.tick(dropped + Duration::from_secs(15));
        assert!(lobby.players.is_empty());
        assert!(lobby.world.jets().is_empty());
    }

    #[test]
    fn rejoin_tokens_round_trip_and_refuse_junk() {
        let (lobby, user) = (Uuid::new_v4(), Uuid::new_v4());
        let token = rejoin_token(lobby, user, "s3cret");
        assert_eq!(parse_rejoin(&token), Some((lobby, user, "s3cret".into())));
        assert_eq!(parse_rejoin("rj.x.y.z"), None);
        assert_eq!(parse_rejoin(&format!("rj.{lobby}.{user}.")), None);
        assert_eq!(parse_rejoin("eyJhbGciOi"), None);
    }
}
