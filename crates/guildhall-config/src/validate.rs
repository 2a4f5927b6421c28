//! Checks every value once, reporting all problems together.

use std::fmt;

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

impl Config {
    /// Checks ranges, URL schemes and cross-field rules.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Vec::new();
        let mut check = |ok: bool, message: String| {
            if !ok {
                problems.push(message);
            }
        };

        let db = self.database_url();
        let db_scheme = db.split("://").next().unwrap_or("");
        check(
            matches!(db_scheme, "sqlite" | "postgres" | "postgresql"),
            format!(
                "database.url: unsupported scheme `{db_scheme}` (expected sqlite:// or postgres://)"
            ),
        );
        check(
            (1..=1000).contains(&self.database.max_connections),
            format!(
                "database.max_connections: {} is outside 1..=1000",
                self.database.max_connections
            ),
        );
        check(
            (1..=300).contains(&self.database.connect_timeout_secs),
            format!(
                "database.connect_timeout_secs: {} is outside 1..=300",
                self.database.connect_timeout_secs
            ),
        );

        let bus_scheme = self.bus.url.split("://").next().unwrap_or("");
        check(
            matches!(bus_scheme, "memory" | "redis" | "rediss"),
            format!("bus.url: unsupported scheme `{bus_scheme}` (expected memory:// or redis://)"),
        );
        check(
            !self.bus.key_prefix.contains(char::is_whitespace),
            "bus.key_prefix: must not contain whitespace".to_owned(),
        );

        check(
            (1..=16 * 1024 * 1024).contains(&self.http.body_limit_bytes),
            format!(
                "http.body_limit_bytes: {} is outside 1..=16777216",
                self.http.body_limit_bytes
            ),
        );
        check(
            (1..=3600).contains(&self.http.request_timeout_secs),
            format!(
                "http.request_timeout_secs: {} is outside 1..=3600",
                self.http.request_timeout_secs
            ),
        );
        check(
            (1..=600).contains(&self.http.shutdown_grace_secs),
            format!(
                "http.shutdown_grace_secs: {} is outside 1..=600",
                self.http.shutdown_grace_secs
            ),
        );
        check(
            self.http.max_concurrent_requests >= 1,
            "http.max_concurrent_requests: must be at least 1".to_owned(),
        );

        if let Err(err) = tracing_filter_syntax(&self.telemetry.log_filter) {
            problems.push(format!("telemetry.log_filter: {err}"));
        }
        for (key, value) in [
            ("telemetry.otlp_endpoint", &self.telemetry.otlp_endpoint),
            ("peers.auth", &self.peers.auth),
            ("peers.matchmaker", &self.peers.matchmaker),
        ] {
            if let (false, Err(err)) = (value.is_empty(), http_url(value)) {
                problems.push(format!("{key}: {err}"));
            }
        }
        for (i, value) in self.peers.players.iter().enumerate() {
            if let Err(err) = http_url(value) {
                problems.push(format!("peers.players[{i}]: {err}"));
            }
        }
        for name in &self.peers.required {
            let known = match name.as_str() {
                "auth" | "matchmaker" => self.peer_url(name).is_some(),
                "players" => !self.peers.players.is_empty(),
                _ => false,
            };
            if !known {
                problems.push(format!(
                    "peers.required: `{name}` is required but has no address configured"
                ));
            }
        }
        if !(100..=60_000).contains(&self.peers.request_timeout_ms) {
            problems.push(format!(
                "peers.request_timeout_ms: {} is outside 100..=60000",
                self.peers.request_timeout_ms
            ));
        }

        if problems.is_empty() {
            Ok(())
        } else {
            Err(Problems(problems))
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
    fn log_filters() {
        assert!(tracing_filter_syntax("info,guildhall_bus=debug").is_ok());
        assert!(tracing_filter_syntax("guildhall=loud").is_err());
    }
}
