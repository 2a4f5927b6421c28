//! How much a keystroke's echo is delayed by going through gRPC: the same PTY echo
//! timed through the host directly and through a `RemoteHost` on loopback. A
//! measurement, not a check to run on a shared machine:
//!
//! ```text
//! cargo test -p guildhall-gamehost-rpc --test latency -- --ignored --nocapture
//! ```

mod common;

use std::time::{Duration, Instant};

use common::*;
use guildhall_gamehost::{GameBackend, GameConfig, Play};

const KEYSTROKES: usize = 1000;

/// Types one byte at a time and times each echo (the PTY's own, in canonical mode).
async fn echo_times(play: Play) -> Vec<Duration> {
    let mut output = Reader::new(play.output);
    output
        .wait_until("the first screen", |reader| !reader.items.is_empty())
        .await;
    let mut times = Vec::with_capacity(KEYSTROKES);
    for i in 0..KEYSTROKES {
        let key = if i % 64 == 63 {
            b'\r'
        } else {
            b'a' + (i % 26) as u8
        };
        let seen = output.raw.len();
        let typed = Instant::now();
        play.input.send(vec![key].into()).await.unwrap();
        output
            .wait_until("the echo", |reader| reader.raw.len() > seen)
            .await;
        times.push(typed.elapsed());
    }
    times.sort();
    times
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a timing measurement; run it by hand (see the module docs)"]
async fn added_echo_latency_over_grpc() {
    let cat = GameConfig::program(game_id(), "/bin/cat", &[]);
    let served = served(vec![cat], |_| {}).await;
    let local = served
        .host
        .start_or_attach(&user("local"), &game_id(), size(24, 80))
        .await
        .map(|attachment| {
            let session = attachment.session();
            let (output, input) = attachment.split();
            Play {
                session,
                output: Box::new(output),
                input: Box::new(input),
            }
        })
        .unwrap();
    let direct = echo_times(local).await;
    let remote = served
        .remote
        .play(&user("remote"), &game_id(), size(24, 80))
        .await
        .unwrap();
    let over_grpc = echo_times(remote).await;
    for p in [50, 90, 99] {
        let (a, b) = (percentile(&direct, p), percentile(&over_grpc, p));
        println!(
            "p{p}: direct {a:?}, over gRPC {b:?}, added {:?}",
            b.saturating_sub(a)
        );
    }
    let added_p99 = percentile(&over_grpc, 99).saturating_sub(percentile(&direct, 99));
    assert!(
        added_p99 < Duration::from_millis(2),
        "added p99 {added_p99:?}"
    );
}
