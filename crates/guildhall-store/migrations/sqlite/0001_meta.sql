-- Facts about this installation (its id, when it was created). Services add their own tables
-- in later migrations.
CREATE TABLE IF NOT EXISTS guildhall_meta (
    key        TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
