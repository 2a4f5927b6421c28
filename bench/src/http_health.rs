//! `GET /health/live` on the full `guildhall up` stack versus a bare axum hello-world,
//! both in this process, under the same closed-loop load.
//!
//! The ratio is the cost of the platform's HTTP shell (envelope guard, tracing span with
//! trace-context extraction, per-route metrics, timeout and concurrency layers) over
//! axum itself.

use std::time::Duration;

use guildhall::platform::{self, Shape};

use crate::load::{self, LoadArgs, Measurement};

pub fn run(args: LoadArgs) -> anyhow::Result<()> {
    // Servers and load generator get separate runtimes, so the client's scheduling does
    // not sit in the servers' run queues.
    let servers = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let data = tempfile::tempdir()?;

    let (full_url, bare_url, running) = servers.block_on(async {
        let mut config = guildhall_config::Config {
            data_dir: data.path().to_owned(),
            ..Default::default()
        };
        config.http.listen = "127.0.0.1:0".parse()?;
        config.ssh.listen = "127.0.0.1:0".parse()?;
        config.gamehost.nethack = false;
        config.telemetry.log_filter = "warn".into();
        let telemetry = guildhall_telemetry::init(&config.telemetry, "bench")?;
        std::mem::forget(telemetry);
        let running = platform::start(config, Shape::Up).await?;
        let full = format!("http://{}/health/live", running.http_addr());

        let bare_url = crate::bare::spawn().await?;
        anyhow::Ok((full, bare_url, running))
    })?;

    let client = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let warmup = Duration::from_secs_f64(args.warmup);
    let measure = Duration::from_secs_f64(args.duration);
    let (mut full_rounds, mut bare_rounds) = (Vec::new(), Vec::new());
    for round in 0..args.rounds.max(1) {
        // Alternate which target goes first, so drift in machine load hits both alike.
        let order: [(&str, bool); 2] = if round % 2 == 0 {
            [(&bare_url, false), (&full_url, true)]
        } else {
            [(&full_url, true), (&bare_url, false)]
        };
        for (url, is_full) in order {
            client.block_on(load::drive(url, args.concurrency, warmup));
            let m: Measurement = client.block_on(load::drive(url, args.concurrency, measure));
            if is_full {
                full_rounds.push(m)
            } else {
                bare_rounds.push(m)
            }
        }
    }
    let full = load::median(full_rounds);
    let bare = load::median(bare_rounds);

    println!(
        "http-health: GET /health/live, concurrency {}, {} round(s) of {:.1}s, median round",
        args.concurrency, args.rounds, args.duration
    );
    load::header();
    load::row("bare axum (baseline)", &bare);
    load::row("guildhall up", &full);
    println!(
        "ratio guildhall/bare: throughput {:.2}, p50 {:.2}x, p99 {:.2}x",
        full.per_second() / bare.per_second(),
        full.quantile_ms(0.5) / bare.quantile_ms(0.5),
        full.quantile_ms(0.99) / bare.quantile_ms(0.99),
    );

    servers.block_on(running.shutdown());
    anyhow::ensure!(
        full.errors == 0 && bare.errors == 0,
        "requests failed during the benchmark"
    );
    Ok(())
}
