//! A JSON body extractor whose every failure is a platform error.
//!
//! axum's own `Json` answers parse failures with plain-text bodies; this wrapper keeps the
//! parser's message but puts it in the envelope: `400 invalid_request` for syntax, type
//! and unknown-field errors, `413 payload_too_large` past the body limit, and
//! `415 unsupported_media_type` without a JSON content type.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode};

/// Like `axum::Json`, with rejections in the platform envelope.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(rejection_to_error(rejection)),
        }
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Maps axum's JSON rejection onto the catalogue.
pub fn rejection_to_error(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "expected a request with `Content-Type: application/json`",
        ),
        JsonRejection::BytesRejection(err) => {
            if err.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    "request body is larger than the limit",
                )
            } else {
                ApiError::new(ErrorCode::InvalidRequest, err.body_text())
            }
        }
        // Syntax and data errors carry serde's message with line and column.
        other => ApiError::new(ErrorCode::InvalidRequest, other.body_text()),
    }
}
