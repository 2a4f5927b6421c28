//! One seat's client: acting, waiting, retrying, reconnecting.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use guildhall_rng::SplitMix64;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::*;
use crate::tokio_util_free::Stop;
use crate::{Incoming, Session};

/// How a bot waits and retries.
#[derive(Debug, Clone)]
pub struct BotSettings {
    /// An action unanswered this long is sent again with the same `action_id`.
    pub retry_after: Duration,
    /// Sends after which an unanswered action makes the bot reconnect.
    pub max_sends: u32,
    /// Nothing heard for this long (and not our turn): ask for a `sync`.
    pub stall_after: Duration,
    /// Attempts to reconnect before giving up.
    pub reconnect_attempts: u32,
    /// How long a bot thinks, on average, once it is its turn before it acts (zero: it
    /// acts at once, so the tables go as fast as the server answers). Each wait is drawn
    /// uniformly from half to one and a half times this, as people's do: with one fixed
    /// wait, tables seated together would act in lockstep, in bursts no real room makes.
    pub think: Duration,
}

impl Default for BotSettings {
    fn default() -> Self {
        Self {
            retry_after: Duration::from_secs(5),
            max_sends: 3,
            stall_after: Duration::from_secs(10),
            reconnect_attempts: 20,
            think: Duration::ZERO,
        }
    }
}

/// Stops a bot: when its run ends or its table is abandoned.
#[derive(Clone, Default)]
pub struct Halt {
    pub(super) run: Arc<Stop>,
    pub(super) table: Arc<Stop>,
}

impl std::fmt::Debug for Halt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Halt")
            .field("stopped", &self.stopped())
            .finish()
    }
}

impl Halt {
    /// A halt for one table of the same run: stopping the run stops it too.
    pub fn table(&self) -> Halt {
        Halt {
            run: self.run.clone(),
            table: Arc::new(Stop::default()),
        }
    }

    /// Stops the run (every table of it).
    pub fn stop_run(&self) {
        self.run.stop();
    }

    /// Stops this table only.
    pub fn stop_table(&self) {
        self.table.stop();
    }

    pub fn stopped(&self) -> bool {
        self.run.stopped() || self.table.stopped()
    }

    pub(super) async fn wait(&self) {
        tokio::select! {
            _ = self.run.wait() => {}
            _ = self.table.wait() => {}
        }
    }
}

/// How a bot's game ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The match is over.
    MatchOver,
    /// Halted.
    Stopped,
}

/// The action in flight.
#[derive(Debug, Clone)]
struct Pending {
    action_id: String,
    message_type: String,
    payload: Value,
    first_sent: Instant,
    last_sent: Instant,
    sends: u32,
    in_window: bool,
}

/// One seat's client.
pub struct TableBot {
    pub name: String,
    pub seat: Seat,
    settings: BotSettings,
    rng: SplitMix64,
    /// For think times, apart from `rng` so the moves a seed gives stay the same.
    think_rng: SplitMix64,
    pub tracker: Tracker,
    next_id: u64,
    pending: Option<Pending>,
    /// A `sync` is due (after a reconnect, `game_unavailable` or an error); no action
    /// until it arrives.
    awaiting_sync: bool,
    /// The pending action goes again once the `sync` arrives.
    resend_after_sync: bool,
    /// When the bot, thinking, will act.
    act_at: Option<Instant>,
    /// Ids of this bot's actions the game answered `ok`, in order.
    pub acknowledged: Vec<String>,
    /// When snapshots arrived that were not caused by an action: after a join, a
    /// requested or gap-filling sync, a restarted worker's.
    pub resyncs: Vec<Instant>,
}

impl std::fmt::Debug for TableBot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableBot")
            .field("name", &self.name)
            .field("game_id", &self.seat.game_id)
            .field("seat", &self.seat.seat)
            .finish_non_exhaustive()
    }
}

/// Something that made the connection unusable.
enum Dropped {
    /// Reconnect with the same token.
    Retry(String),
    /// Give up (the seat was taken over, the token refused...).
    Fatal(anyhow::Error),
}

