//! Types every Guildhall service shares.
//!
//! - [`error`]: the platform error catalogue ([`ErrorCode`]) and the one envelope every
//!   HTTP answer, WebSocket `action.result` and SSH menu message carries ([`ApiError`]).
//! - [`json`]: the JSON extractor that turns every body-parsing failure into that envelope.
//! - [`now_ms`]: wall-clock milliseconds, for leases, tickets and event timestamps.

pub mod error;
pub mod json;

pub use error::{ApiError, ErrorCode};
pub use json::ApiJson;

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
