//! Loading: defaults, then file, then environment, then flags.

use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::Serialize;

use crate::model::Config;
use crate::validate::Problems;

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file, variable or flag could not be parsed into the typed tree.
    #[error("configuration: {0}")]
    Parse(String),
    /// Values parsed but are not acceptable.
    #[error("configuration has problems:\n{0}")]
    Invalid(Problems),
}

impl From<figment::Error> for ConfigError {
    fn from(err: figment::Error) -> Self {
        // figment's messages name the key and the source (file path or env variable).
        let mut messages = Vec::new();
        for e in err {
            messages.push(e.to_string());
        }
        ConfigError::Parse(messages.join("; "))
    }
}

/// The layered sources, so callers can add flags before extracting.
#[derive(Debug)]
pub struct Layers {
    figment: Figment,
}

impl Layers {
    /// Defaults, the optional TOML file and the `GUILDHALL_*` / `OTEL_*` environment.
    pub fn new(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::Parse(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment
            .merge(
                Env::raw()
                    .only(&["OTEL_EXPORTER_OTLP_ENDPOINT"])
                    .map(|_| "telemetry.otlp_endpoint".into()),
            )
            .merge(
                Env::raw()
                    .only(&["OTEL_SERVICE_NAME"])
                    .map(|_| "telemetry.service_name".into()),
            )
            // GUILDHALL_CONFIG names the file (read by the CLI), it is not a key.
            .merge(Env::prefixed("GUILDHALL_").ignore(&["CONFIG"]).split("__"));
        Ok(Self { figment })
    }

    /// Overrides one key (dotted path such as `http.listen`) with a flag's value.
    pub fn set(mut self, key: &str, value: impl Serialize) -> Self {
        self.figment = self.figment.merge(Serialized::default(key, value));
        self
    }

    /// Extracts the typed tree and validates it.
    pub fn load(self) -> Result<Config, ConfigError> {
        let config: Config = self.figment.extract()?;
        config.validate().map_err(ConfigError::Invalid)?;
        Ok(config)
    }
}

impl Config {
    /// The configuration as TOML with every secret replaced by `***`.
    pub fn to_redacted_toml(&self) -> String {
        let mut copy = self.clone();
        copy.database.url = redact_url(&copy.database.url);
        copy.bus.url = redact_url(&copy.bus.url);
        for secret in [&mut copy.auth.internal_token, &mut copy.auth.admin_token] {
            if !secret.is_empty() {
                *secret = "***".into();
            }
        }
        toml::to_string_pretty(&copy).expect("configuration always serializes")
    }
}

/// Hides the password of a URL (`postgres://app:secret@db/app` → `postgres://app:***@db/app`).
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => raw.to_owned(),
    }
}

#[cfg(test)]
// figment::Jail's closures return its large error type by design.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn defaults_are_the_laptop_shape_and_valid() {
        // Inside a jail too: the jails of the tests beside it set `GUILDHALL_*` variables
        // in this process, and a jail waits for the others to end and put them back.
        Jail::expect_with(|_| {
            let config = Layers::new(None).unwrap().load().unwrap();
            assert_eq!(config.http.listen.to_string(), "127.0.0.1:8080");
            assert_eq!(config.bus.url, "memory://");
            assert!(
                config
                    .database_url()
                    .starts_with("sqlite://guildhall-data/guildhall.db")
            );
            Ok(())
        });
    }

    #[test]
    fn file_then_env_then_flags() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "g.toml",
                r#"
                [http]
                listen = "0.0.0.0:9000"
                body_limit_bytes = 1000
                [database]
                url = "postgres://app:hunter2@db:5432/app"
                "#,
            )?;
            jail.set_env("GUILDHALL_HTTP__BODY_LIMIT_BYTES", "2000");
            jail.set_env("GUILDHALL_BUS__URL", "redis://:pw@cache:6379/0");
            jail.set_env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318");
            jail.set_env("GUILDHALL_AUTH__ADMIN_TOKEN", "open-sesame-admin");
            jail.set_env("GUILDHALL_CONFIG", "g.toml");
            let config = Layers::new(Some(Path::new("g.toml")))
                .unwrap()
                .set("http.listen", "127.0.0.1:7000")
                .load()
                .unwrap();
            assert_eq!(config.http.listen.to_string(), "127.0.0.1:7000");
            assert_eq!(config.http.body_limit_bytes, 2000);
            assert_eq!(config.bus.url, "redis://:pw@cache:6379/0");
            assert_eq!(config.telemetry.otlp_endpoint, "http://collector:4318");
            let printed = config.to_redacted_toml();
            assert!(
                !printed.contains("hunter2") && !printed.contains(":pw@"),
                "{printed}"
            );
            assert!(
                printed.contains("postgres://app:***@db:5432/app"),
                "{printed}"
            );
            Ok(())
        });
    }

    #[test]
    fn bad_values_are_reported_with_their_key() {
        Jail::expect_with(|jail| {
            jail.set_env("GUILDHALL_HTTP__LISTEN", "not-an-address");
            let err = Layers::new(None).unwrap().load().unwrap_err().to_string();
            assert!(err.to_lowercase().contains("http.listen"), "{err}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.create_file("g.toml", "[http]\nlisten_port = 1\n")?;
            let err = Layers::new(Some(Path::new("g.toml")))
                .unwrap()
                .load()
                .unwrap_err()
                .to_string();
            assert!(err.contains("listen_port"), "unknown keys are named: {err}");
            Ok(())
        });
    }

    #[test]
    fn a_missing_file_is_an_error() {
        let err = Layers::new(Some(Path::new("/nonexistent/guildhall.toml"))).unwrap_err();
        assert!(err.to_string().contains("does not exist"));
    }
}
