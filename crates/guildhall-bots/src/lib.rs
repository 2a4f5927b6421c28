//! Bot players for the arena, speaking the public protocol like any client:
//! `POST /v1/guest/init`, a matchmaking ticket, a long-poll for the assignment, then the
//! WebSocket (`docs/protocol/arena.md`).
//!
//! - [`Player`] and [`Session`]: one client's HTTP and WebSocket ends, for tests.
//! - [`swarm`]: many bots that play (inputs every 100 ms, drawn from a per-bot random
//!   stream: thrust 70 %, turn uniform in {-1, 0, 1}, fire 30 %) and measure the time from
//!   sending an input to the first snapshot that acknowledges it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use guildhall_rng::SplitMix64;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

pub mod tables;

/// How often each arena bot sends an input.
pub const INPUT_INTERVAL: Duration = Duration::from_millis(100);

/// The subprotocol that switches the arena to MessagePack.
pub const MSGPACK_PROTOCOL: &str = "guildhall.msgpack";

/// A guest with a session, as `POST /v1/guest/init` made it.
#[derive(Debug, Clone)]
pub struct Player {
    pub http: reqwest::Client,
    pub base: String,
    pub user_id: Uuid,
    pub token: String,
}

/// Where the matchmaker sent a player.
#[derive(Debug, Clone, Deserialize)]
pub struct Assignment {
    pub lobby_id: Uuid,
    pub ws_url: String,
    pub join_token: String,
}

impl Player {
    /// A new guest on the platform at `base` (`http://host:port`).
    pub async fn guest(http: &reqwest::Client, base: &str) -> anyhow::Result<Self> {
        let response = http
            .post(format!("{base}/v1/guest/init"))
            .json(&json!({}))
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await?;
        if status.as_u16() != 201 {
            bail!("guest init answered {status}: {body}");
        }
        Ok(Self {
            http: http.clone(),
            base: base.to_owned(),
            user_id: body["guest_id"].as_str().context("guest_id")?.parse()?,
            token: body["session_token"]
                .as_str()
                .context("session_token")?
                .to_owned(),
        })
    }

    /// Queues for `mode`; the ticket id.
    pub async fn queue(&self, mode: &str, properties: Option<Value>) -> anyhow::Result<Uuid> {
        let mut body = json!({ "mode": mode });
        if let Some(properties) = properties {
            body["properties"] = properties;
        }
        let response = self
            .http
            .post(format!("{}/v1/matchmaking/tickets", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await?;
        if status.as_u16() != 202 {
            bail!("ticket answered {status}: {body}");
        }
        Ok(body["ticket_id"].as_str().context("ticket_id")?.parse()?)
    }

    /// Long-polls the ticket until it is assigned (or fails, or `timeout` passes).
    pub async fn assignment(&self, ticket: Uuid, timeout: Duration) -> anyhow::Result<Assignment> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            let response = self
                .http
                .get(format!(
                    "{}/v1/matchmaking/tickets/{ticket}?wait=10",
                    self.base
                ))
                .bearer_auth(&self.token)
                .send()
                .await?;
            let body: Value = response.json().await?;
            match body["status"].as_str() {
                Some("assigned") => {
                    return Ok(serde_json::from_value(body["assignment"].clone())?);
                }
                Some("queued") => continue,
                _ => bail!("ticket {ticket}: {body}"),
            }
        }
        bail!("ticket {ticket} was not assigned within {timeout:?}")
    }
}

/// What arrived on a session.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    Message(Value),
    Closed { code: u16, reason: String },
}

/// One WebSocket connection to the arena.
pub struct Session {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub msgpack: bool,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("msgpack", &self.msgpack)
            .finish()
    }
}

