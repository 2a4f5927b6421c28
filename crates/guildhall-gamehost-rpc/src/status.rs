//! The one place game host errors become gRPC statuses, and statuses become game
//! host errors again.
//!
//! | [`Error`]                                          | code                 |
//! | -------------------------------------------------- | -------------------- |
//! | `UnknownGame`, `NoSuchSession`, `NoSuchRecording`  | `NOT_FOUND`          |
//! | `InvalidUserName`, `InvalidGameId`                 | `INVALID_ARGUMENT`   |
//! | `RecordingTooLarge`                                | `RESOURCE_EXHAUSTED` |
//! | `HostClosed`, `Unreachable`                        | `UNAVAILABLE`        |
//! | `Remote`                                           | `UNKNOWN`            |
//! | anything else (I/O, spawn, PTY, configuration)     | `INTERNAL`           |
//!
//! A code alone cannot say which thing was not found, so the server also names the
//! error in the `guildhall-error` metadata and what it is about (a game id, a
//! session id, a recording's name, a size) in `guildhall-subject-bin`, and the
//! client rebuilds the exact error from them. `INTERNAL` errors are the host's own:
//! they are logged where they happen and the client is told only that the host
//! failed.
//!
//! On the client, `UNAVAILABLE` and errors of the connection itself (no status
//! from the server at all) are [`Error::Unreachable`]: the only ones worth retrying
//! and the only ones the circuit breaker counts. Other codes are
//! [`Error::Remote`].

use guildhall_gamehost::{Error, GameId};
use tonic::metadata::{BinaryMetadataValue, MetadataMap, MetadataValue};
use tonic::{Code, Status};

use crate::convert::session_id_from_wire;

/// Metadata naming the error exactly.
const REASON: &str = "guildhall-error";
/// Metadata carrying what the error is about, as UTF-8 bytes.
const SUBJECT: &str = "guildhall-subject-bin";

const UNKNOWN_GAME: &str = "unknown-game";
const NO_SUCH_SESSION: &str = "no-such-session";
const NO_SUCH_RECORDING: &str = "no-such-recording";
const INVALID_USER_NAME: &str = "invalid-user-name";
const INVALID_GAME_ID: &str = "invalid-game-id";
const RECORDING_TOO_LARGE: &str = "recording-too-large";

/// The status a call that failed with `error` ends with.
pub(crate) fn status_from_error(error: Error) -> Status {
    let message = error.to_string();
    let (code, reason, subject) = match error {
        Error::UnknownGame(game) => (Code::NotFound, UNKNOWN_GAME, game.to_string()),
        Error::NoSuchSession(session) => (Code::NotFound, NO_SUCH_SESSION, session.to_string()),
        Error::NoSuchRecording(name) => (Code::NotFound, NO_SUCH_RECORDING, name),
        Error::InvalidUserName(name) => (Code::InvalidArgument, INVALID_USER_NAME, name),
        Error::InvalidGameId(id) => (Code::InvalidArgument, INVALID_GAME_ID, id),
        Error::RecordingTooLarge(bytes) => (
            Code::ResourceExhausted,
            RECORDING_TOO_LARGE,
            bytes.to_string(),
        ),
        Error::HostClosed | Error::Unreachable(_) => return Status::unavailable(message),
        Error::Remote(_) => return Status::unknown(message),
        internal => {
            tracing::error!(error = %internal, "game host call failed");
            return Status::internal("the game host failed; its log has the details");
        }
    };
    let mut metadata = MetadataMap::new();
    metadata.insert(REASON, MetadataValue::from_static(reason));
    metadata.insert_bin(SUBJECT, BinaryMetadataValue::from_bytes(subject.as_bytes()));
    Status::with_metadata(code, message, metadata)
}

/// A request the server refuses before asking the host (not a name: those are
/// refused by [`status_from_error`]).
pub(crate) fn malformed_request(what: impl std::fmt::Display) -> Status {
    Status::invalid_argument(what.to_string())
}

/// Whether `status` says the host could not be reached (or is going away), rather
/// than that it answered with an error.
pub(crate) fn is_unreachable(status: &Status) -> bool {
    status.code() == Code::Unavailable || from_the_connection(status)
}

/// A status the client made up because the connection failed: its source is the
/// transport's error, where a status from the server has none.
fn from_the_connection(status: &Status) -> bool {
    let mut source = std::error::Error::source(status);
    while let Some(error) = source {
        if error.is::<tonic::transport::Error>() || error.is::<std::io::Error>() {
            return true;
        }
        source = error.source();
    }
    false
}

