-- Which players instance may serve (and write) a user's characters. A lease is held
-- until `expires_at` (Unix milliseconds) and renewed by its instance; writes are fenced on
-- holding it, so an instance that lost its lease can never overwrite the new owner's state.
CREATE TABLE players_leases (
    owner       TEXT PRIMARY KEY,
    instance    TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX players_leases_instance ON players_leases (instance);
