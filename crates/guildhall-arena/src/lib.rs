//! The arena game server: authoritative jet lobbies over WebSocket.
//!
//! - [`protocol`]: the wire messages (`docs/protocol/arena.md`), JSON or MessagePack.
//! - [`lobby`]: one task per lobby, owning its world; a fixed tick applies inputs, steps
//!   the simulation ([`guildhall_jets`]) and broadcasts one encoded snapshot to everyone.
//! - [`outbox`]: per-connection sending where the newest snapshot replaces an unsent one,
//!   so a slow client costs one snapshot of memory and is cut off after a while.
//! - [`results`]: match history and per-user stats.
//! - [`Arena`]: the lobby registry, the join handshake, panic containment, and the
//!   registration and heartbeat that keep the matchmaker sending players here.

pub mod lobby;
pub mod outbox;
pub mod protocol;
pub mod results;
mod socket;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use guildhall_config::ArenaConfig;
use guildhall_jets::Rules;
use guildhall_matchmaker::api::{Heartbeat, MatchmakerApi};
use guildhall_matchmaker::engine::{LobbyReport, ServerInfo};
use guildhall_tokens::Verifier;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use uuid::Uuid;

use crate::lobby::{Command, Exit, Lobby, LobbySettings, Roster};
use crate::results::{MatchRecord, Results};

/// Commands a lobby may have waiting; a full queue drops inputs (counted), not memory.
const LOBBY_QUEUE: usize = 1024;
/// How long a closed lobby's id is remembered, so late joins get `lobby_closed`.
const CLOSED_MEMORY: Duration = Duration::from_secs(600);

/// Why a lobby is gone, for the connections still attached to it.
#[derive(Debug, Clone, PartialEq)]
pub enum Closed {
    Empty,
    Crashed,
    Shutdown,
}

struct LobbyEntry {
    mode: String,
    commands: mpsc::Sender<Command>,
    roster: Roster,
    /// Cancelled when the lobby task has ended; `reason` says why.
    gone: CancellationToken,
    reason: Arc<Mutex<Option<Closed>>>,
}

/// The arena server of this process.
pub struct Arena {
    config: ArenaConfig,
    server_id: String,
    ws_url: Mutex<String>,
    settings: LobbySettings,
    verifier: Arc<Verifier>,
    lobbies: Mutex<HashMap<Uuid, LobbyEntry>>,
    closed: Mutex<HashMap<Uuid, Instant>>,
    connections: AtomicU64,
    next_connection: AtomicU64,
    results: mpsc::Sender<MatchRecord>,
    /// Wakes the heartbeat early when a lobby closes, so the matchmaker stops sending
    /// players there within a round trip instead of a heartbeat interval.
    report_now: tokio::sync::Notify,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

impl std::fmt::Debug for Arena {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Arena")
            .field("server_id", &self.server_id)
            .finish_non_exhaustive()
    }
}

/// A handle on a lobby for a connection.
pub(crate) struct LobbyRef {
    pub commands: mpsc::Sender<Command>,
    pub gone: CancellationToken,
    pub reason: Arc<Mutex<Option<Closed>>>,
}

impl Arena {
    /// An arena whose results go to `results` (when the process has a database).
    pub fn new(
        config: ArenaConfig,
        verifier: Arc<Verifier>,
        results: Option<Results>,
        shutdown: CancellationToken,
        tasks: &TaskTracker,
    ) -> Arc<Self> {
        let server_id = if config.server_id.is_empty() {
            format!("arena-{}", &Uuid::new_v4().simple().to_string()[..12])
        } else {
            config.server_id.clone()
        };
        let rules = Rules {
            tick_rate: config.tick_rate,
            score_limit: config.score_limit,
            time_limit_secs: config.time_limit_secs,
            ..Rules::default()
        };
        let settings = LobbySettings {
            rules,
            capacity: config.lobby_capacity as usize,
            reconnect_window: Duration::from_secs(config.reconnect_window_secs),
            max_inputs_per_tick: config.max_inputs_per_tick,
            slow_client_timeout: Duration::from_millis(config.slow_client_timeout_ms),
        };
        let (tx, rx) = mpsc::channel(1024);
        match results {
            Some(results) => {
                tasks.spawn(results.writer(rx));
            }
            None => {
                // No database here: results are counted and let go.
                tasks.spawn(async move {
                    let mut rx = rx;
                    while rx.recv().await.is_some() {
                        metrics::counter!("arena_results_dropped_total").increment(1);
                    }
                });
            }
        }
        Arc::new(Self {
            config,
            server_id,
            ws_url: Mutex::new(String::new()),
            settings,
            verifier,
            lobbies: Mutex::new(HashMap::new()),
            closed: Mutex::new(HashMap::new()),
            connections: AtomicU64::new(0),
            next_connection: AtomicU64::new(1),
            results: tx,
            report_now: tokio::sync::Notify::new(),
            shutdown,
            tasks: tasks.clone(),
        })
    }

