-- Characters (players service). The state is the rules crate's JSON; version, owner and
-- the tombstone are columns so writes can be conditional and lists indexed.
CREATE TABLE players_characters (
    id           BLOB PRIMARY KEY NOT NULL,
    owner        BLOB NOT NULL,
    version      BIGINT NOT NULL,
    state        TEXT NOT NULL,
    -- Recent Idempotency-Key answers for this character, written with the state they produced.
    idempotency  TEXT NOT NULL DEFAULT '[]',
    deleted_at   BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX players_characters_owner ON players_characters (owner) WHERE deleted_at IS NULL;

-- Writes that failed repeatedly for reasons of their own (not an unreachable database).
CREATE TABLE players_dead_letters (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    character_id  BLOB NOT NULL,
    version       BIGINT NOT NULL,
    row_json      TEXT NOT NULL,
    error         TEXT NOT NULL,
    failed_at     BIGINT NOT NULL,
    replayed_at   BIGINT
);
