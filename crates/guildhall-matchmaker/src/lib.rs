//! The matchmaker: players queue with tickets, game servers register and heartbeat, and a
//! matching pass places tickets in lobbies.
//!
//! - [`engine`]: the state and rules, without I/O (modes, skill windows that widen with
//!   waiting, drop-in, server capacity, eviction of silent servers).
//! - [`Matchmaker`]: the engine behind a lock, a matching loop, long-poll waiters, join
//!   tokens signed by auth, and write-through persistence ([`store::RedisStore`] in the
//!   split shape) so a restart loses no queued ticket.
//! - [`api::MatchmakerApi`]: the contract head and game servers use, in process or over
//!   HTTP ([`http`], [`client`]).

pub mod api;
pub mod client;
pub mod engine;
pub mod http;
pub mod public;
pub mod store;

use guildhall_core::now_ms;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use guildhall_auth::api::AuthApi;
use guildhall_config::MatchmakerConfig;
use guildhall_core::{ApiError, ErrorCode};
use guildhall_tokens::{ARENA_AUDIENCE, Grant};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use uuid::Uuid;

use crate::api::{Heartbeat, MatchmakerApi, NewTicket, TicketView};
use crate::engine::{Changes, CreateError, Engine, Placement, ServerInfo, Status, Ticket, Timing};
use crate::store::{Batch, StateStore};

/// Properties a ticket may carry.
const MAX_PROPERTIES: usize = 16;

/// A batch for the writer, and who waits for it to be durable.
type Write = (Batch, Option<oneshot::Sender<bool>>);

/// The matchmaker service.
pub struct Matchmaker {
    engine: Mutex<Engine>,
    config: MatchmakerConfig,
    auth: Arc<dyn AuthApi>,
    /// Batches go to the writer in the order the engine made them (sent under the lock).
    writes: Option<mpsc::UnboundedSender<Write>>,
    waiters: Mutex<HashMap<Uuid, Arc<Notify>>>,
    kick: Notify,
}

impl std::fmt::Debug for Matchmaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matchmaker").finish_non_exhaustive()
    }
}

impl Matchmaker {
    /// Restores saved state (when there is a store) and starts the matching loop and the
    /// writer.
    pub async fn start(
        config: MatchmakerConfig,
        auth: Arc<dyn AuthApi>,
        store: Option<Arc<dyn StateStore>>,
        shutdown: CancellationToken,
        tasks: &TaskTracker,
    ) -> anyhow::Result<Arc<Self>> {
        let timing = Timing {
            server_timeout_ms: config.server_timeout_ms as i64,
            reservation_ms: (config.join_token_ttl_secs as i64 + 5) * 1000,
            finished_ticket_ms: config.finished_ticket_ttl_secs as i64 * 1000,
        };
        let mut engine = Engine::new(&config.modes, timing);
        let writes = match store {
            Some(store) => {
                let saved = store.load().await?;
                tracing::info!(
                    tickets = saved.tickets.len(),
                    servers = saved.servers.len(),
                    lobbies = saved.lobbies.len(),
                    "restored matchmaking state"
                );
                engine.restore(saved.tickets, saved.servers, saved.lobbies, now_ms());
                let (tx, rx) = mpsc::unbounded_channel();
                tasks.spawn(writer(store, rx));
                Some(tx)
            }
            None => None,
        };
        let this = Arc::new(Self {
            engine: Mutex::new(engine),
            config,
            auth,
            writes,
            waiters: Mutex::new(HashMap::new()),
            kick: Notify::new(),
        });
        tasks.spawn(this.clone().matching_loop(shutdown));
        Ok(this)
    }

    /// Queued tickets and open lobbies, for metrics and tests.
    pub fn counts(&self) -> (usize, usize) {
        let engine = self.engine.lock().unwrap();
        (engine.queued_count(), engine.lobby_count())
    }

