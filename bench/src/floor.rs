//! The transport floor: what a server pays on this machine just to move a game's
//! WebSocket frames, with no game, no protocol and no bookkeeping.
//!
//! A subject process (this binary's hidden `serve-frames`) accepts plain TCP connections
//! into groups (an arena lobby, a card table). Each group is one task that, every tick,
//! writes the same pre-built WebSocket text frame to each of its connections, with
//! `TCP_NODELAY` as Guildhall sets it; every group ticks on one clock, so a tick's frames
//! go out together. Every connection's reader discards what its client sends. Clients in
//! the benchmark process connect over the ramp, send a 64-byte input at the game's input
//! rate, and count the bytes they receive, so the run shows whether every frame was
//! delivered.
//!
//! Any server of the game must send at least these frames, so the floor's CPU per frame
//! bounds what any server can reach on this machine's loopback: `arena` compares players
//! per CPU-second with Colyseus's, `tables` asks whether the frames of 10x boardgame.io's
//! actions can be moved at all.

use std::io::Write as _;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// An input frame's size on the wire (a masked client frame of a small JSON input).
const INPUT_BYTES: usize = 64;

/// The traffic of one floor run.
#[derive(Debug, Clone, Copy)]
pub struct Traffic {
    pub connections: usize,
    /// Connections per group (arena lobby, card table).
    pub group: usize,
    /// Frames each connection gets per second.
    pub hz: f64,
    /// Each frame's payload.
    pub frame_bytes: usize,
    /// Inputs each client sends per second.
    pub inputs_hz: f64,
}

/// What one floor run measured.
#[derive(Debug, Clone, Copy)]
pub struct FloorRun {
    pub connected: u64,
    pub failed: u64,
    /// Cores the subject process used over the window.
    pub cores: f64,
    /// Resident memory the subject grew by, in KiB.
    pub rss_growth_kib: f64,
    /// Frames delivered per second over the window, and the rate asked for.
    pub frames_per_sec: f64,
    pub expected_per_sec: f64,
}

impl FloorRun {
    /// Whether (nearly) every frame asked for arrived.
    pub fn kept_up(&self) -> bool {
        self.frames_per_sec >= 0.99 * self.expected_per_sec
    }

    pub fn micros_per_frame(&self) -> f64 {
        self.cores * 1e6 / self.frames_per_sec.max(1e-9)
    }
}

/// Starts `serve-frames` for `traffic`, connects its clients over `ramp`, and measures
/// the subject's CPU over `duration` once they have all joined.
pub async fn measure(
    traffic: Traffic,
    ramp: Duration,
    duration: Duration,
) -> anyhow::Result<FloorRun> {
    let (subject, addr) = crate::procfs::spawn_ready(&[
        "serve-frames".as_ref(),
        "--frame-bytes".as_ref(),
        traffic.frame_bytes.to_string().as_ref(),
        "--hz".as_ref(),
        traffic.hz.to_string().as_ref(),
        "--group".as_ref(),
        traffic.group.to_string().as_ref(),
    ])?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pid = subject.pid();
    let idle = crate::procfs::rss_kib(pid)?;
    let inputs_every = Duration::from_secs_f64(1.0 / traffic.inputs_hz.max(1e-3));
    let (delivered, window) = tokio::join!(
        clients(
            &addr,
            traffic.connections,
            inputs_every,
            ramp,
            crate::procfs::SETTLE,
            duration
        ),
        crate::procfs::sample_window(pid, ramp, duration)
    );
    let delivered = delivered?;
    let (cores, rss) = window?;
    Ok(FloorRun {
        connected: delivered.connected,
        failed: delivered.failed,
        cores,
        rss_growth_kib: rss - idle,
        frames_per_sec: frames_per_second(&delivered, traffic.frame_bytes, duration),
        expected_per_sec: delivered.connected as f64 * traffic.hz,
    })
}

/// A WebSocket text frame as a server sends it (unmasked) with a `payload`-byte body.
pub fn server_frame(payload: usize) -> Bytes {
    let mut frame = Vec::with_capacity(payload + 10);
    frame.push(0x81);
    match payload {
        0..=125 => frame.push(payload as u8),
        126..=0xffff => {
            frame.push(126);
            frame.extend_from_slice(&(payload as u16).to_be_bytes());
        }
        _ => {
            frame.push(127);
            frame.extend_from_slice(&(payload as u64).to_be_bytes());
        }
    }
    frame.resize(frame.len() + payload, b' ');
    frame.into()
}

/// The hidden `serve-frames` subcommand: serves frames of `frame_bytes` at `hz` to
/// groups of `group` connections until killed; prints `READY <addr>` once listening.
pub fn serve(frame_bytes: usize, hz: f64, group: usize) -> anyhow::Result<()> {
    anyhow::ensure!(hz > 0.0 && group > 0, "--hz and --group must be positive");
    // The same runtime as `serve-up`: one worker per core.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        println!("READY {}", listener.local_addr()?);
        std::io::stdout().flush()?;
        let frame = server_frame(frame_bytes);
        let period = Duration::from_secs_f64(1.0 / hz);
        // Every lobby ticks on one clock, as Guildhall's do, so a tick's frames go out
        // together.
        let epoch = tokio::time::Instant::now();
        let mut lobby: Option<(mpsc::UnboundedSender<OwnedWriteHalf>, usize)> = None;
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            let (mut read, write) = stream.into_split();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while matches!(read.read(&mut buf).await, Ok(n) if n > 0) {}
            });
            let (members, joined) = lobby.get_or_insert_with(|| {
                let (tx, rx) = mpsc::unbounded_channel();
                tokio::spawn(run_lobby(rx, frame.clone(), epoch, period));
                (tx, 0)
            });
            let _ = members.send(write);
            *joined += 1;
            if *joined == group {
                lobby = None;
            }
        }
    })
}