    pub fn server_id(&self) -> &str {
        &self.server_id
    }

    /// The WebSocket URL the matchmaker sends clients to.
    pub fn ws_url(&self) -> String {
        self.ws_url.lock().unwrap().clone()
    }

    /// Sets the advertised URL once the listener's address is known (the configured
    /// `public_url` wins).
    pub fn set_listen_addr(&self, addr: std::net::SocketAddr) {
        let url = if self.config.public_url.is_empty() {
            format!("ws://{addr}/arena/ws")
        } else {
            self.config.public_url.clone()
        };
        *self.ws_url.lock().unwrap() = url;
    }

    /// Lobbies running now.
    pub fn lobby_count(&self) -> usize {
        self.lobbies.lock().unwrap().len()
    }

    /// Lobby ids running now.
    pub fn lobby_ids(&self) -> Vec<Uuid> {
        self.lobbies.lock().unwrap().keys().copied().collect()
    }

    /// Test hook: makes a lobby's task panic, to show that nothing else notices.
    #[doc(hidden)]
    pub async fn crash_lobby(&self, lobby: Uuid) -> bool {
        let commands = self
            .lobbies
            .lock()
            .unwrap()
            .get(&lobby)
            .map(|l| l.commands.clone());
        match commands {
            Some(commands) => commands.send(Command::Crash).await.is_ok(),
            None => false,
        }
    }