    async fn matching_loop(self: Arc<Self>, shutdown: CancellationToken) {
        let interval = Duration::from_millis(self.config.match_interval_ms);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(interval) => {}
                _ = self.kick.notified() => {}
            }
            self.match_once().await;
        }
    }

    /// One matching pass: place tickets, sign their join tokens, record and announce.
    pub async fn match_once(&self) {
        let now = now_ms();
        let (placements, durable) = self.mutate(|engine, changes| engine.run(now, changes));
        // The placed tickets are saved as assigned-without-token: after a crash here they
        // are not finished, and the next pass of a restarted matchmaker cannot lose them.
        let _ = durable;
        if placements.is_empty() {
            self.gauges();
            return;
        }
        let signed =
            futures_util::future::join_all(placements.iter().map(|p| self.sign_join(p))).await;
        let mut failed = 0;
        let (_, durable) = self.mutate(|engine, changes| {
            let now = now_ms();
            for (placement, token) in placements.iter().zip(signed) {
                match token {
                    Ok(token) => {
                        engine.complete(placement, token, now);
                        changes.tickets.push(placement.ticket);
                    }
                    Err(err) => {
                        failed += 1;
                        tracing::warn!(%err, ticket = %placement.ticket, "signing a join token failed; the ticket queues again");
                        engine.revert(placement, changes);
                    }
                }
            }
        });
        if let Some(durable) = durable {
            let _ = durable.await;
        }
        metrics::counter!("matchmaker_assignments_total")
            .increment((placements.len() - failed) as u64);
        for placement in &placements {
            self.wake(placement.ticket);
        }
        self.gauges();
    }

    fn gauges(&self) {
        let (queued, lobbies) = self.counts();
        metrics::gauge!("matchmaker_queued_tickets").set(queued as f64);
        metrics::gauge!("matchmaker_lobbies").set(lobbies as f64);
    }

    async fn sign_join(&self, placement: &Placement) -> Result<String, ApiError> {
        let mut claims = serde_json::Map::new();
        claims.insert("lobby".into(), placement.lobby.to_string().into());
        claims.insert("mode".into(), placement.mode.clone().into());
        claims.insert("srv".into(), placement.server_id.clone().into());
        self.auth
            .sign_grant(Grant {
                aud: ARENA_AUDIENCE.into(),
                sub: placement.user,
                ttl_secs: self.config.join_token_ttl_secs,
                claims,
            })
            .await
    }

    /// Runs `f` on the engine and hands what changed to the writer in order. The receiver
    /// resolves once the change is durable (at once without a store).
    fn mutate<T>(
        &self,
        f: impl FnOnce(&mut Engine, &mut Changes) -> T,
    ) -> (T, Option<oneshot::Receiver<bool>>) {
        let mut engine = self.engine.lock().unwrap();
        let mut changes = Changes::default();
        let out = f(&mut engine, &mut changes);
        for id in &changes.tickets {
            if changes.removed_tickets.contains(id) {
                continue;
            }
            if matches!(engine.ticket(*id).map(|t| t.status), Some(Status::Expired)) {
                self.wake(*id);
            }
        }
        let Some(writes) = &self.writes else {
            return (out, None);
        };
        if changes.is_empty() {
            return (out, None);
        }
        let mut batch = Batch {
            removed_tickets: changes.removed_tickets,
            removed_servers: changes.removed_servers,
            removed_lobbies: changes.removed_lobbies,
            ..Batch::default()
        };
        let mut seen = std::collections::HashSet::new();
        for id in changes.tickets {
            if seen.insert(id)
                && let Some(t) = engine.ticket(id)
            {
                batch.tickets.push(t.clone());
            }
        }
        for id in changes.servers {
            if let Some(s) = engine.server(&id) {
                batch.servers.push(s.clone());
            }
        }
        let mut seen = std::collections::HashSet::new();
        for id in changes.lobbies {
            if seen.insert(id)
                && let Some(l) = engine.lobby(id)
            {
                batch.lobbies.push(l.clone());
            }
        }
        let (tx, rx) = oneshot::channel();
        let _ = writes.send((batch, Some(tx)));
        (out, Some(rx))
    }

    fn wake(&self, ticket: Uuid) {
        if let Some(notify) = self.waiters.lock().unwrap().get(&ticket) {
            notify.notify_waiters();
        }
    }

    fn view(ticket: &Ticket) -> TicketView {
        // Placed but not yet signed is still "queued" to the client.
        let status = match (&ticket.status, &ticket.assignment) {
            (Status::Assigned, None) => Status::Queued,
            (status, _) => *status,
        };
        TicketView {
            ticket_id: ticket.id,
            mode: ticket.mode.clone(),
            status,
            assignment: ticket.assignment.clone(),
        }
    }

    /// The user's own ticket; someone else's is as unknown as a missing one.
    fn own_view(&self, user: Uuid, id: Uuid) -> Result<TicketView, ApiError> {
        let engine = self.engine.lock().unwrap();
        match engine.ticket(id) {
            Some(t) if t.user == user => Ok(Self::view(t)),
            _ => Err(not_found()),
        }
    }

    async fn durable(&self, rx: Option<oneshot::Receiver<bool>>) -> Result<(), ApiError> {
        match rx {
            None => Ok(()),
            Some(rx) => match rx.await {
                Ok(true) => Ok(()),
                _ => Err(ApiError::new(
                    ErrorCode::Unavailable,
                    "matchmaking state could not be saved; try again",
                )),
            },
        }
    }
}

fn not_found() -> ApiError {
    ApiError::new(ErrorCode::TicketNotFound, "no such ticket")
}

fn check_properties(
    properties: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), ApiError> {
    if properties.len() > MAX_PROPERTIES {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!("at most {MAX_PROPERTIES} properties"),
        ));
    }
    if let Some(rating) = properties.get("rating")
        && !rating.as_f64().is_some_and(f64::is_finite)
    {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "properties.rating must be a number",
        ));
    }
    Ok(())
}

