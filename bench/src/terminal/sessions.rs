//! Sessions on one subject: opening N of them (each attached to its own `cat`), typing
//! into all of them at a steady pace while timing each keystroke's echo, and probing
//! the handshake of new connections while they are held.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::Semaphore;

use super::tty::{self, Login, Tty};

/// Longest wait for any one step (a prompt, an echo, a sync).
pub const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// Typed until echoed to know a session reached its program.
const ATTACH_KEY: u8 = b'Z';
const ATTACH_RETRY: Duration = Duration::from_millis(250);

/// Keystrokes between two syncs (a newline that empties the PTY's line).
const KEYS_PER_LINE: u64 = 20;

/// Latencies in microseconds.
pub type Hist = Histogram<u64>;

pub fn hist() -> Hist {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

/// A quantile in milliseconds; NaN when nothing was recorded.
pub fn ms(hist: &Hist, quantile: f64) -> f64 {
    if hist.is_empty() {
        f64::NAN
    } else {
        hist.value_at_quantile(quantile) as f64 / 1000.0
    }
}

pub fn record(hist: &mut Hist, duration: Duration) {
    let micros = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX);
    hist.saturating_record(micros.max(1));
}

/// What a session does after signing in, until its program runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// The gateway's account menu: wait for the prompt, press `1` (Play cat).
    GatewayMenu,
    /// sshd's forced command runs at once.
    Direct,
}

/// Failures, counted, with the first one's reason.
#[derive(Debug, Default)]
pub struct Failures {
    pub count: usize,
    pub first: Option<String>,
}

impl Failures {
    pub fn add(&mut self, error: &anyhow::Error) {
        self.count += 1;
        if self.first.is_none() {
            self.first = Some(format!("{error:#}"));
        }
    }

    pub fn describe(&self) -> String {
        match &self.first {
            Some(first) => format!("{} failed, first: {first}", self.count),
            None => "none failed".into(),
        }
    }
}

/// Sessions opened on one subject and how opening them went.
pub struct Opened {
    /// At the gateway's menu, or with sshd's program started.
    pub ttys: Vec<Tty>,
    /// TCP connect to authentication accepted.
    pub handshake: Hist,
    pub failures: Failures,
    pub elapsed: Duration,
}

/// Runs `task` on every input, at most `concurrency` at once; results in input order.
async fn each<I, T, F, Fut>(inputs: Vec<I>, concurrency: usize, task: F) -> Vec<anyhow::Result<T>>
where
    F: Fn(I) -> Fut,
    Fut: Future<Output = anyhow::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut running = tokio::task::JoinSet::new();
    let count = inputs.len();
    for (n, input) in inputs.into_iter().enumerate() {
        let permits = permits.clone();
        let job = task(input);
        running.spawn(async move {
            let _permit = permits.acquire_owned().await;
            (n, job.await)
        });
    }
    let mut results: Vec<Option<anyhow::Result<T>>> = (0..count).map(|_| None).collect();
    while let Some(done) = running.join_next().await {
        match done {
            Ok((n, result)) => results[n] = Some(result),
            Err(panic) => std::panic::resume_unwind(panic.into_panic()),
        }
    }
    results.into_iter().flatten().collect()
}

/// Opens one session per login, `concurrency` handshakes at a time; through the
/// gateway, each waits for its menu.
pub async fn open(
    addr: SocketAddr,
    logins: Vec<Login>,
    route: Route,
    concurrency: usize,
) -> Opened {
    let started = Instant::now();
    let results = each(logins, concurrency, |login| async move {
        let (ssh, handshake) = tty::connect(addr, &login).await?;
        let mut tty = ssh.terminal().await?;
        if route == Route::GatewayMenu {
            tty.wait_for(b"=> ", STEP_TIMEOUT).await?;
        }
        Ok((tty, handshake))
    })
    .await;
    let mut opened = Opened {
        ttys: Vec::new(),
        handshake: hist(),
        failures: Failures::default(),
        elapsed: started.elapsed(),
    };
    for result in results {
        match result {
            Ok((tty, handshake)) => {
                record(&mut opened.handshake, handshake.total);
                opened.ttys.push(tty);
            }
            Err(error) => opened.failures.add(&error),
        }
    }
    opened
}

/// Sessions attached to their programs.
pub struct Attached {
    /// Each with an empty line.
    pub ttys: Vec<Tty>,
    /// From the menu's `1` (the gateway) or from the first key (sshd) to the program's
    /// first echo.
    pub time: Hist,
    pub failures: Failures,
}

/// Starts every session's program: through the gateway, `1` (Play cat) at the menu.
pub async fn attach(ttys: Vec<Tty>, route: Route, concurrency: usize) -> Attached {
    let results = each(ttys, concurrency, |mut tty| async move {
        let start = Instant::now();
        if route == Route::GatewayMenu {
            tty.send(b"1").await?;
        }
        tty.until_echoed(ATTACH_KEY, ATTACH_RETRY, STEP_TIMEOUT)
            .await?;
        let time = start.elapsed();
        tty.sync(0, STEP_TIMEOUT).await?;
        Ok((tty, time))
    })
    .await;
    let mut attached = Attached {
        ttys: Vec::new(),
        time: hist(),
        failures: Failures::default(),
    };
    for result in results {
        match result {
            Ok((tty, time)) => {
                record(&mut attached.time, time);
                attached.ttys.push(tty);
            }
            Err(error) => attached.failures.add(&error),
        }
    }
    attached
}

