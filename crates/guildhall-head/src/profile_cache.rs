//! Head's in-memory cache of profiles, kept coherent across head instances by the bus.
//!
//! - A read that misses loads the row and caches it for at most `ttl`, counted from when
//!   the load began, so nothing is served more than `ttl` after it was read from the
//!   database: that bounds staleness for writers the bus does not reach (an import
//!   rollback run against an embedded store from another process).
//! - A write through this instance replaces the entry with the row the write returned
//!   (read-your-writes here) and announces `(user, version)` on [`PROFILES_CHANNEL`].
//!   Every instance drops an older entry when it hears of a newer version, and remembers
//!   that version as a floor, so a load that began before the write cannot put the old
//!   row back.
//! - Versions only grow, so of two rows the one with the higher version wins.
//! - If the bus says messages may have been lost, or announces `*`, everything is dropped.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use guildhall_bus::{Delivery, SharedBus, Subscription};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::profiles::Profile;

/// The bus channel profile changes are announced on: `<user id> <version>`, or `*` for
/// "drop every cached profile".
pub const PROFILES_CHANNEL: &str = "head.profiles";

/// Entries kept at most; past it, expired entries are swept and, if that is not enough,
/// the cache starts over.
const CAPACITY: usize = 200_000;

#[derive(Debug)]
struct Slot {
    profile: Option<Arc<Profile>>,
    /// No row older than this version may be cached.
    floor: i64,
    expires: Instant,
}

impl Slot {
    /// No profile and no floor yet.
    fn empty(expires: Instant) -> Self {
        Slot {
            profile: None,
            floor: 0,
            expires,
        }
    }
}

/// Where a load began: compared when its row is offered, to refuse rows that a change
/// announced in the meantime may have made stale.
#[derive(Debug, Clone, Copy)]
pub struct Ticket {
    epoch: u64,
    started: Instant,
}

#[derive(Debug)]
pub struct ProfileCache {
    slots: Mutex<HashMap<Uuid, Slot>>,
    /// Raised whenever every entry is dropped.
    epoch: AtomicU64,
    ttl: Duration,
}

impl ProfileCache {
    /// A cache whose entries live at most `ttl`; a zero `ttl` caches nothing.
    pub fn new(ttl: Duration) -> Self {
        Self {
            slots: Mutex::new(HashMap::new()),
            epoch: AtomicU64::new(0),
            ttl,
        }
    }

    fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// The cached profile of `user`, if one is live.
    pub fn get(&self, user: Uuid) -> Option<Arc<Profile>> {
        if !self.enabled() {
            return None;
        }
        let now = Instant::now();
        let hit = self
            .slots
            .lock()
            .unwrap()
            .get(&user)
            .filter(|slot| slot.expires > now)
            .and_then(|slot| slot.profile.clone());
        // Literal labels: the macro then uses a static key, with nothing built per read.
        match hit {
            Some(_) => metrics::counter!("head_profile_cache_total", "outcome" => "hit"),
            None => metrics::counter!("head_profile_cache_total", "outcome" => "miss"),
        }
        .increment(1);
        hit
    }

    /// Call before loading a row from the database; pass the ticket to [`Self::loaded`].
    pub fn ticket(&self) -> Ticket {
        Ticket {
            epoch: self.epoch.load(Ordering::Acquire),
            started: Instant::now(),
        }
    }

    /// Offers a row loaded from the database.
    pub fn loaded(&self, ticket: Ticket, profile: &Profile) {
        if !self.enabled() {
            return;
        }
        let mut slots = self.slots.lock().unwrap();
        if self.epoch.load(Ordering::Acquire) != ticket.epoch {
            return;
        }
        Self::offer(&mut slots, profile, ticket.started + self.ttl);
    }

    /// Records a row this instance just wrote.
    pub fn wrote(&self, profile: &Profile) {
        if self.enabled() {
            let expires = Instant::now() + self.ttl;
            Self::offer(&mut self.slots.lock().unwrap(), profile, expires);
        }
    }

    fn offer(slots: &mut HashMap<Uuid, Slot>, profile: &Profile, expires: Instant) {
        let now = Instant::now();
        if expires <= now {
            return;
        }
        if slots.len() >= CAPACITY && !slots.contains_key(&profile.user_id) {
            slots.retain(|_, slot| slot.expires > now);
            if slots.len() >= CAPACITY {
                // Every entry is live: a burst of distinct users wider than the cache.
                // Start over rather than track recency on every read.
                slots.clear();
            }
        }
        let slot = slots.entry(profile.user_id).or_insert(Slot::empty(expires));
        if profile.version < slot.floor {
            return;
        }
        let newer_cached = slot.expires > now
            && slot
                .profile
                .as_ref()
                .is_some_and(|cached| cached.version > profile.version);
        if !newer_cached {
            slot.profile = Some(Arc::new(profile.clone()));
            slot.expires = expires;
        }
        slot.floor = slot.floor.max(profile.version);
    }

    /// Somebody (any instance) wrote version `version` of `user`'s profile.
    pub fn changed(&self, user: Uuid, version: i64) {
        if !self.enabled() {
            return;
        }
        let expires = Instant::now() + self.ttl;
        let mut slots = self.slots.lock().unwrap();
        let slot = slots.entry(user).or_insert(Slot::empty(expires));
        slot.floor = slot.floor.max(version);
        if slot
            .profile
            .as_ref()
            .is_some_and(|cached| cached.version < version)
        {
            slot.profile = None;
        }
        // Keep the floor at least as long as a load that began before now could land.
        slot.expires = slot.expires.max(expires);
    }

    /// Drops every entry, and refuses rows whose load began before now.
    pub fn forget_all(&self) {
        let mut slots = self.slots.lock().unwrap();
        self.epoch.fetch_add(1, Ordering::AcqRel);
        slots.clear();
    }

