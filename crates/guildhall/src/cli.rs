//! The command line. Every flag here maps onto one configuration key.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::service::ServiceKind;

/// Guildhall: a self-hosted backend for multiplayer games.
///
/// Try it on a laptop with `guildhall up`: every service in one process, data in
/// ./guildhall-data, nothing else to install. In production run each service with
/// `guildhall serve <service>` against PostgreSQL and Redis (see deploy/guildhall.toml).
#[derive(Debug, Parser)]
#[command(name = "guildhall", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every service in one process: SQLite, in-process bus, one HTTP port.
    Up(UpArgs),
    /// Run one service in this process, wired by config to PostgreSQL, Redis and its peers.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(MigrateArgs),
    /// Show or check the effective configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
}

/// Where configuration comes from, besides defaults and GUILDHALL_* variables.
#[derive(Debug, Args, Clone, Default)]
pub struct ConfigArgs {
    /// A TOML configuration file (see deploy/guildhall.toml for every key).
    #[arg(long, short = 'c', value_name = "FILE", env = "GUILDHALL_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Folder for the SQLite database and generated secrets [default: ./guildhall-data].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address for every HTTP and WebSocket route [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    pub http: Option<SocketAddr>,
    /// Address for the SSH terminal gateway [default: 127.0.0.1:2222].
    #[arg(long, value_name = "ADDR")]
    pub ssh: Option<SocketAddr>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The service to run.
    #[arg(value_enum)]
    pub service: ServiceKind,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Address for this service's HTTP routes (overrides http.listen).
    #[arg(long, value_name = "ADDR")]
    pub http: Option<SocketAddr>,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Database to migrate (overrides database.url): sqlite://PATH or postgres://...
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration as TOML, with secrets redacted.
    Print(ConfigArgs),
    /// Validate the configuration; with --connect, also reach the database and bus.
    Check {
        #[command(flatten)]
        config: ConfigArgs,
        /// Also connect to the configured database and bus.
        #[arg(long)]
        connect: bool,
    },
}
