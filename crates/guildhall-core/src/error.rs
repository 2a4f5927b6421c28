//! The platform error policy.
//!
//! Every failure a client can see is an [`ErrorCode`] from one catalogue, and each code has
//! one meaning and one HTTP status everywhere in the platform. Services keep their own
//! `thiserror` enums and convert them into [`ApiError`] in exactly one place (an
//! `impl From<ServiceError> for ApiError`); handlers never build status codes by hand.
//!
//! The wire shape is always:
//!
//! ```json
//! {"error": {"code": "snake_case_code", "message": "...", "details": {...}}}
//! ```
//!
//! Server-side failures (5xx) are logged with their cause and answered with a generic
//! message: the cause never leaks to the client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

/// Declares the catalogue once: the variant, its wire code and its HTTP status.
macro_rules! catalogue {
    ($( $(#[$doc:meta])* $variant:ident => $code:literal, $status:ident; )+) => {
        /// Every error code a client can receive, over HTTP, WebSocket or SSH.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )+
        }

        impl ErrorCode {
            /// Every code, in catalogue order (used by docs and tests).
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)+];

            /// The snake_case code sent on the wire.
            pub const fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)+ }
            }

            /// The HTTP status this code is always answered with.
            pub const fn status(self) -> StatusCode {
                match self { $(ErrorCode::$variant => StatusCode::$status,)+ }
            }

            /// Looks a wire code up; `None` for a code outside the catalogue.
            pub fn from_wire(code: &str) -> Option<Self> {
                match code { $($code => Some(ErrorCode::$variant),)+ _ => None }
            }
        }
    };
}