/// Mixed into a bot's seed for its think-time stream ("think").
const THINK_STREAM: u64 = 0x7468_696e_6b00_0000;

impl TableBot {
    pub fn new(name: impl Into<String>, seat: Seat, seed: u64, settings: BotSettings) -> Self {
        Self {
            name: name.into(),
            seat,
            settings,
            rng: SplitMix64::new(seed),
            think_rng: SplitMix64::new(seed ^ THINK_STREAM),
            tracker: Tracker::default(),
            next_id: 0,
            pending: None,
            awaiting_sync: true,
            resend_after_sync: false,
            act_at: None,
            acknowledged: Vec::new(),
            resyncs: Vec::new(),
        }
    }

    fn fresh_id(&mut self) -> String {
        self.next_id += 1;
        format!("{}-{}", self.name, self.next_id)
    }

    /// Connects to the gateway and joins with the seat's token; the `sync` follows.
    pub async fn connect(&mut self) -> anyhow::Result<Session> {
        let mut session = Session::connect(&self.seat.ws_url, false).await?;
        let join_id = self.fresh_id();
        session
            .send(&json!({
                "message_type": "join",
                "action_id": join_id,
                "payload": { "token": self.seat.player_token },
            }))
            .await?;
        let answer = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match session.recv().await? {
                    Some(Incoming::Message(m))
                        if m["message_type"] == "action.result" && m["action_id"] == join_id =>
                    {
                        return anyhow::Ok(m["payload"].clone());
                    }
                    Some(Incoming::Message(_)) => continue,
                    other => bail!("joining: {other:?}"),
                }
            }
        })
        .await
        .context("no answer to join within 10 s")??;
        if answer["status"] != "ok" {
            bail!("join refused: {answer}");
        }
        self.awaiting_sync = true;
        Ok(session)
    }

    /// Plays on `session` until the match is over or `halt` stops it.
    pub async fn play(
        &mut self,
        mut session: Session,
        stats: &TableStats,
        halt: &Halt,
    ) -> anyhow::Result<Ended> {
        let mut last_heard = Instant::now();
        // One halt future and one timer for the whole game, not one of each per frame:
        // a timer that already fires no later than the next wake is left alone (an early
        // wake finds nothing due), so most frames touch neither.
        let halted = halt.wait();
        let timer = tokio::time::sleep_until(self.wake_at(last_heard).into());
        tokio::pin!(halted, timer);
        loop {
            if self.tracker.match_over && self.pending.is_none() {
                session.close().await;
                return Ok(Ended::MatchOver);
            }
            let step = match self.act(&mut session, stats).await {
                Err(dropped) => Err(dropped),
                Ok(()) => {
                    let wake = tokio::time::Instant::from_std(self.wake_at(last_heard));
                    if timer.is_elapsed() || wake < timer.deadline() {
                        timer.as_mut().reset(wake);
                    }
                    tokio::select! {
                        _ = &mut halted => {
                            session.close().await;
                            return Ok(Ended::Stopped);
                        }
                        _ = &mut timer => {
                            self.on_timer(&mut session, stats, last_heard).await.map(|heard| {
                                if heard { last_heard = Instant::now(); }
                            })
                        }
                        incoming = session.ws.next() => match incoming {
                            Some(Ok(Message::Text(text))) => {
                                last_heard = Instant::now();
                                self.on_frame(&mut session, stats, &text).await
                            }
                            Some(Ok(Message::Close(frame))) => {
                                let (code, reason) = frame
                                    .map(|f| (u16::from(f.code), f.reason.to_string()))
                                    .unwrap_or((1005, String::new()));
                                Err(match code {
                                    4401 | 4404 | 4409 => Dropped::Fatal(anyhow::anyhow!("closed by the gateway: {code} {reason}")),
                                    _ => Dropped::Retry(format!("closed by the gateway: {code} {reason}")),
                                })
                            }
                            Some(Ok(_)) => Ok(()),
                            None => Err(Dropped::Retry("the connection ended".into())),
                            Some(Err(err)) => Err(Dropped::Retry(format!("the connection failed: {err}"))),
                        }
                    }
                }
            };
            match step {
                Ok(()) => {}
                Err(Dropped::Fatal(err)) => return Err(err),
                Err(Dropped::Retry(why)) => {
                    if halt.stopped() {
                        return Ok(Ended::Stopped);
                    }
                    stats.reconnects.fetch_add(1, Ordering::Relaxed);
                    session = match self.reconnect(&why, halt).await {
                        Ok(session) => session,
                        Err(_) if halt.stopped() => return Ok(Ended::Stopped),
                        Err(err) => return Err(err),
                    };
                    last_heard = Instant::now();
                }
            }
        }
    }

    /// Reconnects with the same token; the pending action goes again after the `sync`.
    async fn reconnect(&mut self, why: &str, halt: &Halt) -> anyhow::Result<Session> {
        let mut last = anyhow::anyhow!("{why}");
        for attempt in 0..self.settings.reconnect_attempts {
            if halt.stopped() {
                bail!("halted while reconnecting");
            }
            tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt.min(10)))).await;
            match self.connect().await {
                Ok(session) => {
                    self.resend_after_sync = self.pending.is_some();
                    return Ok(session);
                }
                Err(err) => last = err,
            }
        }
        Err(last.context(format!("{}: could not reconnect after: {why}", self.name)))
    }

    /// When the next timer is due: a pending action's retry, the end of thinking, or a
    /// stall check.
    fn wake_at(&self, last_heard: Instant) -> Instant {
        match (&self.pending, self.act_at) {
            (Some(pending), _) => pending.last_sent + self.settings.retry_after,
            (None, Some(at)) => at.min(last_heard + self.settings.stall_after),
            (None, None) => last_heard + self.settings.stall_after,
        }
    }

    /// Retries an unanswered action (same id), or asks for a `sync` after a silence.
    /// True when the silence was broken by asking.
    async fn on_timer(
        &mut self,
        session: &mut Session,
        stats: &TableStats,
        last_heard: Instant,
    ) -> Result<bool, Dropped> {
        let now = Instant::now();
        if let Some(pending) = &mut self.pending {
            if now < pending.last_sent + self.settings.retry_after {
                return Ok(false);
            }
            if pending.sends >= self.settings.max_sends {
                return Err(Dropped::Retry(format!(
                    "action {} unanswered after {} sends",
                    pending.action_id, pending.sends
                )));
            }
            stats.retries.fetch_add(1, Ordering::Relaxed);
            pending.sends += 1;
            pending.last_sent = now;
            let message = json!({
                "message_type": pending.message_type,
                "action_id": pending.action_id,
                "payload": pending.payload,
            });
            send(session, &message).await?;
            return Ok(false);
        }
        if now >= last_heard + self.settings.stall_after {
            self.request_sync(session).await?;
            return Ok(true);
        }
        Ok(false)
    }

    async fn request_sync(&mut self, session: &mut Session) -> Result<(), Dropped> {
        let id = self.fresh_id();
        self.awaiting_sync = true;
        send(
            session,
            &json!({ "message_type": "sync", "action_id": id, "payload": {} }),
        )
        .await
    }

    /// Sends the next action if the view says it is this seat's turn.
    async fn act(&mut self, session: &mut Session, stats: &TableStats) -> Result<(), Dropped> {
        if self.pending.is_some() || self.awaiting_sync || self.tracker.match_over {
            return Ok(());
        }
        if !self.tracker.my_turn() {
            self.act_at = None;
            return Ok(());
        }
        if !self.settings.think.is_zero() {
            let now = Instant::now();
            let (think, rng) = (self.settings.think, &mut self.think_rng);
            let act_at = *self
                .act_at
                .get_or_insert_with(|| now + think.mul_f64(0.5 + rng.next_unit()));
            if now < act_at {
                return Ok(());
            }
        }
        self.act_at = None;
        let Some(view) = &self.tracker.view else {
            return Ok(());
        };
        let Some(action) = choose(view, &mut self.rng) else {
            return Ok(());
        };
        let (message_type, payload) = wire(&action);
        let action_id = self.fresh_id();
        let now = Instant::now();
        let message =
            json!({ "message_type": message_type, "action_id": action_id, "payload": payload });
        self.pending = Some(Pending {
            action_id,
            message_type,
            payload,
            first_sent: now,
            last_sent: now,
            sends: 1,
            in_window: stats.measuring(),
        });
        send(session, &message).await
    }

    async fn on_frame(
        &mut self,
        session: &mut Session,
        stats: &TableStats,
        frame: &str,
    ) -> Result<(), Dropped> {
        let Ok(head) = serde_json::from_str::<Frame>(frame) else {
            stats.error("unreadable", || format!("{}: {frame}", self.name));
            return Ok(());
        };
        let message_type = head.message_type.as_ref();
        match message_type {
            "action.result" => {
                let payload = serde_json::from_str::<Fields>(head.payload()).unwrap_or_default();
                let action_id = head.action_id.as_deref().unwrap_or_default();
                let ok = payload.status.as_deref() == Some("ok");
                let code = payload.code.as_deref().unwrap_or("error");
                let detail = payload.message.as_deref().unwrap_or_default();
                let ours = self
                    .pending
                    .as_ref()
                    .is_some_and(|p| p.action_id == action_id);
                if ours && ok {
                    let pending = self.pending.take().expect("checked above");
                    self.acknowledged.push(pending.action_id.clone());
                    stats.answered(pending.in_window, pending.first_sent.elapsed());
                } else if ours && code == "game_unavailable" {
                    // The worker is restarting: its `sync` comes; then send it again.
                    stats.error(code, || format!("{}: {detail}", self.name));
                    self.awaiting_sync = true;
                    self.resend_after_sync = true;
                } else if ours {
                    // Refused: this seat's view was wrong. Drop it and re-read the table.
                    stats.error(code, || format!("{}: {detail}", self.name));
                    self.pending = None;
                    self.request_sync(session).await?;
                } else if !ok {
                    if code == "duplicate_connection_handled" {
                        return Err(Dropped::Fatal(anyhow::anyhow!(
                            "{}: the seat connected again elsewhere",
                            self.name
                        )));
                    }
                    stats.error(code, || format!("{}: {detail}", self.name));
                    if payload.recovery.as_deref() == Some("sync") {
                        self.request_sync(session).await?;
                    }
                }
            }
            "game_unavailable" => {
                self.awaiting_sync = true;
                self.resend_after_sync = self.pending.is_some();
            }
            _ => {
                let scored = self.tracker.hands_scored;
                self.tracker.on_payload(message_type, head.payload());
                if self.tracker.hands_scored > scored && self.seat.seat == 0 && stats.measuring() {
                    stats.hands.fetch_add(1, Ordering::Relaxed);
                }
                if message_type == "sync" {
                    let cause = head.action_id.as_deref();
                    if cause.is_none_or(|id| id.starts_with("sync-")) {
                        self.resyncs.push(Instant::now());
                    }
                    self.awaiting_sync = false;
                    if std::mem::take(&mut self.resend_after_sync)
                        && let Some(pending) = &mut self.pending
                    {
                        pending.sends += 1;
                        pending.last_sent = Instant::now();
                        let message = json!({
                            "message_type": pending.message_type,
                            "action_id": pending.action_id,
                            "payload": pending.payload,
                        });
                        stats.retries.fetch_add(1, Ordering::Relaxed);
                        send(session, &message).await?;
                    }
                }
            }
        }
        Ok(())
    }
}

async fn send(session: &mut Session, message: &Value) -> Result<(), Dropped> {
    session
        .send(message)
        .await
        .map_err(|err| Dropped::Retry(format!("sending failed: {err}")))
}
