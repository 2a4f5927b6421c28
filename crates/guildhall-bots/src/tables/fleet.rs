//! Many tables of five bots, playing match after match.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use guildhall_rng::SplitMix64;
use serde_json::Value;

use super::*;
use crate::{Player, Session};

/// A run of table bots.
#[derive(Debug, Clone)]
pub struct TablesConfig {
    /// The platform's HTTP base URL (head).
    pub url: String,
    /// Tables played at once, five bots each.
    pub tables: usize,
    /// Table options for every table (`null` for the defaults). A `target_score` of 1
    /// ends each match after one hand, so every hand is a new table.
    pub options: Value,
    /// Guest inits and table setups (create, joins, connections) in flight at once.
    pub setup_concurrency: usize,
    pub seed: u64,
    pub bot: BotSettings,
}

/// Bots at their tables, playing until [`Fleet::measure`] ends.
pub struct Fleet {
    stats: Arc<TableStats>,
    halt: Halt,
    tables: usize,
    started: Instant,
    /// Tables with all five bots connected at least once.
    ready: Arc<AtomicU64>,
    ready_at: Arc<Mutex<Option<Instant>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("tables", &self.tables)
            .finish_non_exhaustive()
    }
}

/// A per-bot seed: `seed`, table slot, game number and seat through SplitMix64.
fn bot_seed(seed: u64, slot: usize, game: u64, seat: u8) -> u64 {
    let mut rng = SplitMix64::new(seed ^ ((slot as u64) << 40) ^ (game << 8) ^ u64::from(seat));
    rng.next_u64()
}

impl Fleet {
    /// Makes five guests per table (`setup_concurrency` at a time), then starts every
    /// table; returns once they are all started (not yet seated).
    pub async fn start(config: TablesConfig) -> anyhow::Result<Fleet> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(256)
            .build()?;
        let gate = Arc::new(tokio::sync::Semaphore::new(config.setup_concurrency.max(1)));
        let mut guests = tokio::task::JoinSet::new();
        for i in 0..config.tables * SEATS {
            let (http, url, gate) = (http.clone(), config.url.clone(), gate.clone());
            guests.spawn(async move {
                let _permit = gate.acquire_owned().await?;
                anyhow::Ok((i, Player::guest(&http, &url).await?))
            });
        }
        let mut players: Vec<Option<Player>> = vec![None; config.tables * SEATS];
        while let Some(joined) = guests.join_next().await {
            let (i, player) = joined?.context("guest init for a table bot")?;
            players[i] = Some(player);
        }
        let stats = Arc::new(TableStats::default());
        let halt = Halt::default();
        let ready = Arc::new(AtomicU64::new(0));
        let ready_at = Arc::new(Mutex::new(None));
        let started = Instant::now();
        let mut tasks = Vec::with_capacity(config.tables);
        let mut players = players.into_iter().flatten();
        for slot in 0..config.tables {
            let seats: Vec<Player> = players.by_ref().take(SEATS).collect();
            let table = TableSlot {
                slot,
                players: seats,
                config: config.clone(),
                stats: stats.clone(),
                halt: halt.clone(),
                gate: gate.clone(),
                ready: ready.clone(),
                ready_at: ready_at.clone(),
            };
            tasks.push(tokio::spawn(table.run()));
        }
        Ok(Fleet {
            stats,
            halt,
            tables: config.tables,
            started,
            ready,
            ready_at,
            tasks,
        })
    }

    /// The shared measurements.
    pub fn stats(&self) -> &Arc<TableStats> {
        &self.stats
    }

    /// Tables whose five bots have all connected at least once.
    pub fn tables_ready(&self) -> u64 {
        self.ready.load(Ordering::SeqCst)
    }

    /// Measures for `duration`, then stops every bot and reports.
    pub async fn measure(self, duration: Duration) -> TablesReport {
        self.stats.set_measuring(true);
        let began = Instant::now();
        let mut samples = Vec::new();
        let mut every = tokio::time::interval(Duration::from_millis(100));
        while began.elapsed() < duration {
            tokio::select! {
                _ = every.tick() => samples.push(self.stats.tables_playing() as f64),
                _ = tokio::time::sleep_until((began + duration).into()) => {}
            }
        }
        self.stats.set_measuring(false);
        let seconds = began.elapsed().as_secs_f64();
        self.halt.stop_run();
        for task in self.tasks {
            let _ = task.await;
        }
        let mut report = self.stats.report(self.tables, seconds);
        report.setup_secs = self
            .ready_at
            .lock()
            .unwrap()
            .map_or(f64::NAN, |at| at.duration_since(self.started).as_secs_f64());
        report.mean_tables_playing = samples.iter().sum::<f64>() / samples.len().max(1) as f64;
        report
    }
}

