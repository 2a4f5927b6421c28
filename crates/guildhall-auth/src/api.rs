//! The contract between head and auth.
//!
//! Head calls auth through [`AuthApi`]. In `guildhall up` that is [`InProcess`], a direct
//! call; in the split shape it is [`crate::client::AuthClient`] over HTTP to
//! [`crate::http`]. Both speak the same types and the same errors (the platform envelope),
//! so head's code does not know which one it has.

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use guildhall_core::ApiError;
use guildhall_tokens::sync::TrustSource;
use guildhall_tokens::{Grant, Jwks, Revocation, SubjectKind};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::AuthService;
use crate::service::Issued;

/// A session's tokens as clients receive them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenPair {
    pub user_id: Uuid,
    pub kind: SubjectKind,
    pub session_token: String,
    pub refresh_token: String,
    /// When `session_token` expires, RFC 3339.
    pub expires_at: String,
}

/// A guest just created: its secret is shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuestCreated {
    pub guest_secret: String,
    #[serde(flatten)]
    pub tokens: TokenPair,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GuestLogin {
    pub guest_id: Uuid,
    pub guest_secret: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Register {
    pub username: String,
    pub password: String,
    pub email: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Login {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// What head asks of auth. Every method answers errors in the platform envelope.
#[async_trait]
pub trait AuthApi: TrustSource {
    async fn create_guest(&self, ip: IpAddr) -> Result<GuestCreated, ApiError>;
    async fn guest_login(&self, request: GuestLogin, ip: IpAddr) -> Result<TokenPair, ApiError>;
    /// With `upgrade_token` (a guest's access token), upgrades that guest in place.
    async fn register(
        &self,
        request: Register,
        upgrade_token: Option<String>,
        ip: IpAddr,
    ) -> Result<TokenPair, ApiError>;
    async fn login(&self, request: Login, ip: IpAddr) -> Result<TokenPair, ApiError>;
    async fn refresh(&self, refresh_token: String, ip: IpAddr) -> Result<TokenPair, ApiError>;
    async fn logout(&self, access_token: String) -> Result<(), ApiError>;
    async fn change_password(
        &self,
        access_token: String,
        request: PasswordChange,
    ) -> Result<TokenPair, ApiError>;
    /// Signs a grant (an arena join token, a table seat) for the calling service.
    async fn sign_grant(&self, grant: Grant) -> Result<String, ApiError>;
}

/// A signed grant, as auth's internal API answers it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedGrant {
    pub token: String,
}

/// RFC 3339 for a Unix time.
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

impl From<Issued> for TokenPair {
    fn from(issued: Issued) -> Self {
        TokenPair {
            user_id: issued.user_id,
            kind: issued.kind,
            session_token: issued.access_token,
            refresh_token: issued.refresh_token,
            expires_at: rfc3339(issued.expires_at),
        }
    }
}

/// Auth in the same process.
#[derive(Debug, Clone)]
pub struct InProcess(pub Arc<AuthService>);

#[async_trait]
impl TrustSource for InProcess {
    async fn jwks(&self) -> Result<Jwks, String> {
        Ok(self.0.jwks())
    }
    async fn revocations(&self) -> Result<Vec<Revocation>, String> {
        self.0.revocations().await.map_err(|e| e.to_string())
    }
}

#[async_trait]
impl AuthApi for InProcess {
    async fn create_guest(&self, ip: IpAddr) -> Result<GuestCreated, ApiError> {
        let guest = self.0.create_guest(ip).await?;
        Ok(GuestCreated {
            guest_secret: guest.guest_secret,
            tokens: guest.issued.into(),
        })
    }

    async fn guest_login(&self, request: GuestLogin, ip: IpAddr) -> Result<TokenPair, ApiError> {
        Ok(self
            .0
            .guest_login(request.guest_id, &request.guest_secret, ip)
            .await?
            .into())
    }

    async fn register(
        &self,
        request: Register,
        upgrade_token: Option<String>,
        ip: IpAddr,
    ) -> Result<TokenPair, ApiError> {
        let upgrade = upgrade_token
            .map(|token| self.0.verify(&token))
            .transpose()?;
        Ok(self
            .0
            .register(
                &request.username,
                &request.password,
                &request.email,
                upgrade.as_ref(),
                ip,
            )
            .await?
            .into())
    }

    async fn login(&self, request: Login, ip: IpAddr) -> Result<TokenPair, ApiError> {
        Ok(self
            .0
            .login(&request.username, &request.password, ip)
            .await?
            .into())
    }

    async fn refresh(&self, refresh_token: String, _ip: IpAddr) -> Result<TokenPair, ApiError> {
        Ok(self.0.refresh(&refresh_token).await?.into())
    }

    async fn logout(&self, access_token: String) -> Result<(), ApiError> {
        let claims = self.0.verify(&access_token)?;
        Ok(self.0.logout(&claims).await?)
    }

    async fn change_password(
        &self,
        access_token: String,
        request: PasswordChange,
    ) -> Result<TokenPair, ApiError> {
        let claims = self.0.verify(&access_token)?;
        Ok(self
            .0
            .change_password(&claims, &request.current_password, &request.new_password)
            .await?
            .into())
    }

    async fn sign_grant(&self, grant: Grant) -> Result<String, ApiError> {
        Ok(self.0.sign_grant(grant)?)
    }
}
