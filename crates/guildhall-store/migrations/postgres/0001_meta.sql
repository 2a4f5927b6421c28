-- Facts about this installation (its id, when it was created). Services add their own tables
-- in later migrations.
CREATE TABLE IF NOT EXISTS guildhall_meta (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
