//! One file per command.

mod admin;
mod bots;
mod config;
mod import;
mod migrate;
mod replay;
mod serve;
mod up;

use std::process::ExitCode;

use guildhall_config::{Config, ConfigError, Layers};

use crate::cli::{Cli, Command, ConfigArgs, ConfigCommand, ImportCommand, KeysCommand};

/// Runs the parsed command line; errors are printed here, once.
pub async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Up(args) => up::run(args).await,
        Command::Serve(args) => serve::run(args).await,
        Command::Migrate(args) => migrate::run(args).await,
        Command::Config(ConfigCommand::Print(args)) => config::print(args),
        Command::Config(ConfigCommand::Check { config, connect }) => {
            config::check(config, connect).await
        }
        Command::Admin(args) => admin::run(args).await,
        Command::Keys(KeysCommand::Rotate(config)) => admin::rotate_keys(config).await,
        Command::Import(ImportCommand::GuestProfiles(args)) => import::guest_profiles(args).await,
        Command::Import(ImportCommand::Rollback { batch, config }) => {
            import::rollback(&batch, config).await
        }
        Command::Bots(args) => bots::run(args).await,
        Command::Replay(args) => replay::run(args).await,
        Command::TablesWorker => tables_worker().await,
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            // Configuration problems are the user's to fix: exit 2, like a usage error.
            if let Some(config_error) = err.downcast_ref::<ConfigError>() {
                eprintln!("guildhall: {config_error}");
                return ExitCode::from(2);
            }
            eprintln!("guildhall: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// A tables worker process: logs like its host, then serves it until its input closes.
async fn tables_worker() -> anyhow::Result<ExitCode> {
    let mut guard = None;
    guildhall_tables::host::worker_process(|setup| {
        let telemetry = serde_json::from_value(setup.telemetry.clone()).unwrap_or_default();
        guard = guildhall_telemetry::init(&telemetry, "tables-worker").ok();
    })
    .await
    .map_err(|e| anyhow::anyhow!(e))?;
    drop(guard);
    Ok(ExitCode::SUCCESS)
}

/// Loads the layered configuration, letting `flags` override keys.
fn load_config(
    args: &ConfigArgs,
    flags: impl FnOnce(Layers) -> Layers,
) -> Result<Config, ConfigError> {
    flags(Layers::new(args.config.as_deref())?).load()
}

/// Opens the configured store (applying migrations if configured to) for one-shot commands.
async fn open_store(config: &Config) -> anyhow::Result<guildhall_store::Store> {
    if config.database.url.is_empty() {
        std::fs::create_dir_all(&config.data_dir)?;
    }
    let store = guildhall_store::Store::connect(&guildhall_store::StoreOptions {
        url: config.database_url(),
        max_connections: 4,
        connect_timeout: std::time::Duration::from_secs(config.database.connect_timeout_secs),
    })
    .await?;
    if config.database.migrate_on_start {
        store.migrate().await?;
    }
    Ok(store)
}

/// Runs `running` until SIGINT/SIGTERM, then shuts it down cleanly.
async fn until_signal(running: crate::platform::Running) -> ExitCode {
    running.platform.shutdown.cancelled().await;
    if running.shutdown().await {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
