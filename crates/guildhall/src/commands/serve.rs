//! `guildhall serve <service>`: one service in this process.

use std::process::ExitCode;

use crate::cli::ServeArgs;
use crate::platform::{self, Shape};

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = super::load_config(&args.config, |mut layers| {
        if let Some(addr) = args.http {
            layers = layers.set("http.listen", addr.to_string());
        }
        layers
    })?;
    let service = args.service.name();
    let _telemetry = guildhall_telemetry::init(&config.telemetry, service)?;
    let running = platform::start(config, Shape::Serve(args.service)).await?;
    // Before the banner: a signal right after it must shut down cleanly.
    crate::shutdown::on_signal(running.platform.shutdown.clone())?;
    println!(
        "guildhall {service} listening on http://{}",
        running.http_addr()
    );
    if let Some(ssh) = running.ssh_addr() {
        println!("guildhall {service} serving SSH on {ssh}");
    }
    if let Some(grpc) = running.grpc_addr() {
        println!("guildhall {service} serving the game host's gRPC on {grpc}");
    }
    Ok(super::until_signal(running).await)
}
