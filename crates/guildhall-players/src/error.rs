//! The players service's errors and their one mapping onto the catalogue.

use guildhall_core::{ApiError, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum PlayersError {
    /// Missing, deleted or someone else's: the same answer, so existence never leaks.
    #[error("no such character")]
    NotFound,
    #[error("stale version")]
    VersionConflict { current: Box<serde_json::Value> },
    #[error("{0}")]
    InvalidIntent(String),
    #[error("{0}")]
    InvalidRequest(String),
    /// The database did not take a write-through write; nothing was applied.
    #[error("the character store is unavailable")]
    Unavailable,
    #[error(transparent)]
    Store(#[from] sqlx::Error),
    #[error("stored character is corrupt: {0}")]
    Corrupt(String),
}

impl From<PlayersError> for ApiError {
    fn from(err: PlayersError) -> Self {
        match err {
            PlayersError::NotFound => {
                ApiError::new(ErrorCode::CharacterNotFound, "no such character")
            }
            PlayersError::VersionConflict { current } => ApiError::new(
                ErrorCode::VersionConflict,
                "Version mismatch. Please refresh: `character` is the latest state.",
            )
            .with_member("character", *current),
            PlayersError::InvalidIntent(reason) => ApiError::new(ErrorCode::InvalidIntent, reason),
            PlayersError::InvalidRequest(reason) => {
                ApiError::new(ErrorCode::InvalidRequest, reason)
            }
            PlayersError::Unavailable => ApiError::new(
                ErrorCode::Unavailable,
                "characters cannot be saved right now; try again",
            )
            .with_retry_after(1),
            PlayersError::Store(err) => ApiError::internal(err),
            PlayersError::Corrupt(err) => ApiError::internal(err),
        }
    }
}
