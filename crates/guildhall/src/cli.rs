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
    /// Administer users: ban, unban, list sessions (works on the configured database and bus).
    Admin(AdminArgs),
    /// Manage token signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Import data from a legacy system, or roll an import back.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Play the arena with bot clients (guest init, matchmaking, WebSocket), for load
    /// tests and demos. Prints what they measured.
    Bots(BotsArgs),
    /// Play a ttyrec recording of a terminal game (space pauses, + and - change the
    /// speed, . skips a wait, q quits), or export it as asciicast v2.
    Replay(ReplayArgs),
    /// A worker process of the tables service: started by `serve tables`, which sends its
    /// setup and commands on standard input.
    #[command(hide = true)]
    TablesWorker,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The ttyrec file.
    pub file: PathBuf,
    /// Playback speed (2 is twice as fast).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Longest pause kept between frames, in seconds (longer ones are cut to this).
    #[arg(long)]
    pub max_idle: Option<f64>,
    /// Write the recording in another format instead of playing it.
    #[arg(long, value_enum)]
    pub export: Option<ReplayExport>,
    /// Where the export goes (default: standard output).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ReplayExport {
    /// asciicast v2 (asciinema's format).
    Cast,
}

#[derive(Debug, Args)]
pub struct BotsArgs {
    /// The platform's HTTP base URL (head).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// How many bots.
    #[arg(long, default_value_t = 10)]
    pub count: usize,
    /// The matchmaking mode to queue for.
    #[arg(long, default_value = "arena-ffa")]
    pub mode: String,
    /// Seconds over which the bots start.
    #[arg(long, default_value_t = 5.0)]
    pub ramp: f64,
    /// Seconds to play (and measure) once every bot has started.
    #[arg(long, default_value_t = 30.0)]
    pub duration: f64,
    /// Speak MessagePack instead of JSON.
    #[arg(long)]
    pub msgpack: bool,
    /// Seed of the bots' input streams.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct AdminArgs {
    #[command(subcommand)]
    pub action: AdminAction,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, Subcommand)]
pub enum AdminAction {
    /// Ban a user (by id or username): every session ends at once, everywhere; no new ones.
    Ban { user: String },
    /// Lift a ban. Tokens revoked by the ban stay revoked; the user signs in again.
    Unban { user: String },
    /// List a user's sessions, newest first.
    Sessions { user: String },
    /// Character writes that failed repeatedly: list them, or write one again.
    #[command(subcommand)]
    DeadLetters(DeadLetterAction),
}

#[derive(Debug, Subcommand)]
pub enum DeadLetterAction {
    /// List dead-lettered character writes.
    List,
    /// Write a dead letter's state again (only if it is newer than what is stored).
    Replay { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a new signing key. New tokens use it; tokens signed by the previous key stay
    /// valid until they expire. Running instances pick it up at once (via the bus) or
    /// within a minute.
    Rotate(ConfigArgs),
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import guest profiles (legacy id, display name, created_at) from JSON lines or CSV.
    GuestProfiles(ImportArgs),
    /// Remove exactly the profiles one import batch created.
    Rollback {
        /// The batch id `import guest-profiles` printed.
        batch: String,
        #[command(flatten)]
        config: ConfigArgs,
    },
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A `.csv` file (header: legacy_id,display_name,created_at) or JSON lines
    /// (`{"legacy_id": ..., "display_name": ..., "created_at": ...}` per line).
    pub file: PathBuf,
    /// Report what would be imported, changed or rejected; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Rows per database transaction.
    #[arg(long, default_value_t = 500)]
    pub batch_size: usize,
    #[command(flatten)]
    pub config: ConfigArgs,
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
