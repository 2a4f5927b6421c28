//! The gateway's fan-out: one bus subscription per game per gateway, however many of the
//! game's connections the gateway holds. The game's hub reads each event batch once
//! (headers parsed, text checked once) and queues every member's share in the member's
//! [`Outbox`], which writes at once when the socket can take it: a batch reaches the
//! five seats of a table without waking five tasks. A member whose socket cannot take
//! more finishes its write in a task of its own, so one slow client never holds up the
//! others; a member that stops reading altogether is dropped once
//! [`Outbox::LIMIT`] messages wait.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use bytes::Bytes;
use futures_util::stream::SplitSink;
use futures_util::{FutureExt, SinkExt};
use guildhall_bus::{BusError, Delivery, SharedBus, Subscription};
use serde_json::Value;
use tokio::sync::{Notify, OwnedMutexGuard};
use tokio_util::sync::CancellationToken;

use crate::envelope::{events_channel, read_batch};
use crate::gateway::Pending;

type Sink = SplitSink<WebSocket, Message>;

/// What a member's connection is told by its hub and its outbox (bits of [`Signal`]).
pub(crate) mod flag {
    /// A newer connection holds this seat.
    pub const KICKED: u8 = 1;
    /// The game's events can no longer be heard (the bus is gone).
    pub const UNREACHABLE: u8 = 2;
    /// Writing to the client failed.
    pub const BROKEN: u8 = 4;
    /// The client stopped reading: too many messages wait.
    pub const LAGGING: u8 = 8;
    /// Events may have been missed: ask for a fresh sync.
    pub const RESYNC: u8 = 16;
}

/// Flags raised for a connection, with a wake-up for it.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    flags: AtomicU8,
    pub(crate) wake: Notify,
}

impl Signal {
    pub(crate) fn raise(&self, flags: u8) {
        self.flags.fetch_or(flags, Ordering::AcqRel);
        self.wake.notify_one();
    }

    /// The flags raised since the last call, cleared.
    pub(crate) fn take(&self) -> u8 {
        self.flags.swap(0, Ordering::AcqRel)
    }
}

/// A connection's messages on their way out, in order.
pub(crate) struct Outbox {
    queue: Mutex<Queue>,
    sink: Arc<tokio::sync::Mutex<Sink>>,
    signal: Arc<Signal>,
    broken: AtomicBool,
    /// Cancelled when the connection gives up on a client that does not read: a write
    /// still waiting for its socket is dropped, and with it the socket.
    abandon: CancellationToken,
}

struct Queue {
    messages: VecDeque<Message>,
    /// Nothing is written until [`Outbox::open`]: what arrives before waits behind the
    /// first message the connection itself sends.
    held: bool,
}

impl Outbox {
    /// At most this many messages wait for a client that is not reading.
    pub(crate) const LIMIT: usize = 1024;

    fn new(sink: Sink, signal: Arc<Signal>) -> Arc<Self> {
        Arc::new(Self {
            queue: Mutex::new(Queue {
                messages: VecDeque::new(),
                held: true,
            }),
            sink: Arc::new(tokio::sync::Mutex::new(sink)),
            signal,
            broken: AtomicBool::new(false),
            abandon: CancellationToken::new(),
        })
    }

    /// Queues `messages` and writes what the socket takes now, without waiting. False
    /// (nothing queued) when the client is [`Self::LIMIT`] behind. Once the socket broke,
    /// messages are dropped: the connection has been told ([`flag::BROKEN`]).
    pub(crate) fn push(self: &Arc<Self>, messages: impl IntoIterator<Item = Message>) -> bool {
        if self.broken.load(Ordering::Acquire) {
            return true;
        }
        let held = {
            let mut queue = self.queue.lock().unwrap();
            if queue.messages.len() >= Self::LIMIT {
                return false;
            }
            queue.messages.extend(messages);
            queue.held
        };
        if !held {
            self.pump();
        }
        true
    }

    /// Starts writing: `first`, then whatever queued up behind it.
    pub(crate) fn open(self: &Arc<Self>, first: Message) {
        {
            let mut queue = self.queue.lock().unwrap();
            queue.messages.push_front(first);
            queue.held = false;
        }
        self.pump();
    }

