//! The in-process bus for `guildhall up`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::time::Instant;

use crate::{Bus, BusError, Slot, Subscription};

/// Publish/subscribe and key-value inside one process. Cheap to clone; clones share state.
#[derive(Debug, Clone, Default)]
pub struct MemoryBus {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Live subscribers per channel. Locked only for short, non-async sections.
    channels: Mutex<HashMap<String, Vec<Slot>>>,
    /// Values with their expiry; expired entries are removed when touched and swept on writes.
    kv: Mutex<Kv>,
    next_id: AtomicU64,
}

#[derive(Debug, Default)]
struct Kv {
    entries: HashMap<String, (Bytes, Option<Instant>)>,
    /// Lists (`append_and_publish`), apart from values as Redis keeps them apart by type.
    lists: HashMap<String, (Vec<Bytes>, Option<Instant>)>,
    writes_since_sweep: usize,
}

impl Kv {
    fn live(&mut self, key: &str, now: Instant) -> Option<&Bytes> {
        let expired = matches!(self.entries.get(key), Some((_, Some(at))) if *at <= now);
        if expired {
            self.entries.remove(key);
        }
        self.entries.get(key).map(|(v, _)| v)
    }

    fn live_list(&mut self, key: &str, now: Instant) -> Option<&mut Vec<Bytes>> {
        let expired = matches!(self.lists.get(key), Some((_, Some(at))) if *at <= now);
        if expired {
            self.lists.remove(key);
        }
        self.lists.get_mut(key).map(|(entries, _)| entries)
    }

    fn insert(&mut self, key: &str, value: &[u8], ttl: Option<Duration>, now: Instant) {
        self.entries.insert(
            key.to_owned(),
            (Bytes::copy_from_slice(value), ttl.map(|t| now + t)),
        );
        self.wrote(now);
    }

    /// Appends to the list `log`; with `renew`, `log` and the value `key` then expire
    /// that long from now.
    fn append(
        &mut self,
        key: &str,
        log: &str,
        entry: &[u8],
        renew: Option<Duration>,
        now: Instant,
    ) {
        let entry = Bytes::copy_from_slice(entry);
        match self.live_list(log, now) {
            Some(entries) => entries.push(entry),
            None => {
                self.lists.insert(log.to_owned(), (vec![entry], None));
            }
        }
        let Some(ttl) = renew else {
            return self.wrote(now);
        };
        let expires = Some(now + ttl);
        if let Some((_, at)) = self.lists.get_mut(log) {
            *at = expires;
        }
        if self.live(key, now).is_some()
            && let Some((_, at)) = self.entries.get_mut(key)
        {
            *at = expires;
        }
        self.wrote(now);
    }

    /// Keys nobody reads again would otherwise stay forever: sweep now and then.
    fn wrote(&mut self, now: Instant) {
        self.writes_since_sweep += 1;
        if self.writes_since_sweep >= 1024 {
            self.writes_since_sweep = 0;
            self.entries
                .retain(|_, (_, at)| at.is_none_or(|at| at > now));
            self.lists.retain(|_, (_, at)| at.is_none_or(|at| at > now));
        }
    }
}

/// Removes a subscriber when its [`Subscription`] is dropped.
struct Unsubscribe {
    inner: Weak<Inner>,
    channel: String,
    id: u64,
}

impl Drop for Unsubscribe {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.upgrade() {
            let mut channels = inner.channels.lock().unwrap();
            if let Some(slots) = channels.get_mut(&self.channel) {
                slots.retain(|s| s.id != self.id);
                if slots.is_empty() {
                    channels.remove(&self.channel);
                }
            }
        }
    }
}

impl MemoryBus {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl Bus for MemoryBus {
    fn kind(&self) -> &'static str {
        "memory"
    }

    async fn publish(&self, channel: &str, payload: &[u8]) -> Result<(), BusError> {
        let payload = Bytes::copy_from_slice(payload);
        let mut channels = self.inner.channels.lock().unwrap();
        if let Some(slots) = channels.get_mut(channel) {
            slots.retain(|slot| slot.offer(&payload));
        }
        metrics::counter!("bus_messages_published_total").increment(1);
        Ok(())
    }

