//! `guildhall migrate`: apply pending migrations and exit.

use std::process::ExitCode;
use std::time::Duration;

use guildhall_store::{Store, StoreOptions};

use crate::cli::MigrateArgs;

pub async fn run(args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let config = super::load_config(&args.config, |mut layers| {
        if let Some(url) = &args.database_url {
            layers = layers.set("database.url", url);
        }
        layers
    })?;
    if config.database.url.is_empty() {
        std::fs::create_dir_all(&config.data_dir)?;
    }
    let store = Store::connect(&StoreOptions {
        url: config.database_url(),
        max_connections: 2,
        connect_timeout: Duration::from_secs(config.database.connect_timeout_secs),
    })
    .await?;
    store.migrate().await?;
    let applied = store.applied_migrations().await?;
    println!(
        "{:?} database is at migration {} ({} applied)",
        store.backend(),
        applied.last().copied().unwrap_or(0),
        applied.len()
    );
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
