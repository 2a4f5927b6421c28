//! The bus every service shares: publish/subscribe plus key-value with TTL.
//!
//! Revocations, card-table actions and events, matchmaking and heartbeats all travel
//! here. Two implementations stand behind one [`Bus`] trait:
//!
//! - [`MemoryBus`] for `guildhall up`: everything in one process, nothing to install.
//! - [`RedisBus`] for the split shape: Redis pub/sub and keys, reconnecting and
//!   resubscribing by itself.
//!
//! Delivery is at-most-once, like Redis pub/sub: a subscriber that falls behind or a
//! connection that drops can lose messages. Instead of hiding that, a [`Subscription`]
//! yields [`Delivery::Gap`] whenever messages may have been missed, so a consumer can
//! resynchronise from stored state (a card table sends a fresh `sync`).
//!
//! Every key and channel is prefixed with the configured `key_prefix`, so deployments
//! and tests can share one Redis without seeing each other.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::mpsc;

mod memory;
mod redis_bus;

#[cfg(feature = "contract")]
pub mod contract;

pub use memory::MemoryBus;
pub use redis_bus::{RedisBus, client as redis_client};

/// How many messages a subscription buffers before it starts losing them (and reports a gap).
pub const SUBSCRIPTION_BUFFER: usize = 1024;

/// Why a bus operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("unsupported bus URL `{0}` (expected memory:// or redis://)")]
    UnsupportedUrl(String),
    #[error("bus unavailable: {0}")]
    Unavailable(String),
}

impl From<redis::RedisError> for BusError {
    fn from(err: redis::RedisError) -> Self {
        BusError::Unavailable(err.to_string())
    }
}

/// What a subscription yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// A published payload.
    Message(Bytes),
    /// Messages may have been lost (the subscriber lagged, or the connection dropped and
    /// was re-established). Re-read authoritative state.
    Gap,
}

/// Publish/subscribe and key-value with TTL.
#[async_trait]
pub trait Bus: Send + Sync + fmt::Debug + 'static {
    /// `memory` or `redis`, for logs and readiness.
    fn kind(&self) -> &'static str;

    /// Sends `payload` to every current subscriber of `channel`.
    async fn publish(&self, channel: &str, payload: &[u8]) -> Result<(), BusError>;

    /// Starts receiving `channel`. Messages published after this returns are delivered.
    /// Dropping the subscription unsubscribes.
    async fn subscribe(&self, channel: &str) -> Result<Subscription, BusError>;

    /// Stores `value` under `key`, expiring after `ttl` when given.
    async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), BusError>;

    /// Stores `value` under `key` and then publishes `payload` to `channel`, in one
    /// step: no subscriber can hear the message before the value is stored, and an
    /// error means neither happened (unless the connection broke after the request was
    /// sent, when both may have). One round trip on Redis (`MULTI`/`EXEC`), where a
    /// `set` followed by a `publish` costs two.
    async fn set_and_publish(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
        channel: &str,
        payload: &[u8],
    ) -> Result<(), BusError> {
        self.set(key, value, ttl).await?;
        self.publish(channel, payload).await
    }

    /// Appends `entry` to the list `log`, with `renew` gives `log` and `key` (the record
    /// the list goes with) that lifetime from now, and then publishes `payload` to
    /// `channel`: written in order on one connection, so whoever hears the message finds
    /// the entry. A record kept as a snapshot plus the changes since (a card table's
    /// state) saves a change this way instead of writing the whole record again. Without
    /// `renew`, lifetimes stay as they are (a new list has none).
    async fn append_and_publish(
        &self,
        key: &str,
        log: &str,
        entry: &[u8],
        renew: Option<Duration>,
        channel: &str,
        payload: &[u8],
    ) -> Result<(), BusError>;

    /// Stores `value` under `key` and empties the list `log` (the changes `value` now
    /// includes), then publishes `payload` to `channel` when given, in one step.
    async fn set_clearing_log(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
        log: &str,
        publish: Option<(&str, &[u8])>,
    ) -> Result<(), BusError>;

    /// The live value of `key` and the entries of the list `log`, oldest first, read in
    /// one step (no write falls between the two).
    async fn get_with_log(
        &self,
        key: &str,
        log: &str,
    ) -> Result<(Option<Bytes>, Vec<Bytes>), BusError>;

    /// Stores `value` only if `key` has no live value; `true` when it was stored.
    async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<bool, BusError>;

    /// The live value of `key`.
    async fn get(&self, key: &str) -> Result<Option<Bytes>, BusError>;

    /// Stores each `(key, value)` of `entries`, all expiring after `ttl` when given. On
    /// Redis a few round trips for any number of keys (pipelined in chunks of
    /// [`MANY_CHUNK`]), where a `set` per key costs one each; a host renewing what it
    /// owns for thousands of games needs that to finish well within the lifetime it
    /// renews.
    async fn set_many(
        &self,
        entries: &[(&str, &[u8])],
        ttl: Option<Duration>,
    ) -> Result<(), BusError> {
        for (key, value) in entries {
            self.set(key, value, ttl).await?;
        }
        Ok(())
    }

    /// The live values of `keys`, in their order; like [`Bus::set_many`], a few round
    /// trips on Redis however many keys there are.
    async fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<Bytes>>, BusError> {
        let mut values = Vec::with_capacity(keys.len());
        for key in keys {
            values.push(self.get(key).await?);
        }
        Ok(values)
    }

    /// Removes `key` (a value or a list); `true` when it existed.
    async fn delete(&self, key: &str) -> Result<bool, BusError>;

    /// One round trip; the readiness probe.
    async fn ping(&self) -> Result<(), BusError>;
}

