//! What a gateway needs of a game host, whether the host runs in the same process
//! ([`Host`] implements [`GameBackend`]) or behind RPC (the gRPC client in
//! `guildhall-gamehost-rpc` implements it too). The gateway holds an
//! `Arc<dyn GameBackend>` and never knows which.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use guildhall_ttyrec::TermSize;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::Error;
use crate::host::{Host, LiveSession};
use crate::names::{GameId, SessionId, UserName};
use crate::stream::{Attachment, Output, OutputStream, PlayerInput, Watch};
use crate::xlog::Death;

/// Recordings larger than this are not sent whole (see [`GameBackend::read_recording`]).
pub const MAX_RECORDING_BYTES: u64 = 64 * 1024 * 1024;

/// A configured game as menus list it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GameInfo {
    pub id: GameId,
    /// Shown to players: "NetHack 3.6".
    pub name: String,
}

/// One of a player's recordings, named by its game and file name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordingInfo {
    pub game: GameId,
    /// The file name within the player's recordings of `game` (no directories).
    pub name: String,
    pub started: OffsetDateTime,
    pub bytes: u64,
}

/// The output side of a game, for a player or a watcher.
#[async_trait]
pub trait OutputSource: Send {
    /// The next output; `None` once the game ended (or, for a player, once another
    /// connection took the game over).
    async fn recv(&mut self) -> Option<Output>;
}

/// The player's keystrokes and resizes.
#[async_trait]
pub trait InputSink: Send + Sync {
    async fn send(&self, bytes: Bytes) -> Result<(), Error>;
    async fn resize(&self, size: TermSize) -> Result<(), Error>;
}

/// A player attached to a game (or the options editor). Dropping both halves
/// detaches: the game runs on for the host's grace period.
pub struct Play {
    pub session: SessionId,
    pub output: Box<dyn OutputSource>,
    pub input: Box<dyn InputSink>,
}

impl std::fmt::Debug for Play {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Play")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

/// What the SSH gateway asks of a game host.
#[async_trait]
pub trait GameBackend: Send + Sync + 'static {
    /// The configured games, in configuration order.
    async fn games(&self) -> Result<Vec<GameInfo>, Error>;
    /// Attaches `user` to their running `game` or launches it
    /// (see [`Host::start_or_attach`]).
    async fn play(&self, user: &UserName, game: &GameId, size: TermSize) -> Result<Play, Error>;
    /// Opens `user`'s options file for `game` in the restricted editor.
    async fn edit_options(
        &self,
        user: &UserName,
        game: &GameId,
        size: TermSize,
    ) -> Result<Play, Error>;
    /// Watches a live game, read-only: its current screen, then its output.
    async fn watch(&self, session: SessionId) -> Result<Box<dyn OutputSource>, Error>;
    /// Running games, least idle first.
    async fn live_sessions(&self) -> Result<Vec<LiveSession>, Error>;
    /// `user`'s recordings, newest first.
    async fn recordings(&self, user: &UserName) -> Result<Vec<RecordingInfo>, Error>;
    /// The bytes of one of `user`'s recordings (a ttyrec), refused past
    /// [`MAX_RECORDING_BYTES`].
    async fn read_recording(
        &self,
        user: &UserName,
        game: &GameId,
        name: &str,
    ) -> Result<Bytes, Error>;
    /// The most recent deaths, newest first, at most `limit`.
    async fn recent_deaths(&self, limit: usize) -> Result<Vec<Death>, Error>;
    /// Deaths as they happen.
    async fn deaths(&self) -> Result<Box<dyn DeathSource>, Error>;
}

/// A stream of deaths.
#[async_trait]
pub trait DeathSource: Send {
    /// The next death; `None` when the host went away.
    async fn recv(&mut self) -> Option<Death>;
}

/// Deaths kept for [`GameBackend::recent_deaths`].
pub(crate) const RECENT_DEATHS: usize = 100;

/// The last [`RECENT_DEATHS`] deaths, newest at the front.
#[derive(Debug, Default)]
pub(crate) struct RecentDeaths(Mutex<VecDeque<Death>>);

