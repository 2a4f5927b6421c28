//! Auth's tables (`auth_*`), through whichever backend the store holds.

use guildhall_store::{Batcher, Store, with_pool, write_with_pool};
use uuid::Uuid;

/// Most users one transaction creates (see [`AuthStore::create_user`]).
const MAX_USERS_PER_BATCH: usize = 128;

/// One row of `auth_users`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub kind: String,
    pub password_hash: Option<String>,
    pub guest_secret_hash: Option<Vec<u8>>,
    pub banned_at: Option<i64>,
    pub tokens_valid_after: i64,
}

/// One row of `auth_sessions`, as the admin API lists it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct SessionRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_reason: Option<String>,
    pub last_used_at: i64,
}

/// A session to insert.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: Uuid,
    pub user_id: Uuid,
    pub created_at: i64,
    pub expires_at: i64,
    pub refresh_hash: Vec<u8>,
}

/// A user to insert.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: Uuid,
    pub kind: &'static str,
    pub username: Option<String>,
    pub email: Option<String>,
    pub password_hash: Option<String>,
    pub guest_secret_hash: Option<Vec<u8>>,
    pub created_at: i64,
}

/// Inserts a session on any executor (a pool, or a transaction shared with the user insert).
macro_rules! insert_session {
    ($session:expr, $executor:expr) => {
        sqlx::query(
            "INSERT INTO auth_sessions (id, user_id, created_at, expires_at, refresh_hash, last_used_at)
             VALUES ($1, $2, $3, $4, $5, $3)",
        )
        .bind($session.id)
        .bind($session.user_id)
        .bind($session.created_at)
        .bind($session.expires_at)
        .bind(&$session.refresh_hash)
        .execute($executor)
        .await?
        .rows_affected()
    };
}

const USER_COLUMNS: &str =
    "id, kind, password_hash, guest_secret_hash, banned_at, tokens_valid_after";

fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Why a user insert failed.
pub enum InsertError {
    UsernameTaken,
    Db(sqlx::Error),
}

impl From<sqlx::Error> for InsertError {
    fn from(err: sqlx::Error) -> Self {
        if is_unique_violation(&err) {
            InsertError::UsernameTaken
        } else {
            InsertError::Db(err)
        }
    }
}

#[derive(Debug, Clone)]
pub struct AuthStore {
    store: Store,
    new_users: Batcher<(NewUser, NewSession), Result<(), InsertError>>,
}

impl AuthStore {
    pub fn new(store: Store) -> Self {
        let writer = store.clone();
        Self {
            store,
            new_users: Batcher::new("auth_new_users", MAX_USERS_PER_BATCH, move |batch| {
                create_users(writer.clone(), batch)
            }),
        }
    }

    /// Inserts a user and their first session in one transaction. Concurrent calls share
    /// a transaction and a multi-row insert per table (group commit); a batch that fails
    /// is retried one user at a time, so each caller gets its own user's outcome (a taken
    /// username fails only the user that asked for it).
    pub async fn create_user(&self, user: NewUser, session: NewSession) -> Result<(), InsertError> {
        self.new_users
            .submit((user, session))
            .await
            .map_err(|gone| InsertError::Db(gone.into()))?
    }

    pub async fn insert_session(&self, session: &NewSession) -> Result<(), sqlx::Error> {
        let _ = write_with_pool!(&self.store, |pool| insert_session!(session, pool));
        Ok(())
    }

