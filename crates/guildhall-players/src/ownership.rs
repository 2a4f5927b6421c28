//! Which instance may serve a user's characters.
//!
//! Write-behind keeps acknowledged state in one instance's memory until it is flushed, so
//! two instances must never serve the same user at once: the second would read stale rows
//! and the first's late flush would revert the second's acknowledged writes. Each user is
//! therefore leased to one instance in `players_leases`:
//!
//! - An instance serves a user only while it holds the lease; it renews all its leases
//!   every third of the lease lifetime in one statement.
//! - To take a user held by another live instance (head moved the user because instances
//!   joined or left), an instance publishes a release request on the bus. The holder stops
//!   serving that user, flushes the user's changed characters, forgets them and deletes the
//!   lease; the requester then takes it and loads fresh rows.
//! - A crashed holder cannot answer: its leases expire after `lease_ttl_ms`, and only its
//!   unflushed window is lost (the documented write-behind trade-off).
//! - Every write is fenced on the lease (see `store::upsert!`), so an instance that lost
//!   its lease while paused can never overwrite the new owner's state.

use guildhall_core::now_ms;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use guildhall_bus::{Delivery, SharedBus};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{Players, PlayersError};

/// Bus channel for "please release this user": payload `<owner uuid> <requesting instance>`.
pub const RELEASE_CHANNEL: &str = "players.release";

/// How long a request waits to take a user from another instance before answering 503.
const TAKE_WAIT: Duration = Duration::from_secs(3);

/// The leases an instance holds, each with the local time it is certainly valid until and
/// the number of the take that got it. A renewal reads the database's list of this
/// instance's leases; a lease taken while that read was on its way may be missing from
/// it, and must not be taken for lost: only leases taken before the renewal began are
/// judged by its list.
#[derive(Debug, Default)]
struct Held {
    leases: HashMap<Uuid, Lease>,
    /// Leases taken so far (the number of the latest take).
    takes: u64,
}

#[derive(Debug, Clone, Copy)]
struct Lease {
    until: Instant,
    take: u64,
}

impl Held {
    fn insert(&mut self, owner: Uuid, until: Instant) {
        self.takes += 1;
        let take = self.takes;
        self.leases.insert(owner, Lease { until, take });
    }
}

/// Where a renewal began: its start and the latest take before it.
#[derive(Debug, Clone, Copy)]
struct Renewal {
    started: Instant,
    after_take: u64,
}

#[derive(Debug)]
pub struct Ownership {
    /// This process's identity in `players_leases`; new at every start.
    pub instance: String,
    ttl: Duration,
    /// Users this instance holds.
    held: Mutex<Held>,
    /// Users being handed to another instance: nothing may change them here any more.
    releasing: Mutex<HashSet<Uuid>>,
    /// Set at shutdown before the final flush: no more writes and no new leases, so
    /// nothing can be acknowledged after the last write reached the database.
    stopping: std::sync::atomic::AtomicBool,
    bus: SharedBus,
}

impl Ownership {
    pub fn new(ttl: Duration, bus: SharedBus) -> Self {
        Self {
            instance: Uuid::new_v4().simple().to_string(),
            ttl,
            held: Mutex::default(),
            releasing: Mutex::default(),
            stopping: Default::default(),
            bus,
        }
    }

    /// Whether this instance may change `owner`'s characters right now (checked again under
    /// each character's lock, so a release in progress stops writes at once). A refusal is
    /// logged and counted by reason (`players_writes_refused_total`): the client gets 503
    /// and retries, and an operator can tell a shutdown or a hand-over from a lease that
    /// ran out under load.
    pub fn may_write(&self, owner: Uuid) -> bool {
        let refusal = if self.is_stopping() {
            Some("stopping")
        } else if self.releasing.lock().unwrap().contains(&owner) {
            Some("releasing")
        } else {
            match self.held.lock().unwrap().leases.get(&owner) {
                None => Some("not_held"),
                Some(lease) if lease.until <= Instant::now() => Some("lease_expired"),
                Some(_) => None,
            }
        };
        if let Some(reason) = refusal {
            metrics::counter!("players_writes_refused_total", "reason" => reason).increment(1);
            tracing::info!(%owner, reason, "refusing a write: this instance may not change the user now");
        }
        refusal.is_none()
    }