/// Keys sent in one request by [`Bus::set_many`] and [`Bus::get_many`] on Redis: large
/// enough that thousands of keys take a handful of round trips, small enough that one
/// request never holds up the connection's other commands for long.
pub const MANY_CHUNK: usize = 512;

/// A shared handle to the process's bus.
pub type SharedBus = Arc<dyn Bus>;

/// Opens the bus named by `url` (`memory://` or `redis://...`).
pub async fn connect(url: &str, key_prefix: &str) -> Result<SharedBus, BusError> {
    if url.starts_with("memory://") {
        Ok(Arc::new(MemoryBus::new()))
    } else if url.starts_with("redis://") || url.starts_with("rediss://") {
        Ok(Arc::new(RedisBus::open(url, key_prefix)?))
    } else {
        Err(BusError::UnsupportedUrl(url.to_owned()))
    }
}

/// One subscriber's end of a channel.
pub struct Subscription {
    channel: String,
    rx: mpsc::Receiver<Item>,
    /// Raised by the sender side when messages were dropped for this subscriber.
    gap: Arc<AtomicBool>,
    /// Unsubscribes when dropped.
    _guard: Box<dyn Send + Sync>,
}

/// What travels in a subscription's buffer.
#[derive(Debug)]
enum Item {
    Message(Bytes),
    /// Wakes a parked reader to look at the gap flag (the flag is the report: one wake
    /// or several, one gap).
    Gap,
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("channel", &self.channel)
            .finish()
    }
}

impl Subscription {
    /// The next delivery; `None` once the bus is gone.
    pub async fn recv(&mut self) -> Option<Delivery> {
        loop {
            if self.gap.swap(false, Ordering::AcqRel) {
                return Some(Delivery::Gap);
            }
            match self.rx.recv().await? {
                Item::Message(payload) => return Some(Delivery::Message(payload)),
                // Reported by the flag above, now or already.
                Item::Gap => continue,
            }
        }
    }

    /// The channel, without the key prefix.
    pub fn channel(&self) -> &str {
        &self.channel
    }
}

/// The sending half a backend keeps for each subscription.
#[derive(Debug, Clone)]
struct Slot {
    id: u64,
    tx: mpsc::Sender<Item>,
    gap: Arc<AtomicBool>,
}

impl Slot {
    fn pair(id: u64, channel: &str, guard: Box<dyn Send + Sync>) -> (Slot, Subscription) {
        let (tx, rx) = mpsc::channel(SUBSCRIPTION_BUFFER);
        let gap = Arc::new(AtomicBool::new(false));
        let slot = Slot {
            id,
            tx,
            gap: gap.clone(),
        };
        (
            slot,
            Subscription {
                channel: channel.to_owned(),
                rx,
                gap,
                _guard: guard,
            },
        )
    }

    /// Delivers without waiting; a full buffer drops the message and flags a gap, so one slow
    /// subscriber never holds up the others. Returns `false` once the subscriber is gone.
    fn offer(&self, payload: &Bytes) -> bool {
        match self.tx.try_send(Item::Message(payload.clone())) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.flag_gap();
                metrics::counter!("bus_messages_dropped_total", "reason" => "subscriber_full")
                    .increment(1);
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Raises the flag, then queues a wake-up behind what is buffered. The reader looks at
    /// the flag before every receive, so it sees the gap before the next message; and it
    /// is never left parked with the flag up: either the wake-up was queued, or the buffer
    /// was full, and the reader has messages to come back for.
    fn flag_gap(&self) {
        self.gap.store(true, Ordering::Release);
        let _ = self.tx.try_send(Item::Gap);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (Slot, Subscription) {
        Slot::pair(1, "c", Box::new(()))
    }

    #[tokio::test]
    async fn a_gap_wakes_a_parked_reader_and_is_reported_once() {
        let (slot, mut sub) = pair();
        let reader = tokio::spawn(async move {
            let first = sub.recv().await;
            (first, sub)
        });
        // Let the reader park on an empty buffer before the gap is raised.
        tokio::task::yield_now().await;
        slot.flag_gap();
        slot.flag_gap();
        let (first, mut sub) = reader.await.unwrap();
        assert_eq!(first, Some(Delivery::Gap));
        // The second raise, before the reader looked, is the same gap.
        assert!(slot.offer(&Bytes::from_static(b"after")));
        assert_eq!(
            sub.recv().await,
            Some(Delivery::Message(Bytes::from_static(b"after")))
        );
        drop(slot);
        assert_eq!(sub.recv().await, None, "the bus is gone");
    }

    #[tokio::test]
    async fn a_full_buffer_reports_the_gap_before_what_it_holds_and_only_once() {
        let (slot, mut sub) = pair();
        for i in 0..SUBSCRIPTION_BUFFER + 3 {
            assert!(slot.offer(&Bytes::from(i.to_string())));
        }
        assert_eq!(sub.recv().await, Some(Delivery::Gap));
        for i in 0..SUBSCRIPTION_BUFFER {
            assert_eq!(
                sub.recv().await,
                Some(Delivery::Message(Bytes::from(i.to_string())))
            );
        }
        assert!(slot.offer(&Bytes::from_static(b"next")));
        assert_eq!(
            sub.recv().await,
            Some(Delivery::Message(Bytes::from_static(b"next")))
        );
    }

    #[tokio::test]
    async fn offering_to_a_dropped_subscription_says_so() {
        let (slot, sub) = pair();
        drop(sub);
        assert!(!slot.offer(&Bytes::from_static(b"x")));
    }
}
