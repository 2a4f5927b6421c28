//! Auth over HTTP, as head calls it in the split shape.
//!
//! Failure policy (seed: "retries and clear client error messaging"):
//! - every call has the peer timeout;
//! - only idempotent calls are retried (JWKS, revocations, logout), with exponential
//!   backoff and jitter;
//! - a circuit breaker opens after consecutive failures: calls then fail at once with
//!   `503 auth_unavailable` and `Retry-After` until the cool-down ends and a trial call
//!   succeeds. A client never hangs and never sees a 500 because auth is down.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use guildhall_core::{ApiError, ErrorCode};
use guildhall_http::{PeerClient, PeerError};
use guildhall_tokens::sync::TrustSource;
use guildhall_tokens::{Grant, Jwks, Revocation};
use rand::Rng;
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::{
    AuthApi, GuestCreated, GuestLogin, Login, PasswordChange, Register, SignedGrant, TokenPair,
};
use crate::http::{CLIENT_IP_HEADER, INTERNAL_TOKEN_HEADER};

/// Consecutive failures and when the circuit opened.
#[derive(Debug, Default)]
struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
}

/// Calls auth's internal API.
#[derive(Debug)]
pub struct AuthClient {
    peer: PeerClient,
    internal_token: String,
    retries: u32,
    breaker_threshold: u32,
    cooldown: Duration,
    breaker: Mutex<Breaker>,
}

impl AuthClient {
    pub fn new(
        peer: PeerClient,
        internal_token: &str,
        config: &guildhall_config::HeadConfig,
    ) -> Self {
        Self {
            peer,
            internal_token: internal_token.to_owned(),
            retries: config.auth_retries,
            breaker_threshold: config.auth_breaker_failures,
            cooldown: Duration::from_secs(config.auth_breaker_cooldown_secs),
            breaker: Mutex::default(),
        }
    }

    fn unavailable(&self, retry_after: Duration) -> ApiError {
        ApiError::new(
            ErrorCode::AuthUnavailable,
            "the auth service is unavailable; try again shortly",
        )
        .with_retry_after(retry_after.as_secs().max(1))
    }

    /// Fails fast while the circuit is open.
    fn admit(&self) -> Result<(), ApiError> {
        let breaker = self.breaker.lock().unwrap();
        match breaker.open_until {
            Some(until) if Instant::now() < until => Err(self.unavailable(until - Instant::now())),
            _ => Ok(()),
        }
    }

    fn record(&self, healthy: bool) {
        let mut breaker = self.breaker.lock().unwrap();
        if healthy {
            *breaker = Breaker::default();
            return;
        }
        breaker.failures += 1;
        if breaker.failures >= self.breaker_threshold {
            if breaker
                .open_until
                .is_none_or(|until| Instant::now() >= until)
            {
                tracing::warn!(failures = breaker.failures, cooldown = ?self.cooldown, "circuit to auth opened");
                metrics::counter!("peer_circuit_opened_total", "peer" => "auth").increment(1);
            }
            breaker.open_until = Some(Instant::now() + self.cooldown);
        }
    }

    async fn call<B: Serialize + Sync, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        ip: Option<IpAddr>,
        idempotent: bool,
    ) -> Result<T, ApiError> {
        let attempts = if idempotent { self.retries.max(1) } else { 1 };
        let mut delay = Duration::from_millis(50);
        for attempt in 1..=attempts {
            self.admit()?;
            let mut request = self
                .peer
                .request(method.clone(), path)
                .header(INTERNAL_TOKEN_HEADER, &self.internal_token);
            if let Some(ip) = ip {
                request = request.header(CLIENT_IP_HEADER, ip.to_string());
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            match self.peer.send(request).await {
                Ok(response) => {
                    self.record(true);
                    let bytes = response
                        .bytes()
                        .await
                        .map_err(|e| self.transport_failure(e.to_string()))?;
                    let text = if bytes.is_empty() {
                        &b"null"[..]
                    } else {
                        &bytes[..]
                    };
                    return serde_json::from_slice(text).map_err(|e| {
                        ApiError::internal(format!("auth answered unexpectedly: {e}"))
                    });
                }
                Err(PeerError::Status(status, body, retry_after)) if status.is_client_error() => {
                    // Auth is healthy and said no: pass its answer on unchanged.
                    tracing::debug!(%status, ?retry_after, "auth refused the call");
                    self.record(true);
                    return Err(envelope_from(status, &body, retry_after));
                }
                Err(err) => {
                    self.record(false);
                    tracing::warn!(%err, attempt, "call to auth failed");
                    if attempt == attempts || !err.is_transient() {
                        return Err(self.unavailable(self.cooldown));
                    }
                    let jitter = rand::rng().random_range(0.5..1.5);
                    tokio::time::sleep(delay.mul_f64(jitter)).await;
                    delay *= 2;
                }
            }
        }
        Err(self.unavailable(self.cooldown))
    }

    fn transport_failure(&self, cause: String) -> ApiError {
        self.record(false);
        tracing::warn!(%cause, "reading auth's answer failed");
        self.unavailable(self.cooldown)
    }
}

