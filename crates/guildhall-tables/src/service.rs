//! Reaching tables: creating them, seating players, issuing table tokens, and making
//! sure a game's worker runs.
//!
//! Head's routes ([`crate::http`]) call [`Tables`]; the WebSocket gateway
//! ([`crate::gateway`]) uses it to reach workers. Everything a worker needs to know
//! arrives as a sealed action on the bus, and workers are started by whichever
//! [`crate::host::Host`] answers a start request, so the same calls work whether the
//! worker runs in this process, in a child process, or on another machine.

use guildhall_core::now_ms;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use guildhall_auth::api::AuthApi;
use guildhall_briscola::TableOptions;
use guildhall_bus::{Delivery, SharedBus, Subscription};
use guildhall_core::{ApiError, ErrorCode};
use guildhall_tokens::{Grant, TABLES_AUDIENCE, Verifier};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::envelope::{
    ActionEnvelope, EventEnvelope, PROTOCOL_VERSION, Role, Seal, actions_channel, decode_batch,
    events_channel, heartbeat_key,
};
use crate::host::{START_CHANNEL, start_request};
use crate::worker::{Outcome, TableState, Worker};

/// Game ids: six characters from an alphabet without look-alikes (no 0/O, 1/I/L).
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// How long a caller waits for a worker's answer.
const ANSWER_WAIT: Duration = Duration::from_secs(5);

/// Settings of the tables service.
#[derive(Debug, Clone)]
pub struct TablesSettings {
    /// How long a table's state lives after its last change.
    pub state_ttl: Duration,
    /// Lifetime of table tokens.
    pub token_ttl_secs: u64,
    /// The gateway URL handed out with tokens; empty: this process's own gateway.
    pub public_url: String,
    /// How long the gateway waits for an action's result before saying the game is
    /// unavailable.
    pub action_timeout: Duration,
}

pub struct Tables {
    bus: SharedBus,
    seal: Seal,
    worker: Arc<Worker>,
    auth: Arc<dyn AuthApi>,
    pub(crate) verifier: Arc<Verifier>,
    settings: TablesSettings,
    ws_url: Mutex<String>,
    /// Cancelled when this process shuts down: the gateway closes its connections so
    /// clients reconnect to another gateway.
    pub(crate) closing: CancellationToken,
    /// The gateway's fan-out: one events subscription per game it holds connections of.
    pub(crate) hubs: crate::fanout::Hubs,
}

impl std::fmt::Debug for Tables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tables").finish_non_exhaustive()
    }
}

/// A seat and the token that opens it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Seated {
    pub game_id: String,
    pub seat: u8,
    pub player_token: String,
    pub ws_url: String,
}

impl Tables {
    pub fn new(
        bus: SharedBus,
        internal_token: &str,
        auth: Arc<dyn AuthApi>,
        verifier: Arc<Verifier>,
        settings: TablesSettings,
        closing: CancellationToken,
    ) -> Arc<Self> {
        let seal = Seal::new(internal_token);
        Arc::new(Self {
            worker: Arc::new(Worker::new(bus.clone(), seal.clone(), settings.state_ttl)),
            bus,
            seal,
            auth,
            verifier,
            ws_url: Mutex::new(settings.public_url.clone()),
            settings,
            closing,
            hubs: Default::default(),
        })
    }

    /// The gateway's URL once the listener is bound, unless one is configured.
    pub fn set_listen_addr(&self, addr: std::net::SocketAddr) {
        if self.settings.public_url.is_empty() {
            *self.ws_url.lock().unwrap() = format!("ws://{addr}/tables/ws");
        }
    }

    pub(crate) fn action_timeout(&self) -> Duration {
        self.settings.action_timeout
    }

    pub fn ws_url(&self) -> String {
        self.ws_url.lock().unwrap().clone()
    }

    pub(crate) fn seal(&self) -> &Seal {
        &self.seal
    }

    pub(crate) fn bus(&self) -> &SharedBus {
        &self.bus
    }

    fn new_game_id() -> String {
        use rand::Rng;
        let mut rng = rand::rng();
        (0..6)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
            .collect()
    }