impl RecentDeaths {
    pub(crate) fn push(&self, death: Death) {
        let mut deaths = self.0.lock().unwrap_or_else(|e| e.into_inner());
        deaths.push_front(death);
        deaths.truncate(RECENT_DEATHS);
    }

    pub(crate) fn newest(&self, limit: usize) -> Vec<Death> {
        let deaths = self.0.lock().unwrap_or_else(|e| e.into_inner());
        deaths.iter().take(limit).cloned().collect()
    }
}

#[async_trait]
impl OutputSource for OutputStream {
    async fn recv(&mut self) -> Option<Output> {
        OutputStream::recv(self).await
    }
}

#[async_trait]
impl OutputSource for Watch {
    async fn recv(&mut self) -> Option<Output> {
        Watch::recv(self).await
    }
}

#[async_trait]
impl InputSink for PlayerInput {
    async fn send(&self, bytes: Bytes) -> Result<(), Error> {
        PlayerInput::send(self, bytes).await
    }
    async fn resize(&self, size: TermSize) -> Result<(), Error> {
        PlayerInput::resize(self, size).await
    }
}

struct DeathReceiver(tokio::sync::broadcast::Receiver<Death>);

#[async_trait]
impl DeathSource for DeathReceiver {
    async fn recv(&mut self) -> Option<Death> {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match self.0.recv().await {
                Ok(death) => return Some(death),
                // A slow reader misses deaths rather than holding the host back.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

fn play(attachment: Attachment) -> Play {
    let session = attachment.session();
    let (output, input) = attachment.split();
    Play {
        session,
        output: Box::new(output),
        input: Box::new(input),
    }
}

#[async_trait]
impl GameBackend for Host {
    async fn games(&self) -> Result<Vec<GameInfo>, Error> {
        Ok(self
            .games()
            .iter()
            .map(|game| GameInfo {
                id: game.id.clone(),
                name: game.name.clone(),
            })
            .collect())
    }

    async fn play(&self, user: &UserName, game: &GameId, size: TermSize) -> Result<Play, Error> {
        self.start_or_attach(user, game, size).await.map(play)
    }

    async fn edit_options(
        &self,
        user: &UserName,
        game: &GameId,
        size: TermSize,
    ) -> Result<Play, Error> {
        self.open_options_editor(user, game, size).await.map(play)
    }

    async fn watch(&self, session: SessionId) -> Result<Box<dyn OutputSource>, Error> {
        Ok(Box::new(Host::watch(self, session).await?))
    }

    async fn live_sessions(&self) -> Result<Vec<LiveSession>, Error> {
        Host::live_sessions(self).await
    }

    async fn recordings(&self, user: &UserName) -> Result<Vec<RecordingInfo>, Error> {
        Ok(Host::recordings(self, user)
            .await?
            .into_iter()
            .filter_map(|recording| {
                Some(RecordingInfo {
                    name: recording.path.file_name()?.to_str()?.to_owned(),
                    game: recording.game,
                    started: recording.started,
                    bytes: recording.bytes,
                })
            })
            .collect())
    }

    async fn read_recording(
        &self,
        user: &UserName,
        game: &GameId,
        name: &str,
    ) -> Result<Bytes, Error> {
        // Only a name the listing gives: no separators, no parent directories.
        let listed = GameBackend::recordings(self, user)
            .await?
            .into_iter()
            .find(|r| &r.game == game && r.name == name)
            .ok_or_else(|| Error::NoSuchRecording(name.to_owned()))?;
        if listed.bytes > MAX_RECORDING_BYTES {
            return Err(Error::RecordingTooLarge(listed.bytes));
        }
        let path = self.layout().recordings(user, game).join(&listed.name);
        let bytes = tokio::fs::read(&path).await.map_err(Error::io(&path))?;
        Ok(Bytes::from(bytes))
    }

    async fn recent_deaths(&self, limit: usize) -> Result<Vec<Death>, Error> {
        Ok(self.recent_deaths_kept().newest(limit))
    }

    async fn deaths(&self) -> Result<Box<dyn DeathSource>, Error> {
        Ok(Box::new(DeathReceiver(Host::deaths(self))))
    }
}

/// A backend shared by every connection.
pub type SharedBackend = Arc<dyn GameBackend>;
