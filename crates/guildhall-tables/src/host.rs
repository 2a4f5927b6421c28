//! The game host: the part of the tables service that keeps games' workers running.
//!
//! Anyone who needs a game's worker (head seating a player, a gateway whose game stopped
//! answering) publishes a sealed start request on [`START_CHANNEL`]. A host claims the
//! game with `game:<id>:owner` (so two hosts never run one game), and runs its worker:
//!
//! - as a task of this process ([`Workers::InProcess`], `guildhall up`), restarted when
//!   it stops on a bus failure;
//! - or in one of a pool of child processes ([`Workers::Processes`], the split shape on
//!   Redis), each running many games. The host notices a child's exit at once and starts
//!   it again with the same games, which reload their state and resync every client.
//!
//! Either way it watches each game's `game:<id>:heartbeat` (written by the worker every
//! 5 s, expiring after 20 s): a worker that stopped writing it is restarted, and in a
//! child process, the whole child is, since something in it is stuck. Owner keys are
//! refreshed at the same pace, so when a host dies its games are free for another host
//! within the heartbeat's lifetime.
//!
//! How a host and its worker processes talk: `host/process.rs`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use guildhall_bus::{Delivery, SharedBus};
use guildhall_core::now_ms;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use uuid::Uuid;

use crate::envelope::{ActionEnvelope, PROTOCOL_VERSION, Role, Seal, heartbeat_key, owner_key};
use crate::worker::{HEARTBEAT_EVERY, HEARTBEAT_TTL, Stopped, Worker};

mod process;
#[cfg(test)]
mod tests;

use process::{ChildSpec, Command, Order, Slot};
pub use process::{WorkerSetup, worker_process};

/// Where start requests are published.
pub const START_CHANNEL: &str = "tables.start";

/// Start requests a host works on at once.
const MAX_CONCURRENT_STARTS: usize = 64;
/// The message type of a start request.
const START: &str = "start-worker";

/// How a host runs workers.
#[derive(Debug, Clone)]
pub enum Workers {
    /// Tasks of this process.
    InProcess,
    /// A pool of child processes running `program args...`, which must serve the worker
    /// protocol (`guildhall tables-worker`).
    Processes {
        count: usize,
        program: PathBuf,
        args: Vec<String>,
        /// The bus the children connect to (the host's own).
        bus_url: String,
        key_prefix: String,
        telemetry: serde_json::Value,
    },
}

/// Where a game's worker runs.
#[derive(Debug)]
enum Placement {
    Task(CancellationToken),
    Slot(usize),
}

#[derive(Debug)]
struct Placed {
    placement: Placement,
    since: Instant,
}

/// A worker process, as the host reports it.
#[derive(Debug, Clone, Serialize)]
pub struct WorkerProcess {
    pub slot: usize,
    pub pid: Option<u32>,
    pub games: Vec<String>,
    pub restarts: u32,
}

pub struct Host {
    id: String,
    bus: SharedBus,
    seal: Seal,
    worker: Arc<Worker>,
    games: Mutex<HashMap<String, Placed>>,
    slots: Vec<Slot>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host").field("id", &self.id).finish()
    }
}

/// A sealed request that some host start `game_id`'s worker.
pub fn start_request(seal: &Seal, game_id: &str) -> Vec<u8> {
    seal.seal(&ActionEnvelope {
        game_id: game_id.to_owned(),
        player_id: None,
        role: Role::System,
        seat: None,
        action_id: format!("start-{}", Uuid::new_v4().simple()),
        ts: now_ms(),
        version: PROTOCOL_VERSION.into(),
        origin: "tables".into(),
        message_type: START.into(),
        payload: Default::default(),
    })
}