    /// Stops writes and lease taking for good (shutdown). Requests in progress answer
    /// `unavailable` from now on, and clients retry on another instance.
    pub fn stop(&self) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Makes sure this instance holds `owner`'s lease, taking it if needed.
    pub async fn ensure(&self, players: &Players, owner: Uuid) -> Result<(), PlayersError> {
        if self.is_stopping() {
            return Err(PlayersError::Unavailable);
        }
        // Renewals run every third of the lifetime, so a healthy lease has at least two
        // thirds left. Asking for half leaves the request time to reach its write before
        // `may_write` looks again; with a quarter, a slow database load in between could
        // outlast the lease and answer 503 for no other reason.
        let fresh_enough = Instant::now() + self.ttl / 2;
        if self
            .held
            .lock()
            .unwrap()
            .leases
            .get(&owner)
            .is_some_and(|lease| lease.until > fresh_enough)
            && !self.releasing.lock().unwrap().contains(&owner)
        {
            return Ok(());
        }
        let deadline = Instant::now() + TAKE_WAIT;
        let mut asked = false;
        loop {
            if !self.releasing.lock().unwrap().contains(&owner) {
                let started = Instant::now();
                let ours_before = matches!(players.store.lease(owner).await?, Some((ref i, _)) if *i == self.instance);
                let now = now_ms();
                if players
                    .store
                    .take_lease(
                        owner,
                        &self.instance,
                        now,
                        now + self.ttl.as_millis() as i64,
                    )
                    .await?
                {
                    if !ours_before {
                        // A fresh claim: whatever we cached for this user may be stale.
                        players.cache.forget_owner(owner);
                        metrics::counter!("players_leases_taken_total").increment(1);
                    }
                    self.held.lock().unwrap().insert(owner, started + self.ttl);
                    return Ok(());
                }
                if !asked {
                    let request = format!("{owner} {}", self.instance);
                    if let Err(err) = self.bus.publish(RELEASE_CHANNEL, request.as_bytes()).await {
                        tracing::warn!(%err, "cannot ask for a release; waiting for the lease to expire");
                    }
                    asked = true;
                }
            }
            if Instant::now() >= deadline {
                metrics::counter!("players_lease_waits_timed_out_total").increment(1);
                return Err(PlayersError::Unavailable);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Renews leases and handles release requests until `shutdown`.
    pub async fn run(&self, players: &Players, shutdown: CancellationToken) {
        let mut requests = match self.bus.subscribe(RELEASE_CHANNEL).await {
            Ok(requests) => Some(requests),
            Err(err) => {
                tracing::error!(%err, "cannot hear release requests; users move only when leases expire");
                None
            }
        };
        let mut renew = tokio::time::interval(self.ttl / 3);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = renew.tick() => self.renew(players).await,
                delivery = async { match &mut requests { Some(r) => r.recv().await, None => std::future::pending().await } } => {
                    if let Some(Delivery::Message(payload)) = delivery {
                        let text = String::from_utf8_lossy(&payload);
                        let mut parts = text.split(' ');
                        let (owner, requester) = (parts.next().map(Uuid::parse_str), parts.next());
                        if let (Some(Ok(owner)), Some(requester)) = (owner, requester) {
                            // Decide with the lock released: `release` takes it again.
                            let ours = self.held.lock().unwrap().leases.contains_key(&owner);
                            if ours && requester != self.instance {
                                self.release(players, owner).await;
                            }
                        }
                    }
                }
            }
        }
    }

    async fn renew(&self, players: &Players) {
        let renewal = self.begin_renewal();
        match players
            .store
            .renew_leases(&self.instance, now_ms() + self.ttl.as_millis() as i64)
            .await
        {
            Ok(owners) => self.renewed(players, renewal, owners),
            Err(err) => tracing::warn!(%err, "renewing leases failed"),
        }
    }

    fn begin_renewal(&self) -> Renewal {
        let after_take = self.held.lock().unwrap().takes;
        Renewal {
            started: Instant::now(),
            after_take,
        }
    }

    /// Applies a renewal whose statement left this instance holding `owners`. A lease
    /// taken before the renewal began is extended if listed and lost if not (another
    /// instance took it after it lapsed); a lease taken since keeps its own lifetime,
    /// whether or not the list shows it.
    fn renewed(&self, players: &Players, renewal: Renewal, owners: Vec<Uuid>) {
        let still: HashSet<Uuid> = owners.into_iter().collect();
        let mut lost = Vec::new();
        {
            let mut held = self.held.lock().unwrap();
            held.leases.retain(|owner, lease| {
                if lease.take > renewal.after_take {
                    return true;
                }
                if still.contains(owner) {
                    lease.until = renewal.started + self.ttl;
                    return true;
                }
                lost.push(*owner);
                false
            });
        }
        for owner in lost {
            tracing::warn!(%owner, "lease lost; forgetting cached characters");
            players.cache.forget_owner(owner);
        }
    }

    /// Hands `owner` over: stop writes, flush, forget, delete the lease.
    async fn release(&self, players: &Players, owner: Uuid) {
        self.releasing.lock().unwrap().insert(owner);
        if let Err(err) = players.flush_owner(owner).await {
            tracing::warn!(%err, %owner, "flush before release failed; keeping the user");
            self.releasing.lock().unwrap().remove(&owner);
            return;
        }
        players.cache.forget_owner(owner);
        self.held.lock().unwrap().leases.remove(&owner);
        if let Err(err) = players
            .store
            .release_leases(&self.instance, Some(owner))
            .await
        {
            tracing::warn!(%err, %owner, "deleting the lease failed; it will expire");
        }
        self.releasing.lock().unwrap().remove(&owner);
        metrics::counter!("players_leases_released_total").increment(1);
    }

    /// At shutdown, after the final flush: let other instances take our users at once.
    pub async fn release_all(&self, players: &Players) {
        self.held.lock().unwrap().leases.clear();
        if let Err(err) = players.store.release_leases(&self.instance, None).await {
            tracing::warn!(%err, "releasing leases at shutdown failed; they will expire");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_need_a_live_lease_no_hand_over_and_no_shutdown() {
        let bus = guildhall_bus::connect("memory://", "").await.unwrap();
        let ownership = Ownership::new(Duration::from_secs(5), bus);
        let owner = Uuid::now_v7();
        assert!(!ownership.may_write(owner), "never leased");
        let later = Instant::now() + Duration::from_secs(60);
        ownership.held.lock().unwrap().insert(owner, later);
        assert!(ownership.may_write(owner));
        ownership.releasing.lock().unwrap().insert(owner);
        assert!(!ownership.may_write(owner), "being handed over");
        ownership.releasing.lock().unwrap().clear();
        ownership.held.lock().unwrap().insert(owner, Instant::now());
        assert!(!ownership.may_write(owner), "the lease ran out");
        ownership.held.lock().unwrap().insert(owner, later);
        ownership.stop();
        assert!(!ownership.may_write(owner), "shutting down");
    }

    /// A renewal's list of leases is read before it is applied; a user whose lease a
    /// request took in between is missing from it. That user must stay held (it used to
    /// be taken for lost: its cached characters forgotten and the request answered 503),
    /// while a lease that really went to another instance is still found lost.
    #[tokio::test]
    async fn a_lease_taken_while_a_renewal_reads_is_kept_and_a_lapsed_one_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        let players = crate::players_on_sqlite(dir.path(), Default::default()).await;
        let ownership = &players.ownership;
        let ttl = ownership.ttl.as_millis() as i64;
        let (kept, lapsed, fresh) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        ownership.ensure(&players, kept).await.unwrap();
        ownership.ensure(&players, lapsed).await.unwrap();
        // `lapsed`'s lease ran out (as seen from a later clock) and another instance took it.
        let later = now_ms() + 10 * ttl;
        assert!(
            players
                .store
                .take_lease(lapsed, "another", later, later + ttl)
                .await
                .unwrap()
        );

        let renewal = ownership.begin_renewal();
        let listed = players
            .store
            .renew_leases(&ownership.instance, now_ms() + ttl)
            .await
            .unwrap();
        assert_eq!(listed, [kept]);
        // A request takes a new user's lease after the list was read, before it is applied.
        ownership.ensure(&players, fresh).await.unwrap();
        ownership.renewed(&players, renewal, listed);

        assert!(ownership.may_write(kept));
        assert!(
            ownership.may_write(fresh),
            "a lease taken during the renewal was dropped"
        );
        assert!(
            !ownership.may_write(lapsed),
            "a lease held elsewhere is still ours"
        );

        // The next renewal lists the new lease and extends it like any other.
        let renewal = ownership.begin_renewal();
        let mut listed = players
            .store
            .renew_leases(&ownership.instance, now_ms() + ttl)
            .await
            .unwrap();
        listed.sort();
        let mut expected = vec![kept, fresh];
        expected.sort();
        assert_eq!(listed, expected);
        ownership.renewed(&players, renewal, listed);
        let held = ownership.held.lock().unwrap();
        assert_eq!(held.leases.len(), 2);
        assert!(
            held.leases
                .values()
                .all(|lease| lease.until == renewal.started + ownership.ttl)
        );
    }
}
