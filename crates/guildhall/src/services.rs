//! Mounting services into a process.
//!
//! Each service contributes routes and readiness probes. In `guildhall up` every service
//! is here and they call each other in process; with `guildhall serve <service>` only that
//! one is here and it reaches its peers over HTTP, through the same traits.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use axum::Router;
use guildhall_arena::Arena;
use guildhall_arena::results::Results;
use guildhall_auth::AuthService;
use guildhall_auth::api::{AuthApi, InProcess};
use guildhall_auth::client::AuthClient;
use guildhall_config::WorkerMode;
use guildhall_head::Head;
use guildhall_head::shards::Shards;
use guildhall_http::{PeerClient, Probe};
use guildhall_matchmaker::Matchmaker;
use guildhall_matchmaker::api::MatchmakerApi;
use guildhall_matchmaker::client::MatchmakerClient;
use guildhall_matchmaker::store::{RedisStore, StateStore};
use guildhall_players::Players;
use guildhall_tables::host::{Host, Workers};
use guildhall_tables::{Tables, TablesSettings};
use guildhall_tokens::Verifier;
use guildhall_tokens::sync::{Trust, TrustSource};

use crate::platform::{Platform, Shape};
use crate::service::ServiceKind;

/// Called with the HTTP listener's address once it is bound.
pub type OnBind = Box<dyn FnOnce(std::net::SocketAddr) + Send>;

/// Routes and probes the mounted services add.
#[derive(Default)]
pub struct Mounted {
    pub routes: Router,
    pub probes: Vec<Arc<dyn Probe>>,
    /// Work that needs the bound address (the arena advertises its WebSocket URL).
    pub on_bind: Vec<OnBind>,
    /// Where the SSH gateway and the game host's gRPC listen, when they run here.
    pub terminal: crate::terminal::TerminalAddrs,
}

/// Ready once the verifier trusts at least one signing key.
struct TrustProbe(Arc<Verifier>);

#[async_trait]
impl Probe for TrustProbe {
    fn name(&self) -> String {
        "token_keys".into()
    }
    async fn check(&self) -> Result<(), String> {
        if self.0.has_keys() {
            Ok(())
        } else {
            Err("signing keys not loaded from auth yet".into())
        }
    }
}

