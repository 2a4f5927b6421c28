//! The configuration tree. Every field has a documented default in `Default`.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The whole configuration of a Guildhall process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where `guildhall up` keeps its SQLite file and generated secrets.
    pub data_dir: PathBuf,
    pub http: HttpConfig,
    pub ssh: SshConfig,
    pub database: DatabaseConfig,
    pub bus: BusConfig,
    pub telemetry: TelemetryConfig,
    pub peers: PeersConfig,
    pub auth: AuthConfig,
    pub head: HeadConfig,
    pub players: PlayersConfig,
    pub matchmaker: MatchmakerConfig,
    pub arena: ArenaConfig,
    pub tables: TablesConfig,
    pub gamehost: GameHostConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("guildhall-data"),
            http: HttpConfig::default(),
            ssh: SshConfig::default(),
            database: DatabaseConfig::default(),
            bus: BusConfig::default(),
            telemetry: TelemetryConfig::default(),
            peers: PeersConfig::default(),
            auth: AuthConfig::default(),
            head: HeadConfig::default(),
            players: PlayersConfig::default(),
            matchmaker: MatchmakerConfig::default(),
            arena: ArenaConfig::default(),
            tables: TablesConfig::default(),
            gamehost: GameHostConfig::default(),
        }
    }
}

/// The HTTP listener that carries every HTTP and WebSocket route of the process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Address to listen on; port 0 picks a free port (tests use this).
    pub listen: SocketAddr,
    /// Largest request body accepted, in bytes; larger bodies get `413 payload_too_large`.
    pub body_limit_bytes: usize,
    /// A request still running after this many seconds is answered `504 timeout`.
    pub request_timeout_secs: u64,
    /// On SIGTERM/SIGINT, in-flight requests get this long to finish before exit.
    pub shutdown_grace_secs: u64,
    /// At most this many requests are handled at once; more wait in the accept queue.
    pub max_concurrent_requests: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            body_limit_bytes: 64 * 1024,
            request_timeout_secs: 30,
            shutdown_grace_secs: 10,
            max_concurrent_requests: 4096,
        }
    }
}

/// The SSH gateway for terminal games.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SshConfig {
    /// Whether this process runs the SSH gateway (`guildhall up` and `serve terminal`).
    pub enabled: bool,
    /// Address the gateway listens on.
    pub listen: SocketAddr,
    /// The Ed25519 host key (OpenSSH format), created on first start; empty means
    /// `<data_dir>/ssh_host_ed25519_key`. Gateways behind one address share one file.
    pub host_key: String,
    /// Connections held at once by this gateway.
    pub max_connections: usize,
    /// Connections held at once from one IP address.
    pub max_per_ip: usize,
    /// From accept until authentication succeeds.
    pub handshake_timeout_secs: u64,
    /// Without a keystroke for this long a session closes (its game runs on for the
    /// game host's grace period).
    pub idle_timeout_secs: u64,
    /// A failed password is answered after this long.
    pub auth_rejection_ms: u64,
    /// SSH user names that reach the anonymous menu without a password prompt (an
    /// empty password does too); any other name is asked for its account password.
    pub anonymous_users: Vec<String>,
    /// The game host's gRPC URL (`http://host:7443`); empty means the game host of
    /// this process.
    pub game_host_url: String,
}

impl Default for SshConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: SocketAddr::from(([127, 0, 0, 1], 2222)),
            host_key: String::new(),
            max_connections: 2000,
            max_per_ip: 50,
            handshake_timeout_secs: 20,
            idle_timeout_secs: 3600,
            auth_rejection_ms: 500,
            anonymous_users: ["nethack", "guest", "play", "watch"]
                .map(String::from)
                .to_vec(),
            game_host_url: String::new(),
        }
    }
}

/// The game host for terminal games (NetHack and any configured program).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GameHostConfig {
    /// Whether this process runs a game host (`guildhall up` and `serve terminal`).
    pub enabled: bool,
    /// Where the host answers gateways over gRPC; empty means no gRPC (the gateway of
    /// this process uses the host directly).
    pub grpc_listen: String,
    /// Playgrounds, options files, save backups and recordings; empty means
    /// `<data_dir>/terminal`.
    pub data_dir: String,
    /// Offer NetHack 3.6 when Debian's `nethack-console` is installed.
    pub nethack: bool,
    /// How long a game whose player disconnected waits for them before it gets SIGHUP
    /// (NetHack saves).
    pub grace_period_secs: u64,
    /// Save backups kept per player and game.
    pub backups_kept: usize,
    /// More games: tables with `id`, `name`, `command`, `args`, `env`, `rc_template`,
    /// `playground`, `save_files`, `xlogfile` (see docs/terminal.md).
    pub games: Vec<toml::Table>,
}

