//! Head's error enum and its one mapping onto the platform catalogue.

use guildhall_core::{ApiError, ErrorCode};
use guildhall_names::NameError;

#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    #[error("display name: {0}")]
    InvalidDisplayName(NameError),
    #[error("display name is reserved")]
    DisplayNameReserved,
    #[error("username is reserved")]
    UsernameReserved,
    #[error("stale version")]
    VersionConflict { current: Box<serde_json::Value> },
    #[error("no such user")]
    UserNotFound,
    #[error("bad If-Match header")]
    BadIfMatch,
    #[error(transparent)]
    Store(#[from] sqlx::Error),
}

impl From<HeadError> for ApiError {
    fn from(err: HeadError) -> Self {
        match err {
            HeadError::InvalidDisplayName(reason) => ApiError::new(
                ErrorCode::InvalidDisplayName,
                format!("display name: {reason}"),
            ),
            HeadError::DisplayNameReserved => ApiError::new(
                ErrorCode::DisplayNameReserved,
                "that display name is reserved or imitates another account",
            ),
            HeadError::UsernameReserved => {
                ApiError::new(ErrorCode::DisplayNameReserved, "that username is reserved")
            }
            HeadError::VersionConflict { current } => ApiError::new(
                ErrorCode::VersionConflict,
                "the profile changed since you read it; re-read and retry",
            )
            .with_member("profile", *current),
            HeadError::UserNotFound => ApiError::new(ErrorCode::UserNotFound, "no such user"),
            HeadError::BadIfMatch => ApiError::new(
                ErrorCode::InvalidRequest,
                "If-Match must be a profile version, e.g. \"3\"",
            ),
            HeadError::Store(err) => ApiError::internal(err),
        }
    }
}
