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
//! A worker process speaks JSON lines with its host: its first input line is its
//! [`WorkerSetup`], then `{"start": id}` and `{"stop": id}`; it answers `{"stopped": id}`
//! when a game ends for good. It exits when its input closes, so a host that dies takes
//! its children with it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use guildhall_bus::{Delivery, SharedBus};
use guildhall_core::now_ms;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use uuid::Uuid;

use crate::envelope::{ActionEnvelope, PROTOCOL_VERSION, Role, Seal, heartbeat_key, owner_key};
use crate::worker::{HEARTBEAT_EVERY, HEARTBEAT_TTL, Stopped, Worker};

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

/// What a worker process is told before anything else.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerSetup {
    pub bus_url: String,
    pub key_prefix: String,
    pub internal_token: String,
    pub state_ttl_secs: u64,
    /// The host's telemetry settings, for the process's logs.
    #[serde(default)]
    pub telemetry: serde_json::Value,
}

/// A line from host to worker process.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Command {
    Start(String),
    Stop(String),
}

/// What a slot's keeper is asked to do.
#[derive(Debug)]
enum Order {
    /// Pass a command on to the process.
    Pass(Command),
    /// Kill the process (it is stuck); it is started again with its games.
    Restart,
}

/// A line from worker process to host.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Report {
    Stopped(String),
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

/// One child process's handle.
#[derive(Debug)]
struct Slot {
    orders: mpsc::UnboundedSender<Order>,
    pid: AtomicU32,
    restarts: AtomicU32,
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

    /// Keeps one worker process running until shutdown: starts it with its games, passes
    /// commands on, forgets games it reports ended, and starts it again when it exits.
    async fn run_slot(
        self: Arc<Self>,
        index: usize,
        child: ChildSpec,
        mut inbox: mpsc::UnboundedReceiver<Order>,
    ) {
        let mut backoff = Duration::from_millis(50);
        loop {
            if self.shutdown.is_cancelled() {
                return;
            }
            let started = Instant::now();
            match self.run_child(index, &child, &mut inbox).await {
                Ok(ChildEnd::Shutdown) => return,
                Ok(ChildEnd::Exited(status)) => {
                    tracing::warn!(slot = index, %status, "a table worker process exited; starting it again");
                }
                Err(err) => {
                    tracing::error!(slot = index, %err, "a table worker process failed");
                }
            }
            self.slots[index].pid.store(0, Ordering::Relaxed);
            self.slots[index].restarts.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("tables_worker_process_restarts_total").increment(1);
            // A process that dies at once again and again is not restarted in a hot loop.
            backoff = if started.elapsed() > Duration::from_secs(10) {
                Duration::from_millis(50)
            } else {
                (backoff * 2).min(Duration::from_secs(5))
            };
            tokio::select! {
                _ = self.shutdown.cancelled() => return,
                _ = tokio::time::sleep(backoff) => {}
            }
        }
    }

    async fn run_child(
        &self,
        index: usize,
        spec: &ChildSpec,
        inbox: &mut mpsc::UnboundedReceiver<Order>,
    ) -> Result<ChildEnd, String> {
        let mut child = tokio::process::Command::new(&spec.program)
            .args(&spec.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", spec.program.display()))?;
        self.slots[index]
            .pid
            .store(child.id().unwrap_or(0), Ordering::Relaxed);
        let mut stdin = child.stdin.take().ok_or("no stdin")?;
        let mut lines = BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
        let mut first = serde_json::to_vec(&spec.setup).map_err(|e| e.to_string())?;
        first.push(b'\n');
        for game in self.games_in(index) {
            first.extend(line(&Command::Start(game)));
        }
        // Orders queued before this child started were for the one before it: their
        // commands still go, in order, but a restart asked of the old process (the
        // sweep asks once per lapsed game, and a stuck process may hold hundreds) must
        // not kill this fresh one.
        while let Ok(order) = inbox.try_recv() {
            if let Order::Pass(command) = order {
                first.extend(line(&command));
            }
        }
        // A child that died before reading its input is noticed by wait() below.
        let _ = stdin.write_all(&first).await;
        loop {
            tokio::select! {
                _ = self.shutdown.cancelled() => {
                    // Closing its input stops the child's workers; give them a moment.
                    drop(stdin);
                    if tokio::time::timeout(Duration::from_secs(3), child.wait()).await.is_err() {
                        let _ = child.kill().await;
                    }
                    self.release(&self.games_in(index)).await;
                    return Ok(ChildEnd::Shutdown);
                }
                status = child.wait() => {
                    return Ok(ChildEnd::Exited(status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string())));
                }
                order = inbox.recv() => match order {
                    Some(Order::Pass(command)) => {
                        let _ = stdin.write_all(&line(&command)).await;
                    }
                    Some(Order::Restart) => {
                        let _ = child.kill().await;
                        return Ok(ChildEnd::Exited("killed: a heartbeat lapsed".into()));
                    }
                    None => return Ok(ChildEnd::Shutdown),
                },
                report = lines.next_line() => match report {
                    Ok(Some(text)) => {
                        if let Ok(Report::Stopped(game)) = serde_json::from_str(&text) {
                            self.forget(&game).await;
                        }
                    }
                    // Its output closed: it is exiting; wait() tells the rest.
                    _ => {
                        let status = child.wait().await;
                        return Ok(ChildEnd::Exited(status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string())));
                    }
                },
            }
        }
    }
}

