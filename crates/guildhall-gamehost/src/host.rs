//! The [`Host`] handle and the registry task that owns the table of running games.
//!
//! Only the registry task starts games, so two connections of one player racing to
//! start the same game get one process. It never waits on a game except to attach
//! to it (answered at once) or, when a game is hanging up as its player returns, for
//! that process to save and exit before the new one starts.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use guildhall_ttyrec::TermSize;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::backend::RecentDeaths;
use crate::config::{GameConfig, HostConfig};
use crate::error::Error;
use crate::launch::{CommandSpec, editor_command, game_command};
use crate::layout::DataLayout;
use crate::names::{GameId, SessionId, UserName};
use crate::playground;
use crate::recordings::{self, Recorder, Recording};
use crate::saves;
use crate::session::{self, SessionHandle, Timing};
use crate::stream::{Attachment, Watch};
use crate::xlog::{self, Death};

/// Deaths kept for a slow subscriber of [`Host::deaths`].
const DEATHS_BUFFER: usize = 256;

/// A running game as the spectator menu lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveSession {
    pub id: SessionId,
    pub user: UserName,
    pub game: GameId,
    pub started: SystemTime,
    /// Since the player's last keystroke (or the launch).
    pub idle: Duration,
    pub size: TermSize,
    pub watchers: usize,
    /// Whether the player is connected (a detached game is in its grace period).
    pub attached: bool,
}

/// The game host. Cheap to clone; every clone drives the same games.
#[derive(Clone, Debug)]
pub struct Host {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    config: HostConfig,
    layout: DataLayout,
    registry: mpsc::Sender<RegistryCommand>,
    deaths: broadcast::Sender<Death>,
    recent: Arc<RecentDeaths>,
}

#[derive(Debug)]
enum RegistryCommand {
    StartOrAttach {
        user: UserName,
        game: GameId,
        size: TermSize,
        reply: oneshot::Sender<Result<Attachment, Error>>,
    },
    Watch {
        session: SessionId,
        reply: oneshot::Sender<Option<(SessionHandleRef, Arc<()>)>>,
    },
    List {
        reply: oneshot::Sender<Vec<LiveSession>>,
    },
    Shutdown {
        reply: oneshot::Sender<()>,
    },
}

/// What a watcher needs of a session, without holding the registry.
#[derive(Debug)]
struct SessionHandleRef {
    id: SessionId,
    commands: mpsc::Sender<session::SessionCommand>,
}

