//! Makes sure no error leaves a service without the platform envelope.
//!
//! axum's own rejections (a bad path parameter, a missing query field, a method the route
//! lacks) answer with plain text or nothing. This middleware rewrites any error response
//! that is not already JSON into `{"error": {"code", "message"}}`, keeping axum's message
//! for 4xx and hiding it for 5xx.

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use guildhall_core::{ApiError, ErrorCode};
use http_body_util::BodyExt;

/// Bodies longer than this are not read back into the envelope message.
const MAX_MESSAGE: usize = 1024;

pub async fn ensure_envelope(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(&response) {
        return response;
    }
    let code = match status {
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        StatusCode::UNAUTHORIZED => ErrorCode::Unauthorized,
        StatusCode::FORBIDDEN => ErrorCode::Forbidden,
        StatusCode::TOO_MANY_REQUESTS => ErrorCode::RateLimited,
        StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => ErrorCode::Timeout,
        StatusCode::SERVICE_UNAVAILABLE => ErrorCode::Unavailable,
        s if s.is_client_error() => ErrorCode::InvalidRequest,
        _ => ErrorCode::Internal,
    };
    let (parts, body) = response.into_parts();
    let message = if code.status().is_server_error() {
        tracing::error!(status = status.as_u16(), "non-envelope server error");
        String::new()
    } else {
        match body.collect().await {
            Ok(collected) => {
                let bytes = collected.to_bytes();
                String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_MESSAGE)])
                    .trim()
                    .to_owned()
            }
            Err(_) => String::new(),
        }
    };
    let message = if message.is_empty() {
        default_message(code)
    } else {
        message
    };
    let mut rewritten = ApiError::new(code, message).into_response();
    // Keep the original status (e.g. 422 from a typed extractor) and informative headers.
    *rewritten.status_mut() = status;
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(value) = parts.headers.get(&name) {
            rewritten.headers_mut().insert(name, value.clone());
        }
    }
    rewritten
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

fn default_message(code: ErrorCode) -> String {
    match code {
        ErrorCode::NotFound => "no route for this path",
        ErrorCode::MethodNotAllowed => "this route does not accept that method",
        ErrorCode::PayloadTooLarge => "request body is larger than the limit",
        ErrorCode::Timeout => "the request took too long",
        ErrorCode::Internal => "internal server error",
        _ => "request rejected",
    }
    .to_owned()
}
