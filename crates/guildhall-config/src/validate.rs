//! Checks every value once, reporting all problems together.

use std::fmt;
use std::net::SocketAddr;
use std::ops::RangeInclusive;

use crate::model::Config;

/// Every problem found, each naming its key.
#[derive(Debug, Default, PartialEq)]
pub struct Problems(pub Vec<String>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

/// The problems found so far, with the two shapes of check `validate` makes.
#[derive(Default)]
struct Checks(Vec<String>);

impl Checks {
    fn check(&mut self, ok: bool, message: String) {
        if !ok {
            self.0.push(message);
        }
    }

    /// A number that must lie in `range`; the message names the key, the value and the range.
    fn range<T: PartialOrd + fmt::Display>(
        &mut self,
        key: &str,
        value: T,
        range: RangeInclusive<T>,
    ) {
        if !range.contains(&value) {
            self.0.push(format!(
                "{key}: {value} is outside {}..={}",
                range.start(),
                range.end()
            ));
        }
    }
}

impl Config {
    /// Checks ranges, URL schemes and cross-field rules.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut checks = Checks::default();

        let db = self.database_url();
        let db_scheme = db.split("://").next().unwrap_or("");
        checks.check(
            matches!(db_scheme, "sqlite" | "postgres" | "postgresql"),
            format!(
                "database.url: unsupported scheme `{db_scheme}` (expected sqlite:// or postgres://)"
            ),
        );
        checks.range(
            "database.max_connections",
            self.database.max_connections,
            1..=1000,
        );
        checks.range(
            "database.connect_timeout_secs",
            self.database.connect_timeout_secs,
            1..=300,
        );

        let bus_scheme = self.bus.url.split("://").next().unwrap_or("");
        checks.check(
            matches!(bus_scheme, "memory" | "redis" | "rediss"),
            format!("bus.url: unsupported scheme `{bus_scheme}` (expected memory:// or redis://)"),
        );
        checks.check(
            !self.bus.key_prefix.contains(char::is_whitespace),
            "bus.key_prefix: must not contain whitespace".to_owned(),
        );

        checks.range(
            "http.body_limit_bytes",
            self.http.body_limit_bytes,
            1..=16 * 1024 * 1024,
        );
        checks.range(
            "http.request_timeout_secs",
            self.http.request_timeout_secs,
            1..=3600,
        );
        checks.range(
            "http.shutdown_grace_secs",
            self.http.shutdown_grace_secs,
            1..=600,
        );
        checks.check(
            self.http.max_concurrent_requests >= 1,
            "http.max_concurrent_requests: must be at least 1".to_owned(),
        );
        let players = &self.players;
        checks.range(
            "players.flush_interval_ms",
            players.flush_interval_ms,
            1000..=5000,
        );
        checks.range("players.lease_ttl_ms", players.lease_ttl_ms, 1000..=600_000);
        checks.range("players.flush_attempts", players.flush_attempts, 1..=100);
        checks.check(
            players.max_characters_per_user >= 1,
            "players.max_characters_per_user: must be at least 1".to_owned(),
        );

        if let Err(err) = tracing_filter_syntax(&self.telemetry.log_filter) {
            checks.0.push(format!("telemetry.log_filter: {err}"));
        }
        for (key, value) in [
            ("telemetry.otlp_endpoint", &self.telemetry.otlp_endpoint),
            ("peers.auth", &self.peers.auth),
            ("peers.matchmaker", &self.peers.matchmaker),
        ] {
            if let (false, Err(err)) = (value.is_empty(), http_url(value)) {
                checks.0.push(format!("{key}: {err}"));
            }
        }
        for (i, value) in self.peers.players.iter().enumerate() {
            if let Err(err) = http_url(value) {
                checks.0.push(format!("peers.players[{i}]: {err}"));
            }
        }
        for name in &self.peers.required {
            let known = match name.as_str() {
                "auth" | "matchmaker" => self.peer_url(name).is_some(),
                "players" => !self.peers.players.is_empty(),
                _ => false,
            };
            if !known {
                checks.0.push(format!(
                    "peers.required: `{name}` is required but has no address configured"
                ));
            }
        }
        checks.range(
            "peers.request_timeout_ms",
            self.peers.request_timeout_ms,
            100..=60_000,
        );

        self.validate_realtime(&mut checks);

        if checks.0.is_empty() {
            Ok(())
        } else {
            Err(Problems(checks.0))
        }
    }
}

