//! The rules of identity: creating guests and accounts, logging in, rotating refresh
//! tokens, revoking sessions, banning.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use guildhall_bus::SharedBus;
use guildhall_config::AuthConfig;
use guildhall_names::Username;
use guildhall_tokens::sync::KEYS_CHANNEL;
use guildhall_tokens::{
    ACCESS_AUDIENCE, AccessClaims, Jwks, REVOCATIONS_CHANNEL, Revocation, SubjectKind, Verifier,
    now_unix,
};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use uuid::Uuid;

use crate::AuthError;
use crate::credentials::{Passwords, new_refresh, new_secret, refresh_key, secret_matches};
use crate::keys::KeyRing;
use crate::limits::Limits;
use crate::store::{AuthStore, InsertError, NewSession, NewUser, SessionRow, UserRow};

/// What a successful sign-in gives the client.
#[derive(Debug, Clone)]
pub struct Issued {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub kind: SubjectKind,
    pub access_token: String,
    pub refresh_token: String,
    /// When the access token expires (Unix seconds).
    pub expires_at: i64,
}

/// A new guest: its id, its secret (shown once) and its first session.
#[derive(Debug, Clone)]
pub struct NewGuest {
    pub guest_secret: String,
    pub issued: Issued,
}

/// The auth service. One per process that runs auth; shared by its handlers.
#[derive(Debug)]
pub struct AuthService {
    store: AuthStore,
    bus: SharedBus,
    config: AuthConfig,
    passwords: Passwords,
    keys: KeyRing,
    limits: Limits,
    /// Auth verifies access tokens too (logout, upgrades); kept current directly.
    verifier: Arc<Verifier>,
    /// Argon2 runs at most one hash per core: more only thrash memory (19 MiB each) and
    /// make every login slower. Callers wait briefly for a slot, then are shed.
    hashing: tokio::sync::Semaphore,
}

/// How long a login waits for a hashing slot before being turned away (well under head's
/// timeout for calls to auth).
const HASH_SLOT_WAIT: Duration = Duration::from_millis(750);