impl Default for GameHostConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            grpc_listen: String::new(),
            data_dir: String::new(),
            nethack: true,
            grace_period_secs: 300,
            backups_kept: 10,
            games: Vec::new(),
        }
    }
}

/// The relational store: SQLite for one process, PostgreSQL for many.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://USER:PASS@HOST/DB`. Empty means
    /// `sqlite://<data_dir>/guildhall.db`.
    pub url: String,
    /// Largest number of pooled connections.
    pub max_connections: u32,
    /// Give up connecting (or acquiring a pooled connection) after this many seconds.
    pub connect_timeout_secs: u64,
    /// Run pending migrations at startup (`guildhall migrate` does it explicitly).
    pub migrate_on_start: bool,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            max_connections: 16,
            connect_timeout_secs: 5,
            migrate_on_start: true,
        }
    }
}

/// The bus: publish/subscribe and key-value with TTL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusConfig {
    /// `memory://` (in-process, one process only) or `redis://[:PASS@]HOST:PORT[/DB]`.
    pub url: String,
    /// Prepended to every key and channel, so several deployments can share one Redis.
    pub key_prefix: String,
}

impl Default for BusConfig {
    fn default() -> Self {
        Self {
            url: "memory://".into(),
            key_prefix: "guildhall:".into(),
        }
    }
}

/// Log format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// One JSON object per line (the default; what log collectors want).
    Json,
    /// Human-readable lines for a terminal.
    Pretty,
}

/// Logs, metrics and traces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    pub log_format: LogFormat,
    /// A `tracing` filter such as `info` or `info,guildhall_bus=debug`.
    pub log_filter: String,
    /// OTLP/HTTP endpoint for traces; empty disables export. Defaults to
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub otlp_endpoint: String,
    /// `service.name` on exported traces; empty means `guildhall-<service>`.
    pub service_name: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            log_format: LogFormat::Json,
            log_filter: "info".into(),
            otlp_endpoint: String::new(),
            service_name: String::new(),
        }
    }
}

/// Where the other services are, for `guildhall serve`. Unused by `guildhall up`, where
/// every service runs in the same process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PeersConfig {
    /// Base URL of the auth service, e.g. `http://auth:8080`.
    pub auth: String,
    /// Base URLs of every `players` instance (head shards character calls over them).
    pub players: Vec<String>,
    /// Base URL of the matchmaker.
    pub matchmaker: String,
    /// Peers that must answer `/health/live` for this process to report ready.
    pub required: Vec<String>,
    /// Timeout for one call to a peer, in milliseconds.
    pub request_timeout_ms: u64,
}

impl Default for PeersConfig {
    fn default() -> Self {
        Self {
            auth: String::new(),
            players: Vec::new(),
            matchmaker: String::new(),
            required: Vec::new(),
            request_timeout_ms: 2000,
        }
    }
}

/// The auth service: tokens, sessions, abuse limits, service credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// `iss` of every token.
    pub issuer: String,
    /// Lifetime of access tokens, in seconds.
    pub access_token_ttl_secs: u64,
    /// Lifetime of a session (and so of its refresh tokens), in seconds.
    pub session_ttl_secs: u64,
    /// Clock skew tolerated when checking `exp`, in seconds.
    pub clock_leeway_secs: u64,
    /// Shared secret other services present to auth's internal API (and sign bus envelopes
    /// with). Required for `serve`; `up` generates one under the data dir.
    pub internal_token: String,
    /// Bearer credential for the admin API. Empty disables the admin HTTP API (the
    /// `guildhall admin` CLI still works against the database).
    pub admin_token: String,
    /// Login and guest-login attempts allowed per client IP per minute.
    pub login_per_ip_per_minute: u32,
    /// Login attempts allowed per username per minute.
    pub login_per_username_per_minute: u32,
    /// Account registrations and guest creations allowed per client IP per minute.
    pub register_per_ip_per_minute: u32,
    /// Argon2id memory cost in KiB (OWASP minimum: 19456).
    pub argon2_memory_kib: u32,
    /// Argon2id iterations.
    pub argon2_iterations: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            issuer: "guildhall".into(),
            access_token_ttl_secs: 15 * 60,
            session_ttl_secs: 30 * 24 * 3600,
            clock_leeway_secs: 5,
            internal_token: String::new(),
            admin_token: String::new(),
            login_per_ip_per_minute: 60,
            login_per_username_per_minute: 10,
            register_per_ip_per_minute: 30,
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
        }
    }
}