impl Session {
    pub async fn connect(ws_url: &str, msgpack: bool) -> anyhow::Result<Self> {
        let mut request = ws_url.into_client_request()?;
        if msgpack {
            request
                .headers_mut()
                .insert("sec-websocket-protocol", MSGPACK_PROTOCOL.parse()?);
        }
        // Nagle off: inputs are small and must leave at once.
        // tungstenite zeroes its whole read buffer before every read (128 KiB by default),
        // wake-ups that find nothing included. Most frames fit in 4 KiB; a larger snapshot
        // takes a few reads.
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .read_buffer_size(4 * 1024);
        let (ws, response) =
            tokio_tungstenite::connect_async_with_config(request, Some(config), true).await?;
        let agreed = response
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok())
            == Some(MSGPACK_PROTOCOL);
        if msgpack && !agreed {
            bail!("the server did not accept {MSGPACK_PROTOCOL}");
        }
        Ok(Self { ws, msgpack })
    }

    /// Sends one message in this session's encoding.
    pub async fn send(&mut self, message: &Value) -> anyhow::Result<()> {
        let frame = if self.msgpack {
            Message::Binary(rmp_serde::to_vec_named(message)?.into())
        } else {
            Message::Text(message.to_string().into())
        };
        self.ws.send(frame).await?;
        Ok(())
    }

    /// Sends a raw frame (for tests of bad input).
    pub async fn send_raw(&mut self, frame: Message) -> anyhow::Result<()> {
        self.ws.send(frame).await?;
        Ok(())
    }

    /// The next message or the close; `None` when the stream ended without a close frame.
    pub async fn recv(&mut self) -> anyhow::Result<Option<Incoming>> {
        while let Some(frame) = self.ws.next().await {
            match frame? {
                Message::Text(text) => {
                    return Ok(Some(Incoming::Message(serde_json::from_str(&text)?)));
                }
                Message::Binary(data) => {
                    return Ok(Some(Incoming::Message(rmp_serde::from_slice(&data)?)));
                }
                Message::Close(frame) => {
                    let (code, reason) = frame
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or((1005, String::new()));
                    return Ok(Some(Incoming::Closed { code, reason }));
                }
                _ => continue,
            }
        }
        Ok(None)
    }

    /// The next message of type `kind`, skipping others; fails on close or after `timeout`.
    pub async fn expect(&mut self, kind: &str, timeout: Duration) -> anyhow::Result<Value> {
        tokio::time::timeout(timeout, async {
            loop {
                match self.recv().await? {
                    Some(Incoming::Message(m)) if m["type"] == kind => return Ok(m),
                    Some(Incoming::Message(_)) => continue,
                    other => bail!("waiting for {kind}, got {other:?}"),
                }
            }
        })
        .await
        .with_context(|| format!("no {kind} within {timeout:?}"))?
    }

    /// Sends `join` and returns the `welcome`.
    pub async fn join(&mut self, token: &str) -> anyhow::Result<Value> {
        self.send(&json!({ "type": "join", "token": token }))
            .await?;
        self.expect("welcome", Duration::from_secs(5)).await
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// A bot swarm's settings.
#[derive(Debug, Clone)]
pub struct SwarmConfig {
    /// The platform's HTTP base URL.
    pub url: String,
    pub count: usize,
    pub mode: String,
    /// Bots start evenly over this long.
    pub ramp: Duration,
    /// Measuring starts after the ramp and lasts this long.
    pub duration: Duration,
    pub msgpack: bool,
    pub seed: u64,
}

/// What a swarm saw while measuring.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Bots in a lobby when measuring ended.
    pub connected: u64,
    /// Bots that could not get into a lobby (guest init, matchmaking or join failed).
    pub failed: u64,
    pub snapshots: u64,
    pub inputs: u64,
    /// Input-to-acknowledging-snapshot latency samples, sorted, in microseconds.
    pub latencies_us: Vec<u32>,
    /// The first few reasons bots failed or were disconnected.
    pub errors: Vec<String>,
}

impl Report {
    /// The `q` quantile (0..=1) of the latency, in milliseconds.
    pub fn latency_ms(&self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies_us.len() - 1) as f64 * q).round() as usize;
        self.latencies_us[i] as f64 / 1000.0
    }
}

struct Shared {
    measuring: AtomicBool,
    connected: AtomicU64,
    failed: AtomicU64,
    snapshots: AtomicU64,
    inputs: AtomicU64,
    stop: tokio_util_free::Stop,
    errors: std::sync::Mutex<Vec<String>>,
}

impl Shared {
    fn failed(&self, reason: String) {
        self.failed.fetch_add(1, Ordering::SeqCst);
        let mut errors = self.errors.lock().unwrap();
        if errors.len() < 5 {
            errors.push(reason);
        }
    }
}

mod tokio_util_free {
    //! A stop flag with a wake-up, without pulling in tokio-util.
    use std::sync::atomic::{AtomicBool, Ordering};

    use tokio::sync::Notify;

    #[derive(Default)]
    pub struct Stop {
        flag: AtomicBool,
        notify: Notify,
    }

    impl Stop {
        pub fn stop(&self) {
            self.flag.store(true, Ordering::SeqCst);
            self.notify.notify_waiters();
        }
        pub fn stopped(&self) -> bool {
            self.flag.load(Ordering::SeqCst)
        }
        pub async fn wait(&self) {
            let notified = self.notify.notified();
            if self.stopped() {
                return;
            }
            notified.await;
        }
    }
}

/// Just enough of a snapshot to find our acknowledgement.
#[derive(Deserialize)]
struct SnapshotAck {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    jets: Vec<JetAck>,
}

#[derive(Deserialize)]
struct JetAck {
    id: u32,
    last_seq: u32,
}

