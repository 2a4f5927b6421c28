//! Auth's error enum and its one mapping onto the platform catalogue.

use guildhall_core::{ApiError, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Deliberately the same for a wrong username and a wrong password.
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("username is taken")]
    UsernameTaken,
    #[error("{0}")]
    Invalid(String),
    #[error("too many attempts")]
    RateLimited { retry_after_secs: u64 },
    /// Every password-hashing slot is taken: shed at once rather than queue past callers'
    /// timeouts.
    #[error("busy")]
    Busy,
    #[error("user is banned")]
    Banned,
    #[error("not authenticated")]
    Unauthorized,
    #[error("no such user")]
    UserNotFound,
    #[error("only a guest can be upgraded to an account")]
    NotAGuest,
    #[error(transparent)]
    Store(#[from] sqlx::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<guildhall_store::StoreError> for AuthError {
    fn from(err: guildhall_store::StoreError) -> Self {
        AuthError::Other(err.into())
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::InvalidCredentials => ApiError::new(
                ErrorCode::InvalidCredentials,
                "username or password is wrong",
            ),
            AuthError::UsernameTaken => {
                ApiError::new(ErrorCode::UsernameTaken, "that username is taken")
            }
            AuthError::Invalid(message) => ApiError::new(ErrorCode::InvalidRequest, message),
            AuthError::RateLimited { retry_after_secs } => {
                ApiError::new(ErrorCode::RateLimited, "too many attempts; slow down")
                    .with_retry_after(retry_after_secs)
            }
            AuthError::Busy => ApiError::new(
                ErrorCode::RateLimited,
                "the server is busy checking passwords; retry shortly",
            )
            .with_retry_after(1),
            AuthError::Banned => ApiError::new(ErrorCode::Banned, "this account is banned"),
            AuthError::Unauthorized => ApiError::new(
                ErrorCode::Unauthorized,
                "missing, invalid or revoked credentials",
            ),
            AuthError::UserNotFound => ApiError::new(ErrorCode::UserNotFound, "no such user"),
            AuthError::NotAGuest => ApiError::new(
                ErrorCode::Forbidden,
                "only a guest can be upgraded to an account",
            ),
            AuthError::Store(err) => ApiError::internal(err),
            AuthError::Other(err) => ApiError::internal(format!("{err:#}")),
        }
    }
}