    /// Writes everything queued, waiting up to `deadline` for the socket (the
    /// connection's last words); then whatever still waits is dropped, and so is the
    /// socket once the connection lets go of it.
    pub(crate) async fn finish(self: &Arc<Self>, deadline: std::time::Duration) {
        let write = async {
            let sink = self.sink.clone().lock_owned().await;
            drain(self.clone(), sink).await;
        };
        if tokio::time::timeout(deadline, write).await.is_err() {
            self.abandon.cancel();
        }
    }

    /// Writes as far as the socket takes it now; a write that would wait goes on in a
    /// task of its own. Whoever holds the sink writes what is queued, so if it is held
    /// there is nothing to do here.
    fn pump(self: &Arc<Self>) {
        let Ok(sink) = self.sink.clone().try_lock_owned() else {
            return;
        };
        let mut write = Box::pin(drain(self.clone(), sink));
        if write.as_mut().now_or_never().is_none() {
            let abandon = self.abandon.clone();
            tokio::spawn(async move {
                tokio::select! {
                    _ = abandon.cancelled() => {}
                    _ = write => {}
                }
            });
        }
    }

    fn take_queued(&self) -> Vec<Message> {
        let mut queue = self.queue.lock().unwrap();
        if queue.held {
            return Vec::new();
        }
        queue.messages.drain(..).collect()
    }

    fn has_queued(&self) -> bool {
        let queue = self.queue.lock().unwrap();
        !queue.held && !queue.messages.is_empty()
    }

    fn broke(&self) {
        self.broken.store(true, Ordering::Release);
        self.queue.lock().unwrap().messages.clear();
        self.signal.raise(flag::BROKEN);
    }
}

/// Writes the queue until it is empty, then lets go of the sink. A message queued while
/// the sink was held here found it held and left the writing to us: after letting go,
/// look again, and take the sink back unless someone else has it now.
async fn drain(outbox: Arc<Outbox>, mut sink: OwnedMutexGuard<Sink>) {
    loop {
        let messages = outbox.take_queued();
        if messages.is_empty() {
            drop(sink);
            if !outbox.has_queued() {
                return;
            }
            match outbox.sink.clone().try_lock_owned() {
                Ok(again) => {
                    sink = again;
                    continue;
                }
                Err(_) => return,
            }
        }
        for message in messages {
            if sink.feed(message).await.is_err() {
                return outbox.broke();
            }
        }
        if sink.flush().await.is_err() {
            return outbox.broke();
        }
    }
}

/// One connection as its game's hub sees it.
pub(crate) struct Member {
    pub(crate) seat: Option<u8>,
    pub(crate) origin: String,
    pub(crate) outbox: Arc<Outbox>,
    /// The connection's actions waiting for their result.
    pub(crate) pending: Mutex<Pending>,
    /// Whether this client was told the game is unavailable and awaits a fresh sync.
    pub(crate) unavailable: AtomicBool,
}

impl Member {
    pub(crate) fn new(seat: Option<u8>, origin: String, sink: Sink, pending: Pending) -> Arc<Self> {
        Arc::new(Self {
            seat,
            origin,
            outbox: Outbox::new(sink, Arc::new(Signal::default())),
            pending: Mutex::new(pending),
            unavailable: AtomicBool::new(false),
        })
    }

    /// What the hub and the outbox raise for this connection.
    pub(crate) fn signal(&self) -> &Signal {
        &self.outbox.signal
    }

    /// Queues `message`; a client too far behind is told to go.
    pub(crate) fn send(&self, message: Message) {
        self.queue([message]);
    }

    fn queue(&self, messages: impl IntoIterator<Item = Message>) {
        if !self.outbox.push(messages) {
            metrics::counter!("tables_gateway_clients_dropped_total", "reason" => "lagging")
                .increment(1);
            self.signal().raise(flag::LAGGING);
        }
    }

