//! Guildhall's configuration: one typed tree, loaded once at startup.
//!
//! Layers, later ones winning: built-in defaults (the `guildhall up` laptop shape), a TOML
//! file (`--config FILE`), `GUILDHALL_*` environment variables (nested keys joined with
//! `__`, e.g. `GUILDHALL_DATABASE__URL`), then command-line flags, which the binary applies
//! with [`Config::set`]. [`Config::validate`] checks every value once and reports all
//! problems at the same time; after that, no code reads the environment.
//!
//! `OTEL_EXPORTER_OTLP_ENDPOINT` and `OTEL_SERVICE_NAME` are honoured too, as the
//! OpenTelemetry convention asks.

mod load;
mod model;
mod validate;

pub use load::{ConfigError, Layers};
pub use model::*;
pub use validate::Problems;
