//! Assembling services into one running process.
//!
//! [`start`] is the single path both run shapes take: `guildhall up` starts every service
//! with the embedded adapters (SQLite, in-process bus); `guildhall serve <service>` starts
//! one with whatever the configuration names (usually PostgreSQL and Redis). Services plug
//! their routes and background tasks into the [`Platform`] they are given.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use guildhall_bus::SharedBus;
use guildhall_config::Config;
use guildhall_http::{BusProbe, PeerClient, PeerProbe, Probe, Readiness, Server, StoreProbe};
use guildhall_store::{Store, StoreOptions};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::service::ServiceKind;

/// Which shape this process runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Every service in one process (`guildhall up`).
    Up,
    /// One service (`guildhall serve <service>`).
    Serve(ServiceKind),
}

impl Shape {
    fn services(self) -> Vec<ServiceKind> {
        match self {
            Shape::Up => ServiceKind::ALL.to_vec(),
            Shape::Serve(kind) => vec![kind],
        }
    }

    /// The name used for logs and traces: `up` or the service's name.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Up => "up",
            Shape::Serve(kind) => kind.name(),
        }
    }
}

/// What every service in this process shares. Lives as long as the process.
#[derive(Debug, Clone)]
pub struct Platform {
    pub config: Arc<Config>,
    pub shape: Shape,
    /// The relational store, when a service in this process keeps rows.
    pub store: Option<Store>,
    /// Publish/subscribe and key-value: in-process for `up`, Redis when configured.
    pub bus: SharedBus,
    /// Shared secret between services: presented to auth's internal API and used to sign
    /// bus envelopes. Generated under the data dir by `up`; from config for `serve`.
    pub internal_token: Arc<str>,
    /// Cancelled on SIGINT/SIGTERM; background tasks stop when it fires.
    pub shutdown: CancellationToken,
    /// Background tasks (flushers, subscribers) the process waits for before exiting.
    pub tasks: TaskTracker,
}

/// A started process: the platform and its HTTP server.
#[derive(Debug)]
pub struct Running {
    pub platform: Platform,
    pub server: Server,
    /// The SSH gateway's and the game host's gRPC addresses, when they run here.
    pub terminal: crate::terminal::TerminalAddrs,
}

impl Running {
    pub fn http_addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// The SSH gateway's address, when it runs in this process.
    pub fn ssh_addr(&self) -> Option<SocketAddr> {
        self.terminal.ssh
    }

    /// The game host's gRPC address, when it serves gRPC from this process.
    pub fn grpc_addr(&self) -> Option<SocketAddr> {
        self.terminal.grpc
    }

    /// Stops accepting, drains in-flight requests (within the grace period), waits for
    /// background tasks to finish their last work (flushing pending writes), then closes
    /// the store. Returns `false` when the grace period ran out.
    pub async fn shutdown(self) -> bool {
        let Running {
            platform, server, ..
        } = self;
        platform.shutdown.cancel();
        let drained = server.drained().await;
        platform.tasks.close();
        let grace = Duration::from_secs(platform.config.http.shutdown_grace_secs);
        let tasks_done = tokio::time::timeout(grace, platform.tasks.wait())
            .await
            .is_ok();
        if !tasks_done {
            tracing::warn!("background tasks did not finish within the grace period");
        }
        if let Some(store) = &platform.store {
            store.close().await;
        }
        tracing::info!(drained, tasks_done, "stopped");
        drained && tasks_done
    }
}

/// Opens the dependencies of `shape`, mounts its services and starts serving HTTP.
pub async fn start(config: Config, shape: Shape) -> anyhow::Result<Running> {
    let config = Arc::new(config);
    let services = shape.services();
    let shutdown = CancellationToken::new();
    // Whatever the shape and settings: the default SQLite database, secrets and
    // recordings live here, and SQLite cannot create a missing directory.
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data dir {}", config.data_dir.display()))?;

    let internal_token: Arc<str> = if !config.auth.internal_token.is_empty() {
        config.auth.internal_token.as_str().into()
    } else if shape == Shape::Up {
        let bytes = crate::secrets::load_or_generate(&config.data_dir, "internal-token", 32)?;
        bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
            .into()
    } else if matches!(
        shape,
        Shape::Serve(ServiceKind::Auth | ServiceKind::Head | ServiceKind::Players)
    ) {
        anyhow::bail!(
            "auth.internal_token must be set (GUILDHALL_AUTH__INTERNAL_TOKEN) for `serve {}`",
            shape.name()
        );
    } else {
        Arc::from("")
    };

    let store = if services.iter().any(|s| s.uses_database()) {
        let store = Store::open(&StoreOptions {
            url: config.database_url(),
            max_connections: config.database.max_connections,
            connect_timeout: Duration::from_secs(config.database.connect_timeout_secs),
        })?;
        if config.database.migrate_on_start {
            store
                .migrate()
                .await
                .context("migrating the database (is it reachable?)")?;
        }
        Some(store)
    } else {
        None
    };

    let bus = guildhall_bus::connect(&config.bus.url, &config.bus.key_prefix).await?;

    let mut probes: Vec<Arc<dyn Probe>> = Vec::new();
    if let Some(store) = &store {
        probes.push(Arc::new(StoreProbe(store.clone())));
    }
    probes.push(Arc::new(BusProbe(bus.clone())));
    if let Shape::Serve(_) = shape {
        let timeout = Duration::from_millis(config.peers.request_timeout_ms);
        for name in &config.peers.required {
            let urls: Vec<String> = match name.as_str() {
                "players" => config.peers.players.clone(),
                other => config
                    .peer_url(other)
                    .map(str::to_owned)
                    .into_iter()
                    .collect(),
            };
            for (i, url) in urls.iter().enumerate() {
                let label = if urls.len() > 1 {
                    format!("{name}[{i}]")
                } else {
                    name.clone()
                };
                probes.push(Arc::new(PeerProbe {
                    name: label,
                    client: PeerClient::new(url, timeout),
                }));
            }
        }
    }

    let platform = Platform {
        config: config.clone(),
        shape,
        store,
        bus,
        internal_token,
        shutdown: shutdown.clone(),
        tasks: TaskTracker::new(),
    };

    if let Some(checkpoints) = platform
        .store
        .as_ref()
        .and_then(|store| store.checkpoints(platform.shutdown.clone()))
    {
        platform.tasks.spawn(checkpoints);
    }
    let mounted = crate::services::mount(&platform).await?;
    let terminal = mounted.terminal;
    probes.extend(mounted.probes);
    let app = guildhall_http::app(mounted.routes, Readiness::new(probes), &config.http);

    let listener = TcpListener::bind(config.http.listen)
        .await
        .with_context(|| format!("binding HTTP on {}", config.http.listen))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    for hook in mounted.on_bind {
        hook(addr);
    }
    let grace = Duration::from_secs(config.http.shutdown_grace_secs);
    let server = guildhall_http::serve(listener, app, shutdown, grace)?;
    tracing::info!(shape = shape.name(), addr = %server.addr, "serving HTTP");
    Ok(Running {
        platform,
        server,
        terminal,
    })
}