fn http_url(value: &str) -> Result<(), String> {
    let url = url::Url::parse(value).map_err(|e| format!("`{value}` is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("`{value}` must be an http:// or https:// URL"));
    }
    Ok(())
}

/// A light syntax check so a typo fails at startup, not as silently missing logs.
fn tracing_filter_syntax(filter: &str) -> Result<(), String> {
    const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];
    for directive in filter.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let level = directive.rsplit('=').next().unwrap_or(directive);
        let is_target_only = !directive.contains('=');
        if !LEVELS.contains(&level.to_ascii_lowercase().as_str()) && !is_target_only {
            return Err(format!("`{directive}` has unknown level `{level}`"));
        }
    }
    Ok(())
}

impl Config {
    fn validate_realtime(&self, checks: &mut Checks) {
        let mm = &self.matchmaker;
        checks.check(
            !mm.modes.is_empty(),
            "matchmaker.modes: at least one mode is needed".into(),
        );
        let mut names = std::collections::HashSet::new();
        for (i, mode) in mm.modes.iter().enumerate() {
            let key = format!("matchmaker.modes[{i}]");
            checks.check(
                !mode.name.is_empty()
                    && mode.name.len() <= 64
                    && mode
                        .name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                format!("{key}.name: `{}` must be 1-64 of [A-Za-z0-9_-]", mode.name),
            );
            checks.check(
                names.insert(mode.name.clone()),
                format!("{key}.name: `{}` appears twice", mode.name),
            );
            checks.check(
                mode.min_players >= 1 && mode.min_players <= mode.max_players,
                format!("{key}: min_players must be at least 1 and at most max_players"),
            );
            checks.range(&format!("{key}.max_players"), mode.max_players, 1..=1000);
            checks.range(
                &format!("{key}.max_wait_secs"),
                mode.max_wait_secs,
                1..=3600,
            );
            checks.check(
                mode.skill_window >= 0.0 && mode.skill_window_growth_per_sec >= 0.0,
                format!("{key}: skill_window and its growth must not be negative"),
            );
        }
        checks.range(
            "matchmaker.match_interval_ms",
            mm.match_interval_ms,
            10..=10_000,
        );
        checks.range(
            "matchmaker.server_timeout_ms",
            mm.server_timeout_ms,
            500..=600_000,
        );
        checks.range(
            "matchmaker.join_token_ttl_secs",
            mm.join_token_ttl_secs,
            5..=3600,
        );
        checks.check(
            (1..=60).contains(&mm.max_long_poll_secs)
                && mm.max_long_poll_secs < self.http.request_timeout_secs,
            "matchmaker.max_long_poll_secs: must be 1..=60 and below http.request_timeout_secs"
                .into(),
        );

        checks.check(
            (60..=30 * 24 * 3600).contains(&self.tables.state_ttl_secs)
                && (30..=86_400).contains(&self.tables.token_ttl_secs),
            "tables: state_ttl_secs must be 60..=2592000 and token_ttl_secs 30..=86400".into(),
        );
        checks.check(
            (1..=64).contains(&self.tables.worker_processes)
                && (100..=60_000).contains(&self.tables.action_timeout_ms),
            "tables: worker_processes must be 1..=64 and action_timeout_ms 100..=60000".into(),
        );
        checks.check(
            self.tables.public_url.is_empty()
                || self.tables.public_url.starts_with("ws://")
                || self.tables.public_url.starts_with("wss://"),
            "tables.public_url: must be a ws:// or wss:// URL".into(),
        );

        let ssh = &self.ssh;
        checks.check(
            ssh.max_connections >= 1 && (1..=ssh.max_connections).contains(&ssh.max_per_ip),
            "ssh: max_connections must be at least 1 and max_per_ip 1..=max_connections".into(),
        );
        checks.check(
            (1..=600).contains(&ssh.handshake_timeout_secs)
                && (10..=7 * 86_400).contains(&ssh.idle_timeout_secs)
                && ssh.auth_rejection_ms <= 10_000,
            "ssh: handshake_timeout_secs must be 1..=600, idle_timeout_secs 10..=604800 and auth_rejection_ms at most 10000".into(),
        );
        checks.check(
            ssh.game_host_url.is_empty()
                || ssh.game_host_url.starts_with("http://")
                || ssh.game_host_url.starts_with("https://"),
            "ssh.game_host_url: must be an http:// URL (the game host's gRPC address)".into(),
        );
        checks.check(
            !ssh.enabled || self.gamehost.enabled || !ssh.game_host_url.is_empty(),
            "ssh: a gateway needs a game host: enable gamehost here or set ssh.game_host_url"
                .into(),
        );
        checks.check(
            self.gamehost.grpc_listen.is_empty()
                || self.gamehost.grpc_listen.parse::<SocketAddr>().is_ok(),
            "gamehost.grpc_listen: must be an address such as 0.0.0.0:7443".into(),
        );
        checks.range(
            "gamehost.grace_period_secs",
            self.gamehost.grace_period_secs,
            1..=7 * 86_400,
        );

        let arena = &self.arena;
        checks.range("arena.tick_rate", arena.tick_rate, 1..=120);
        checks.check(
            arena.capacity >= 1,
            "arena.capacity: must be at least 1".into(),
        );
        checks.range("arena.lobby_capacity", arena.lobby_capacity, 1..=1000);
        checks.check(
            !arena.modes.is_empty(),
            "arena.modes: the server must host at least one mode".into(),
        );
        checks.check(
            arena.public_url.is_empty()
                || arena.public_url.starts_with("ws://")
                || arena.public_url.starts_with("wss://"),
            format!(
                "arena.public_url: `{}` must start with ws:// or wss://",
                arena.public_url
            ),
        );
        checks.check(
            (1..=1000).contains(&arena.score_limit)
                && (10..=86_400).contains(&arena.time_limit_secs),
            "arena: score_limit must be 1..=1000 and time_limit_secs 10..=86400".into(),
        );
        checks.range(
            "arena.max_inputs_per_tick",
            arena.max_inputs_per_tick,
            1..=64,
        );
        checks.check(
            arena.reconnect_window_secs <= 3600,
            "arena.reconnect_window_secs: at most 3600".into(),
        );
        checks.range(
            "arena.slow_client_timeout_ms",
            arena.slow_client_timeout_ms,
            100..=60_000,
        );
        checks.check(
            (100..=60_000).contains(&arena.heartbeat_interval_ms)
                && arena.heartbeat_interval_ms * 2 < self.matchmaker.server_timeout_ms.max(1),
            "arena.heartbeat_interval_ms: must be 100..=60000 and under half of matchmaker.server_timeout_ms".into(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_every_problem_at_once() {
        let mut config = Config::default();
        config.database.url = "mysql://x".into();
        config.bus.url = "nats://x".into();
        config.http.body_limit_bytes = 0;
        config.peers.required = vec!["auth".into()];
        config.peers.players = vec!["ftp://p".into()];
        let Problems(problems) = config.validate().unwrap_err();
        let text = problems.join("\n");
        for key in [
            "database.url",
            "bus.url",
            "http.body_limit_bytes",
            "peers.required",
            "peers.players[0]",
        ] {
            assert!(text.contains(key), "missing {key} in:\n{text}");
        }
        assert_eq!(problems.len(), 5, "{text}");
    }

    #[test]
    fn players_settings_outside_their_ranges_are_refused() {
        let mut config = Config::default();
        config.players.flush_interval_ms = 0;
        config.players.lease_ttl_ms = 0;
        config.players.flush_attempts = 0;
        config.players.max_characters_per_user = 0;
        let Problems(problems) = config.validate().unwrap_err();
        let text = problems.join("\n");
        for key in [
            "players.flush_interval_ms",
            "players.lease_ttl_ms",
            "players.flush_attempts",
            "players.max_characters_per_user",
        ] {
            assert!(text.contains(key), "missing {key} in:\n{text}");
        }
        assert_eq!(problems.len(), 4, "{text}");
        assert!(
            problems.contains(&"players.lease_ttl_ms: 0 is outside 1000..=600000".to_owned()),
            "{text}"
        );

        let mut config = Config::default();
        config.players.flush_interval_ms = 5001;
        assert!(config.validate().is_err());
        config.players.flush_interval_ms = 5000;
        config.players.lease_ttl_ms = 2000;
        assert!(config.validate().is_ok());
    }

    #[test]
    fn log_filters() {
        assert!(tracing_filter_syntax("info,guildhall_bus=debug").is_ok());
        assert!(tracing_filter_syntax("guildhall=loud").is_err());
    }

    #[test]
    fn matchmaking_and_arena_settings_are_checked() {
        assert!(Config::default().validate().is_ok());
        let mut config = Config::default();
        let mut twin = config.matchmaker.modes[0].clone();
        twin.min_players = 20;
        config.matchmaker.modes.push(twin);
        config.arena.tick_rate = 0;
        config.arena.public_url = "http://x".into();
        config.arena.heartbeat_interval_ms = 4000;
        config.arena.slow_client_timeout_ms = 99;
        config.gamehost.grace_period_secs = 0;
        let Problems(problems) = config.validate().unwrap_err();
        let text = problems.join("\n");
        for key in [
            "matchmaker.modes[1].name",
            "matchmaker.modes[1]: min_players",
            "arena.tick_rate",
            "arena.public_url",
            "arena.heartbeat_interval_ms",
            "arena.slow_client_timeout_ms: 99 is outside 100..=60000",
            "gamehost.grace_period_secs: 0 is outside 1..=604800",
        ] {
            assert!(text.contains(key), "missing {key} in:\n{text}");
        }
    }
}
