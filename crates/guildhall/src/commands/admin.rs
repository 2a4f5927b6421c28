//! `guildhall admin ...` and `guildhall keys rotate`: one-shot operations on auth's data,
//! announced on the bus so running instances act on them at once.

use std::process::ExitCode;
use std::sync::Arc;

use guildhall_auth::AuthService;
use guildhall_config::Config;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::cli::{AdminAction, AdminArgs, ConfigArgs, DeadLetterAction};

/// An auth service for the length of one command.
struct OneShot {
    auth: Arc<AuthService>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

impl OneShot {
    async fn open(config: &Config) -> anyhow::Result<Self> {
        let store = super::open_store(config).await?;
        let bus = guildhall_bus::connect(&config.bus.url, &config.bus.key_prefix).await?;
        let shutdown = CancellationToken::new();
        let tasks = TaskTracker::new();
        let auth =
            AuthService::start(store, bus, config.auth.clone(), shutdown.clone(), &tasks).await?;
        Ok(Self {
            auth,
            shutdown,
            tasks,
        })
    }

    async fn close(self) {
        self.shutdown.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

pub async fn run(args: AdminArgs) -> anyhow::Result<ExitCode> {
    let config = super::load_config(&args.config, |layers| layers)?;
    let _telemetry = guildhall_telemetry::init(&config.telemetry, "admin")?;
    if let AdminAction::DeadLetters(action) = &args.action {
        return dead_letters(&config, action).await;
    }
    let one = OneShot::open(&config).await?;
    let result = act(&one.auth, &args.action).await;
    one.close().await;
    result
}

async fn act(auth: &AuthService, action: &AdminAction) -> anyhow::Result<ExitCode> {
    let user_arg = match action {
        AdminAction::Ban { user }
        | AdminAction::Unban { user }
        | AdminAction::Sessions { user } => user,
        AdminAction::DeadLetters(_) => unreachable!("handled before auth starts"),
    };
    let user = match auth.find_user(user_arg).await {
        Ok(user) => user,
        Err(err) => {
            eprintln!("guildhall: {user_arg}: {err}");
            return Ok(ExitCode::from(1));
        }
    };
    match action {
        AdminAction::Ban { .. } => {
            auth.ban(user).await.map_err(anyhow::Error::from)?;
            println!("banned {user}; every session revoked");
        }
        AdminAction::Unban { .. } => {
            auth.unban(user).await.map_err(anyhow::Error::from)?;
            println!("unbanned {user}");
        }
        AdminAction::DeadLetters(_) => {}
        AdminAction::Sessions { .. } => {
            let sessions = auth.sessions(user).await.map_err(anyhow::Error::from)?;
            println!(
                "{:<38} {:<22} {:<22} revoked",
                "session", "created", "expires"
            );
            for s in sessions {
                let revoked = match (s.revoked_at, &s.revoked_reason) {
                    (Some(at), reason) => format!(
                        "{} ({})",
                        guildhall_auth::api::rfc3339(at),
                        reason.as_deref().unwrap_or("")
                    ),
                    (None, _) => "-".into(),
                };
                println!(
                    "{:<38} {:<22} {:<22} {revoked}",
                    s.id.to_string(),
                    guildhall_auth::api::rfc3339(s.created_at),
                    guildhall_auth::api::rfc3339(s.expires_at)
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn rotate_keys(args: ConfigArgs) -> anyhow::Result<ExitCode> {
    let config = super::load_config(&args, |layers| layers)?;
    let _telemetry = guildhall_telemetry::init(&config.telemetry, "admin")?;
    let one = OneShot::open(&config).await?;
    let result = one.auth.rotate_key().await;
    one.close().await;
    let kid = result.map_err(anyhow::Error::from)?;
    println!("new signing key {kid}; tokens signed by older keys stay valid until they expire");
    Ok(ExitCode::SUCCESS)
}

async fn dead_letters(config: &Config, action: &DeadLetterAction) -> anyhow::Result<ExitCode> {
    let store = super::open_store(config).await?;
    let players = guildhall_players::store::PlayersStore::new(store.clone());
    let code = match action {
        DeadLetterAction::List => {
            println!(
                "{:<6} {:<38} {:<8} {:<22} {:<22} error",
                "id", "character", "version", "failed", "replayed"
            );
            for letter in players.dead_letters().await? {
                println!(
                    "{:<6} {:<38} {:<8} {:<22} {:<22} {}",
                    letter.id,
                    letter.character_id.to_string(),
                    letter.version,
                    guildhall_auth::api::rfc3339(letter.failed_at),
                    letter
                        .replayed_at
                        .map(guildhall_auth::api::rfc3339)
                        .unwrap_or_else(|| "-".into()),
                    letter.error
                );
            }
            ExitCode::SUCCESS
        }
        DeadLetterAction::Replay { id } => {
            match players.replay(*id, guildhall_tokens::now_unix()).await? {
                None => {
                    eprintln!("guildhall: no unreplayed dead letter {id}");
                    ExitCode::from(1)
                }
                Some(true) => {
                    println!("replayed dead letter {id}: stored");
                    ExitCode::SUCCESS
                }
                Some(false) => {
                    println!(
                        "replayed dead letter {id}: the stored state was already as new; nothing changed"
                    );
                    ExitCode::SUCCESS
                }
            }
        }
    };
    store.close().await;
    Ok(code)
}