/// Writes batches in order; a failed write is retried until it lands, because the
/// callers waiting on it were promised durability.
async fn writer(store: Arc<dyn StateStore>, mut rx: mpsc::UnboundedReceiver<Write>) {
    while let Some((batch, done)) = rx.recv().await {
        let mut delay = Duration::from_millis(50);
        let mut ok = false;
        for _ in 0..8 {
            match store.save(&batch).await {
                Ok(()) => {
                    ok = true;
                    break;
                }
                Err(err) => {
                    tracing::warn!(error = %format!("{err:#}"), "saving matchmaking state failed");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(1));
                }
            }
        }
        if !ok {
            metrics::counter!("matchmaker_persist_failures_total").increment(1);
        }
        if let Some(done) = done {
            let _ = done.send(ok);
        }
    }
}

#[async_trait]
impl MatchmakerApi for Matchmaker {
    async fn create_ticket(&self, user: Uuid, request: NewTicket) -> Result<TicketView, ApiError> {
        let properties = request.properties.unwrap_or_default();
        check_properties(&properties)?;
        let (created, durable) = self.mutate(|engine, changes| {
            let created = engine.create_ticket(user, &request.mode, properties, now_ms());
            if let Ok(ticket) = &created {
                changes.tickets.push(ticket.id);
            }
            created
        });
        let ticket = match created {
            Ok(ticket) => ticket,
            Err(CreateError::UnknownMode) => {
                return Err(ApiError::new(
                    ErrorCode::InvalidRequest,
                    format!("unknown mode `{}`", request.mode),
                )
                .with_details(serde_json::json!({ "mode": request.mode })));
            }
            Err(CreateError::AlreadyQueued(existing)) => {
                return Err(ApiError::new(
                    ErrorCode::TicketExists,
                    "you already have a queued ticket for this mode",
                )
                .with_details(serde_json::json!({ "ticket_id": existing })));
            }
        };
        self.durable(durable).await?;
        metrics::counter!("matchmaker_tickets_created_total").increment(1);
        self.kick.notify_one();
        Ok(Self::view(&ticket))
    }

    async fn ticket(&self, user: Uuid, id: Uuid, wait: Duration) -> Result<TicketView, ApiError> {
        let wait = wait.min(Duration::from_secs(self.config.max_long_poll_secs));
        let view = self.own_view(user, id)?;
        if view.status != Status::Queued || wait.is_zero() {
            return Ok(view);
        }
        let notify = self
            .waiters
            .lock()
            .unwrap()
            .entry(id)
            .or_insert_with(|| Arc::new(Notify::new()))
            .clone();
        let deadline = tokio::time::Instant::now() + wait;
        let result = loop {
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let view = self.own_view(user, id);
            match view {
                Ok(v) if v.status == Status::Queued => {}
                other => break other,
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                break self.own_view(user, id);
            }
        };
        // The last waiter out removes the entry (ours plus the map's reference).
        let mut waiters = self.waiters.lock().unwrap();
        if Arc::strong_count(&notify) <= 2 {
            waiters.remove(&id);
        }
        result
    }

    async fn cancel_ticket(&self, user: Uuid, id: Uuid) -> Result<TicketView, ApiError> {
        let (view, durable) = self.mutate(|engine, changes| match engine.ticket(id) {
            Some(t) if t.user == user => {
                changes.tickets.push(id);
                engine
                    .cancel(id, now_ms())
                    .map(Self::view)
                    .ok_or_else(not_found)
            }
            _ => Err(not_found()),
        });
        let view = view?;
        self.durable(durable).await?;
        self.wake(id);
        Ok(view)
    }

    async fn register_server(&self, info: ServerInfo) -> Result<(), ApiError> {
        if info.server_id.is_empty() || info.server_id.len() > 128 || info.capacity == 0 {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                "a server needs an id (1-128 characters) and a capacity",
            ));
        }
        if !(info.ws_url.starts_with("ws://") || info.ws_url.starts_with("wss://")) {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                "ws_url must start with ws:// or wss://",
            ));
        }
        tracing::info!(server = %info.server_id, url = %info.ws_url, capacity = info.capacity, "game server registered");
        let (_, durable) = self.mutate(|engine, changes| {
            changes.servers.push(info.server_id.clone());
            engine.register(info, now_ms());
        });
        self.durable(durable).await?;
        self.kick.notify_one();
        Ok(())
    }

    async fn heartbeat(&self, server_id: &str, heartbeat: Heartbeat) -> Result<(), ApiError> {
        let (known, _durable) = self.mutate(|engine, changes| {
            engine.heartbeat(server_id, &heartbeat.lobbies, now_ms(), changes)
        });
        if known {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::NotFound,
                "unknown game server; register again",
            ))
        }
    }
}
