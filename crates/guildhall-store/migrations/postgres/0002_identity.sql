-- Identity: auth owns users, sessions and signing keys; head owns profiles and the
-- username skeletons it checks display names against. Times are Unix seconds.
CREATE TABLE auth_users (
    id                  UUID PRIMARY KEY,
    kind                TEXT NOT NULL CHECK (kind IN ('guest', 'account')),
    username            TEXT UNIQUE,
    email               TEXT,
    password_hash       TEXT,
    guest_secret_hash   BYTEA,
    banned_at           BIGINT,
    -- Access tokens issued before this instant are refused (ban, password change).
    tokens_valid_after  BIGINT NOT NULL DEFAULT 0,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);

CREATE TABLE auth_sessions (
    id                  UUID PRIMARY KEY,
    user_id             UUID NOT NULL REFERENCES auth_users (id),
    created_at          BIGINT NOT NULL,
    expires_at          BIGINT NOT NULL,
    revoked_at          BIGINT,
    revoked_reason      TEXT,
    -- SHA-256 of the live refresh token; rotated on every use.
    refresh_hash        BYTEA NOT NULL UNIQUE,
    last_used_at        BIGINT NOT NULL
);
CREATE INDEX auth_sessions_user ON auth_sessions (user_id);
CREATE INDEX auth_sessions_revoked ON auth_sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- Refresh tokens already rotated out: presenting one again revokes its session.
CREATE TABLE auth_refresh_retired (
    hash        BYTEA PRIMARY KEY,
    session_id  UUID NOT NULL REFERENCES auth_sessions (id),
    retired_at  BIGINT NOT NULL
);

CREATE TABLE auth_signing_keys (
    kid          TEXT PRIMARY KEY,
    private_key  BYTEA NOT NULL,
    created_at   BIGINT NOT NULL,
    retired_at   BIGINT
);

CREATE TABLE head_profiles (
    user_id       UUID PRIMARY KEY,
    display_name  TEXT NOT NULL,
    display_key   TEXT NOT NULL,
    kind          TEXT NOT NULL,
    version       BIGINT NOT NULL,
    legacy_id     TEXT UNIQUE,
    import_batch  TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX head_profiles_import_batch ON head_profiles (import_batch) WHERE import_batch IS NOT NULL;

CREATE TABLE head_username_skeletons (
    skeleton  TEXT PRIMARY KEY,
    user_id   UUID NOT NULL
);
