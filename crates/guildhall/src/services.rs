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
use guildhall_head::Head;
use guildhall_head::shards::Shards;
use guildhall_http::{PeerClient, Probe};
use guildhall_matchmaker::Matchmaker;
use guildhall_matchmaker::api::MatchmakerApi;
use guildhall_matchmaker::client::MatchmakerClient;
use guildhall_matchmaker::store::{RedisStore, StateStore};
use guildhall_players::Players;
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
    let (api, trust): (Option<Arc<dyn AuthApi>>, Option<Arc<Trust>>) = match (&auth, needs_trust) {
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
        let head = Head::new(api, trust.clone(), store()?, &config.head);
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
        let tables = Tables::new(
            platform.bus.clone(),
            &platform.internal_token,
            api,
            trust.verifier().clone(),
            TablesSettings {
                state_ttl: Duration::from_secs(config.tables.state_ttl_secs),
                token_ttl_secs: config.tables.token_ttl_secs,
            },
            platform.shutdown.clone(),
            &platform.tasks,
        );
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
    Ok(mounted)
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
