//! Profiles: the caller's own, and other users' public ones.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use guildhall_core::{ApiError, ApiJson};
use guildhall_names::DisplayName;
use guildhall_tokens::now_unix;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::profiles::{Profile, Update};
use crate::{Bearer, Head, HeadError};

/// A profile with its version as an ETag, for `If-Match`.
fn with_etag(profile: &Profile) -> Response {
    let etag = HeaderValue::from_str(&format!("\"{}\"", profile.version))
        .expect("digits are a valid header");
    let mut response = Json(profile).into_response();
    response.headers_mut().insert(header::ETAG, etag);
    response
}

/// The caller's profile (created on first read if an older identity has none).
#[utoipa::path(
    get,
    path = "/v1/profile",
    operation_id = "get_profile",
    tag = "profiles",
    security(("bearerAuth" = [])),
    responses(
        (
            status = 200,
            description = "The caller's profile.",
            body = super::openapi::ProfileDoc,
            headers(("ETag" = String, description = "The profile's version, quoted (`\"3\"`), for `If-Match`.")),
        ),
        (status = 401, response = super::openapi::Unauthorized),
        (status = 500, response = super::openapi::Internal),
    ),
)]
pub async fn show(State(head): State<Head>, bearer: Bearer) -> Result<Response, ApiError> {
    let user = bearer.claims.sub;
    let profile = match head.profiles.get(user).await.map_err(HeadError::from)? {
        Some(profile) => profile,
        None => {
            let name = DisplayName::parse(&format!("Player-{}", &user.simple().to_string()[..6]))
                .map_err(HeadError::InvalidDisplayName)?;
            Arc::new(
                head.profiles
                    .create(user, &name, bearer.claims.kind.as_str(), now_unix())
                    .await
                    .map_err(HeadError::from)?,
            )
        }
    };
    Ok(with_etag(&profile))
}

/// The new display name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ProfileUpdate)]
pub struct UpdateRequest {
    /// RFC 8266 nickname rules; it must not imitate a reserved name or another account.
    #[schema(example = "Captain Jack")]
    display_name: String,
}

/// Changes the display name.
///
/// With `If-Match: "<version>"`, only if nobody changed the profile since that version
/// (409 `version_conflict` with the current profile otherwise).
#[utoipa::path(
    put,
    path = "/v1/profile",
    operation_id = "update_profile",
    tag = "profiles",
    security(("bearerAuth" = [])),
    params((
        "If-Match" = Option<String>,
        Header,
        nullable = false,
        pattern = r#"^(W/)?("[0-9]+"|[0-9]+)$"#,
        description = "Only update if the profile is still at this version: `\"3\"`, `W/\"3\"` or `3`.",
    )),
    request_body = UpdateRequest,
    responses(
        (
            status = 200,
            description = "The updated profile.",
            body = super::openapi::ProfileDoc,
            headers(("ETag" = String, description = "The profile's new version, quoted (`\"4\"`).")),
        ),
        (status = 400, response = super::openapi::InvalidRequest),
        (status = 401, response = super::openapi::Unauthorized),
        (status = 404, response = super::openapi::UserNotFound),
        (status = 409, response = super::openapi::VersionConflict),
        (status = 413, response = super::openapi::PayloadTooLarge),
        (status = 415, response = super::openapi::UnsupportedMediaType),
        (status = 422, response = super::openapi::DisplayNameRejected),
        (status = 500, response = super::openapi::Internal),
    ),
)]
pub async fn update(
    State(head): State<Head>,
    bearer: Bearer,
    headers: HeaderMap,
    ApiJson(request): ApiJson<UpdateRequest>,
) -> Result<Response, ApiError> {
    let expected = match headers.get(header::IF_MATCH) {
        None => None,
        Some(value) => parse_if_match(value).ok_or(HeadError::BadIfMatch)?,
    };
    let user = bearer.claims.sub;
    let name = head
        .check_display_name(&request.display_name, Some(user))
        .await?;
    match head
        .profiles
        .set_display_name(user, &name, expected, now_unix())
        .await
        .map_err(HeadError::from)?
    {
        Update::Done(profile) => Ok(with_etag(&profile)),
        Update::Conflict(current) => Err(HeadError::VersionConflict {
            current: Box::new(serde_json::to_value(current).expect("profiles serialize")),
        }
        .into()),
        Update::Missing => Err(HeadError::UserNotFound.into()),
    }
}

/// `"3"`, `W/"3"` or `3` → 3.
/// `If-Match` per RFC 9110: `*` (any current profile: no version check) or one strong
/// entity tag `"N"` (our ETags). Weak tags never match under If-Match's strong comparison,
/// so they are refused rather than silently accepted, as are unquoted or listed values.
/// `None` = malformed; `Some(None)` = `*`.
fn parse_if_match(value: &HeaderValue) -> Option<Option<i64>> {
    let text = value.to_str().ok()?.trim();
    if text == "*" {
        return Some(None);
    }
    let digits = text.strip_prefix('"')?.strip_suffix('"')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|v| *v > 0).map(Some)
}

/// What anyone signed in may see of a user.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicProfile {
    user_id: Uuid,
    display_name: String,
    #[schema(value_type = super::openapi::ProfileKind)]
    kind: String,
    #[schema(format = DateTime)]
    created_at: String,
}

/// Another user's public profile.
#[utoipa::path(
    get,
    path = "/v1/users/{user_id}/profile",
    operation_id = "get_public_profile",
    tag = "profiles",
    security(("bearerAuth" = [])),
    params(("user_id" = Uuid, Path, description = "The user's id.")),
    responses(
        (status = 200, description = "The user's public profile.", body = PublicProfile),
        (status = 400, response = super::openapi::InvalidRequest),
        (status = 401, response = super::openapi::Unauthorized),
        (status = 404, response = super::openapi::UserNotFound),
        (status = 500, response = super::openapi::Internal),
    ),
)]
pub async fn public(
    State(head): State<Head>,
    _: Bearer,
    Path(user_id): Path<Uuid>,
) -> Result<ApiJson<PublicProfile>, ApiError> {
    let profile = head
        .profiles
        .get(user_id)
        .await
        .map_err(HeadError::from)?
        .ok_or(HeadError::UserNotFound)?;
    Ok(ApiJson(PublicProfile {
        user_id: profile.user_id,
        display_name: profile.display_name.clone(),
        kind: profile.kind.clone(),
        created_at: profile.created_at.clone(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_forms() {
        assert_eq!(
            parse_if_match(&HeaderValue::from_static("\"3\"")),
            Some(Some(3))
        );
        assert_eq!(parse_if_match(&HeaderValue::from_static("*")), Some(None));
        for bad in [
            "W/\"12\"",
            "7",
            "\"abc\"",
            "\"0\"",
            "\"+1\"",
            "\"1",
            "\"\"1\"\"",
            "\"1\", \"2\"",
            "",
        ] {
            assert_eq!(
                parse_if_match(&HeaderValue::from_str(bad).unwrap()),
                None,
                "{bad}"
            );
        }
    }
}
