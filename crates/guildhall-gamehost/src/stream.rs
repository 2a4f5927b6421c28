//! What players and watchers hold: an [`OutputStream`] (the current screen, then the
//! live output), and for the player an [`Attachment`] with a [`PlayerInput`].
//!
//! Every reader of a session, player or watcher, reads the same broadcast. The
//! session never waits for a reader: one that falls more than the buffer behind is
//! given a fresh screen redraw instead of the bytes it missed.

use std::sync::Arc;

use bytes::Bytes;
use guildhall_ttyrec::TermSize;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::error::Error;
use crate::names::SessionId;
use crate::session::{Event, SessionCommand, Snapshot};

/// One item of a session's output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Bytes that clear the terminal and redraw the game's screen (contents, colours,
    /// cursor and input modes) at `size`: the first item of every stream, and what a
    /// reader that fell behind gets instead of what it missed.
    Screen { size: TermSize, bytes: Bytes },
    /// Bytes the game wrote.
    Data(Bytes),
    /// The player resized the game's terminal.
    Resize(TermSize),
}

impl Output {
    /// The bytes to write to a terminal showing the game (none for a resize).
    pub fn bytes(&self) -> &[u8] {
        match self {
            Output::Screen { bytes, .. } | Output::Data(bytes) => bytes,
            Output::Resize(_) => &[],
        }
    }
}

/// A session's output: the screen as it was when the stream was opened, then every
/// byte the game writes. Ends (`None`) when the game has exited and everything it
/// wrote was read, or, for a player, when another connection took the game over.
#[derive(Debug)]
pub struct OutputStream {
    session: SessionId,
    /// To ask for a fresh screen after falling behind.
    commands: mpsc::Sender<SessionCommand>,
    first: Option<Output>,
    events: broadcast::Receiver<Event>,
    /// A player's stream only: resolves with `()` when another attachment replaced
    /// this one, with an error when the session ended (then the stream drains).
    replaced: Option<oneshot::Receiver<()>>,
    /// Set once `recv` returned `None`, so it keeps doing so.
    ended: bool,
}

enum Next {
    Event(Result<Event, RecvError>),
    Replaced,
    SessionEnding,
}

impl OutputStream {
    pub(crate) fn new(
        session: SessionId,
        commands: mpsc::Sender<SessionCommand>,
        snapshot: Snapshot,
        replaced: Option<oneshot::Receiver<()>>,
    ) -> Self {
        OutputStream {
            session,
            commands,
            first: Some(Output::Screen {
                size: snapshot.size,
                bytes: snapshot.screen,
            }),
            events: snapshot.events,
            replaced,
            ended: false,
        }
    }

    pub fn session(&self) -> SessionId {
        self.session
    }

    /// The next output, waiting for the game to write.
    pub async fn recv(&mut self) -> Option<Output> {
        if self.ended {
            return None;
        }
        let next = self.next().await;
        self.ended = next.is_none();
        next
    }

    async fn next(&mut self) -> Option<Output> {
        if let Some(first) = self.first.take() {
            return Some(first);
        }
        loop {
            let next = match &mut self.replaced {
                Some(replaced) => tokio::select! {
                    biased;
                    result = replaced => match result {
                        Ok(()) => Next::Replaced,
                        Err(_) => Next::SessionEnding,
                    },
                    event = self.events.recv() => Next::Event(event),
                },
                None => Next::Event(self.events.recv().await),
            };
            match next {
                Next::Replaced => return None,
                Next::SessionEnding => self.replaced = None,
                Next::Event(Ok(Event::Data(bytes))) => return Some(Output::Data(bytes)),
                Next::Event(Ok(Event::Resize(size))) => return Some(Output::Resize(size)),
                Next::Event(Err(RecvError::Lagged(_))) => return self.redraw().await,
                Next::Event(Err(RecvError::Closed)) => return None,
            }
        }
    }

    /// Skips to a fresh screen from the session.
    async fn redraw(&mut self) -> Option<Output> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(SessionCommand::Snapshot { reply })
            .await
            .ok()?;
        let snapshot = answer.await.ok()?;
        self.events = snapshot.events;
        Some(Output::Screen {
            size: snapshot.size,
            bytes: snapshot.screen,
        })
    }
}

/// The player's side of an attachment: keystrokes and resizes. Clones share the
/// attachment.
#[derive(Clone, Debug)]
pub struct PlayerInput {
    session: SessionId,
    attachment: u64,
    commands: mpsc::Sender<SessionCommand>,
    /// Never sent on: the session sees the player leave when the last clone drops it.
    _presence: Arc<oneshot::Sender<()>>,
}

impl PlayerInput {
    /// Sends keystrokes to the game. Ignored once another attachment took over.
    pub async fn send(&self, bytes: impl Into<Bytes>) -> Result<(), Error> {
        self.command(SessionCommand::Input {
            attachment: self.attachment,
            bytes: bytes.into(),
        })
        .await
    }

    /// Resizes the game's terminal (the game gets SIGWINCH).
    pub async fn resize(&self, size: TermSize) -> Result<(), Error> {
        self.command(SessionCommand::Resize {
            attachment: self.attachment,
            size,
        })
        .await
    }

    async fn command(&self, command: SessionCommand) -> Result<(), Error> {
        self.commands
            .send(command)
            .await
            .map_err(|_| Error::NoSuchSession(self.session))
    }
}

/// A player attached to their running game. Dropping it (or both halves from
/// [`split`](Self::split)) detaches: the game keeps running for the grace period,
/// then gets SIGHUP.
#[derive(Debug)]
pub struct Attachment {
    output: OutputStream,
    input: PlayerInput,
}

impl Attachment {
    pub(crate) fn new(
        session: SessionId,
        attachment: u64,
        commands: mpsc::Sender<SessionCommand>,
        snapshot: Snapshot,
        replaced: oneshot::Receiver<()>,
        presence: oneshot::Sender<()>,
    ) -> Self {
        Attachment {
            output: OutputStream::new(session, commands.clone(), snapshot, Some(replaced)),
            input: PlayerInput {
                session,
                attachment,
                commands,
                _presence: Arc::new(presence),
            },
        }
    }

    pub fn session(&self) -> SessionId {
        self.output.session
    }

    /// See [`OutputStream::recv`].
    pub async fn recv(&mut self) -> Option<Output> {
        self.output.recv().await
    }

    pub fn input(&self) -> &PlayerInput {
        &self.input
    }

    /// See [`PlayerInput::send`].
    pub async fn send(&self, bytes: impl Into<Bytes>) -> Result<(), Error> {
        self.input.send(bytes).await
    }

    /// See [`PlayerInput::resize`].
    pub async fn resize(&self, size: TermSize) -> Result<(), Error> {
        self.input.resize(size).await
    }

    /// Output and input for separate tasks; the player is detached when both are
    /// dropped.
    pub fn split(self) -> (OutputStream, PlayerInput) {
        (self.output, self.input)
    }

    /// Leaves the game running for the grace period.
    pub fn detach(self) {}
}

/// A read-only view of someone's game, counted in [`LiveSession::watchers`](crate::LiveSession).
#[derive(Debug)]
pub struct Watch {
    output: OutputStream,
    _watcher: Arc<()>,
}

impl Watch {
    pub(crate) fn new(output: OutputStream, watcher: Arc<()>) -> Self {
        Watch {
            output,
            _watcher: watcher,
        }
    }

    pub fn session(&self) -> SessionId {
        self.output.session
    }

    /// See [`OutputStream::recv`].
    pub async fn recv(&mut self) -> Option<Output> {
        self.output.recv().await
    }
}
