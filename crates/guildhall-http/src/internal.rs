//! Service-to-service calls: internal routes accept only callers that present the shared
//! internal token, compared in constant time.

use axum::http::HeaderMap;
use guildhall_core::{ApiError, ErrorCode};
use subtle::ConstantTimeEq;

/// Header carrying the shared internal token.
pub const INTERNAL_TOKEN_HEADER: &str = "x-guildhall-internal-token";

/// `Ok` when `headers` carry `expected` (which must be set: an empty token admits nobody).
pub fn check_internal_token(headers: &HeaderMap, expected: &str) -> Result<(), ApiError> {
    let presented = headers
        .get(INTERNAL_TOKEN_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if expected.is_empty() || !bool::from(presented.ct_eq(expected.as_bytes())) {
        return Err(ApiError::new(
            ErrorCode::Unauthorized,
            "internal token required",
        ));
    }
    Ok(())
}
