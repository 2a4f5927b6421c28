//! Types every Guildhall service shares.
//!
//! - [`error`]: the platform error catalogue ([`ErrorCode`]) and the one envelope every
//!   HTTP answer, WebSocket `action.result` and SSH menu message carries ([`ApiError`]).
//! - [`json`]: the JSON extractor that turns every body-parsing failure into that envelope.

pub mod error;
pub mod json;

pub use error::{ApiError, ErrorCode};
pub use json::ApiJson;