    async fn subscribe(&self, channel: &str) -> Result<Subscription, BusError> {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let guard = Unsubscribe {
            inner: Arc::downgrade(&self.inner),
            channel: channel.to_owned(),
            id,
        };
        let (slot, subscription) = Slot::pair(id, channel, Box::new(guard));
        self.inner
            .channels
            .lock()
            .unwrap()
            .entry(channel.to_owned())
            .or_default()
            .push(slot);
        Ok(subscription)
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), BusError> {
        self.inner
            .kv
            .lock()
            .unwrap()
            .insert(key, value, ttl, Instant::now());
        Ok(())
    }

    async fn append_and_publish(
        &self,
        key: &str,
        log: &str,
        entry: &[u8],
        renew: Option<Duration>,
        channel: &str,
        payload: &[u8],
    ) -> Result<(), BusError> {
        self.inner
            .kv
            .lock()
            .unwrap()
            .append(key, log, entry, renew, Instant::now());
        self.publish(channel, payload).await
    }

    async fn set_clearing_log(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
        log: &str,
        publish: Option<(&str, &[u8])>,
    ) -> Result<(), BusError> {
        {
            let mut kv = self.inner.kv.lock().unwrap();
            kv.insert(key, value, ttl, Instant::now());
            kv.lists.remove(log);
        }
        match publish {
            Some((channel, payload)) => self.publish(channel, payload).await,
            None => Ok(()),
        }
    }

    async fn get_with_log(
        &self,
        key: &str,
        log: &str,
    ) -> Result<(Option<Bytes>, Vec<Bytes>), BusError> {
        let now = Instant::now();
        let mut kv = self.inner.kv.lock().unwrap();
        let value = kv.live(key, now).cloned();
        let entries = kv.live_list(log, now).cloned().unwrap_or_default();
        Ok((value, entries))
    }

    async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<bool, BusError> {
        let now = Instant::now();
        let mut kv = self.inner.kv.lock().unwrap();
        if kv.live(key, now).is_some() {
            return Ok(false);
        }
        kv.insert(key, value, ttl, now);
        Ok(true)
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, BusError> {
        Ok(self
            .inner
            .kv
            .lock()
            .unwrap()
            .live(key, Instant::now())
            .cloned())
    }

    async fn delete(&self, key: &str) -> Result<bool, BusError> {
        let mut kv = self.inner.kv.lock().unwrap();
        let now = Instant::now();
        let existed = kv.live(key, now).is_some() || kv.live_list(key, now).is_some();
        kv.entries.remove(key);
        kv.lists.remove(key);
        Ok(existed)
    }

    async fn ping(&self) -> Result<(), BusError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Delivery;

    #[tokio::test(start_paused = true)]
    async fn ttl_follows_tokio_time() {
        let bus = MemoryBus::new();
        bus.set("k", b"v", Some(Duration::from_secs(20)))
            .await
            .unwrap();
        tokio::time::advance(Duration::from_secs(19)).await;
        assert_eq!(bus.get("k").await.unwrap().as_deref(), Some(&b"v"[..]));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(bus.get("k").await.unwrap(), None);
        assert!(
            bus.set_if_absent("k", b"w", None).await.unwrap(),
            "an expired key is absent"
        );
    }

    #[tokio::test]
    async fn a_slow_subscriber_gets_a_gap_and_never_blocks_others() {
        let bus = MemoryBus::new();
        let mut slow = bus.subscribe("c").await.unwrap();
        let mut fast = bus.subscribe("c").await.unwrap();
        for i in 0..(crate::SUBSCRIPTION_BUFFER + 10) {
            bus.publish("c", i.to_string().as_bytes()).await.unwrap();
            assert_eq!(
                fast.recv().await,
                Some(Delivery::Message(Bytes::from(i.to_string())))
            );
        }
        assert_eq!(slow.recv().await, Some(Delivery::Gap));
        assert_eq!(slow.recv().await, Some(Delivery::Message(Bytes::from("0"))));
    }

    #[tokio::test]
    async fn dropping_the_last_subscription_forgets_the_channel() {
        let bus = MemoryBus::new();
        let sub = bus.subscribe("c").await.unwrap();
        assert_eq!(bus.inner.channels.lock().unwrap().len(), 1);
        drop(sub);
        assert!(bus.inner.channels.lock().unwrap().is_empty());
    }
}
