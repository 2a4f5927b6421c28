//! Spectator fan-out: one player typing into `cat` through the gateway, many anonymous
//! watchers (`watch@`, `w`, then the player's letter) watching that one game.
//!
//! The player types a timestamped marker (`@` and the microseconds since the start of
//! this phase) and Enter every `--marker-ms`; each watcher's lag for a marker is the
//! time from the player's send to the marker's first appearance in that watcher's
//! output (the PTY's echo and `cat`'s copy both carry it; the first counts). The
//! player's own echo of the same markers is the reference.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::cpu::{CpuUse, CpuWindow};
use super::sessions::{self, Failures, Hist, Route, STEP_TIMEOUT, hist};
use super::tty::{self, Login, Tty, marker};
use crate::procfs::rss_kib;

/// How the phase runs.
pub struct Settings {
    pub watchers: usize,
    pub concurrency: usize,
    pub marker_every: Duration,
    pub duration: Duration,
}

pub struct Spectators {
    pub watching: usize,
    pub failures: Failures,
    /// TCP connect to the first marker seen, per watcher.
    pub join: Hist,
    /// Every watcher's lag for every marker of the window.
    pub lag: Hist,
    /// The player's own echo of the same markers.
    pub player_echo: Hist,
    /// Markers the player typed in the window.
    pub markers: u64,
    /// Gateway memory per watcher (RSS growth over the gateway with only the player).
    pub kib_per_watcher: f64,
    /// Over the window; the subject is the gateway and `up`.
    pub cpu: CpuUse,
}

/// Shared by the player and watchers: one clock and the window.
struct Window {
    epoch: Instant,
    /// Microseconds since `epoch` when measuring started; markers before it are not
    /// counted.
    start: AtomicU64,
}

impl Window {
    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// Records the lag of each new marker of the window; returns the newest seen.
    fn record(&self, found: &[u64], newest: u64, lag: &mut Hist) -> u64 {
        let start = self.start.load(Ordering::Relaxed);
        let now = self.now();
        let mut newest = newest;
        for &sent in found {
            // Each marker comes out twice (echo, then cat) and again in screen
            // redraws: only its first appearance counts.
            if sent <= newest {
                continue;
            }
            newest = sent;
            if sent >= start {
                lag.saturating_record(now.saturating_sub(sent).max(1));
            }
        }
        newest
    }
}