    pub(crate) fn connection_id(&self) -> u64 {
        self.next_connection.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn connection_opened(&self) {
        let now = self.connections.fetch_add(1, Ordering::Relaxed) + 1;
        metrics::gauge!("arena_players").set(now as f64);
    }

    pub(crate) fn connection_closed(&self) {
        let now = self
            .connections
            .fetch_sub(1, Ordering::Relaxed)
            .saturating_sub(1);
        metrics::gauge!("arena_players").set(now as f64);
    }

    /// Connected players over all lobbies.
    pub fn players(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    /// The lobby, started if it is new here. `None` when it has closed (or the server is
    /// full and it would be new).
    pub(crate) fn lobby(self: &Arc<Self>, id: Uuid, mode: &str, create: bool) -> Option<LobbyRef> {
        let mut lobbies = self.lobbies.lock().unwrap();
        if let Some(entry) = lobbies.get(&id) {
            return Some(LobbyRef {
                commands: entry.commands.clone(),
                gone: entry.gone.clone(),
                reason: entry.reason.clone(),
            });
        }
        if !create || self.closed.lock().unwrap().contains_key(&id) || self.shutdown.is_cancelled()
        {
            return None;
        }
        if self.players() >= self.config.capacity as u64 {
            return None;
        }
        let (tx, rx) = mpsc::channel(LOBBY_QUEUE);
        let roster: Roster = Arc::default();
        let entry = LobbyEntry {
            mode: mode.to_owned(),
            commands: tx,
            roster: roster.clone(),
            gone: CancellationToken::new(),
            reason: Arc::default(),
        };
        let handle = LobbyRef {
            commands: entry.commands.clone(),
            gone: entry.gone.clone(),
            reason: entry.reason.clone(),
        };
        lobbies.insert(id, entry);
        metrics::gauge!("arena_lobbies").set(lobbies.len() as f64);
        drop(lobbies);

        let lobby = Lobby::new(
            id,
            mode.to_owned(),
            self.settings.clone(),
            roster,
            self.results.clone(),
        );
        let task = tokio::spawn(lobby.run(rx, self.shutdown.child_token()));
        let this = self.clone();
        // The supervisor: whatever way the lobby ends, its connections learn why.
        self.tasks.spawn(async move {
            let closed = match task.await {
                Ok(Exit::Empty) => Closed::Empty,
                Ok(Exit::Shutdown) => Closed::Shutdown,
                Err(err) => {
                    tracing::error!(lobby = %id, %err, "lobby crashed; its players are told and every other lobby goes on");
                    metrics::counter!("arena_lobby_crashes_total").increment(1);
                    Closed::Crashed
                }
            };
            this.forget(id, closed);
        });
        tracing::debug!(lobby = %id, mode, "lobby started");
        Some(handle)
    }

    fn forget(&self, id: Uuid, closed: Closed) {
        let mut lobbies = self.lobbies.lock().unwrap();
        if let Some(entry) = lobbies.remove(&id) {
            *entry.reason.lock().unwrap() = Some(closed);
            entry.gone.cancel();
        }
        metrics::gauge!("arena_lobbies").set(lobbies.len() as f64);
        drop(lobbies);
        let mut recent = self.closed.lock().unwrap();
        let now = Instant::now();
        recent.retain(|_, at| now.duration_since(*at) < CLOSED_MEMORY);
        recent.insert(id, now);
        self.report_now.notify_one();
    }

    fn heartbeat(&self) -> Heartbeat {
        let lobbies = self.lobbies.lock().unwrap();
        Heartbeat {
            lobbies: lobbies
                .iter()
                .map(|(id, entry)| LobbyReport {
                    lobby_id: *id,
                    mode: entry.mode.clone(),
                    players: entry.roster.lock().unwrap().clone(),
                })
                .collect(),
        }
    }

    fn info(&self) -> ServerInfo {
        ServerInfo {
            server_id: self.server_id.clone(),
            ws_url: self.ws_url(),
            capacity: self.config.capacity,
            version: env!("CARGO_PKG_VERSION").into(),
            modes: self.config.modes.clone(),
        }
    }

    /// Registers with the matchmaker and heartbeats until shutdown; registers again
    /// whenever the matchmaker has forgotten this server (it restarted or evicted us).
    pub async fn keep_registered(self: Arc<Self>, matchmaker: Arc<dyn MatchmakerApi>) {
        let interval = Duration::from_millis(self.config.heartbeat_interval_ms);
        let mut registered = false;
        loop {
            if !registered {
                match matchmaker.register_server(self.info()).await {
                    Ok(()) => registered = true,
                    Err(err) => {
                        tracing::warn!(%err, "registering with the matchmaker failed; retrying")
                    }
                }
            } else if let Err(err) = matchmaker
                .heartbeat(&self.server_id, self.heartbeat())
                .await
            {
                if err.code == guildhall_core::ErrorCode::NotFound {
                    tracing::info!("the matchmaker forgot this server; registering again");
                    registered = false;
                    continue;
                }
                tracing::warn!(%err, "heartbeat to the matchmaker failed");
            }
            tokio::select! {
                _ = self.shutdown.cancelled() => return,
                _ = tokio::time::sleep(interval) => {}
                _ = self.report_now.notified() => {}
            }
        }
    }
}

/// `/arena/ws` (the game) and `/play/arena` (the browser client).
pub fn routes(arena: Arc<Arena>) -> Router {
    Router::new()
        .route("/arena/ws", get(socket::upgrade))
        .with_state(arena)
        .merge(client_routes())
}

/// The browser client: a page and its script, compiled into the binary.
pub fn client_routes() -> Router {
    use axum::http::header;
    const PAGE: &str = include_str!("../../../clients/arena-web/index.html");
    const SCRIPT: &str = include_str!("../../../clients/arena-web/arena.js");
    Router::new()
        .route(
            "/play/arena",
            get(|| async { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE) }),
        )
        .route(
            "/play/arena/arena.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    SCRIPT,
                )
            }),
        )
}