    pub async fn user_by_id(&self, id: Uuid) -> Result<Option<UserRow>, sqlx::Error> {
        let sql = format!("SELECT {USER_COLUMNS} FROM auth_users WHERE id = $1");
        Ok(with_pool!(&self.store, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await?))
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<UserRow>, sqlx::Error> {
        let sql = format!("SELECT {USER_COLUMNS} FROM auth_users WHERE username = $1");
        Ok(with_pool!(&self.store, |pool| sqlx::query_as(&sql)
            .bind(username)
            .fetch_optional(pool)
            .await?))
    }

    /// Turns a guest into an account, keeping its id. `false` if it is not a guest.
    pub async fn upgrade_guest(
        &self,
        id: Uuid,
        username: &str,
        email: &str,
        password_hash: &str,
        now: i64,
    ) -> Result<bool, InsertError> {
        let done = write_with_pool!(&self.store, |pool| {
            sqlx::query(
                "UPDATE auth_users SET kind = 'account', username = $2, email = $3, password_hash = $4,
                 guest_secret_hash = NULL, updated_at = $5 WHERE id = $1 AND kind = 'guest'",
            )
            .bind(id)
            .bind(username)
            .bind(email)
            .bind(password_hash)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// Swaps the session's refresh token if `old_key` is its live one, for the token and
    /// key `new_refresh` makes for that session; returns the session, its user and the
    /// new token. The old key is kept, so presenting it again can be recognised as reuse.
    /// Of two concurrent rotations of one token, one wins; the other finds the key gone.
    pub async fn rotate_refresh(
        &self,
        old_key: &[u8],
        now: i64,
        new_refresh: impl FnOnce(Uuid) -> (String, Vec<u8>),
    ) -> Result<Option<(Uuid, Uuid, String)>, sqlx::Error> {
        Ok(write_with_pool!(&self.store, |pool| {
            let mut tx = pool.begin().await?;
            let live: Option<(Uuid, Uuid)> = sqlx::query_as(
                "SELECT id, user_id FROM auth_sessions
                 WHERE refresh_hash = $1 AND revoked_at IS NULL AND expires_at > $2",
            )
            .bind(old_key)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((session_id, user_id)) = live else {
                return Ok(None);
            };
            let (new_token, new_key) = new_refresh(session_id);
            let swapped = sqlx::query(
                "UPDATE auth_sessions SET refresh_hash = $3, last_used_at = $4
                 WHERE id = $1 AND refresh_hash = $2 AND revoked_at IS NULL",
            )
            .bind(session_id)
            .bind(old_key)
            .bind(&new_key)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if swapped == 0 {
                return Ok(None);
            }
            sqlx::query("INSERT INTO auth_refresh_retired (hash, session_id, retired_at) VALUES ($1, $2, $3)")
                .bind(old_key)
                .bind(session_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Some((session_id, user_id, new_token))
        }))
    }

    /// The session a rotated-out refresh token belonged to.
    pub async fn retired_refresh(&self, hash: &[u8]) -> Result<Option<Uuid>, sqlx::Error> {
        Ok(with_pool!(&self.store, |pool| {
            sqlx::query_scalar("SELECT session_id FROM auth_refresh_retired WHERE hash = $1")
                .bind(hash)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Marks a live session revoked; `true` if it was live.
    pub async fn revoke_session(
        &self,
        sid: Uuid,
        reason: &str,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let affected = write_with_pool!(&self.store, |pool| {
            sqlx::query(
                "UPDATE auth_sessions SET revoked_at = $2, revoked_reason = $3 WHERE id = $1 AND revoked_at IS NULL",
            )
            .bind(sid)
            .bind(now)
            .bind(reason)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(affected == 1)
    }

    /// Revokes every live session of a user and refuses their older tokens; for bans
    /// (`banned`) and password changes (`new_password_hash`).
    pub async fn revoke_user(
        &self,
        user_id: Uuid,
        reason: &str,
        tokens_valid_after: i64,
        banned: Option<Option<i64>>,
        new_password_hash: Option<&str>,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        write_with_pool!(&self.store, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "UPDATE auth_users SET tokens_valid_after = $2, updated_at = $3,
                   banned_at = CASE WHEN $4 THEN $5 ELSE banned_at END,
                   password_hash = COALESCE($6, password_hash)
                 WHERE id = $1",
            )
            .bind(user_id)
            .bind(tokens_valid_after)
            .bind(now)
            .bind(banned.is_some())
            .bind(banned.flatten())
            .bind(new_password_hash)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE auth_sessions SET revoked_at = $2, revoked_reason = $3 WHERE user_id = $1 AND revoked_at IS NULL",
            )
            .bind(user_id)
            .bind(now)
            .bind(reason)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn set_unbanned(&self, user_id: Uuid, now: i64) -> Result<bool, sqlx::Error> {
        let affected = write_with_pool!(&self.store, |pool| {
            sqlx::query("UPDATE auth_users SET banned_at = NULL, updated_at = $2 WHERE id = $1")
                .bind(user_id)
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(affected == 1)
    }

    pub async fn sessions_of(&self, user_id: Uuid) -> Result<Vec<SessionRow>, sqlx::Error> {
        Ok(with_pool!(&self.store, |pool| {
            sqlx::query_as(
                "SELECT id, user_id, created_at, expires_at, revoked_at, revoked_reason, last_used_at
                 FROM auth_sessions WHERE user_id = $1 ORDER BY created_at DESC",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Sessions revoked, and users whose older tokens are refused, since `since`.
    pub async fn revocations_since(
        &self,
        since: i64,
    ) -> Result<(Vec<(Uuid, i64)>, Vec<(Uuid, i64)>), sqlx::Error> {
        Ok(with_pool!(&self.store, |pool| {
            let sessions =
                sqlx::query_as("SELECT id, revoked_at FROM auth_sessions WHERE revoked_at > $1")
                    .bind(since)
                    .fetch_all(pool)
                    .await?;
            let users = sqlx::query_as(
                "SELECT id, tokens_valid_after FROM auth_users WHERE tokens_valid_after > $1",
            )
            .bind(since)
            .fetch_all(pool)
            .await?;
            (sessions, users)
        }))
    }

    pub async fn insert_key(&self, kid: &str, der: &[u8], now: i64) -> Result<(), sqlx::Error> {
        write_with_pool!(&self.store, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE auth_signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO auth_signing_keys (kid, private_key, created_at) VALUES ($1, $2, $3)",
            )
            .bind(kid)
            .bind(der)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Keys still needed: the current one and those retired after `since`, newest first.
    pub async fn live_keys(
        &self,
        since: i64,
    ) -> Result<Vec<(String, Vec<u8>, Option<i64>)>, sqlx::Error> {
        Ok(with_pool!(&self.store, |pool| {
            sqlx::query_as(
                "SELECT kid, private_key, retired_at FROM auth_signing_keys
                 WHERE retired_at IS NULL OR retired_at > $1 ORDER BY created_at DESC",
            )
            .bind(since)
            .fetch_all(pool)
            .await?
        }))
    }
}

/// Writes a batch of new users with their sessions: all in one transaction with one
/// insert per table, or, if that fails, each in its own.
async fn create_users(
    store: Store,
    batch: Vec<(NewUser, NewSession)>,
) -> Vec<Result<(), InsertError>> {
    if batch.len() > 1 {
        match insert_users_together(&store, &batch).await {
            Ok(()) => return batch.iter().map(|_| Ok(())).collect(),
            Err(err) => {
                tracing::debug!(%err, users = batch.len(), "batched user insert failed; inserting one by one")
            }
        }
    }
    let mut outcomes = Vec::with_capacity(batch.len());
    for item in &batch {
        let alone = insert_users_together(&store, std::slice::from_ref(item)).await;
        outcomes.push(alone.map_err(InsertError::from));
    }
    outcomes
}

/// Inserts users and their sessions in one transaction, one statement per table.
async fn insert_users_together(
    store: &Store,
    batch: &[(NewUser, NewSession)],
) -> Result<(), sqlx::Error> {
    write_with_pool!(store, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::QueryBuilder::new(
            "INSERT INTO auth_users (id, kind, username, email, password_hash, guest_secret_hash, created_at, updated_at) ",
        )
        .push_values(batch, |mut row, (user, _)| {
            row.push_bind(user.id)
                .push_bind(user.kind)
                .push_bind(&user.username)
                .push_bind(&user.email)
                .push_bind(&user.password_hash)
                .push_bind(&user.guest_secret_hash)
                .push_bind(user.created_at)
                .push_bind(user.created_at);
        })
        .build()
        .execute(&mut *tx)
        .await?;
        sqlx::QueryBuilder::new(
            "INSERT INTO auth_sessions (id, user_id, created_at, expires_at, refresh_hash, last_used_at) ",
        )
        .push_values(batch, |mut row, (_, session)| {
            row.push_bind(session.id)
                .push_bind(session.user_id)
                .push_bind(session.created_at)
                .push_bind(session.expires_at)
                .push_bind(&session.refresh_hash)
                .push_bind(session.created_at);
        })
        .build()
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    });
    Ok(())
}