pub async fn run(
    gateway: SocketAddr,
    // The gateway's and up's.
    [gateway_pid, up_pid]: [u32; 2],
    player: Login,
    player_name: &str,
    settings: &Settings,
) -> anyhow::Result<Spectators> {
    let window = Arc::new(Window {
        epoch: Instant::now(),
        start: AtomicU64::new(u64::MAX),
    });
    let opened = sessions::open(gateway, vec![player], Route::GatewayMenu, 1).await;
    let mut attached = sessions::attach(opened.ttys, Route::GatewayMenu, 1).await;
    let player_tty = attached.ttys.pop().with_context(|| {
        format!(
            "the player could not start: {}; {}",
            opened.failures.describe(),
            attached.failures.describe()
        )
    })?;
    let stop_typing = CancellationToken::new();
    let stop_watching = CancellationToken::new();
    let typing = tokio::spawn(type_markers(
        player_tty,
        window.clone(),
        settings.marker_every,
        stop_typing.clone(),
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_player_only = rss_kib(gateway_pid)?;

    let ready = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let permits = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    let mut watchers = tokio::task::JoinSet::new();
    for _ in 0..settings.watchers {
        let watcher = Watcher {
            gateway,
            player: player_name.to_owned(),
            window: window.clone(),
            permits: permits.clone(),
            ready: ready.clone(),
            stop: stop_watching.clone(),
        };
        let failed = failed.clone();
        watchers.spawn(async move {
            let watched = watcher.run().await;
            if watched.is_err() {
                failed.fetch_add(1, Ordering::Relaxed);
            }
            watched
        });
    }
    let ramp_deadline = Instant::now() + STEP_TIMEOUT * 4;
    while ready.load(Ordering::Relaxed) + failed.load(Ordering::Relaxed) < settings.watchers
        && Instant::now() < ramp_deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let watching = ready.load(Ordering::Relaxed);
    let rss_watching = rss_kib(gateway_pid)?;

    window.start.store(window.now(), Ordering::Relaxed);
    let cpu = CpuWindow::open(&[gateway_pid, up_pid]);
    tokio::time::sleep(settings.duration).await;
    let cpu = cpu.close();
    stop_typing.cancel();
    // Markers typed last get a moment to reach everyone.
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop_watching.cancel();

    let (player_echo, markers) = typing.await??;
    let mut spectators = Spectators {
        watching,
        failures: Failures::default(),
        join: hist(),
        lag: hist(),
        player_echo,
        markers,
        kib_per_watcher: (rss_watching - rss_player_only) / watching.max(1) as f64,
        cpu,
    };
    while let Some(done) = watchers.join_next().await {
        match done? {
            Ok((join, lag)) => {
                sessions::record(&mut spectators.join, join);
                let _ = spectators.lag.add(&lag);
            }
            Err(error) => spectators.failures.add(&error),
        }
    }
    Ok(spectators)
}

/// The player: a marker and Enter every `every` until stopped, reading its own echo.
async fn type_markers(
    mut tty: Tty,
    window: Arc<Window>,
    every: Duration,
    stop: CancellationToken,
) -> anyhow::Result<(Hist, u64)> {
    let mut echo = hist();
    let mut typed_in_window = 0;
    let mut newest = 0;
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = ticks.tick() => {
                let sent = window.now();
                if sent >= window.start.load(Ordering::Relaxed) {
                    typed_in_window += 1;
                }
                tty.send(format!("{}\r", marker(sent)).as_bytes()).await?;
            }
            found = tty.markers() => {
                newest = window.record(&found?, newest, &mut echo);
            }
        }
    }
    Ok((echo, typed_in_window))
}

struct Watcher {
    gateway: SocketAddr,
    player: String,
    window: Arc<Window>,
    /// Joins in progress at once.
    permits: Arc<Semaphore>,
    ready: Arc<AtomicUsize>,
    stop: CancellationToken,
}

impl Watcher {
    /// Joins, then records lags until stopped; returns (join time, lags).
    async fn run(self) -> anyhow::Result<(Duration, Hist)> {
        let permit = self.permits.clone().acquire_owned().await?;
        let start = Instant::now();
        let login = Login::Anonymous {
            user: "watch".into(),
        };
        let (ssh, _) = tty::connect(self.gateway, &login).await?;
        let mut tty = ssh.terminal().await?;
        tty.wait_for(b"=> ", STEP_TIMEOUT).await?;
        tty.send(b"w").await?;
        // The list's line for the player: ` a) bench_01000  cat ...`.
        let entry = format!(") {} ", self.player);
        let listed = tty.wait_for(entry.as_bytes(), STEP_TIMEOUT).await?;
        let pick = listed[listed.len() - entry.len() - 1];
        tty.send(&[pick]).await?;
        let mut lag = hist();
        let mut newest = 0;
        // Watching once the first marker (from the screen, or live) shows up.
        loop {
            let found = tokio::time::timeout(STEP_TIMEOUT, tty.markers())
                .await
                .context("no marker after picking the game")??;
            if !found.is_empty() {
                newest = self.window.record(&found, newest, &mut lag);
                break;
            }
        }
        let joined = start.elapsed();
        drop(permit);
        self.ready.fetch_add(1, Ordering::Relaxed);
        loop {
            tokio::select! {
                _ = self.stop.cancelled() => break,
                found = tty.markers() => {
                    newest = self.window.record(&found?, newest, &mut lag);
                }
            }
        }
        Ok((joined, lag))
    }
}