/// The status's message, and what the connection said when it failed
/// ("operation was canceled (connection closed)").
fn describe_unreachable(status: &Status) -> String {
    let mut innermost = None;
    let mut source = std::error::Error::source(status);
    while let Some(error) = source {
        innermost = Some(error);
        source = error.source();
    }
    match innermost {
        Some(cause) => format!("{} ({cause})", status.message()),
        None => status.message().to_owned(),
    }
}

/// The error a call that ended with `status` failed with.
pub(crate) fn error_from_status(status: &Status) -> Error {
    if is_unreachable(status) {
        return Error::Unreachable(describe_unreachable(status));
    }
    let reason = status
        .metadata()
        .get(REASON)
        .and_then(|value| value.to_str().ok());
    let subject = status
        .metadata()
        .get_bin(SUBJECT)
        .and_then(|value| value.to_bytes().ok())
        .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok());
    let exact = match (reason, subject) {
        (Some(UNKNOWN_GAME), Some(game)) => GameId::parse(&game).ok().map(Error::UnknownGame),
        (Some(NO_SUCH_SESSION), Some(session)) => session_id_from_wire(&session)
            .ok()
            .map(Error::NoSuchSession),
        (Some(NO_SUCH_RECORDING), Some(name)) => Some(Error::NoSuchRecording(name)),
        (Some(INVALID_USER_NAME), Some(name)) => Some(Error::InvalidUserName(name)),
        (Some(INVALID_GAME_ID), Some(id)) => Some(Error::InvalidGameId(id)),
        (Some(RECORDING_TOO_LARGE), Some(bytes)) => {
            bytes.parse().ok().map(Error::RecordingTooLarge)
        }
        _ => None,
    };
    exact.unwrap_or_else(|| Error::Remote(status.message().to_owned()))
}

#[cfg(test)]
mod tests {
    use guildhall_gamehost::SessionId;

    use super::*;

    fn round_trip(error: Error) -> Error {
        error_from_status(&status_from_error(error))
    }

    #[test]
    fn lookups_and_names_come_back_as_the_same_error() {
        let game = GameId::parse("nethack").unwrap();
        assert!(matches!(
            round_trip(Error::UnknownGame(game.clone())),
            Error::UnknownGame(back) if back == game
        ));
        let session = SessionId::from(uuid::Uuid::now_v7());
        assert!(matches!(
            round_trip(Error::NoSuchSession(session)),
            Error::NoSuchSession(back) if back == session
        ));
        // Recording names are file names: not necessarily ASCII.
        assert!(matches!(
            round_trip(Error::NoSuchRecording("партия.ttyrec".into())),
            Error::NoSuchRecording(back) if back == "партия.ttyrec"
        ));
        assert!(matches!(
            round_trip(Error::InvalidUserName("../etc".into())),
            Error::InvalidUserName(back) if back == "../etc"
        ));
        assert!(matches!(
            round_trip(Error::InvalidGameId("Nope".into())),
            Error::InvalidGameId(back) if back == "Nope"
        ));
        assert!(matches!(
            round_trip(Error::RecordingTooLarge(1 << 30)),
            Error::RecordingTooLarge(bytes) if bytes == 1 << 30
        ));
    }

    #[test]
    fn codes_follow_the_table() {
        let code = |error| status_from_error(error).code();
        assert_eq!(code(Error::NoSuchRecording("x".into())), Code::NotFound);
        assert_eq!(
            code(Error::InvalidUserName("".into())),
            Code::InvalidArgument
        );
        assert_eq!(code(Error::RecordingTooLarge(1)), Code::ResourceExhausted);
        assert_eq!(code(Error::HostClosed), Code::Unavailable);
        assert_eq!(code(Error::Xlog("x".into())), Code::Internal);
    }

    #[test]
    fn internal_errors_are_not_leaked() {
        let status = status_from_error(Error::Config("secret path /etc/x".into()));
        assert!(!status.message().contains("secret"));
        assert!(matches!(error_from_status(&status), Error::Remote(_)));
    }

    #[test]
    fn unavailable_is_unreachable_and_other_codes_are_remote() {
        assert!(matches!(
            round_trip(Error::HostClosed),
            Error::Unreachable(_)
        ));
        assert!(matches!(
            error_from_status(&Status::unavailable("down")),
            Error::Unreachable(message) if message == "down"
        ));
        assert!(matches!(
            error_from_status(&Status::permission_denied("no")),
            Error::Remote(message) if message == "no"
        ));
        // A NOT_FOUND without metadata (another server) is still an error, not a guess.
        assert!(matches!(
            error_from_status(&Status::not_found("gone")),
            Error::Remote(_)
        ));
    }
}
