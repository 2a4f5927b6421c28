//! Worker processes: both ends of the JSON-lines protocol between a host and the pool of
//! child processes it runs games in ([`Workers::Processes`](super::Workers)).
//!
//! The host's end keeps each child running ([`Host::run_slot`]): it starts the child
//! with its setup and games, passes commands on, forgets games the child reports ended,
//! and starts it again when it exits or is killed as stuck. The child's end is
//! [`worker_process`], the body of `guildhall tables-worker`.
//!
//! A worker process's first input line is its [`WorkerSetup`], then `{"start": id}` and
//! `{"stop": id}`; it answers `{"stopped": id}` when a game ends for good. It exits when
//! its input closes, so a host that dies takes its children with it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{Host, keep_running};
use crate::envelope::Seal;
use crate::worker::Worker;

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
pub(super) enum Command {
    Start(String),
    Stop(String),
}

/// What a slot's keeper is asked to do.
#[derive(Debug)]
pub(super) enum Order {
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

/// One child process's handle.
#[derive(Debug)]
pub(super) struct Slot {
    pub(super) orders: mpsc::UnboundedSender<Order>,
    pub(super) pid: AtomicU32,
    pub(super) restarts: AtomicU32,
}

impl Host {
    /// Keeps one worker process running until shutdown: starts it with its games, passes
    /// commands on, forgets games it reports ended, and starts it again when it exits.
    pub(super) async fn run_slot(
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

pub(super) struct ChildSpec {
    pub(super) program: PathBuf,
    pub(super) args: Vec<String>,
    pub(super) setup: WorkerSetup,
}

enum ChildEnd {
    Shutdown,
    Exited(String),
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