/// One lobby: each tick (on the clock that started at `epoch`), the frame to every
/// member; members join as they connect.
async fn run_lobby(
    mut joining: mpsc::UnboundedReceiver<OwnedWriteHalf>,
    frame: Bytes,
    epoch: tokio::time::Instant,
    period: Duration,
) {
    let mut members: Vec<OwnedWriteHalf> = Vec::new();
    let ticks_so_far = epoch.elapsed().as_nanos() / period.as_nanos().max(1);
    let first = epoch + period.mul_f64((ticks_so_far + 1) as f64);
    let mut tick = tokio::time::interval_at(first, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let mut i = 0;
                while i < members.len() {
                    if members[i].write_all(&frame).await.is_err() {
                        members.swap_remove(i);
                    } else {
                        i += 1;
                    }
                }
            }
            Some(member) = joining.recv() => members.push(member),
        }
    }
}

/// What the clients saw.
#[derive(Debug, Default, Clone, Copy)]
struct Delivered {
    connected: u64,
    failed: u64,
    /// Bytes received by all clients over the measuring window.
    window_bytes: u64,
}

/// Connects `players` clients to `addr` evenly over `ramp`, each sending an input every
/// `inputs_every` and counting what it receives until `ramp + settle + duration` has
/// passed; returns the bytes received within the window that starts at `ramp + settle`.
async fn clients(
    addr: &str,
    players: usize,
    inputs_every: Duration,
    ramp: Duration,
    settle: Duration,
    duration: Duration,
) -> anyhow::Result<Delivered> {
    let started = tokio::time::Instant::now();
    let window_start = started + ramp + settle;
    let end = window_start + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..players {
        let at = started + ramp.mul_f64(i as f64 / players.max(1) as f64);
        let addr = addr.to_owned();
        tasks.spawn(async move {
            tokio::time::sleep_until(at).await;
            client(&addr, inputs_every, window_start, end).await
        });
    }
    let mut delivered = Delivered::default();
    while let Some(result) = tasks.join_next().await {
        match result.context("a client task failed")? {
            Ok(bytes) => {
                delivered.connected += 1;
                delivered.window_bytes += bytes;
            }
            Err(_) => delivered.failed += 1,
        }
    }
    Ok(delivered)
}

/// One client: an input every `inputs_every`, reads everything; the bytes read inside
/// the window.
async fn client(
    addr: &str,
    inputs_every: Duration,
    window_start: tokio::time::Instant,
    end: tokio::time::Instant,
) -> anyhow::Result<u64> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut read, mut write) = stream.into_split();
    let input = [b' '; INPUT_BYTES];
    let mut inputs = tokio::time::interval(inputs_every);
    let mut buf = vec![0u8; 16 * 1024];
    let mut in_window = 0u64;
    let deadline = tokio::time::sleep_until(end);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            _ = &mut deadline => return Ok(in_window),
            _ = inputs.tick() => write.write_all(&input).await?,
            n = read.read(&mut buf) => {
                let n = n?;
                anyhow::ensure!(n > 0, "the server closed the connection");
                if tokio::time::Instant::now() >= window_start {
                    in_window += n as u64;
                }
            }
        }
    }
}

/// Frames per second the window's bytes amount to, for frames of `frame_bytes` payload.
fn frames_per_second(delivered: &Delivered, frame_bytes: usize, window: Duration) -> f64 {
    delivered.window_bytes as f64 / server_frame(frame_bytes).len() as f64 / window.as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_their_length_as_websocket_does() {
        let small = server_frame(100);
        assert_eq!(&small[..2], &[0x81, 100]);
        assert_eq!(small.len(), 102);
        let medium = server_frame(1_000);
        assert_eq!(&medium[..4], &[0x81, 126, 0x03, 0xe8]);
        assert_eq!(medium.len(), 1_004);
        let large = server_frame(70_000);
        assert_eq!(large[1], 127);
        assert_eq!(u64::from_be_bytes(large[2..10].try_into().unwrap()), 70_000);
        assert_eq!(large.len(), 70_010);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_client_gets_a_frame_per_tick() {
        // The server's loop, in this process, on a listener of its own.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let frame = server_frame(200);
        let (tx, rx) = mpsc::unbounded_channel();
        let epoch = tokio::time::Instant::now();
        tokio::spawn(run_lobby(
            rx,
            frame.clone(),
            epoch,
            Duration::from_millis(20),
        ));
        tokio::spawn(async move {
            for _ in 0..3 {
                let (stream, _) = listener.accept().await.unwrap();
                tx.send(stream.into_split().1).unwrap();
            }
            std::future::pending::<()>().await;
        });
        let window = Duration::from_millis(500);
        let inputs_every = Duration::from_millis(100);
        let delivered = clients(
            &addr,
            3,
            inputs_every,
            Duration::ZERO,
            Duration::from_millis(100),
            window,
        )
        .await
        .unwrap();
        assert_eq!((delivered.connected, delivered.failed), (3, 0));
        // A 20 ms tick is at most 50 frames per second per client (a late tick is
        // delayed, never doubled); each client got frames throughout the window.
        let rate = frames_per_second(&delivered, 200, window);
        assert!((15.0..=3.0 * 50.0 * 1.1).contains(&rate), "{rate} frames/s");
    }
}