struct ChildSpec {
    program: PathBuf,
    args: Vec<String>,
    setup: WorkerSetup,
}

enum ChildEnd {
    Shutdown,
    Exited(String),
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

fn line<T: Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = serde_json::to_vec(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// The body of a worker process (`guildhall tables-worker`): reads its [`WorkerSetup`]
/// (handing it to `prepare`, which sets up logging) and commands from standard input,
/// runs the games it is told to, and exits when its input closes.
pub async fn worker_process(prepare: impl FnOnce(&WorkerSetup)) -> Result<(), String> {
    let mut input = BufReader::new(tokio::io::stdin()).lines();
    let setup: WorkerSetup = match input.next_line().await {
        Ok(Some(text)) => serde_json::from_str(&text).map_err(|e| format!("bad setup: {e}"))?,
        _ => return Err("no setup on standard input".into()),
    };
    prepare(&setup);
    let bus = guildhall_bus::connect(&setup.bus_url, &setup.key_prefix)
        .await
        .map_err(|e| format!("connecting to the bus: {e}"))?;
    let worker = Arc::new(Worker::new(
        bus,
        Seal::new(&setup.internal_token),
        Duration::from_secs(setup.state_ttl_secs),
    ));
    let shutdown = CancellationToken::new();
    let tasks = TaskTracker::new();
    let (reports, mut outgoing) = mpsc::unbounded_channel::<Report>();
    let mut running: HashMap<String, CancellationToken> = HashMap::new();
    let mut stdout = tokio::io::stdout();
    loop {
        tokio::select! {
            report = outgoing.recv() => {
                if let Some(report) = report {
                    let Report::Stopped(game) = &report;
                    running.remove(game);
                    let _ = stdout.write_all(&line(&report)).await;
                    let _ = stdout.flush().await;
                }
            }
            command = input.next_line() => match command {
                Ok(Some(text)) => match serde_json::from_str::<Command>(&text) {
                    Ok(Command::Start(game)) => {
                        if running.contains_key(&game) {
                            continue;
                        }
                        let stop = shutdown.child_token();
                        running.insert(game.clone(), stop.clone());
                        let (worker, reports) = (worker.clone(), reports.clone());
                        tasks.spawn(async move {
                            if keep_running(&worker, &game, &stop).await {
                                let _ = reports.send(Report::Stopped(game));
                            }
                        });
                    }
                    Ok(Command::Stop(game)) => {
                        if let Some(stop) = running.remove(&game) {
                            stop.cancel();
                        }
                    }
                    Err(err) => tracing::warn!(%err, "ignoring a command the worker process cannot read"),
                },
                // The host is gone or shutting down.
                _ => break,
            },
        }
    }
    shutdown.cancel();
    tasks.close();
    tasks.wait().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Puts `game_id` in the host's books as placed at `since`, its worker a task that
    /// `stop` would end (no worker runs: the sweep's decisions are what is watched).
    fn hold(host: &Host, game_id: &str, since: Instant) -> CancellationToken {
        let stop = CancellationToken::new();
        host.games.lock().unwrap().insert(
            game_id.to_owned(),
            Placed {
                placement: Placement::Task(stop.clone()),
                since,
            },
        );
        stop
    }

    #[tokio::test]
    async fn a_sweep_renews_every_game_and_restarts_exactly_those_whose_heartbeat_lapsed() {
        let bus = guildhall_bus::connect("memory://", "").await.unwrap();
        let (shutdown, tasks) = (CancellationToken::new(), TaskTracker::new());
        let host = Host::start(
            bus.clone(),
            "sweep-test-internal-token",
            Duration::from_secs(600),
            Workers::InProcess,
            shutdown.clone(),
            &tasks,
        )
        .await
        .unwrap();
        let settled = Instant::now().checked_sub(HEARTBEAT_TTL * 2).unwrap();
        // More games than one batched request carries; every seventh has no heartbeat,
        // and the last few were placed too recently to have one yet.
        let n = guildhall_bus::MANY_CHUNK * 2 + 50;
        let fresh = n - 5;
        let mut stops = Vec::new();
        for i in 0..n {
            let game_id = format!("g{i}");
            stops.push(hold(
                &host,
                &game_id,
                if i < fresh { settled } else { Instant::now() },
            ));
            if i % 7 != 0 && i < fresh {
                bus.set(&heartbeat_key(&game_id), b"1", Some(HEARTBEAT_TTL))
                    .await
                    .unwrap();
            }
        }
        host.sweep().await;
        for (i, stop) in stops.iter().enumerate() {
            let lapsed = i % 7 == 0 && i < fresh;
            assert_eq!(
                stop.is_cancelled(),
                lapsed,
                "game g{i}: restarted iff lapsed"
            );
            if !lapsed {
                // (A restarted game's new worker finds no such table and lets it go,
                // owner key included, so only the others are read.)
                assert_eq!(
                    bus.get(&owner_key(&format!("g{i}")))
                        .await
                        .unwrap()
                        .as_deref(),
                    Some(host.id.as_bytes()),
                    "game g{i} renewed as this host's"
                );
            }
        }
        shutdown.cancel();
        tasks.close();
        tasks.wait().await;
    }

    #[tokio::test]
    async fn a_stuck_process_with_many_lapsed_games_is_restarted_once() {
        let bus = guildhall_bus::connect("memory://", "").await.unwrap();
        let (shutdown, tasks) = (CancellationToken::new(), TaskTracker::new());
        // Stand-in worker processes: each writes what it is told to `child.<its pid>`
        // and never beats (the shell stays, holding the output the host reads open).
        let dir = std::env::temp_dir().join(format!("gh-host-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let workers = Workers::Processes {
            count: 1,
            program: "sh".into(),
            args: vec![
                "-c".into(),
                r#"cat > "$0.$$""#.into(),
                dir.join("child").display().to_string(),
            ],
            bus_url: "memory://".into(),
            key_prefix: String::new(),
            telemetry: serde_json::Value::Null,
        };
        let host = Host::start(
            bus,
            "sweep-test-internal-token",
            Duration::from_secs(600),
            workers,
            shutdown.clone(),
            &tasks,
        )
        .await
        .unwrap();
        let pid = || host.slots[0].pid.load(Ordering::Relaxed);
        let restarts = || host.slots[0].restarts.load(Ordering::Relaxed);
        let wait = Duration::from_secs(10);
        let first = guildhall_testkit::eventually("the process to start", wait, || async {
            (pid() != 0).then(pid)
        })
        .await;
        let settled = Instant::now().checked_sub(HEARTBEAT_TTL * 2).unwrap();
        for i in 0..6 {
            host.games.lock().unwrap().insert(
                format!("stuck{i}"),
                Placed {
                    placement: Placement::Slot(0),
                    since: settled,
                },
            );
        }
        // Six lapsed games, one process: the sweep asks for six restarts. A command
        // queued behind them shows which process the queue reaches: the one started
        // after the first restart, unless the five other asks each killed another.
        host.sweep().await;
        host.slots[0]
            .orders
            .send(Order::Pass(Command::Stop("marker".into())))
            .unwrap();
        let told = guildhall_testkit::eventually("a process to be told the marker", wait, || {
            let dir = dir.clone();
            async move {
                std::fs::read_dir(&dir).unwrap().find_map(|entry| {
                    let path = entry.unwrap().path();
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    text.contains("marker")
                        .then(|| path.extension().unwrap().to_owned())
                })
            }
        })
        .await;
        let told: u32 = told.to_str().unwrap().parse().unwrap();
        assert_ne!(told, first, "the stuck process was restarted");
        assert_eq!(
            (told, restarts()),
            (pid(), 1),
            "the process after one restart heard the marker, and is the one running"
        );
        shutdown.cancel();
        tasks.close();
        tasks.wait().await;
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