pub async fn mount(platform: &Platform) -> anyhow::Result<Mounted> {
    let config = &platform.config;
    let mut mounted = Mounted::default();
    let runs = |kind| match platform.shape {
        Shape::Up => true,
        Shape::Serve(one) => one == kind,
    };
    let store = || {
        platform
            .store
            .clone()
            .context("this service needs a database")
    };

    let auth = if runs(ServiceKind::Auth) {
        let auth = AuthService::start(
            store()?,
            platform.bus.clone(),
            config.auth.clone(),
            platform.shutdown.clone(),
            &platform.tasks,
        )
        .await
        .context("starting auth")?;
        mounted.routes = mounted.routes.merge(guildhall_auth::http::routes(
            auth.clone(),
            &platform.internal_token,
            &config.auth.admin_token,
        ));
        Some(auth)
    } else {
        None
    };

    // How this process verifies tokens and reaches auth: directly when auth is here,
    // over HTTP (with a verifier kept in sync from the JWKS and the bus) otherwise.
    let needs_trust = runs(ServiceKind::Head)
        || runs(ServiceKind::Players)
        || runs(ServiceKind::Matchmaker)
        || runs(ServiceKind::Arena)
        || runs(ServiceKind::Tables);
    // The SSH gateway calls auth (login, register) but verifies no tokens itself.
    let needs_api = runs(ServiceKind::Terminal) && config.ssh.enabled;
    let (api, trust): (Option<Arc<dyn AuthApi>>, Option<Arc<Trust>>) = match (&auth, needs_trust) {
        (Some(auth), false) if needs_api => (Some(Arc::new(InProcess(auth.clone()))), None),
        (None, false) if needs_api => {
            let url = config
                .peer_url("auth")
                .context("the SSH gateway needs peers.auth (the auth service's URL)")?;
            let peer = PeerClient::new(url, Duration::from_millis(config.peers.request_timeout_ms));
            let client: Arc<dyn AuthApi> = Arc::new(AuthClient::new(
                peer,
                &platform.internal_token,
                &config.head,
            ));
            (Some(client), None)
        }
        (_, false) => (None, None),
        // Same process: call auth directly and share its verifier, which auth updates itself.
        (Some(auth), true) => (
            Some(Arc::new(InProcess(auth.clone()))),
            Some(Arc::new(Trust::new(auth.verifier(), None))),
        ),
        (None, true) => {
            let url = config
                .peer_url("auth")
                .context("this service needs peers.auth (the auth service's URL)")?;
            let peer = PeerClient::new(url, Duration::from_millis(config.peers.request_timeout_ms));
            let client = Arc::new(AuthClient::new(
                peer,
                &platform.internal_token,
                &config.head,
            ));
            let verifier = Arc::new(Verifier::new(
                &config.auth.issuer,
                config.auth.clock_leeway_secs,
            ));
            let sync = guildhall_tokens::sync::keep_in_sync(
                verifier.clone(),
                client.clone(),
                platform.bus.clone(),
                platform.shutdown.clone(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("subscribing to revocations: {e}"))?;
            platform.tasks.spawn(async move {
                let _ = sync.await;
            });
            mounted.probes.push(Arc::new(TrustProbe(verifier.clone())));
            let trust = Arc::new(Trust::new(
                verifier,
                Some(client.clone() as Arc<dyn TrustSource>),
            ));
            (Some(client), Some(trust))
        }
    };

    let matchmaker = if runs(ServiceKind::Matchmaker) {
        let api = api
            .clone()
            .context("the matchmaker needs auth to sign join tokens")?;
        let store: Option<Arc<dyn StateStore>> = if platform.bus.kind() == "redis" {
            Some(Arc::new(
                RedisStore::connect(&config.bus.url, &config.bus.key_prefix)
                    .await
                    .context("connecting the matchmaker to Redis")?,
            ))
        } else {
            None
        };
        let matchmaker = Matchmaker::start(
            config.matchmaker.clone(),
            api,
            store,
            platform.shutdown.clone(),
            &platform.tasks,
        )
        .await
        .context("starting the matchmaker")?;
        mounted.routes = mounted.routes.merge(guildhall_matchmaker::http::routes(
            matchmaker.clone(),
            &platform.internal_token,
        ));
        Some(matchmaker)
    } else {
        None
    };

    if runs(ServiceKind::Players) {
        let trust = trust.clone().context("players needs token verification")?;
        let players = Players::new(store()?, config.players.clone(), platform.bus.clone());
        let grace = Duration::from_secs(config.http.shutdown_grace_secs);
        players.start(platform.shutdown.clone(), &platform.tasks, grace);
        mounted.routes = mounted
            .routes
            .merge(guildhall_players::routes::routes(players, trust));
    }

    if runs(ServiceKind::Head) {
        let (api, trust) = (
            api.clone().context("head needs auth")?,
            trust.clone().context("head needs token verification")?,
        );
        // Split shape: character calls go to the players instances, by user.
        if !runs(ServiceKind::Players) && !config.peers.players.is_empty() {
            let shards = Shards::new(&config.peers.players);
            let http = reqwest::Client::builder()
                .timeout(Duration::from_millis(config.peers.request_timeout_ms))
                .build()
                .context("building the players client")?;
            platform.tasks.spawn(shards.clone().watch(
                http.clone(),
                Duration::from_secs(1),
                platform.shutdown.clone(),
            ));
            mounted.routes = mounted
                .routes
                .merge(guildhall_head::routes::characters::routes(
                    trust.clone(),
                    shards,
                    http,
                    config.http.body_limit_bytes,
                ));
        }
        let head = Head::start(
            api,
            trust.clone(),
            store()?,
            platform.bus.clone(),
            &config.head,
            platform.shutdown.clone(),
            &platform.tasks,
        )
        .await
        .context("subscribing to profile changes")?;
        mounted.routes = mounted.routes.merge(guildhall_head::routes::routes(head));
        // Matchmaking coordination and arena stats are part of head's public API.
        if matchmaker.is_some() || config.peer_url("matchmaker").is_some() {
            let matchmaker = matchmaker_api(platform, matchmaker.clone())?;
            mounted.routes = mounted
                .routes
                .merge(guildhall_matchmaker::public::routes(matchmaker, trust));
        } else {
            tracing::info!("peers.matchmaker is not set: this head offers no matchmaking");
        }
        mounted.routes = mounted
            .routes
            .merge(guildhall_arena::results::routes(Results::new(store()?)));
    }

    if runs(ServiceKind::Tables) {
        let api = api
            .clone()
            .context("tables need auth to sign table tokens")?;
        let trust = trust.clone().context("tables need token verification")?;
        let tables = tables_front(platform, api, &trust);
        if config.tables.host {
            let host = Host::start(
                platform.bus.clone(),
                &platform.internal_token,
                Duration::from_secs(config.tables.state_ttl_secs),
                workers(platform)?,
                platform.shutdown.clone(),
                &platform.tasks,
            )
            .await
            .map_err(|e| anyhow::anyhow!("starting the game host: {e}"))?;
            mounted.routes = mounted.routes.merge(guildhall_tables::http::host_routes(
                host,
                &platform.internal_token,
            ));
        }
        let bound = tables.clone();
        mounted
            .on_bind
            .push(Box::new(move |addr| bound.set_listen_addr(addr)));
        mounted.routes = mounted
            .routes
            .merge(guildhall_tables::http::gateway_routes(tables.clone()));
        // Head's table routes, where head runs beside the tables (`guildhall up`).
        if runs(ServiceKind::Head) {
            mounted.routes = mounted
                .routes
                .merge(guildhall_tables::http::public_routes(tables, trust));
        }
    } else if runs(ServiceKind::Head) {
        // Head creates tables and seats players over the shared bus; clients are sent to
        // the gateways at tables.public_url.
        if platform.bus.kind() == "redis" && !config.tables.public_url.is_empty() {
            let (api, trust) = (
                api.clone().context("head needs auth")?,
                trust.clone().context("head needs token verification")?,
            );
            let tables = tables_front(platform, api, &trust);
            mounted.routes = mounted
                .routes
                .merge(guildhall_tables::http::public_routes(tables, trust));
        } else {
            tracing::info!(
                "tables.public_url is not set (or the bus is not Redis): this head offers no tables"
            );
        }
    }

    if runs(ServiceKind::Arena) {
        let trust = trust
            .clone()
            .context("the arena needs token verification")?;
        let results = platform.store.clone().map(Results::new);
        let arena = Arena::new(
            config.arena.clone(),
            trust.verifier().clone(),
            results,
            platform.shutdown.clone(),
            &platform.tasks,
        );
        let matchmaker = matchmaker_api(platform, matchmaker.clone())?;
        let tasks = platform.tasks.clone();
        let registering = arena.clone();
        mounted.on_bind.push(Box::new(move |addr| {
            registering.set_listen_addr(addr);
            tasks.spawn(registering.keep_registered(matchmaker));
        }));
        mounted.routes = mounted.routes.merge(guildhall_arena::routes(arena));
    } else if runs(ServiceKind::Head) {
        // The browser client is served by head too, so `guildhall serve head` offers it.
        mounted.routes = mounted.routes.merge(guildhall_arena::client_routes());
    }
    if runs(ServiceKind::Head) {
        mounted.routes = mounted.routes.merge(guildhall_tables::page::page_routes());
    }
    if runs(ServiceKind::Terminal) {
        mounted.terminal = crate::terminal::start(platform, api.clone()).await?;
    }
    // Death events from the bus: public API on head, and on terminal services too.
    if runs(ServiceKind::Head) || runs(ServiceKind::Terminal) {
        mounted.routes = mounted
            .routes
            .merge(guildhall_terminal::events_routes(platform.bus.clone()));
    }
    Ok(mounted)
}

/// Reaching tables from this process (head's routes, the gateway).
fn tables_front(platform: &Platform, api: Arc<dyn AuthApi>, trust: &Trust) -> Arc<Tables> {
    let config = &platform.config.tables;
    Tables::new(
        platform.bus.clone(),
        &platform.internal_token,
        api,
        trust.verifier().clone(),
        TablesSettings {
            state_ttl: Duration::from_secs(config.state_ttl_secs),
            token_ttl_secs: config.token_ttl_secs,
            public_url: config.public_url.clone(),
            action_timeout: Duration::from_millis(config.action_timeout_ms),
        },
        platform.shutdown.clone(),
    )
}

/// Where this process's game host runs workers: child processes need a bus they can
/// share (Redis), and `auto` picks them only for `serve tables`.
fn workers(platform: &Platform) -> anyhow::Result<Workers> {
    let config = &platform.config;
    let processes = match config.tables.workers {
        WorkerMode::InProcess => false,
        WorkerMode::Processes => true,
        // Child processes in a deployment's `serve tables`; `guildhall up` (and anything
        // embedding the platform) keeps its workers in process.
        WorkerMode::Auto => {
            platform.bus.kind() == "redis" && matches!(platform.shape, Shape::Serve(_))
        }
    };
    if !processes {
        return Ok(Workers::InProcess);
    }
    anyhow::ensure!(
        platform.bus.kind() == "redis",
        "tables.workers = \"processes\" needs the Redis bus"
    );
    Ok(Workers::Processes {
        count: config.tables.worker_processes,
        program: if config.tables.worker_program.is_empty() {
            std::env::current_exe().context("finding this program to run workers")?
        } else {
            config.tables.worker_program.clone().into()
        },
        args: vec!["tables-worker".into()],
        bus_url: config.bus.url.clone(),
        key_prefix: config.bus.key_prefix.clone(),
        telemetry: serde_json::to_value(&config.telemetry).unwrap_or_default(),
    })
}

/// The matchmaker: this process's own, or the configured peer over HTTP.
fn matchmaker_api(
    platform: &Platform,
    local: Option<Arc<Matchmaker>>,
) -> anyhow::Result<Arc<dyn MatchmakerApi>> {
    if let Some(local) = local {
        return Ok(local);
    }
    let config = &platform.config;
    let url = config
        .peer_url("matchmaker")
        .context("this service needs peers.matchmaker (the matchmaker's URL)")?;
    let timeout = Duration::from_millis(config.peers.request_timeout_ms);
    Ok(Arc::new(MatchmakerClient::new(
        PeerClient::new(url, timeout),
        &platform.internal_token,
        timeout,
    )))
}
