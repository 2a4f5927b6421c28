//! `guildhall config print` and `guildhall config check`.

use std::process::ExitCode;
use std::time::Duration;

use guildhall_store::{Store, StoreOptions};

use crate::cli::ConfigArgs;

pub fn print(args: ConfigArgs) -> anyhow::Result<ExitCode> {
    let config = super::load_config(&args, |layers| layers)?;
    print!("{}", config.to_redacted_toml());
    Ok(ExitCode::SUCCESS)
}

pub async fn check(args: ConfigArgs, connect: bool) -> anyhow::Result<ExitCode> {
    let config = super::load_config(&args, |layers| layers)?;
    println!("configuration is valid");
    if !connect {
        return Ok(ExitCode::SUCCESS);
    }
    let mut ok = true;
    let store = Store::open(&StoreOptions {
        url: config.database_url(),
        max_connections: 1,
        connect_timeout: Duration::from_secs(config.database.connect_timeout_secs),
    })?;
    match store.ping().await {
        Ok(()) => println!("database: reachable ({:?})", store.backend()),
        Err(err) => {
            ok = false;
            println!("database: {err}");
        }
    }
    let bus = guildhall_bus::connect(&config.bus.url, &config.bus.key_prefix).await?;
    match bus.ping().await {
        Ok(()) => println!("bus: reachable ({})", bus.kind()),
        Err(err) => {
            ok = false;
            println!("bus: {err}");
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
