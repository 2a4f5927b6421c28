//! `guildhall bots`: bot players against a running platform.

use std::process::ExitCode;
use std::time::Duration;

use guildhall_bots::{SwarmConfig, swarm};

use crate::cli::BotsArgs;

pub async fn run(args: BotsArgs) -> anyhow::Result<ExitCode> {
    if !(args.ramp.is_finite()
        && args.ramp >= 0.0
        && args.duration.is_finite()
        && args.duration > 0.0)
    {
        anyhow::bail!("--ramp must be >= 0 and --duration > 0 seconds");
    }
    let report = swarm(SwarmConfig {
        url: args.url.trim_end_matches('/').to_owned(),
        count: args.count,
        mode: args.mode,
        ramp: Duration::from_secs_f64(args.ramp),
        duration: Duration::from_secs_f64(args.duration),
        msgpack: args.msgpack,
        seed: args.seed,
    })
    .await;
    println!(
        "{}",
        serde_json::json!({
            "connected": report.connected,
            "failed": report.failed,
            "snapshots": report.snapshots,
            "inputs": report.inputs,
            "latency_ms": {
                "p50": report.latency_ms(0.5),
                "p99": report.latency_ms(0.99),
                "max": report.latency_ms(1.0),
            },
        })
    );
    Ok(
        if report.failed == 0 && report.connected as usize == args.count {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        },
    )
}