/// Starts `config.tables` tables, lets them play for `warmup`, then measures for
/// `duration`.
pub async fn run_tables(
    config: TablesConfig,
    warmup: Duration,
    duration: Duration,
) -> anyhow::Result<TablesReport> {
    let fleet = Fleet::start(config).await?;
    tokio::time::sleep(warmup).await;
    Ok(fleet.measure(duration).await)
}

/// One table slot: five guests playing one match after another.
struct TableSlot {
    slot: usize,
    players: Vec<Player>,
    config: TablesConfig,
    stats: Arc<TableStats>,
    halt: Halt,
    gate: Arc<tokio::sync::Semaphore>,
    ready: Arc<AtomicU64>,
    ready_at: Arc<Mutex<Option<Instant>>>,
}

impl TableSlot {
    async fn run(self) {
        let mut counted = false;
        for game in 0u64.. {
            if self.halt.stopped() {
                return;
            }
            let seated = {
                let Ok(_permit) = self.gate.acquire().await else {
                    return;
                };
                self.seat_everyone(game).await
            };
            let bots = match seated {
                Ok(bots) => bots,
                Err(err) => {
                    if self.halt.stopped() {
                        return;
                    }
                    self.stats
                        .error("setup_failed", || format!("table {}: {err:#}", self.slot));
                    tokio::select! {
                        _ = self.halt.wait() => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            };
            if !counted {
                counted = true;
                let ready = self.ready.fetch_add(1, Ordering::SeqCst) + 1;
                if ready == self.config.tables as u64 {
                    *self.ready_at.lock().unwrap() = Some(Instant::now());
                }
            }
            let table = self.halt.table();
            self.stats.playing.fetch_add(1, Ordering::Relaxed);
            let mut playing = tokio::task::JoinSet::new();
            for (mut bot, session) in bots {
                let (stats, halt) = (self.stats.clone(), table.clone());
                playing.spawn(async move {
                    let ended = bot.play(session, &stats, &halt).await;
                    (bot.name, ended)
                });
            }
            while let Some(joined) = playing.join_next().await {
                let failure = match joined {
                    Ok((_, Ok(_))) => continue,
                    Ok((name, Err(err))) => format!("{name}: {err:#}"),
                    Err(err) => format!("a bot task failed: {err}"),
                };
                // One seat gone: the others would wait for it forever.
                self.stats.error("bot_failed", || failure);
                table.stop_table();
            }
            self.stats.playing.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Creates a table, seats the other four, and connects all five.
    async fn seat_everyone(&self, game: u64) -> anyhow::Result<Vec<(TableBot, Session)>> {
        let host = self.players[0]
            .create_table(&self.config.options)
            .await
            .context("creating a table")?;
        self.stats.tables_created.fetch_add(1, Ordering::Relaxed);
        // The other four join at once (each gets the first free seat), then all five
        // connect at once.
        let joins = self.players[1..]
            .iter()
            .map(|player| player.join_table(&host.game_id));
        let mut seats = futures_util::future::try_join_all(joins)
            .await
            .context("joining")?;
        seats.insert(0, host);
        let connects = seats.into_iter().map(|seat| async move {
            let name = format!("t{}s{}", self.slot, seat.seat);
            let seed = bot_seed(self.config.seed, self.slot, game, seat.seat);
            let mut bot = TableBot::new(name, seat, seed, self.config.bot.clone());
            let session = bot.connect().await?;
            anyhow::Ok((bot, session))
        });
        futures_util::future::try_join_all(connects)
            .await
            .context("connecting")
    }
}