    /// This member's share of a batch, as the connection would have picked it: messages
    /// addressed to it, results only for actions it still waits on, and nothing after a
    /// newer connection took its seat.
    fn deliver(&self, batch: &[(crate::envelope::HeaderRef<'_>, Utf8Bytes)]) {
        let mut out = Vec::with_capacity(batch.len());
        let mut kicked = false;
        for (header, text) in batch {
            if !header.to.includes(self.seat, &self.origin) {
                continue;
            }
            let message_type = &*header.message_type;
            // Between gateways only: a newer connection holds this seat.
            if message_type == "seat.holder" {
                let holder: Value = serde_json::from_str(text.as_str()).unwrap_or_default();
                if holder["payload"]["origin"].as_str() != Some(self.origin.as_str()) {
                    kicked = true;
                    break;
                }
                continue;
            }
            if let Some(action_id) = header.action_id.as_deref()
                && message_type == "action.result"
            {
                // The gateway's own requests are not the client's business, and an
                // action already answered `game_unavailable` is not answered twice.
                if action_id.starts_with("sync-")
                    || action_id.starts_with("presence-")
                    || !self.pending.lock().unwrap().answered(action_id)
                {
                    continue;
                }
            }
            if message_type == "sync" {
                self.unavailable.store(false, Ordering::Release);
            }
            out.push(Message::Text(text.clone()));
        }
        if !out.is_empty() {
            self.queue(out);
        }
        if kicked {
            self.signal().raise(flag::KICKED);
        }
    }
}

type Games = Arc<Mutex<HashMap<String, Arc<Hub>>>>;

/// The gateway's hubs, one per game it holds connections of.
#[derive(Default)]
pub(crate) struct Hubs {
    games: Games,
}

struct Hub {
    members: Mutex<Vec<Arc<Member>>>,
    stop: CancellationToken,
}

impl Hubs {
    /// Adds `member` to `game_id`'s hub, subscribing the gateway to the game's events
    /// first if it holds none of its connections yet. Once this returns, the member
    /// hears every event published after.
    pub(crate) async fn join(
        &self,
        bus: &SharedBus,
        game_id: &str,
        member: Arc<Member>,
    ) -> Result<(), BusError> {
        if let Some(hub) = self.games.lock().unwrap().get(game_id) {
            hub.members.lock().unwrap().push(member);
            return Ok(());
        }
        let events = bus.subscribe(&events_channel(game_id)).await?;
        let mut games = self.games.lock().unwrap();
        // Another connection of the game may have made the hub meanwhile.
        if let Some(hub) = games.get(game_id) {
            hub.members.lock().unwrap().push(member);
            return Ok(());
        }
        let hub = Arc::new(Hub {
            members: Mutex::new(vec![member]),
            stop: CancellationToken::new(),
        });
        games.insert(game_id.to_owned(), hub.clone());
        tokio::spawn(run(hub, events, self.games.clone(), game_id.to_owned()));
        Ok(())
    }

    /// Takes `member` out; the last one out ends the hub and its subscription.
    pub(crate) fn leave(&self, game_id: &str, member: &Arc<Member>) {
        let mut games = self.games.lock().unwrap();
        let Some(hub) = games.get(game_id) else {
            return;
        };
        let mut members = hub.members.lock().unwrap();
        members.retain(|m| !Arc::ptr_eq(m, member));
        if members.is_empty() {
            hub.stop.cancel();
            drop(members);
            games.remove(game_id);
        }
    }
}

async fn run(hub: Arc<Hub>, mut events: Subscription, games: Games, game_id: String) {
    // One wait on the stop token for the hub's life, not one per batch.
    let stopped = hub.stop.clone().cancelled_owned();
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            biased;
            _ = &mut stopped => return,
            delivery = events.recv() => match delivery {
                Some(Delivery::Message(bytes)) => deliver(&hub, &bytes),
                Some(Delivery::Gap) => {
                    for member in hub.members.lock().unwrap().iter() {
                        member.signal().raise(flag::RESYNC);
                    }
                }
                None => {
                    // Nobody will hear this game here again: every member goes, and the
                    // next connection subscribes afresh.
                    let mut games = games.lock().unwrap();
                    if games.get(&game_id).is_some_and(|h| Arc::ptr_eq(h, &hub)) {
                        games.remove(&game_id);
                    }
                    for member in hub.members.lock().unwrap().iter() {
                        member.signal().raise(flag::UNREACHABLE);
                    }
                    return;
                }
            },
        }
    }
}

/// Reads a batch's headers once and checks each message's text once, then gives every
/// member its share. Messages go out as the worker wrote them, sharing the bus message's
/// bytes.
fn deliver(hub: &Hub, bytes: &Bytes) {
    let batch: Vec<_> = read_batch(bytes)
        .filter_map(|(header, message)| Some((header, Utf8Bytes::try_from(message).ok()?)))
        .collect();
    for member in hub.members.lock().unwrap().iter() {
        member.deliver(&batch);
    }
}
