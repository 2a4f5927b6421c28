//! One file per command.

mod config;
mod migrate;
mod serve;
mod up;

use std::process::ExitCode;

use guildhall_config::{Config, ConfigError, Layers};

use crate::cli::{Cli, Command, ConfigArgs, ConfigCommand};

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

/// Loads the layered configuration, letting `flags` override keys.
fn load_config(
    args: &ConfigArgs,
    flags: impl FnOnce(Layers) -> Layers,
) -> Result<Config, ConfigError> {
    flags(Layers::new(args.config.as_deref())?).load()
}

/// Runs `running` until SIGINT/SIGTERM, then shuts it down cleanly.
async fn until_signal(running: crate::platform::Running) -> ExitCode {
    crate::shutdown::on_signal(running.platform.shutdown.clone());
    running.platform.shutdown.cancelled().await;
    if running.shutdown().await {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
