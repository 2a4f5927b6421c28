//! `/health/live` and `/health/ready`.
//!
//! Live means the process answers. Ready means every dependency this process was
//! configured with answers too: its database, its bus (Redis) and its required peers.
//! When one fails, readiness answers `503 not_ready` naming it, so a load balancer stops
//! sending traffic until it returns. The cause goes to the log, not the response.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use guildhall_bus::SharedBus;
use guildhall_core::{ApiError, ErrorCode};
use guildhall_store::Store;
use serde_json::{Map, Value, json};

use crate::peer::PeerClient;

/// How long one probe may take before its dependency counts as down.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// One dependency's health check.
#[async_trait]
pub trait Probe: Send + Sync {
    /// The dependency's name in readiness answers: `database`, `bus`, `peer:auth`.
    fn name(&self) -> String;
    async fn check(&self) -> Result<(), String>;
}

/// The probes of one process. Cheap to clone.
#[derive(Clone, Default)]
pub struct Readiness {
    probes: Arc<Vec<Arc<dyn Probe>>>,
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.probes.iter().map(|p| p.name()))
            .finish()
    }
}

impl Readiness {
    pub fn new(probes: Vec<Arc<dyn Probe>>) -> Self {
        Self {
            probes: Arc::new(probes),
        }
    }

    /// Runs every probe at once; returns each name with its failure, if any.
    pub async fn check(&self) -> Vec<(String, Result<(), String>)> {
        let runs = self.probes.iter().map(|probe| async move {
            let result = match tokio::time::timeout(PROBE_TIMEOUT, probe.check()).await {
                Ok(result) => result,
                Err(_) => Err(format!("no answer within {PROBE_TIMEOUT:?}")),
            };
            (probe.name(), result)
        });
        futures_util::future::join_all(runs).await
    }
}

pub async fn live() -> Response {
    axum::Json(json!({"status": "live"})).into_response()
}

pub async fn ready(State(readiness): State<Readiness>) -> Response {
    let results = readiness.check().await;
    let mut checks = Map::new();
    let mut failing = Vec::new();
    for (name, result) in results {
        match result {
            Ok(()) => {
                checks.insert(name, json!("ok"));
            }
            Err(cause) => {
                tracing::warn!(dependency = %name, %cause, "readiness probe failed");
                checks.insert(name.clone(), json!("unreachable"));
                failing.push(name);
            }
        }
    }
    if failing.is_empty() {
        axum::Json(json!({"status": "ready", "checks": checks})).into_response()
    } else {
        ApiError::new(
            ErrorCode::NotReady,
            format!("not ready: {} unreachable", failing.join(", ")),
        )
        .with_details(json!({"failing": failing, "checks": Value::Object(checks)}))
        .into_response()
    }
}

/// Readiness of the relational store.
pub struct StoreProbe(pub Store);

#[async_trait]
impl Probe for StoreProbe {
    fn name(&self) -> String {
        "database".into()
    }
    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }
}

/// Readiness of the bus (a no-op in memory, a PING on Redis).
pub struct BusProbe(pub SharedBus);

#[async_trait]
impl Probe for BusProbe {
    fn name(&self) -> String {
        format!("bus:{}", self.0.kind())
    }
    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }
}

/// Readiness of a required peer: its `/health/live` answers 200.
pub struct PeerProbe {
    pub name: String,
    pub client: PeerClient,
}

#[async_trait]
impl Probe for PeerProbe {
    fn name(&self) -> String {
        format!("peer:{}", self.name)
    }
    async fn check(&self) -> Result<(), String> {
        self.client
            .get_status("/health/live")
            .await
            .map_err(|e| e.to_string())
            .and_then(|status| {
                if status.is_success() {
                    Ok(())
                } else {
                    Err(format!("answered {status}"))
                }
            })
    }
}