/// Rebuilds auth's error envelope (code, message, details, Retry-After) on our side.
fn envelope_from(status: reqwest::StatusCode, body: &str, retry_after: Option<u64>) -> ApiError {
    let error = ApiError::from_envelope(status.as_u16(), body, retry_after, "rejected by auth");
    // A rate limit that came without a Retry-After: a minute.
    if error.code == ErrorCode::RateLimited && error.retry_after.is_none() {
        return error.with_retry_after(60);
    }
    error
}

#[async_trait]
impl TrustSource for AuthClient {
    async fn jwks(&self) -> Result<Jwks, String> {
        self.call::<(), Jwks>(Method::GET, "/.well-known/jwks.json", None, None, true)
            .await
            .map_err(|e| e.to_string())
    }

    async fn revocations(&self) -> Result<Vec<Revocation>, String> {
        self.call::<(), _>(Method::GET, "/internal/v1/revocations", None, None, true)
            .await
            .map_err(|e| e.to_string())
    }
}

#[async_trait]
impl AuthApi for AuthClient {
    async fn create_guest(&self, ip: IpAddr) -> Result<GuestCreated, ApiError> {
        self.call(
            Method::POST,
            "/internal/v1/guests",
            Some(&serde_json::json!({})),
            Some(ip),
            false,
        )
        .await
    }

    async fn guest_login(&self, request: GuestLogin, ip: IpAddr) -> Result<TokenPair, ApiError> {
        self.call(
            Method::POST,
            "/internal/v1/guests/login",
            Some(&request),
            Some(ip),
            false,
        )
        .await
    }

    async fn register(
        &self,
        request: Register,
        upgrade_token: Option<String>,
        ip: IpAddr,
    ) -> Result<TokenPair, ApiError> {
        let body = serde_json::json!({
            "username": request.username, "password": request.password, "email": request.email,
            "upgrade_token": upgrade_token,
        });
        self.call(
            Method::POST,
            "/internal/v1/accounts",
            Some(&body),
            Some(ip),
            false,
        )
        .await
    }

    async fn login(&self, request: Login, ip: IpAddr) -> Result<TokenPair, ApiError> {
        self.call(
            Method::POST,
            "/internal/v1/sessions/login",
            Some(&request),
            Some(ip),
            false,
        )
        .await
    }

    async fn refresh(&self, refresh_token: String, ip: IpAddr) -> Result<TokenPair, ApiError> {
        let body = serde_json::json!({ "refresh_token": refresh_token });
        self.call(
            Method::POST,
            "/internal/v1/sessions/refresh",
            Some(&body),
            Some(ip),
            false,
        )
        .await
    }

    async fn logout(&self, access_token: String) -> Result<(), ApiError> {
        let body = serde_json::json!({ "access_token": access_token });
        self.call::<_, serde_json::Value>(
            Method::POST,
            "/internal/v1/sessions/logout",
            Some(&body),
            None,
            true,
        )
        .await?;
        Ok(())
    }

    async fn change_password(
        &self,
        access_token: String,
        request: PasswordChange,
    ) -> Result<TokenPair, ApiError> {
        let body = serde_json::json!({
            "access_token": access_token,
            "current_password": request.current_password,
            "new_password": request.new_password,
        });
        self.call(
            Method::POST,
            "/internal/v1/account/password",
            Some(&body),
            None,
            false,
        )
        .await
    }

    async fn sign_grant(&self, grant: Grant) -> Result<String, ApiError> {
        let signed: SignedGrant = self
            .call(
                Method::POST,
                "/internal/v1/grants",
                Some(&grant),
                None,
                true,
            )
            .await?;
        Ok(signed.token)
    }
}