/// The head service: the public entry point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HeadConfig {
    /// Display names that look like these (after confusable folding) are refused, on top
    /// of the built-in list (admin, moderator, system, support, ...).
    pub reserved_names: Vec<String>,
    /// Calls to auth: attempts for idempotent calls, and the circuit breaker.
    pub auth_retries: u32,
    /// Consecutive failures that open the circuit to auth.
    pub auth_breaker_failures: u32,
    /// Seconds the circuit stays open before a trial call.
    pub auth_breaker_cooldown_secs: u64,
    /// Milliseconds a profile read from the database may be served from head's memory.
    /// Writes through any head instance reach the others through the bus at once; this
    /// bounds staleness for changes the bus does not carry (an import rollback against
    /// an embedded store). 0 turns the cache off.
    pub profile_cache_ttl_ms: u64,
}

impl Default for HeadConfig {
    fn default() -> Self {
        Self {
            reserved_names: Vec::new(),
            auth_retries: 3,
            auth_breaker_failures: 5,
            auth_breaker_cooldown_secs: 5,
            profile_cache_ttl_ms: 1_000,
        }
    }
}

/// When an applied intent reaches the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteMode {
    /// Acknowledge from the cache; a background flusher writes batches every
    /// `flush_interval_ms`. Fast; a crash loses at most the unflushed window.
    WriteBehind,
    /// Acknowledge only after the database committed the new state. Nothing acknowledged
    /// is ever lost; each intent costs a database write.
    WriteThrough,
}

/// The players service: characters, their cache and how they are written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlayersConfig {
    pub write_mode: WriteMode,
    /// Write-behind flush interval, 1000..=5000 ms.
    pub flush_interval_ms: u64,
    /// Characters kept in memory; clean ones are evicted beyond this.
    pub cache_capacity: usize,
    /// Attempts for a row that fails on its own before it goes to the dead-letter table.
    pub flush_attempts: u32,
    /// Idempotency-Key answers remembered per character.
    pub idempotency_keys_per_character: usize,
    /// Characters one user may have.
    pub max_characters_per_user: usize,
    /// How long an instance's claim on a user lasts without renewal. After a crash, that
    /// user's characters are unavailable for at most this long.
    pub lease_ttl_ms: u64,
}

impl Default for PlayersConfig {
    fn default() -> Self {
        Self {
            write_mode: WriteMode::WriteBehind,
            flush_interval_ms: 1000,
            cache_capacity: 100_000,
            flush_attempts: 5,
            idempotency_keys_per_character: 32,
            max_characters_per_user: 50,
            lease_ttl_ms: 5000,
        }
    }
}

/// One matchmaking mode: who may be matched together and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModeConfig {
    /// The mode's name, as clients give it in `POST /v1/matchmaking/tickets`.
    pub name: String,
    /// A new lobby starts only with at least this many matched players.
    pub min_players: u32,
    /// A lobby never holds more than this many players.
    pub max_players: u32,
    /// A ticket still queued after this many seconds expires.
    pub max_wait_secs: u64,
    /// Whether a ticket may be placed in a lobby that is already running.
    pub drop_in: bool,
    /// Players are matched when their `rating` properties differ by at most this much...
    pub skill_window: f64,
    /// ...plus this much for every second the older ticket has waited.
    pub skill_window_growth_per_sec: f64,
}

impl Default for ModeConfig {
    fn default() -> Self {
        Self {
            name: "arena-ffa".into(),
            min_players: 2,
            max_players: 10,
            max_wait_secs: 120,
            drop_in: true,
            skill_window: 100.0,
            skill_window_growth_per_sec: 25.0,
        }
    }
}

/// The matchmaker: queues, match formation and lobby assignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MatchmakerConfig {
    /// The modes clients may queue for. The default is one mode, `arena-ffa`
    /// (2–10 players, drop-in).
    pub modes: Vec<ModeConfig>,
    /// How often queued tickets are matched, in milliseconds.
    pub match_interval_ms: u64,
    /// A game server silent for this long is evicted and gets no new lobbies.
    pub server_timeout_ms: u64,
    /// Lifetime of a join token, in seconds.
    pub join_token_ttl_secs: u64,
    /// Finished tickets (assigned, cancelled, expired) stay readable this long, in seconds.
    pub finished_ticket_ttl_secs: u64,
    /// Longest long-poll a client may ask for (`?wait=`), in seconds.
    pub max_long_poll_secs: u64,
}