impl Host {
    /// Validates `config`, prepares every game's playground (checking that private
    /// mounts work), starts following xlogfiles and returns the running host.
    pub async fn start(config: HostConfig) -> Result<Host, Error> {
        config.validate()?;
        let layout = DataLayout::new(&config.data_dir);
        tokio::fs::create_dir_all(layout.root())
            .await
            .map_err(Error::io(layout.root()))?;
        for game in &config.games {
            playground::prepare(game, &layout).await?;
            playground::probe_private_mounts(game, &layout).await?;
        }
        let (deaths, _) = broadcast::channel(DEATHS_BUFFER);
        // Kept for menus: subscribed before any follower can publish.
        let recent = Arc::new(RecentDeaths::default());
        let mut keeping = deaths.subscribe();
        let keeper = recent.clone();
        let mut followers = vec![tokio::spawn(async move {
            loop {
                match keeping.recv().await {
                    Ok(death) => keeper.push(death),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        })];
        for game in &config.games {
            if let Some(xlogfile) = &game.xlogfile {
                let path = layout.playground(&game.id).join(xlogfile);
                let start = xlog::end_of(&path).await;
                let follower = xlog::follow(
                    game.id.clone(),
                    path,
                    start,
                    config.xlog_poll(),
                    deaths.clone(),
                );
                followers.push(tokio::spawn(follower));
            }
        }
        let (registry_tx, commands) = mpsc::channel(64);
        let registry = Registry {
            config: config.clone(),
            layout: layout.clone(),
            commands,
            sessions: HashMap::new(),
            followers,
        };
        tokio::spawn(registry.run());
        Ok(Host {
            shared: Arc::new(Shared {
                config,
                layout,
                registry: registry_tx,
                deaths,
                recent,
            }),
        })
    }

    pub fn config(&self) -> &HostConfig {
        &self.shared.config
    }

    pub fn games(&self) -> &[GameConfig] {
        &self.shared.config.games
    }

    pub fn layout(&self) -> &DataLayout {
        &self.shared.layout
    }

    /// Attaches `user` to their running `game`, or launches it (after backing up
    /// their saves) if it is not running. A second connection takes the game over
    /// from the first, whose output stream ends.
    pub async fn start_or_attach(
        &self,
        user: &UserName,
        game: &GameId,
        size: TermSize,
    ) -> Result<Attachment, Error> {
        let (reply, answer) = oneshot::channel();
        self.ask(RegistryCommand::StartOrAttach {
            user: user.clone(),
            game: game.clone(),
            size,
            reply,
        })
        .await?;
        answer.await.map_err(|_| Error::HostClosed)?
    }

    /// Watches a running game: its current screen, then its output, read-only.
    pub async fn watch(&self, session: SessionId) -> Result<Watch, Error> {
        let (reply, answer) = oneshot::channel();
        self.ask(RegistryCommand::Watch { session, reply }).await?;
        let (handle, watcher) = answer
            .await
            .map_err(|_| Error::HostClosed)?
            .ok_or(Error::NoSuchSession(session))?;
        let output = session::open_output(handle.id, handle.commands)
            .await
            .ok_or(Error::NoSuchSession(session))?;
        Ok(Watch::new(output, watcher))
    }

    /// Running games, least idle first.
    pub async fn live_sessions(&self) -> Result<Vec<LiveSession>, Error> {
        let (reply, answer) = oneshot::channel();
        self.ask(RegistryCommand::List { reply }).await?;
        answer.await.map_err(|_| Error::HostClosed)
    }

    /// `user`'s recordings, newest first.
    pub async fn recordings(&self, user: &UserName) -> Result<Vec<Recording>, Error> {
        recordings::list(&self.shared.layout, user).await
    }

    /// `user`'s save files for `game` (none when they have no saved game).
    pub async fn save_files(&self, user: &UserName, game: &GameId) -> Result<Vec<PathBuf>, Error> {
        saves::save_files(self.game(game)?, &self.shared.layout, user).await
    }

    /// The command that edits `user`'s options file for `game` in the restricted
    /// editor, creating the file from the game's template the first time.
    pub async fn edit_options(&self, user: &UserName, game: &GameId) -> Result<CommandSpec, Error> {
        let config = self.game(game)?;
        playground::prepare_user(config, &self.shared.layout, user).await?;
        Ok(editor_command(
            &self.shared.config.editor,
            config,
            &self.shared.layout,
            user,
        ))
    }

    /// Runs [`edit_options`](Self::edit_options)' command on a PTY of `size` and
    /// attaches to it. The editor is not recorded, listed or watchable, and gets
    /// SIGHUP as soon as the player detaches.
    pub async fn open_options_editor(
        &self,
        user: &UserName,
        game: &GameId,
        size: TermSize,
    ) -> Result<Attachment, Error> {
        let spec = self.edit_options(user, game).await?;
        let timing = Timing {
            grace: Duration::ZERO,
            ..self.shared.timing()
        };
        let handle = session::spawn(
            SessionId::new(),
            user.clone(),
            game.clone(),
            &spec,
            size,
            None,
            timing,
        )?;
        handle
            .attach(size)
            .await
            .ok_or(Error::NoSuchSession(handle.id))
    }

    /// Every game's deaths, from their xlogfiles, as they are written.
    pub fn deaths(&self) -> broadcast::Receiver<Death> {
        self.shared.deaths.subscribe()
    }

    pub(crate) fn recent_deaths_kept(&self) -> &RecentDeaths {
        &self.shared.recent
    }

    /// Hangs up every game (NetHack saves), waits for them to exit and stops.
    pub async fn shutdown(&self) {
        let (reply, answer) = oneshot::channel();
        if self.ask(RegistryCommand::Shutdown { reply }).await.is_ok() {
            let _ = answer.await;
        }
    }

    fn game(&self, id: &GameId) -> Result<&GameConfig, Error> {
        self.shared
            .config
            .game(id)
            .ok_or_else(|| Error::UnknownGame(id.clone()))
    }

    async fn ask(&self, command: RegistryCommand) -> Result<(), Error> {
        self.shared
            .registry
            .send(command)
            .await
            .map_err(|_| Error::HostClosed)
    }
}

impl Shared {
    fn timing(&self) -> Timing {
        timing(&self.config)
    }
}

fn timing(config: &HostConfig) -> Timing {
    Timing {
        grace: config.grace_period(),
        hangup_timeout: config.hangup_timeout(),
        stream_buffer: config.stream_buffer,
    }
}

/// The task that owns the table of running games.
struct Registry {
    config: HostConfig,
    layout: DataLayout,
    commands: mpsc::Receiver<RegistryCommand>,
    /// One entry per running game, removed once its task ended.
    sessions: HashMap<(UserName, GameId), SessionHandle>,
    /// The xlogfile followers, aborted at shutdown.
    followers: Vec<JoinHandle<()>>,
}

impl Registry {
    async fn run(mut self) {
        while let Some(command) = self.commands.recv().await {
            self.sessions.retain(|_, handle| !handle.ended());
            match command {
                RegistryCommand::StartOrAttach {
                    user,
                    game,
                    size,
                    reply,
                } => {
                    let _gone = reply.send(self.start_or_attach(user, game, size).await);
                }
                RegistryCommand::Watch { session, reply } => {
                    let found = self
                        .sessions
                        .values()
                        .find(|handle| handle.id == session)
                        .map(|handle| {
                            let target = SessionHandleRef {
                                id: handle.id,
                                commands: handle.commands.clone(),
                            };
                            (target, handle.watchers.clone())
                        });
                    let _gone = reply.send(found);
                }
                RegistryCommand::List { reply } => {
                    let _gone = reply.send(self.list());
                }
                RegistryCommand::Shutdown { reply } => {
                    self.shutdown().await;
                    let _gone = reply.send(());
                    return;
                }
            }
        }
        // Every Host handle is gone.
        self.shutdown().await;
    }

    async fn start_or_attach(
        &mut self,
        user: UserName,
        game: GameId,
        size: TermSize,
    ) -> Result<Attachment, Error> {
        let key = (user, game);
        if let Some(handle) = self.sessions.get(&key) {
            if let Some(attachment) = handle.attach(size).await {
                return Ok(attachment);
            }
            // Hung up or exited: let it finish saving before starting again.
            if let Some(handle) = self.sessions.remove(&key) {
                let _ = handle.task.await;
            }
        }
        let (user, game) = key;
        let handle = self.launch(&user, &game, size).await?;
        let attachment = handle
            .attach(size)
            .await
            .ok_or(Error::NoSuchSession(handle.id));
        self.sessions.insert((user, game), handle);
        attachment
    }

    async fn launch(
        &self,
        user: &UserName,
        game: &GameId,
        size: TermSize,
    ) -> Result<SessionHandle, Error> {
        let config = self
            .config
            .game(game)
            .ok_or_else(|| Error::UnknownGame(game.clone()))?;
        playground::prepare_user(config, &self.layout, user).await?;
        if let Some(backup) =
            saves::back_up(config, &self.layout, user, self.config.backups_kept).await?
        {
            tracing::info!(%user, %game, backup = %backup.display(), "saves backed up");
        }
        let size = session::clamp_size(size);
        let recorder = Recorder::create(&self.layout, user, game, size).await?;
        let spec = game_command(config, &self.layout, user);
        let id = SessionId::new();
        tracing::info!(session = %id, %user, %game, "launching");
        session::spawn(
            id,
            user.clone(),
            game.clone(),
            &spec,
            size,
            Some(recorder),
            timing(&self.config),
        )
    }

    fn list(&self) -> Vec<LiveSession> {
        let now = Instant::now();
        let mut live: Vec<LiveSession> = self
            .sessions
            .values()
            .map(|handle| {
                let status = *handle.status.borrow();
                LiveSession {
                    id: handle.id,
                    user: handle.user.clone(),
                    game: handle.game.clone(),
                    started: handle.started,
                    idle: now.saturating_duration_since(status.last_input),
                    size: status.size,
                    watchers: Arc::strong_count(&handle.watchers) - 1,
                    attached: status.attached,
                }
            })
            .collect();
        live.sort_by(|a, b| a.idle.cmp(&b.idle).then_with(|| a.id.cmp(&b.id)));
        live
    }

    async fn shutdown(&mut self) {
        for follower in &self.followers {
            follower.abort();
        }
        for handle in self.sessions.values() {
            let _ = handle.commands.send(session::SessionCommand::HangUp).await;
        }
        for (_, handle) in self.sessions.drain() {
            let _ = handle.task.await;
        }
    }
}