catalogue! {
    // Generic request errors.
    /// The request could not be parsed or failed validation.
    InvalidRequest => "invalid_request", BAD_REQUEST;
    /// The body is larger than the configured limit.
    PayloadTooLarge => "payload_too_large", PAYLOAD_TOO_LARGE;
    /// The body is not `application/json` where JSON is required.
    UnsupportedMediaType => "unsupported_media_type", UNSUPPORTED_MEDIA_TYPE;
    /// No route matches the path.
    NotFound => "not_found", NOT_FOUND;
    /// The route exists but not for this method.
    MethodNotAllowed => "method_not_allowed", METHOD_NOT_ALLOWED;
    /// Missing, malformed, expired or revoked credentials.
    Unauthorized => "unauthorized", UNAUTHORIZED;
    /// Valid credentials that do not allow this action (an observer acting, a non-admin).
    Forbidden => "forbidden", FORBIDDEN;
    /// Too many requests; `Retry-After` says when to try again.
    RateLimited => "rate_limited", TOO_MANY_REQUESTS;
    /// A stale version or `If-Match`: re-read and retry.
    VersionConflict => "version_conflict", CONFLICT;
    /// Something failed inside the server; the cause is logged, never sent.
    Internal => "internal", INTERNAL_SERVER_ERROR;
    /// The service cannot serve right now (a dependency is down); retry later.
    Unavailable => "unavailable", SERVICE_UNAVAILABLE;
    /// A readiness probe failed; `details` names the failing dependency.
    NotReady => "not_ready", SERVICE_UNAVAILABLE;
    /// A request to a peer service timed out.
    Timeout => "timeout", GATEWAY_TIMEOUT;

    // Identity.
    /// The auth service is unreachable or its circuit is open.
    AuthUnavailable => "auth_unavailable", SERVICE_UNAVAILABLE;
    /// Username or password is wrong (deliberately the same answer for both).
    InvalidCredentials => "invalid_credentials", UNAUTHORIZED;
    /// The username is already taken.
    UsernameTaken => "username_taken", CONFLICT;
    /// The display name matches a reserved name or another account's username.
    DisplayNameReserved => "display_name_reserved", UNPROCESSABLE_ENTITY;
    /// The display name breaks the nickname rules (length, control characters).
    InvalidDisplayName => "invalid_display_name", UNPROCESSABLE_ENTITY;
    /// The user is banned.
    Banned => "banned", FORBIDDEN;
    /// No such user.
    UserNotFound => "user_not_found", NOT_FOUND;

    // Characters.
    /// No such character, or it belongs to someone else (no existence leak).
    CharacterNotFound => "character_not_found", NOT_FOUND;
    /// The intent breaks a rule (unknown armor, level above 20, negative currency).
    InvalidIntent => "invalid_intent", UNPROCESSABLE_ENTITY;

    // Matchmaking and arena.
    /// No such matchmaking ticket.
    TicketNotFound => "ticket_not_found", NOT_FOUND;
    /// The user already has a queued ticket for this mode (`details.ticket_id` names it).
    TicketExists => "ticket_exists", CONFLICT;
    /// The client read its WebSocket too slowly and was disconnected.
    SlowConsumer => "slow_consumer", TOO_MANY_REQUESTS;
    /// No such lobby, or it is closed.
    LobbyClosed => "lobby_closed", GONE;

    // Card tables (the seed's list).
    /// A table seat or join could not be granted.
    JoinFailed => "join_failed", CONFLICT;
    /// A newer connection took this seat over.
    DuplicateConnectionHandled => "duplicate_connection_handled", CONFLICT;
    /// Not this seat's turn.
    InvalidTurn => "invalid_turn", UNPROCESSABLE_ENTITY;
    /// The card is not in hand or not playable.
    InvalidCard => "invalid_card", UNPROCESSABLE_ENTITY;
    /// The bid breaks the auction rules.
    InvalidBid => "invalid_bid", UNPROCESSABLE_ENTITY;
    /// The action is not valid in this phase.
    InvalidAction => "invalid_action", UNPROCESSABLE_ENTITY;
    /// Client and server state disagree; send `sync`.
    Desync => "desync", CONFLICT;
    /// The game's worker is down or restarting.
    GameUnavailable => "game_unavailable", SERVICE_UNAVAILABLE;
    /// The action could not be routed to its game.
    RoutingFailed => "routing_failed", BAD_GATEWAY;
    /// No such table.
    GameNotFound => "game_not_found", NOT_FOUND;
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error as a client sees it: a catalogue code, a human message and optional details.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub details: Option<Value>,
    /// Seconds for a `Retry-After` header (rate limits, unavailable dependencies).
    pub retry_after: Option<u64>,
    /// Extra top-level members beside `error` (a 409 carries the latest `character`).
    pub extra: Option<serde_json::Map<String, Value>>,
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: Body<'a>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a Value>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: None,
            retry_after: None,
            extra: None,
        }
    }

    /// A server-side failure: the cause is logged here and replaced by a generic message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(ErrorCode::Internal, "internal server error")
    }

    /// Rebuilds a peer's error from its envelope (code, message, details) and its
    /// `Retry-After`, for passing a peer's answer on unchanged. An unreadable body
    /// becomes `invalid_request` (`unauthorized` for a 401) with `fallback_message`.
    pub fn from_envelope(
        status: u16,
        body: &str,
        retry_after: Option<u64>,
        fallback_message: &str,
    ) -> Self {
        let parsed: Option<Value> = serde_json::from_str(body).ok();
        let error = parsed.as_ref().map(|v| &v["error"]);
        let code = error
            .and_then(|e| e["code"].as_str())
            .and_then(ErrorCode::from_wire)
            .unwrap_or(if status == 401 {
                ErrorCode::Unauthorized
            } else {
                ErrorCode::InvalidRequest
            });
        let message = error
            .and_then(|e| e["message"].as_str())
            .unwrap_or(fallback_message);
        let mut out = Self::new(code, message);
        if let Some(details) = error.map(|e| &e["details"]).filter(|d| !d.is_null()) {
            out.details = Some(details.clone());
        }
        out.retry_after = retry_after;
        out
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// Adds a top-level member beside `error`, such as the latest state on a conflict.
    pub fn with_member(mut self, key: &str, value: Value) -> Self {
        self.extra
            .get_or_insert_with(Default::default)
            .insert(key.to_owned(), value);
        self
    }

    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// The envelope as JSON, the same text every transport sends.
    pub fn to_json(&self) -> Value {
        let mut value = serde_json::to_value(Envelope {
            error: Body {
                code: self.code.as_str(),
                message: &self.message,
                details: self.details.as_ref(),
            },
        })
        .expect("the envelope always serializes");
        if let (Some(extra), Value::Object(map)) = (&self.extra, &mut value) {
            for (k, v) in extra {
                map.insert(k.clone(), v.clone());
            }
        }
        value
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = (status, axum::Json(self.to_json())).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[test]
    fn every_code_round_trips_and_is_snake_case() {
        for code in ErrorCode::ALL {
            let wire = code.as_str();
            assert_eq!(ErrorCode::from_wire(wire), Some(*code));
            assert!(
                wire.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{wire}"
            );
            assert!(code.status().is_client_error() || code.status().is_server_error());
        }
        assert_eq!(ErrorCode::from_wire("no_such_code"), None);
    }

    #[test]
    fn codes_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {code}");
        }
    }

    #[tokio::test]
    async fn envelope_shape_and_retry_after() {
        let response = ApiError::new(ErrorCode::AuthUnavailable, "auth is down")
            .with_details(serde_json::json!({"peer": "auth"}))
            .with_retry_after(3)
            .into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "3");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let json: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"error": {"code": "auth_unavailable", "message": "auth is down", "details": {"peer": "auth"}}})
        );
    }

    #[test]
    fn internal_hides_the_cause_and_extra_members_sit_beside_error() {
        let err = ApiError::internal("connection refused to 10.0.0.3");
        assert_eq!(err.to_json()["error"]["message"], "internal server error");
        let conflict = ApiError::new(ErrorCode::VersionConflict, "stale")
            .with_member("character", serde_json::json!({"version": 6}));
        assert_eq!(conflict.to_json()["character"]["version"], 6);
        assert_eq!(conflict.to_json()["error"]["code"], "version_conflict");
    }
}