/// `count` PTYs of this process running `program`, each with an empty line.
pub async fn open_direct(program: &str, count: usize) -> anyhow::Result<Vec<Tty>> {
    let mut ttys = Vec::with_capacity(count);
    for _ in 0..count {
        let mut tty = Tty::direct(program)?;
        tty.sync(0, STEP_TIMEOUT).await?;
        ttys.push(tty);
    }
    Ok(ttys)
}

/// Keystroke echoes over a window.
pub struct Echo {
    pub latency: Hist,
    pub failures: Failures,
    /// Echoes slower than [`SLOW_ECHO`], per second of the window (by when the key was
    /// sent): tells a steady tail from a stall that hit every session at once.
    pub slow_per_second: Vec<u32>,
}

/// An echo this slow counts towards [`Echo::slow_per_second`].
pub const SLOW_ECHO: Duration = Duration::from_millis(5);

/// Every terminal types one key every `pace` (their phases spread evenly over it) for
/// `duration`, one key in flight each; returns the terminals still working.
pub async fn type_into(ttys: Vec<Tty>, pace: Duration, duration: Duration) -> (Vec<Tty>, Echo) {
    let count = ttys.len().max(1) as u32;
    let start = tokio::time::Instant::now();
    let deadline = start + duration;
    let mut typing = tokio::task::JoinSet::new();
    for (n, tty) in ttys.into_iter().enumerate() {
        let first = start + pace * n as u32 / count;
        typing.spawn(type_keys(tty, first, pace, deadline));
    }
    let mut echo = Echo {
        latency: hist(),
        failures: Failures::default(),
        slow_per_second: vec![0; duration.as_secs_f64().ceil() as usize],
    };
    let mut kept = Vec::new();
    while let Some(done) = typing.join_next().await {
        let (tty, latency, slow, result) = match done {
            Ok(done) => done,
            Err(panic) => std::panic::resume_unwind(panic.into_panic()),
        };
        // Merging histograms of the same bounds cannot fail.
        let _ = echo.latency.add(&latency);
        for sent in slow {
            let second = (sent - start).as_secs() as usize;
            if let Some(count) = echo.slow_per_second.get_mut(second) {
                *count += 1;
            }
        }
        match result {
            Ok(()) => kept.push(tty),
            Err(error) => echo.failures.add(&error),
        }
    }
    (kept, echo)
}

async fn type_keys(
    mut tty: Tty,
    first: tokio::time::Instant,
    pace: Duration,
    deadline: tokio::time::Instant,
) -> (Tty, Hist, Vec<tokio::time::Instant>, anyhow::Result<()>) {
    let mut latency = hist();
    let mut slow = Vec::new();
    let mut typed: u64 = 0;
    let mut next = first;
    let result = async {
        loop {
            tokio::time::sleep_until(next.min(deadline)).await;
            if tokio::time::Instant::now() >= deadline {
                return Ok(());
            }
            let key = b'a' + (typed % 26) as u8;
            let sent = tokio::time::Instant::now();
            tty.send(&[key]).await?;
            tty.wait_for(&[key], STEP_TIMEOUT).await?;
            let took = sent.elapsed();
            record(&mut latency, took);
            if took >= SLOW_ECHO {
                slow.push(sent);
            }
            typed += 1;
            if typed.is_multiple_of(KEYS_PER_LINE) {
                tty.sync(typed, STEP_TIMEOUT).await?;
            }
            // A steady pace: a slow echo delays this terminal's next key, not the
            // schedule.
            next += pace;
            let now = tokio::time::Instant::now();
            while next < now {
                next += pace;
            }
        }
    }
    .await;
    (tty, latency, slow, result)
}

/// New connections made one at a time while the sessions are held.
pub struct Probes {
    pub kex: Hist,
    pub handshake: Hist,
    /// TCP connect to the first menu (gateway only).
    pub menu: Hist,
    pub failures: Failures,
}

/// `count` connections in turn: sign in (and, through the gateway, wait for the
/// menu), then disconnect.
pub async fn probe(
    addr: SocketAddr,
    login: impl Fn(usize) -> Login,
    route: Route,
    count: usize,
) -> Probes {
    let mut probes = Probes {
        kex: hist(),
        handshake: hist(),
        menu: hist(),
        failures: Failures::default(),
    };
    for n in 0..count {
        let start = Instant::now();
        let probed = async {
            let (ssh, handshake) = tty::connect(addr, &login(n)).await?;
            record(&mut probes.kex, handshake.kex);
            record(&mut probes.handshake, handshake.total);
            if route == Route::GatewayMenu {
                let mut tty = ssh.terminal().await?;
                tty.wait_for(b"=> ", STEP_TIMEOUT).await?;
                record(&mut probes.menu, start.elapsed());
            } else {
                ssh.close().await;
            }
            anyhow::Ok(())
        }
        .await;
        if let Err(error) = probed {
            probes.failures.add(&error);
        }
        // Apart, so each probe meets the server settled.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    probes
}
