//! The game host's one error type.
//!
//! Callers (the SSH gateway, later through a trait) map these to what a player sees:
//! the parse and lookup errors are the caller's fault and can be shown as they are;
//! [`Error::Io`], [`Error::Spawn`] and [`Error::Pty`] are the host's and should be
//! logged and shown as a generic failure.

use std::io;
use std::path::PathBuf;

use crate::names::{GameId, SessionId};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "invalid user name {0:?}: use 1 to 31 ASCII letters, digits or '_', starting with a letter"
    )]
    InvalidUserName(String),

    #[error("invalid game id {0:?}: use 1 to 32 lowercase ASCII letters, digits, '-' or '_'")]
    InvalidGameId(String),

    #[error("invalid configuration: {0}")]
    Config(String),

    #[error("no game {0} is configured")]
    UnknownGame(GameId),

    #[error("no live session {0}")]
    NoSuchSession(SessionId),

    /// A game asks for private mounts (NetHack's sysconf) and this machine cannot make
    /// a mount namespace.
    #[error(
        "cannot give {game} its private files: `unshare --user --map-root-user --mount` failed ({detail}); \
         allow user namespaces, or remove the game's `private_mounts` and install those files system-wide"
    )]
    PrivateMountsUnavailable { game: GameId, detail: String },

    #[error("cannot start {game}: {source}")]
    Spawn {
        game: GameId,
        #[source]
        source: io::Error,
    },

    #[error("cannot open a pty: {0}")]
    Pty(#[from] pty_process::Error),

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("invalid xlogfile line: {0}")]
    Xlog(String),

    #[error("no recording {0:?}")]
    NoSuchRecording(String),

    #[error("the recording is {0} bytes, more than can be sent")]
    RecordingTooLarge(u64),

    /// The game host could not be reached (RPC): the gateway says so and retries.
    #[error("the game host is unreachable: {0}")]
    Unreachable(String),

    /// The game host answered with an error the caller cannot act on beyond showing it.
    #[error("the game host refused: {0}")]
    Remote(String),

    /// The host was shut down (or its task ended) while the call was in flight.
    #[error("the game host is shut down")]
    HostClosed,
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}