impl AuthService {
    /// Loads keys and revocations and starts the background work: key reloads on rotation,
    /// limit housekeeping. Everything stops when `shutdown` fires.
    pub async fn start(
        store: guildhall_store::Store,
        bus: SharedBus,
        config: AuthConfig,
        shutdown: CancellationToken,
        tasks: &TaskTracker,
    ) -> anyhow::Result<Arc<Self>> {
        let store = AuthStore::new(store);
        let keep = (config.access_token_ttl_secs + config.clock_leeway_secs) as i64;
        let keys = KeyRing::load(&store, keep).await?;
        let verifier = Arc::new(Verifier::new(&config.issuer, config.clock_leeway_secs));
        verifier.set_keys(&keys.jwks());
        let service = Arc::new(Self {
            passwords: Passwords::new(config.argon2_memory_kib, config.argon2_iterations)?,
            limits: Limits::new(&config),
            store,
            bus,
            config,
            keys,
            verifier,
            hashing: tokio::sync::Semaphore::new(
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(2),
            ),
        });
        service
            .verifier
            .add_revocations(&service.revocations().await?);

        let mut rotations = service.bus.subscribe(KEYS_CHANNEL).await?;
        let this = service.clone();
        tasks.spawn(async move {
            let mut every_minute = tokio::time::interval(Duration::from_secs(60));
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = every_minute.tick() => {}
                    message = rotations.recv() => if message.is_none() { return },
                }
                this.limits.housekeeping();
                // Catch revocations made by other writers (the admin CLI) without the bus.
                match this.revocations().await {
                    Ok(all) => this.verifier.add_revocations(&all),
                    Err(err) => tracing::warn!(%err, "reloading revocations failed"),
                }
                if let Err(err) = this.keys.reload(&this.store, keep).await {
                    tracing::warn!(error = %format!("{err:#}"), "reloading signing keys failed");
                } else {
                    this.verifier.set_keys(&this.keys.jwks());
                }
            }
        });
        Ok(service)
    }

    pub fn verifier(&self) -> Arc<Verifier> {
        self.verifier.clone()
    }

    pub fn jwks(&self) -> Jwks {
        self.keys.jwks()
    }

    /// Creates a guest with a fresh secret and its first session.
    pub async fn create_guest(&self, ip: IpAddr) -> Result<NewGuest, AuthError> {
        self.limits.register(ip)?;
        let now = now_unix();
        let (guest_secret, secret_hash) = new_secret();
        let user = NewUser {
            id: Uuid::now_v7(),
            kind: "guest",
            username: None,
            email: None,
            password_hash: None,
            guest_secret_hash: Some(secret_hash),
            created_at: now,
        };
        let (session, issued) = self.new_session(user.id, SubjectKind::Guest, 0);
        self.store
            .create_user(user, session)
            .await
            .map_err(insert_error)?;
        metrics::counter!("auth_guests_created_total").increment(1);
        Ok(NewGuest {
            guest_secret,
            issued,
        })
    }

    /// Signs a guest in again with its secret.
    pub async fn guest_login(
        &self,
        guest_id: Uuid,
        secret: &str,
        ip: IpAddr,
    ) -> Result<Issued, AuthError> {
        self.limits.guest_login(ip)?;
        let user = self.store.user_by_id(guest_id).await?;
        let ok = user
            .as_ref()
            .and_then(|u| u.guest_secret_hash.as_deref())
            .is_some_and(|stored| secret_matches(secret, stored));
        let Some(user) = user.filter(|_| ok) else {
            return Err(self.failure(&guest_id.to_string(), "guest").await);
        };
        self.limits.succeeded(&guest_id.to_string());
        self.sign_in(&user).await
    }

    /// Registers an account; with `upgrade`, turns that guest into the account, keeping its id.
    pub async fn register(
        &self,
        username: &str,
        password: &str,
        email: &str,
        upgrade: Option<&AccessClaims>,
        ip: IpAddr,
    ) -> Result<Issued, AuthError> {
        self.limits.register(ip)?;
        let username =
            Username::parse(username).map_err(|e| AuthError::Invalid(format!("username: {e}")))?;
        check_password(password)?;
        let email = check_email(email)?;
        let hash = self.hash_password(password).await?;
        let now = now_unix();
        match upgrade {
            Some(claims) => {
                if claims.kind != SubjectKind::Guest {
                    return Err(AuthError::NotAGuest);
                }
                let upgraded = self
                    .store
                    .upgrade_guest(claims.sub, username.as_str(), &email, &hash, now)
                    .await
                    .map_err(insert_error)?;
                if !upgraded {
                    return Err(AuthError::NotAGuest);
                }
                // The guest's session ends; the account starts a fresh one.
                self.revoke_session(claims.sid, "upgraded").await?;
                let user = self
                    .store
                    .user_by_id(claims.sub)
                    .await?
                    .ok_or(AuthError::UserNotFound)?;
                metrics::counter!("auth_accounts_created_total", "via" => "upgrade").increment(1);
                self.sign_in(&user).await
            }
            None => {
                let user = NewUser {
                    id: Uuid::now_v7(),
                    kind: "account",
                    username: Some(username.as_str().to_owned()),
                    email: Some(email),
                    password_hash: Some(hash),
                    guest_secret_hash: None,
                    created_at: now,
                };
                let (session, issued) = self.new_session(user.id, SubjectKind::Account, 0);
                self.store
                    .create_user(user, session)
                    .await
                    .map_err(insert_error)?;
                metrics::counter!("auth_accounts_created_total", "via" => "register").increment(1);
                Ok(issued)
            }
        }
    }

    /// Signs an account in with username and password.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        ip: IpAddr,
    ) -> Result<Issued, AuthError> {
        // An unparseable username cannot exist; treat it like a wrong one, at the same cost.
        let key = Username::parse(username)
            .map(|u| u.as_str().to_owned())
            .unwrap_or_else(|_| username.to_owned());
        self.limits.login(ip, &key)?;
        let user = match Username::parse(username) {
            Ok(name) => self.store.user_by_username(name.as_str()).await?,
            Err(_) => None,
        };
        let stored = user.as_ref().and_then(|u| u.password_hash.clone());
        let matches = self.verify_password(password, stored).await?;
        match user {
            Some(user) if matches => {
                self.limits.succeeded(&key);
                self.sign_in(&user).await
            }
            _ => Err(self.failure(&key, "password").await),
        }
    }

    /// Exchanges a refresh token for a new pair. A token already exchanged once revokes
    /// its whole session: it was stolen, or the client is confused, and either way the
    /// session can no longer be trusted.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Issued, AuthError> {
        let old_key = refresh_key(refresh_token);
        let now = now_unix();
        if let Some((session_id, user_id, new_token)) = self
            .store
            .rotate_refresh(&old_key, now, new_refresh)
            .await?
        {
            let user = self
                .store
                .user_by_id(user_id)
                .await?
                .ok_or(AuthError::Unauthorized)?;
            if user.banned_at.is_some() {
                return Err(AuthError::Banned);
            }
            let kind = kind_of(&user);
            let (access_token, expires_at) =
                self.access_token(user_id, session_id, kind, user.tokens_valid_after);
            return Ok(Issued {
                user_id,
                session_id,
                kind,
                access_token,
                refresh_token: new_token,
                expires_at,
            });
        }
        if let Some(session_id) = self.store.retired_refresh(&old_key).await? {
            tracing::warn!(%session_id, "refresh token reused; revoking its session");
            metrics::counter!("auth_refresh_reuse_total").increment(1);
            self.revoke_session(session_id, "refresh_reuse").await?;
        }
        Err(AuthError::Unauthorized)
    }

    /// Ends the session behind an access token; its tokens are refused everywhere.
    pub async fn logout(&self, claims: &AccessClaims) -> Result<(), AuthError> {
        self.revoke_session(claims.sid, "logout").await
    }

    /// Changes an account's password: every session ends, and a new one starts.
    pub async fn change_password(
        &self,
        claims: &AccessClaims,
        current: &str,
        new: &str,
    ) -> Result<Issued, AuthError> {
        check_password(new)?;
        let user = self
            .store
            .user_by_id(claims.sub)
            .await?
            .ok_or(AuthError::Unauthorized)?;
        let ok = self
            .verify_password(current, user.password_hash.clone())
            .await?;
        if !ok {
            return Err(AuthError::InvalidCredentials);
        }
        let hash = self.hash_password(new).await?;
        let before = self
            .revoke_user(&user, "password_change", None, Some(&hash))
            .await?;
        let mut user = user;
        user.tokens_valid_after = before;
        self.sign_in(&user).await
    }

    /// Bans a user: every session ends and no new one can start until unbanned.
    pub async fn ban(&self, user_id: Uuid) -> Result<(), AuthError> {
        let user = self
            .store
            .user_by_id(user_id)
            .await?
            .ok_or(AuthError::UserNotFound)?;
        self.revoke_user(&user, "ban", Some(Some(now_unix())), None)
            .await?;
        Ok(())
    }

    pub async fn unban(&self, user_id: Uuid) -> Result<(), AuthError> {
        if self.store.set_unbanned(user_id, now_unix()).await? {
            Ok(())
        } else {
            Err(AuthError::UserNotFound)
        }
    }

    pub async fn sessions(&self, user_id: Uuid) -> Result<Vec<SessionRow>, AuthError> {
        self.store
            .user_by_id(user_id)
            .await?
            .ok_or(AuthError::UserNotFound)?;
        Ok(self.store.sessions_of(user_id).await?)
    }

    /// Looks a user up by id or username (for the admin CLI).
    pub async fn find_user(&self, id_or_username: &str) -> Result<Uuid, AuthError> {
        if let Ok(id) = Uuid::parse_str(id_or_username) {
            return Ok(self
                .store
                .user_by_id(id)
                .await?
                .ok_or(AuthError::UserNotFound)?
                .id);
        }
        let name = Username::parse(id_or_username).map_err(|_| AuthError::UserNotFound)?;
        Ok(self
            .store
            .user_by_username(name.as_str())
            .await?
            .ok_or(AuthError::UserNotFound)?
            .id)
    }

    /// Every revocation whose tokens may still be unexpired, for verifiers (re)starting.
    pub async fn revocations(&self) -> Result<Vec<Revocation>, AuthError> {
        let lifetime = (self.config.access_token_ttl_secs + self.config.clock_leeway_secs) as i64;
        let (sessions, users) = self.store.revocations_since(now_unix() - lifetime).await?;
        let mut all: Vec<Revocation> = sessions
            .into_iter()
            .map(|(sid, at)| Revocation::Session {
                sid,
                exp: at + lifetime,
            })
            .collect();
        all.extend(users.into_iter().map(|(sub, before)| Revocation::User {
            sub,
            before,
            exp: before + lifetime,
        }));
        Ok(all)
    }

    /// Adds a signing key and tells every instance to reload.
    pub async fn rotate_key(&self) -> Result<String, AuthError> {
        let kid = crate::keys::rotate(&self.store).await?;
        let keep = (self.config.access_token_ttl_secs + self.config.clock_leeway_secs) as i64;
        self.keys.reload(&self.store, keep).await?;
        self.verifier.set_keys(&self.keys.jwks());
        if let Err(err) = self.bus.publish(KEYS_CHANNEL, kid.as_bytes()).await {
            tracing::warn!(%err, "could not announce the new key; instances pick it up within a minute");
        }
        Ok(kid)
    }

    /// Verifies an access token locally (auth's own view).
    pub fn verify(&self, token: &str) -> Result<AccessClaims, AuthError> {
        self.verifier.verify_access(token).map_err(|err| {
            tracing::debug!(%err, "token refused");
            AuthError::Unauthorized
        })
    }

    async fn sign_in(&self, user: &UserRow) -> Result<Issued, AuthError> {
        if user.banned_at.is_some() {
            return Err(AuthError::Banned);
        }
        let (session, issued) = self.new_session(user.id, kind_of(user), user.tokens_valid_after);
        self.store.insert_session(&session).await?;
        Ok(issued)
    }

    fn new_session(
        &self,
        user_id: Uuid,
        kind: SubjectKind,
        tokens_valid_after: i64,
    ) -> (NewSession, Issued) {
        let now = now_unix();
        let session_id = Uuid::now_v7();
        let (refresh_token, refresh_hash) = new_refresh(session_id);
        let (access_token, expires_at) =
            self.access_token(user_id, session_id, kind, tokens_valid_after);
        let session = NewSession {
            id: session_id,
            user_id,
            created_at: now,
            expires_at: now + self.config.session_ttl_secs as i64,
            refresh_hash,
        };
        (
            session,
            Issued {
                user_id,
                session_id,
                kind,
                access_token,
                refresh_token,
                expires_at,
            },
        )
    }

    fn access_token(
        &self,
        sub: Uuid,
        sid: Uuid,
        kind: SubjectKind,
        tokens_valid_after: i64,
    ) -> (String, i64) {
        // Tokens right after a password change must not fall under the user revocation.
        let iat = now_unix().max(tokens_valid_after);
        let exp = iat + self.config.access_token_ttl_secs as i64;
        let claims = AccessClaims {
            iss: self.config.issuer.clone(),
            aud: ACCESS_AUDIENCE.to_owned(),
            sub,
            sid,
            kind,
            iat,
            exp,
            jti: Uuid::new_v4(),
        };
        (self.keys.signer().sign(&claims), exp)
    }

    /// Signs a grant (an arena join token, a table seat) for another service.
    pub fn sign_grant(&self, grant: guildhall_tokens::Grant) -> Result<String, AuthError> {
        if let Some(problem) = grant.problem() {
            return Err(AuthError::Invalid(problem.into()));
        }
        let claims = grant.into_claims(&self.config.issuer, now_unix());
        Ok(self.keys.signer().sign(&claims))
    }

    async fn revoke_session(&self, sid: Uuid, reason: &str) -> Result<(), AuthError> {
        self.store.revoke_session(sid, reason, now_unix()).await?;
        let exp =
            now_unix() + (self.config.access_token_ttl_secs + self.config.clock_leeway_secs) as i64;
        self.announce(Revocation::Session { sid, exp }).await;
        Ok(())
    }

    /// Revokes all of a user's sessions and older tokens; returns the new cut-off.
    async fn revoke_user(
        &self,
        user: &UserRow,
        reason: &str,
        banned: Option<Option<i64>>,
        new_password_hash: Option<&str>,
    ) -> Result<i64, AuthError> {
        let now = now_unix();
        // Every token issued so far has `iat <= max(now, previous cut-off)` (see
        // `access_token`), and `iat` has one-second resolution: the new cut-off must be
        // strictly above that, or a token from this same second would survive.
        let before = now.max(user.tokens_valid_after) + 1;
        self.store
            .revoke_user(user.id, reason, before, banned, new_password_hash, now)
            .await?;
        let exp =
            before + (self.config.access_token_ttl_secs + self.config.clock_leeway_secs) as i64;
        self.announce(Revocation::User {
            sub: user.id,
            before,
            exp,
        })
        .await;
        Ok(before)
    }

    /// Applies a revocation here at once and publishes it for every other verifier. If the
    /// bus is down, verifiers still learn it from their next full resync.
    async fn announce(&self, revocation: Revocation) {
        self.verifier.revoke(&revocation);
        metrics::counter!("auth_revocations_total").increment(1);
        let payload = serde_json::to_vec(&revocation).expect("revocations serialize");
        if let Err(err) = self.bus.publish(REVOCATIONS_CHANNEL, &payload).await {
            tracing::error!(%err, "could not publish a revocation; verifiers will learn it on resync");
        }
    }

    async fn hash_password(&self, password: &str) -> Result<String, AuthError> {
        let passwords = self.passwords.clone();
        let password = password.to_owned();
        self.with_hashing_slot(move || passwords.hash(&password))
            .await?
            .map_err(AuthError::from)
    }

    /// Checks a password against a stored hash (or the decoy when there is none).
    async fn verify_password(
        &self,
        password: &str,
        stored: Option<String>,
    ) -> Result<bool, AuthError> {
        let passwords = self.passwords.clone();
        let password = password.to_owned();
        self.with_hashing_slot(move || passwords.verify(&password, stored.as_deref()))
            .await
    }

    /// Runs Argon2 work on a blocking thread once a hashing slot is free; turns the caller
    /// away with `Busy` if none frees up in time.
    async fn with_hashing_slot<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        let _slot = match tokio::time::timeout(HASH_SLOT_WAIT, self.hashing.acquire()).await {
            Ok(Ok(slot)) => slot,
            _ => {
                metrics::counter!("auth_hashing_shed_total").increment(1);
                return Err(AuthError::Busy);
            }
        };
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| AuthError::Other(anyhow::anyhow!(e)))
    }

    /// Counts a failure and holds the answer back as failures repeat.
    async fn failure(&self, key: &str, what: &'static str) -> AuthError {
        metrics::counter!("auth_login_failures_total", "kind" => what).increment(1);
        let delay = self.limits.failed(key);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        AuthError::InvalidCredentials
    }
}

fn kind_of(user: &UserRow) -> SubjectKind {
    if user.kind == "account" {
        SubjectKind::Account
    } else {
        SubjectKind::Guest
    }
}

fn insert_error(err: InsertError) -> AuthError {
    match err {
        InsertError::UsernameTaken => AuthError::UsernameTaken,
        InsertError::Db(err) => AuthError::Store(err),
    }
}

fn check_password(password: &str) -> Result<(), AuthError> {
    let length = password.chars().count();
    if !(8..=128).contains(&length) {
        return Err(AuthError::Invalid(
            "password: must be 8 to 128 characters".into(),
        ));
    }
    if password.chars().any(char::is_control) {
        return Err(AuthError::Invalid(
            "password: must not contain control characters".into(),
        ));
    }
    Ok(())
}

fn check_email(email: &str) -> Result<String, AuthError> {
    // Not trimmed: what the client sent is what is validated and stored.
    if email.len() > 254 || !email_address::EmailAddress::is_valid(email) {
        return Err(AuthError::Invalid("email: not a valid address".into()));
    }
    Ok(email.to_owned())
}