/// Runs `config.count` bots and reports what they measured.
pub async fn swarm(config: SwarmConfig) -> Report {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(256)
        .build()
        .expect("an HTTP client with no TLS always builds");
    let shared = Arc::new(Shared {
        measuring: AtomicBool::new(false),
        connected: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        snapshots: AtomicU64::new(0),
        inputs: AtomicU64::new(0),
        stop: Default::default(),
        errors: Default::default(),
    });
    let step = config.ramp.div_f64(config.count.max(1) as f64);
    let mut bots = Vec::with_capacity(config.count);
    for i in 0..config.count {
        let (http, shared, config) = (http.clone(), shared.clone(), config.clone());
        bots.push(tokio::spawn(async move {
            tokio::time::sleep(step * i as u32).await;
            bot(
                http,
                config.clone(),
                config.seed.wrapping_add(i as u64),
                shared,
            )
            .await
        }));
    }
    tokio::time::sleep(config.ramp + Duration::from_millis(500)).await;
    shared.measuring.store(true, Ordering::SeqCst);
    tokio::time::sleep(config.duration).await;
    shared.measuring.store(false, Ordering::SeqCst);
    let connected = shared.connected.load(Ordering::SeqCst);
    shared.stop.stop();
    let mut latencies = Vec::new();
    for bot in bots {
        if let Ok(samples) = bot.await {
            latencies.extend(samples);
        }
    }
    latencies.sort_unstable();
    Report {
        connected,
        failed: shared.failed.load(Ordering::SeqCst),
        snapshots: shared.snapshots.load(Ordering::SeqCst),
        inputs: shared.inputs.load(Ordering::SeqCst),
        latencies_us: latencies,
        errors: shared.errors.lock().unwrap().clone(),
    }
}

async fn enter(http: &reqwest::Client, config: &SwarmConfig) -> anyhow::Result<(Session, u32)> {
    let player = Player::guest(http, &config.url).await?;
    // A lobby may close between assignment and arrival: then queue again, as the
    // protocol asks of clients.
    let mut attempt = 0;
    loop {
        attempt += 1;
        let ticket = player.queue(&config.mode, None).await?;
        let assignment = player.assignment(ticket, Duration::from_secs(120)).await?;
        let mut session = Session::connect(&assignment.ws_url, config.msgpack).await?;
        session
            .send(&json!({ "type": "join", "token": assignment.join_token }))
            .await?;
        match session.recv().await? {
            Some(Incoming::Message(m)) if m["type"] == "welcome" => {
                let jet = m["jet_id"].as_u64().context("welcome without jet_id")? as u32;
                return Ok((session, jet));
            }
            Some(Incoming::Message(m)) if m["code"] == "lobby_closed" && attempt < 3 => continue,
            other => bail!("joining: {other:?}"),
        }
    }
}

/// One bot: enter a lobby, play until stopped; latency samples while measuring.
async fn bot(
    http: reqwest::Client,
    config: SwarmConfig,
    seed: u64,
    shared: Arc<Shared>,
) -> Vec<u32> {
    let mut samples = Vec::new();
    let mut random = SplitMix64::new(seed);
    let (mut session, jet) = match enter(&http, &config).await {
        Ok(entered) => entered,
        Err(err) => {
            shared.failed(format!("entering a lobby: {err:#}"));
            return samples;
        }
    };
    shared.connected.fetch_add(1, Ordering::SeqCst);
    let mut seq = 0u32;
    let mut ended: Option<String> = None;
    let mut pending: std::collections::VecDeque<(u32, Instant)> = Default::default();
    let mut ticker = tokio::time::interval(INPUT_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shared.stop.wait() => break,
            _ = ticker.tick() => {
                seq += 1;
                let input = json!({
                    "type": "input",
                    "seq": seq,
                    "thrust": random.next_unit() < 0.7,
                    "turn": (random.next_u64() % 3) as i64 - 1,
                    "fire": random.next_unit() < 0.3,
                });
                if session.send(&input).await.is_err() {
                    break;
                }
                shared.inputs.fetch_add(1, Ordering::Relaxed);
                pending.push_back((seq, Instant::now()));
                if pending.len() > 64 {
                    pending.pop_front();
                }
            }
            frame = session.ws.next() => {
                let frame = match frame {
                    Some(Ok(frame)) => frame,
                    Some(Err(err)) => {
                        ended = Some(format!("the connection failed: {err}"));
                        break;
                    }
                    None => {
                        ended = Some("the server closed the connection".into());
                        break;
                    }
                };
                let ack: Option<SnapshotAck> = match &frame {
                    Message::Text(text) => serde_json::from_str(text).ok(),
                    Message::Binary(data) => rmp_serde::from_slice(data).ok(),
                    Message::Close(frame) => {
                        ended = Some(format!("closed by the server: {frame:?}"));
                        break;
                    }
                    _ => None,
                };
                let Some(ack) = ack else { continue };
                if ack.kind != "snapshot" {
                    continue;
                }
                shared.snapshots.fetch_add(1, Ordering::Relaxed);
                let Some(last) = ack.jets.iter().find(|j| j.id == jet).map(|j| j.last_seq) else { continue };
                let now = Instant::now();
                while pending.front().is_some_and(|(s, _)| *s <= last) {
                    let (_, sent) = pending.pop_front().expect("front exists");
                    if shared.measuring.load(Ordering::Relaxed) {
                        samples.push(now.duration_since(sent).as_micros().min(u32::MAX as u128) as u32);
                    }
                }
            }
        }
    }
    shared.connected.fetch_sub(1, Ordering::SeqCst);
    if !shared.stop.stopped() {
        shared.failed(ended.unwrap_or_else(|| "sending an input failed".into()));
    }
    let _ = session.send(&json!({ "type": "leave" })).await;
    samples
}