    /// Creates a table and seats its creator at seat 0.
    pub async fn create(
        &self,
        user: Uuid,
        options: TableOptions,
        display_name: Option<String>,
    ) -> Result<Seated, ApiError> {
        if options.validate().is_err() {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                "invalid table options",
            ));
        }
        let game_id = Self::new_game_id();
        let seed = rand::random::<u64>();
        self.worker
            .create(&TableState::new(&game_id, options, seed))
            .await
            .map_err(|e| {
                ApiError::new(
                    ErrorCode::Unavailable,
                    format!("storing the table failed: {e}"),
                )
            })?;
        metrics::counter!("tables_created_total").increment(1);
        self.join(user, &game_id, display_name).await
    }

    /// Seats `user` (their existing seat, or the first free one) and signs their token.
    pub async fn join(
        &self,
        user: Uuid,
        game_id: &str,
        display_name: Option<String>,
    ) -> Result<Seated, ApiError> {
        self.ensure_worker(game_id).await?;
        let envelope = ActionEnvelope {
            game_id: game_id.to_owned(),
            player_id: Some(user),
            role: Role::System,
            seat: None,
            action_id: format!("seat-{}", Uuid::new_v4()),
            ts: now_ms(),
            version: PROTOCOL_VERSION.into(),
            origin: format!("head:{}", Uuid::new_v4().simple()),
            message_type: "seat".into(),
            payload: json!({ "display_name": display_name }).into(),
        };
        let outcome = self.request(envelope).await?;
        if outcome.status != "ok" {
            let code = outcome
                .code
                .as_deref()
                .and_then(ErrorCode::from_wire)
                .unwrap_or(ErrorCode::JoinFailed);
            return Err(ApiError::new(
                code,
                outcome.message.unwrap_or_else(|| "join failed".into()),
            ));
        }
        let seat = outcome.data["seat"].as_u64().unwrap_or(0) as u8;
        let player_token = self
            .token(user, game_id, "player", Some(seat), display_name)
            .await?;
        Ok(Seated {
            game_id: game_id.to_owned(),
            seat,
            player_token,
            ws_url: self.ws_url(),
        })
    }

    /// A token to watch a table (anyone with the table's id may watch).
    pub async fn observer_token(
        &self,
        game_id: &str,
        display_name: Option<String>,
    ) -> Result<String, ApiError> {
        self.existing(game_id).await?;
        self.token(Uuid::new_v4(), game_id, "observer", None, display_name)
            .await
    }

    async fn token(
        &self,
        sub: Uuid,
        game_id: &str,
        role: &str,
        seat: Option<u8>,
        display_name: Option<String>,
    ) -> Result<String, ApiError> {
        let mut claims = serde_json::Map::new();
        claims.insert("game_id".into(), game_id.into());
        claims.insert("role".into(), role.into());
        if let Some(seat) = seat {
            claims.insert("seat".into(), seat.into());
        }
        if let Some(name) = display_name {
            claims.insert("display_name".into(), name.into());
        }
        self.auth
            .sign_grant(Grant {
                aud: TABLES_AUDIENCE.into(),
                sub,
                ttl_secs: self.settings.token_ttl_secs,
                claims,
            })
            .await
    }

    async fn existing(&self, game_id: &str) -> Result<(), ApiError> {
        match self.worker.load(game_id).await {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(ApiError::new(ErrorCode::GameNotFound, "no such table")),
            Err(err) => Err(ApiError::new(ErrorCode::GameUnavailable, err)),
        }
    }

    /// Makes sure the game's worker runs: when its heartbeat is missing, asks the hosts
    /// to start it (again every second, in case a request went unheard) and returns once
    /// the worker listens, or `game_unavailable` after a few seconds.
    pub async fn ensure_worker(&self, game_id: &str) -> Result<(), ApiError> {
        self.existing(game_id).await?;
        let heartbeat = heartbeat_key(game_id);
        let beating = |result: Result<Option<_>, _>| matches!(result, Ok(Some(_)));
        if beating(self.bus.get(&heartbeat).await) {
            return Ok(());
        }
        let deadline = Instant::now() + ANSWER_WAIT;
        let mut asked: Option<Instant> = None;
        while Instant::now() < deadline {
            if asked.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
                let request = start_request(&self.seal, game_id);
                if let Err(err) = self.bus.publish(START_CHANNEL, &request).await {
                    return Err(ApiError::new(ErrorCode::GameUnavailable, err.to_string()));
                }
                asked = Some(Instant::now());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            if beating(self.bus.get(&heartbeat).await) {
                return Ok(());
            }
        }
        Err(ApiError::new(
            ErrorCode::GameUnavailable,
            "the table's worker did not start; try again",
        ))
    }

    /// Publishes an action and waits for its result.
    pub async fn request(&self, envelope: ActionEnvelope) -> Result<Outcome, ApiError> {
        let mut events = self
            .bus
            .subscribe(&events_channel(&envelope.game_id))
            .await
            .map_err(|e| ApiError::new(ErrorCode::GameUnavailable, e.to_string()))?;
        self.bus
            .publish(
                &actions_channel(&envelope.game_id),
                &self.seal.seal(&envelope),
            )
            .await
            .map_err(|e| ApiError::new(ErrorCode::RoutingFailed, e.to_string()))?;
        let answer = next_event(&mut events, |event| {
            event.message_type == "action.result"
                && event.action_id.as_deref() == Some(&envelope.action_id)
        })
        .await
        .and_then(|event| serde_json::from_value::<Outcome>(event.payload).ok());
        match answer {
            Some(outcome) => Ok(outcome),
            _ => Err(ApiError::new(
                ErrorCode::GameUnavailable,
                "the table did not answer; try again",
            )),
        }
    }
}

/// The first event on `events` that `wanted` accepts, within [`ANSWER_WAIT`].
async fn next_event(
    events: &mut Subscription,
    wanted: impl Fn(&EventEnvelope) -> bool,
) -> Option<EventEnvelope> {
    tokio::time::timeout(ANSWER_WAIT, async {
        while let Some(delivery) = events.recv().await {
            if let Delivery::Message(bytes) = delivery
                && let Some(event) = decode_batch(&bytes).into_iter().find(&wanted)
            {
                return Some(event);
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
}

/// `Value` of the public seat answer.
pub fn seated_json(seated: &Seated) -> Value {
    serde_json::to_value(seated).unwrap_or(Value::Null)
}