impl Host {
    /// Starts a host: it listens for start requests and watches its games' heartbeats
    /// until `shutdown`.
    pub async fn start(
        bus: SharedBus,
        internal_token: &str,
        state_ttl: Duration,
        workers: Workers,
        shutdown: CancellationToken,
        tasks: &TaskTracker,
    ) -> Result<Arc<Self>, String> {
        let seal = Seal::new(internal_token);
        let mut requests = bus
            .subscribe(START_CHANNEL)
            .await
            .map_err(|e| format!("subscribing to {START_CHANNEL}: {e}"))?;
        let (count, receivers) = match &workers {
            Workers::InProcess => (0, Vec::new()),
            Workers::Processes { count, .. } => {
                let receivers: Vec<_> = (0..*count).map(|_| mpsc::unbounded_channel()).collect();
                (*count, receivers)
            }
        };
        let mut slots = Vec::with_capacity(count);
        let mut inboxes = Vec::with_capacity(count);
        for (tx, rx) in receivers {
            slots.push(Slot {
                orders: tx,
                pid: AtomicU32::new(0),
                restarts: AtomicU32::new(0),
            });
            inboxes.push(rx);
        }
        let host = Arc::new(Self {
            id: format!("host:{}", Uuid::new_v4().simple()),
            worker: Arc::new(Worker::new(bus.clone(), seal.clone(), state_ttl)),
            bus: bus.clone(),
            seal,
            games: Mutex::new(HashMap::new()),
            slots,
            shutdown: shutdown.clone(),
            tasks: tasks.clone(),
        });
        if let Workers::Processes {
            program,
            args,
            bus_url,
            key_prefix,
            telemetry,
            ..
        } = &workers
        {
            let setup = WorkerSetup {
                bus_url: bus_url.clone(),
                key_prefix: key_prefix.clone(),
                internal_token: internal_token.to_owned(),
                state_ttl_secs: state_ttl.as_secs(),
                telemetry: telemetry.clone(),
            };
            for (index, inbox) in inboxes.into_iter().enumerate() {
                let child = ChildSpec {
                    program: program.clone(),
                    args: args.clone(),
                    setup: setup.clone(),
                };
                tasks.spawn(host.clone().run_slot(index, child, inbox));
            }
        }
        tasks.spawn(host.clone().watch());
        let listening = host.clone();
        // Starts are claimed concurrently (each is a few bus round trips), a bounded
        // number at once: a burst of new tables must not queue behind one another.
        let starts = Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT_STARTS));
        tasks.spawn(async move {
            loop {
                tokio::select! {
                    _ = listening.shutdown.cancelled() => return,
                    delivery = requests.recv() => match delivery {
                        Some(Delivery::Message(bytes)) => match listening.seal.open(&bytes) {
                            Ok(request) if request.message_type == START => {
                                let Ok(permit) = starts.clone().acquire_owned().await else {
                                    return;
                                };
                                let host = listening.clone();
                                listening.tasks.spawn(async move {
                                    host.claim_and_start(&request.game_id).await;
                                    drop(permit);
                                });
                            }
                            _ => {
                                metrics::counter!("tables_envelopes_rejected_total").increment(1);
                            }
                        },
                        Some(Delivery::Gap) => {}
                        None => {
                            // The subscription ended (the bus went away): subscribe again.
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            if let Ok(again) = listening.bus.subscribe(START_CHANNEL).await {
                                requests = again;
                            }
                        }
                    },
                }
            }
        });
        Ok(host)
    }

    /// The worker processes and their games (empty when workers are tasks).
    pub fn processes(&self) -> Vec<WorkerProcess> {
        self.slots
            .iter()
            .enumerate()
            .map(|(index, slot)| WorkerProcess {
                slot: index,
                pid: Some(slot.pid.load(Ordering::Relaxed)).filter(|pid| *pid != 0),
                games: self.games_in(index),
                restarts: slot.restarts.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// How many games this host runs.
    pub fn game_count(&self) -> usize {
        self.games.lock().unwrap().len()
    }

    async fn claim_and_start(self: &Arc<Self>, game_id: &str) {
        if self.games.lock().unwrap().contains_key(game_id) {
            return;
        }
        let owner = owner_key(game_id);
        match self
            .bus
            .set_if_absent(&owner, self.id.as_bytes(), Some(HEARTBEAT_TTL))
            .await
        {
            Ok(true) => {}
            // Another host runs it (its owner key lapses within 20 s if that host died).
            Ok(false) => return,
            Err(err) => {
                tracing::warn!(game = game_id, %err, "claiming a game failed");
                return;
            }
        }
        match self.worker.load(game_id).await {
            Ok(Some(_)) => {}
            _ => {
                let _ = self.bus.delete(&owner).await;
                return;
            }
        }
        self.place(game_id);
    }

    /// Runs a claimed game's worker here.
    fn place(self: &Arc<Self>, game_id: &str) {
        let placement = if self.slots.is_empty() {
            let stop = self.shutdown.child_token();
            self.tasks
                .spawn(self.clone().supervise(game_id.to_owned(), stop.clone()));
            Placement::Task(stop)
        } else {
            let games = self.games.lock().unwrap();
            let mut load = vec![0usize; self.slots.len()];
            for placed in games.values() {
                if let Placement::Slot(s) = placed.placement {
                    load[s] += 1;
                }
            }
            let slot = (0..load.len()).min_by_key(|s| load[*s]).unwrap_or(0);
            let _ = self.slots[slot]
                .orders
                .send(Order::Pass(Command::Start(game_id.to_owned())));
            Placement::Slot(slot)
        };
        metrics::counter!("tables_workers_started_total").increment(1);
        self.games.lock().unwrap().insert(
            game_id.to_owned(),
            Placed {
                placement,
                since: Instant::now(),
            },
        );
        metrics::gauge!("tables_games_hosted").set(self.game_count() as f64);
    }

    /// Forgets a game that ended for good.
    async fn forget(&self, game_id: &str) {
        self.games.lock().unwrap().remove(game_id);
        metrics::gauge!("tables_games_hosted").set(self.game_count() as f64);
        let _ = self.bus.delete(&owner_key(game_id)).await;
    }

    /// A game's worker as a task.
    async fn supervise(self: Arc<Self>, game_id: String, stop: CancellationToken) {
        if keep_running(&self.worker, &game_id, &stop).await {
            self.forget(&game_id).await;
        } else if self.shutdown.is_cancelled() {
            self.release(&[game_id]).await;
        }
    }

    /// Leaving: once their workers have stopped, our games are free for another host.
    async fn release(&self, games: &[String]) {
        for game_id in games {
            let _ = self.bus.delete(&owner_key(game_id)).await;
        }
    }

    /// Every heartbeat period: keep owning our games, and restart those whose worker
    /// stopped writing its heartbeat. The whole sweep is two batched requests
    /// ([`guildhall_bus::Bus::set_many`], [`guildhall_bus::Bus::get_many`]), not two round
    /// trips per game: one round trip after another, a sweep of 1,000 busy games took
    /// about 4.7 of its 5 s (`docs/performance.md`), so a few thousand would have let
    /// owner keys lapse (`HEARTBEAT_TTL`) and found dead workers late.
    async fn watch(self: Arc<Self>) {
        let mut every = tokio::time::interval(HEARTBEAT_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = self.shutdown.cancelled() => return,
                _ = every.tick() => {}
            }
            let began = Instant::now();
            self.sweep().await;
            metrics::histogram!("tables_watch_sweep_seconds").record(began.elapsed().as_secs_f64());
        }
    }

    async fn sweep(self: &Arc<Self>) {
        let games: Vec<(String, bool)> = self
            .games
            .lock()
            .unwrap()
            .iter()
            .map(|(id, placed)| (id.clone(), placed.since.elapsed() >= HEARTBEAT_TTL))
            .collect();
        if games.is_empty() {
            return;
        }
        let owners: Vec<String> = games.iter().map(|(id, _)| owner_key(id)).collect();
        let owned: Vec<(&str, &[u8])> = owners
            .iter()
            .map(|key| (key.as_str(), self.id.as_bytes()))
            .collect();
        if let Err(err) = self.bus.set_many(&owned, Some(HEARTBEAT_TTL)).await {
            tracing::warn!(%err, games = games.len(), "renewing game ownership failed");
        }
        // A game placed less than a heartbeat lifetime ago may not have beaten yet.
        let settled: Vec<&str> = games
            .iter()
            .filter(|(_, settled)| *settled)
            .map(|(id, _)| id.as_str())
            .collect();
        let beats: Vec<String> = settled.iter().map(|id| heartbeat_key(id)).collect();
        let beats: Vec<&str> = beats.iter().map(String::as_str).collect();
        let Ok(beating) = self.bus.get_many(&beats).await else {
            // Unreadable is not missing: nothing is restarted on a bus that is away.
            return;
        };
        for (game_id, beat) in settled.into_iter().zip(beating) {
            if beat.is_none() {
                metrics::counter!("tables_heartbeats_missed_total").increment(1);
                tracing::warn!(game = %game_id, "a worker's heartbeat lapsed; restarting it");
                self.restart(game_id);
            }
        }
    }

    fn restart(self: &Arc<Self>, game_id: &str) {
        let mut games = self.games.lock().unwrap();
        let Some(placed) = games.get_mut(game_id) else {
            return;
        };
        placed.since = Instant::now();
        match &mut placed.placement {
            Placement::Task(stop) => {
                stop.cancel();
                let fresh = self.shutdown.child_token();
                *stop = fresh.clone();
                self.tasks
                    .spawn(self.clone().supervise(game_id.to_owned(), fresh));
            }
            Placement::Slot(slot) => {
                // Something in that process is stuck: start it afresh with all its games.
                let _ = self.slots[*slot].orders.send(Order::Restart);
            }
        }
    }

    fn games_in(&self, slot: usize) -> Vec<String> {
        self.games
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, placed)| matches!(placed.placement, Placement::Slot(s) if s == slot))
            .map(|(id, _)| id.clone())
            .collect()
    }
}

/// Runs a game's worker until `stop`, restarting it after a bus failure; true when the
/// game ended for good (its state is gone).
async fn keep_running(worker: &Worker, game_id: &str, stop: &CancellationToken) -> bool {
    loop {
        match worker.run(game_id, stop.clone()).await {
            Stopped::Shutdown => return false,
            Stopped::NoState => return true,
            Stopped::Bus(err) => {
                metrics::counter!("tables_worker_restarts_total").increment(1);
                tracing::warn!(game = %game_id, %err, "table worker stopped; restarting");
                tokio::select! {
                    _ = stop.cancelled() => return false,
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                }
            }
        }
    }
}
