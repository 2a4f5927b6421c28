-- Arena match history (arena service): one row per finished match, one per player in it,
-- and running totals per user for `GET /v1/users/{id}/stats`.
CREATE TABLE arena_matches (
    id          BLOB PRIMARY KEY NOT NULL,
    lobby_id    BLOB NOT NULL,
    mode        TEXT NOT NULL,
    number      BIGINT NOT NULL,
    ended_by    TEXT NOT NULL,
    ticks       BIGINT NOT NULL,
    ended_at    BIGINT NOT NULL
);

CREATE TABLE arena_match_players (
    match_id    BLOB NOT NULL,
    user_id     BLOB NOT NULL,
    kills       BIGINT NOT NULL,
    deaths      BIGINT NOT NULL,
    winner      BOOLEAN NOT NULL,
    ended_at    BIGINT NOT NULL,
    PRIMARY KEY (match_id, user_id)
);
CREATE INDEX arena_match_players_user ON arena_match_players (user_id, ended_at);

CREATE TABLE arena_player_stats (
    user_id     BLOB PRIMARY KEY NOT NULL,
    matches     BIGINT NOT NULL,
    wins        BIGINT NOT NULL,
    kills       BIGINT NOT NULL,
    deaths      BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