    /// Follows [`PROFILES_CHANNEL`] until `shutdown` or the end of the subscription.
    pub async fn follow(self: Arc<Self>, mut changes: Subscription, shutdown: CancellationToken) {
        loop {
            let delivery = tokio::select! {
                _ = shutdown.cancelled() => return,
                delivery = changes.recv() => match delivery {
                    Some(delivery) => delivery,
                    None => return,
                },
            };
            match delivery {
                Delivery::Message(payload) => match parse(&payload) {
                    Some(Change::All) => self.forget_all(),
                    Some(Change::One(user, version)) => self.changed(user, version),
                    None => {
                        tracing::warn!(payload = %String::from_utf8_lossy(&payload), "ignoring malformed profile change");
                        self.forget_all();
                    }
                },
                Delivery::Gap => self.forget_all(),
            }
        }
    }
}

/// Announces that `user`'s profile is now at `version`. A failed announcement is logged:
/// other instances then serve their copy until it expires.
pub async fn announce(bus: &SharedBus, user: Uuid, version: i64) {
    let payload = format!("{} {version}", user.simple());
    if let Err(err) = bus.publish(PROFILES_CHANNEL, payload.as_bytes()).await {
        metrics::counter!("head_profile_announce_failures_total").increment(1);
        tracing::warn!(%err, %user, version, "cannot announce a profile change");
    }
}

/// Tells every head instance to drop its cached profiles (after a bulk change).
pub async fn announce_all(bus: &SharedBus) -> Result<(), guildhall_bus::BusError> {
    bus.publish(PROFILES_CHANNEL, b"*").await
}

#[derive(Debug, PartialEq)]
enum Change {
    All,
    One(Uuid, i64),
}

fn parse(payload: &[u8]) -> Option<Change> {
    let text = std::str::from_utf8(payload).ok()?;
    if text == "*" {
        return Some(Change::All);
    }
    let (user, version) = text.split_once(' ')?;
    Some(Change::One(user.parse().ok()?, version.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(user: Uuid, version: i64, name: &str) -> Profile {
        Profile {
            user_id: user,
            display_name: name.into(),
            kind: "guest".into(),
            version,
            created_at: "2026-11-21T00:00:00Z".into(),
            updated_at: "2026-11-21T00:00:00Z".into(),
        }
    }

    fn name(cache: &ProfileCache, user: Uuid) -> Option<String> {
        cache.get(user).map(|p| p.display_name.clone())
    }

    #[test]
    fn a_load_is_served_until_a_newer_version_is_announced() {
        let cache = ProfileCache::new(Duration::from_secs(60));
        let user = Uuid::now_v7();
        assert_eq!(name(&cache, user), None);
        cache.loaded(cache.ticket(), &profile(user, 1, "Rose"));
        assert_eq!(name(&cache, user).as_deref(), Some("Rose"));
        // Our own write's echo changes nothing.
        cache.changed(user, 1);
        assert_eq!(name(&cache, user).as_deref(), Some("Rose"));
        cache.changed(user, 2);
        assert_eq!(name(&cache, user), None);
    }

    #[test]
    fn a_load_that_began_before_a_change_cannot_put_the_old_row_back() {
        let cache = ProfileCache::new(Duration::from_secs(60));
        let user = Uuid::now_v7();
        let ticket = cache.ticket();
        cache.changed(user, 2);
        cache.loaded(ticket, &profile(user, 1, "Old"));
        assert_eq!(name(&cache, user), None);
        cache.loaded(cache.ticket(), &profile(user, 2, "New"));
        assert_eq!(name(&cache, user).as_deref(), Some("New"));
    }

    #[test]
    fn a_write_here_wins_over_a_slower_load_of_the_row_before_it() {
        let cache = ProfileCache::new(Duration::from_secs(60));
        let user = Uuid::now_v7();
        let ticket = cache.ticket();
        cache.wrote(&profile(user, 5, "Written"));
        cache.loaded(ticket, &profile(user, 4, "Loaded"));
        assert_eq!(name(&cache, user).as_deref(), Some("Written"));
    }

    #[test]
    fn forgetting_everything_also_refuses_loads_in_flight() {
        let cache = ProfileCache::new(Duration::from_secs(60));
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        cache.loaded(cache.ticket(), &profile(a, 1, "A"));
        let ticket = cache.ticket();
        cache.forget_all();
        cache.loaded(ticket, &profile(b, 1, "B"));
        assert_eq!(name(&cache, a), None);
        assert_eq!(name(&cache, b), None);
    }

    #[test]
    fn entries_expire_a_ttl_after_their_load_began() {
        let cache = ProfileCache::new(Duration::from_millis(1));
        let user = Uuid::now_v7();
        let ticket = cache.ticket();
        std::thread::sleep(Duration::from_millis(5));
        // The load took longer than the TTL: its row is already too old to serve.
        cache.loaded(ticket, &profile(user, 1, "Slow"));
        assert_eq!(name(&cache, user), None);
        let disabled = ProfileCache::new(Duration::ZERO);
        disabled.wrote(&profile(user, 1, "Off"));
        assert_eq!(name(&disabled, user), None);
    }

    #[test]
    fn announcements_parse_strictly() {
        let user = Uuid::now_v7();
        assert_eq!(parse(b"*"), Some(Change::All));
        assert_eq!(
            parse(format!("{} 7", user.simple()).as_bytes()),
            Some(Change::One(user, 7))
        );
        for bad in [
            &b""[..],
            b"**",
            b"x 1",
            b"\xff",
            format!("{user}").as_bytes(),
        ] {
            assert_eq!(parse(bad), None);
        }
    }
}
