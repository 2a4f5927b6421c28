//! Terminal games in a process: the game host (with its gRPC server when
//! `gamehost.grpc_listen` is set), and the SSH gateway in front of this host or of a
//! remote one (`ssh.game_host_url`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use guildhall_auth::api::AuthApi;
use guildhall_gamehost::{GameConfig, Host, HostConfig, SharedBackend};
use guildhall_terminal::{Gateway, GatewaySettings};
use serde::Deserialize;
use tokio::net::TcpListener;

use crate::platform::Platform;

/// Addresses the terminal parts of this process listen on.
#[derive(Debug, Default, Clone, Copy)]
pub struct TerminalAddrs {
    pub ssh: Option<SocketAddr>,
    pub grpc: Option<SocketAddr>,
}

/// Starts the game host and the gateway as configured; their tasks stop at shutdown
/// (the host hangs up every game first, so NetHack saves).
pub async fn start(
    platform: &Platform,
    auth: Option<Arc<dyn AuthApi>>,
) -> anyhow::Result<TerminalAddrs> {
    let config = &platform.config;
    let mut addrs = TerminalAddrs::default();
    let host = if config.gamehost.enabled {
        let host = Host::start(host_config(platform)?)
            .await
            .map_err(|e| anyhow::anyhow!("starting the game host: {e}"))?;
        let backend: SharedBackend = Arc::new(host.clone());
        platform.tasks.spawn(guildhall_terminal::publish_deaths(
            backend.clone(),
            platform.bus.clone(),
            platform.shutdown.clone(),
        ));
        if !config.gamehost.grpc_listen.is_empty() {
            let listener = TcpListener::bind(&config.gamehost.grpc_listen)
                .await
                .with_context(|| format!("binding gRPC on {}", config.gamehost.grpc_listen))?;
            addrs.grpc = Some(listener.local_addr()?);
            let shutdown = platform.shutdown.clone();
            let serving = backend.clone();
            platform.tasks.spawn(async move {
                let stop = async move { shutdown.cancelled().await };
                if let Err(error) = guildhall_gamehost_rpc::serve(listener, serving, stop).await {
                    tracing::error!(%error, "the game host's gRPC server stopped");
                }
            });
            tracing::info!(addr = ?addrs.grpc, "game host serving gRPC");
        }
        let stopping = host.clone();
        let shutdown = platform.shutdown.clone();
        platform.tasks.spawn(async move {
            shutdown.cancelled().await;
            stopping.shutdown().await;
        });
        Some(backend)
    } else {
        None
    };

    if config.ssh.enabled {
        let backend: SharedBackend = if config.ssh.game_host_url.is_empty() {
            host.context("ssh.game_host_url is empty and this process runs no game host")?
        } else {
            Arc::new(
                guildhall_gamehost_rpc::RemoteHost::new(&config.ssh.game_host_url)
                    .map_err(|e| anyhow::anyhow!("ssh.game_host_url: {e}"))?,
            )
        };
        let auth = auth.context("the SSH gateway needs auth (peers.auth)")?;
        let key_path = if config.ssh.host_key.is_empty() {
            config.data_dir.join("ssh_host_ed25519_key")
        } else {
            PathBuf::from(&config.ssh.host_key)
        };
        let key = guildhall_terminal::hostkey::load_or_create(&key_path)?;
        let gateway = Gateway::new(settings(platform), key, backend, auth);
        let listener = TcpListener::bind(config.ssh.listen)
            .await
            .with_context(|| format!("binding SSH on {}", config.ssh.listen))?;
        addrs.ssh = Some(listener.local_addr()?);
        // Not a readiness probe on the game host: a gateway whose host is away still
        // serves logins and says so in its menus.
        platform
            .tasks
            .spawn(gateway.serve(listener, platform.shutdown.clone()));
        tracing::info!(addr = ?addrs.ssh, "serving SSH");
    }
    Ok(addrs)
}

fn settings(platform: &Platform) -> GatewaySettings {
    let ssh = &platform.config.ssh;
    GatewaySettings {
        max_connections: ssh.max_connections,
        max_per_ip: ssh.max_per_ip,
        handshake_timeout: Duration::from_secs(ssh.handshake_timeout_secs),
        idle_timeout: Duration::from_secs(ssh.idle_timeout_secs),
        auth_rejection: Duration::from_millis(ssh.auth_rejection_ms),
        anonymous_users: ssh.anonymous_users.clone(),
        ..GatewaySettings::default()
    }
}

/// The host's configuration from `[gamehost]`: NetHack when it is installed (and
/// wanted), then every configured game.
fn host_config(platform: &Platform) -> anyhow::Result<HostConfig> {
    let config = &platform.config.gamehost;
    let data_dir = if config.data_dir.is_empty() {
        platform.config.data_dir.join("terminal")
    } else {
        PathBuf::from(&config.data_dir)
    };
    let mut games = Vec::new();
    if config.nethack {
        if guildhall_gamehost::nethack::is_installed() {
            games.push(GameConfig::nethack());
        } else {
            tracing::info!("nethack-console is not installed: NetHack is not offered");
        }
    }
    for (n, table) in config.games.iter().enumerate() {
        let game = GameConfig::deserialize(toml::Value::Table(table.clone()))
            .with_context(|| format!("gamehost.games[{n}]"))?;
        games.push(game);
    }
    let mut host = HostConfig::new(data_dir, games);
    host.grace_period_secs = config.grace_period_secs;
    host.backups_kept = config.backups_kept;
    Ok(host)
}
