//! `guildhall up`: every service in one process.

use std::process::ExitCode;

use crate::cli::UpArgs;
use crate::platform::{self, Shape};

pub async fn run(args: UpArgs) -> anyhow::Result<ExitCode> {
    let config = super::load_config(&args.config, |mut layers| {
        if let Some(dir) = &args.data_dir {
            layers = layers.set("data_dir", dir);
        }
        if let Some(addr) = args.http {
            layers = layers.set("http.listen", addr.to_string());
        }
        if let Some(addr) = args.ssh {
            layers = layers.set("ssh.listen", addr.to_string());
        }
        layers
    })?;
    let _telemetry = guildhall_telemetry::init(&config.telemetry, "up")?;
    let data_dir = config.data_dir.clone();
    let running = platform::start(config, Shape::Up).await?;
    // Before the banner: a signal right after it must shut down cleanly.
    crate::shutdown::on_signal(running.platform.shutdown.clone())?;
    let base = format!("http://{}", running.http_addr());
    // The banner goes to stdout; logs go to stderr.
    println!("Guildhall is up.");
    println!("  http     {base}");
    println!("  ready    {base}/health/ready");
    println!("  metrics  {base}/metrics");
    if let Some(ssh) = running.ssh_addr() {
        println!("  ssh      ssh -p {} nethack@{}", ssh.port(), ssh.ip());
    }
    if let Some(grpc) = running.grpc_addr() {
        println!("  grpc     {grpc} (the game host, for gateways)");
    }
    println!("  data     {}", data_dir.display());
    println!("Press Ctrl-C to stop.");
    Ok(super::until_signal(running).await)
}
