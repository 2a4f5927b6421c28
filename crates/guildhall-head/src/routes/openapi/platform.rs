//! The OpenAPI description of the platform's own routes on head's listener: auth's JWKS,
//! health and metrics (mounted by `guildhall-auth` and `guildhall-http`). Documentation
//! only.

use utoipa::ToSchema;

use super::NotReady;

/// The public keys access tokens are signed with (a JWKS, RFC 7517 with RFC 8037 keys).
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    operation_id = "jwks",
    tag = "platform",
    responses((status = 200, description = "The signing keys in force.", body = JwksDoc)),
)]
#[allow(dead_code)]
pub(super) async fn jwks() {}

/// Liveness: the process answers.
#[utoipa::path(
    get,
    path = "/health/live",
    operation_id = "health_live",
    tag = "platform",
    responses((status = 200, description = "The process is live.", body = LiveDoc)),
)]
#[allow(dead_code)]
pub(super) async fn health_live() {}

/// Readiness: every dependency this process was configured with answers.
#[utoipa::path(
    get,
    path = "/health/ready",
    operation_id = "health_ready",
    tag = "platform",
    responses(
        (status = 200, description = "Every dependency answers.", body = ReadyDoc),
        (status = 503, response = NotReady),
    ),
)]
#[allow(dead_code)]
pub(super) async fn health_ready() {}

/// Metrics in the Prometheus text exposition format.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "platform",
    responses((
        status = 200,
        description = "Every metric of this process.",
        content_type = "text/plain",
        body = String,
    )),
)]
#[allow(dead_code)]
pub(super) async fn metrics_text() {}

// Mirrors of types other crates serialize; the schemathesis test checks real answers.

/// The token signing keys in force (RFC 7517).
#[derive(ToSchema)]
#[schema(as = Jwks)]
#[allow(dead_code)]
struct JwksDoc {
    keys: Vec<PublicJwkDoc>,
}

/// One Ed25519 public key (RFC 8037).
#[derive(ToSchema)]
#[schema(as = PublicJwk)]
#[allow(dead_code)]
struct PublicJwkDoc {
    #[schema(pattern = "^OKP$")]
    kty: String,
    #[schema(pattern = "^Ed25519$")]
    crv: String,
    /// The public key, base64url without padding.
    x: String,
    /// The key id tokens name in their `kid` header.
    kid: String,
    #[schema(pattern = "^EdDSA$")]
    alg: String,
    #[schema(rename = "use", pattern = "^sig$")]
    use_: String,
}

/// The process is live.
#[derive(ToSchema)]
#[schema(as = Live)]
#[allow(dead_code)]
struct LiveDoc {
    #[schema(pattern = "^live$")]
    status: String,
}

/// Every dependency answers: each by name (`database`, `bus:memory`...), all `ok`.
#[derive(ToSchema)]
#[schema(as = Ready)]
#[allow(dead_code)]
struct ReadyDoc {
    #[schema(pattern = "^ready$")]
    status: String,
    checks: std::collections::BTreeMap<String, String>,
}