impl Default for MatchmakerConfig {
    fn default() -> Self {
        Self {
            modes: vec![ModeConfig::default()],
            match_interval_ms: 100,
            server_timeout_ms: 5000,
            join_token_ttl_secs: 60,
            finished_ticket_ttl_secs: 300,
            max_long_poll_secs: 25,
        }
    }
}

/// The arena game server: real-time lobbies over WebSocket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArenaConfig {
    /// This server's id at the matchmaker; empty means a random one per start.
    pub server_id: String,
    /// The WebSocket URL clients are sent to; empty means `ws://<http.listen>/arena/ws`
    /// (set it when clients reach this server through another address).
    pub public_url: String,
    /// Players this server takes at most, over all its lobbies.
    pub capacity: u32,
    /// The matchmaking modes this server hosts.
    pub modes: Vec<String>,
    /// Players one lobby holds at most (the matchmaker's mode limit should not exceed it).
    pub lobby_capacity: u32,
    /// Simulation and snapshot rate, in ticks per second (1..=120).
    pub tick_rate: u32,
    /// A match ends when a jet reaches this many kills...
    pub score_limit: u32,
    /// ...or after this many seconds.
    pub time_limit_secs: u32,
    /// A dropped player keeps its jet this long and may rejoin, in seconds.
    pub reconnect_window_secs: u64,
    /// Inputs accepted from one player per tick; more are dropped and counted.
    pub max_inputs_per_tick: u32,
    /// A client whose outbound queue stays full this long is disconnected, in milliseconds.
    /// While it is full, only the newest snapshot waits to be sent.
    pub slow_client_timeout_ms: u64,
    /// How often the server reports its lobbies to the matchmaker, in milliseconds.
    pub heartbeat_interval_ms: u64,
}

impl Default for ArenaConfig {
    fn default() -> Self {
        Self {
            server_id: String::new(),
            public_url: String::new(),
            capacity: 10_000,
            modes: vec!["arena-ffa".into()],
            lobby_capacity: 10,
            tick_rate: 30,
            score_limit: 10,
            time_limit_secs: 180,
            reconnect_window_secs: 15,
            max_inputs_per_tick: 4,
            slow_client_timeout_ms: 2000,
            heartbeat_interval_ms: 1000,
        }
    }
}

/// Card tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TablesConfig {
    /// A table's state is kept this long after its last change (`GAME_STATE_TTL_SECONDS`).
    pub state_ttl_secs: u64,
    /// Lifetime of player and observer tokens; a player gets a fresh one by joining again.
    pub token_ttl_secs: u64,
    /// The gateway's WebSocket URL that head hands to players and observers; empty means
    /// `ws://<http.listen>/tables/ws` of this process (set it in the split shape, where
    /// head and the gateways are different processes).
    pub public_url: String,
    /// Whether this tables service runs a game host (starting and watching workers) besides
    /// its gateway; gateway-only instances can be scaled apart from hosts.
    pub host: bool,
    /// Where games' workers run: `processes` (child processes of the tables service,
    /// restarted when they die; needs a shared bus), `in_process` (tasks of the tables
    /// service), or `auto` (processes for `serve tables` on Redis, tasks otherwise).
    pub workers: WorkerMode,
    /// How many worker processes a tables service keeps (games are spread over them).
    pub worker_processes: usize,
    /// The program run as a worker process (with the argument `tables-worker`); empty
    /// means this very program.
    pub worker_program: String,
    /// An action unanswered this long gets `game_unavailable` from the gateway, which then
    /// asks for the game's worker to be restarted.
    pub action_timeout_ms: u64,
}

/// Where the tables service runs games' workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkerMode {
    Auto,
    InProcess,
    Processes,
}

impl Default for TablesConfig {
    fn default() -> Self {
        Self {
            state_ttl_secs: 12 * 3600,
            token_ttl_secs: 3600,
            public_url: String::new(),
            host: true,
            workers: WorkerMode::Auto,
            worker_processes: 2,
            worker_program: String::new(),
            action_timeout_ms: 2000,
        }
    }
}

impl Config {
    /// The database URL in force: the configured one, or the SQLite file in the data dir.
    pub fn database_url(&self) -> String {
        if self.database.url.is_empty() {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("guildhall.db").display()
            )
        } else {
            self.database.url.clone()
        }
    }

    /// Looks a peer's base URL up by its service name.
    pub fn peer_url(&self, name: &str) -> Option<&str> {
        let url = match name {
            "auth" => self.peers.auth.as_str(),
            "matchmaker" => self.peers.matchmaker.as_str(),
            _ => "",
        };
        (!url.is_empty()).then_some(url)
    }
}
