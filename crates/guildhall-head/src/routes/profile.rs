//! Profiles: the caller's own, and other users' public ones.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use guildhall_core::{ApiError, ApiJson};
use guildhall_names::DisplayName;
use guildhall_tokens::now_unix;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::profiles::{Profile, Update};
use crate::{Bearer, Head, HeadError};

/// A profile with its version as an ETag, for `If-Match`.
fn with_etag(profile: Profile) -> Response {
    let etag = HeaderValue::from_str(&format!("\"{}\"", profile.version))
        .expect("digits are a valid header");
    let mut response = Json(profile).into_response();
    response.headers_mut().insert(header::ETAG, etag);
    response
}

/// The caller's profile (created on first read if an older identity has none).
pub async fn show(State(head): State<Head>, bearer: Bearer) -> Result<Response, ApiError> {
    let user = bearer.claims.sub;
    let profile = match head.profiles.get(user).await.map_err(HeadError::from)? {
        Some(profile) => profile,
        None => {
            let name = DisplayName::parse(&format!("Player-{}", &user.simple().to_string()[..6]))
                .map_err(HeadError::InvalidDisplayName)?;
            head.profiles
                .create(user, &name, bearer.claims.kind.as_str(), now_unix())
                .await
                .map_err(HeadError::from)?
        }
    };
    Ok(with_etag(profile))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateRequest {
    display_name: String,
}

/// Changes the display name. With `If-Match: "<version>"`, only if nobody changed the
/// profile since that version (409 `version_conflict` with the current profile otherwise).
pub async fn update(
    State(head): State<Head>,
    bearer: Bearer,
    headers: HeaderMap,
    ApiJson(request): ApiJson<UpdateRequest>,
) -> Result<Response, ApiError> {
    let expected = match headers.get(header::IF_MATCH) {
        None => None,
        Some(value) => Some(parse_if_match(value).ok_or(HeadError::BadIfMatch)?),
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
        Update::Done(profile) => Ok(with_etag(profile)),
        Update::Conflict(current) => Err(HeadError::VersionConflict {
            current: Box::new(serde_json::to_value(current).expect("profiles serialize")),
        }
        .into()),
        Update::Missing => Err(HeadError::UserNotFound.into()),
    }
}

/// `"3"`, `W/"3"` or `3` → 3.
fn parse_if_match(value: &HeaderValue) -> Option<i64> {
    let text = value.to_str().ok()?.trim();
    let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    text.parse().ok().filter(|v| *v > 0)
}

/// What anyone signed in may see of a user.
#[derive(Debug, Serialize)]
pub struct PublicProfile {
    user_id: Uuid,
    display_name: String,
    kind: String,
    created_at: String,
}

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
        display_name: profile.display_name,
        kind: profile.kind,
        created_at: profile.created_at,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_forms() {
        assert_eq!(parse_if_match(&HeaderValue::from_static("\"3\"")), Some(3));
        assert_eq!(
            parse_if_match(&HeaderValue::from_static("W/\"12\"")),
            Some(12)
        );
        assert_eq!(parse_if_match(&HeaderValue::from_static("7")), Some(7));
        assert_eq!(parse_if_match(&HeaderValue::from_static("\"abc\"")), None);
        assert_eq!(parse_if_match(&HeaderValue::from_static("0")), None);
    }
}
