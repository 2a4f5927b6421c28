//! Characters on SQLite and PostgreSQL as the database sees them: write-behind coalescing
//! and flushes, write-through commits, the final flush at shutdown, dead letters and their
//! replay, and Idempotency-Key answers that outlive the process.

#[macro_use]
mod support;

use std::time::Duration;

use guildhall_store::{Store, StoreOptions, with_pool};
use reqwest::Method;
use serde_json::{Value, json};
use support::characters::{create, keyed, path, tordek};
use support::{Api, Db, Stack, scrape, token, up};

on_both_stores!(
    idempotency_keys_outlive_the_process,
    write_behind_coalesces_and_flushes,
    write_through_commits_before_answering,
    shutdown_flushes_everything,
    poisoned_rows_go_to_dead_letters_and_replay,
);

/// A connection of its own to a stack's database, to look behind the API.
async fn open_store(url: &str) -> Store {
    Store::connect(&StoreOptions {
        url: url.to_owned(),
        max_connections: 1,
        connect_timeout: Duration::from_secs(5),
    })
    .await
    .unwrap()
}

/// A character's stored (version, deleted_at, idempotency), straight from the database.
async fn stored_row(url: &str, id: &str) -> Option<(i64, Option<i64>, String)> {
    let store = open_store(url).await;
    let id = uuid::Uuid::parse_str(id).unwrap();
    let row = with_pool!(&store, |pool| {
        sqlx::query_as(
            "SELECT version, deleted_at, idempotency FROM players_characters WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await
        .unwrap()
    });
    store.close().await;
    row
}

/// The stored (version, deleted) of a character.
async fn stored(stack: &Stack, id: &str) -> Option<(i64, bool)> {
    let url = stack.running.platform.config.database_url();
    let row = stored_row(&url, id).await;
    row.map(|(v, d, _)| (v, d.is_some()))
}

/// The keys of the answers stored with a character, oldest first.
async fn stored_answers(url: &str, id: &str) -> Vec<String> {
    let Some((_, _, answers)) = stored_row(url, id).await else {
        return Vec::new();
    };
    let answers: Vec<Value> = serde_json::from_str(&answers).unwrap();
    answers
        .iter()
        .map(|a| a["key"].as_str().unwrap().to_owned())
        .collect()
}

/// Keyed answers are stored with the character, a window of the newest per character, and a
/// new process that loads the character replays them byte for byte; in both write modes.
async fn idempotency_keys_outlive_the_process(db: Db) {
    for mode in [
        guildhall_config::WriteMode::WriteBehind,
        guildhall_config::WriteMode::WriteThrough,
    ] {
        let Some(stack) = up(db, |c| {
            c.players.write_mode = mode;
            c.players.idempotency_keys_per_character = 3;
        })
        .await
        else {
            return;
        };
        let api = Api::new(&stack.base);
        let me = api.guest(None).await;
        let t = token(&me).to_owned();
        let send = |api: Api, path: String, key: String, body: Value| {
            let t = t.clone();
            async move { keyed(&api, Method::PATCH, &path, &t, &key, &body).await }
        };
        let c = create(&api, &t).await;
        let id = c["id"].as_str().unwrap().to_owned();
        let hit = path(&c, "/stats/hitpoints");
        let mut first = Vec::new();
        for n in 1..=5i64 {
            let body = json!({"delta": -1, "version": n});
            let answer = send(api.clone(), hit.clone(), format!("hit-{n}"), body).await;
            assert_eq!(answer.0, 200, "{mode:?}: {}", answer.1);
            first.push(answer);
        }

        // A clean stop; then the same data in a new process, whose cache is empty.
        let support::Stack {
            running, _dir, _db, ..
        } = stack;
        let config = running.platform.config.clone();
        assert!(running.shutdown().await);
        let url = config.database_url();
        assert_eq!(
            stored_answers(&url, &id).await,
            ["hit-3", "hit-4", "hit-5"],
            "{mode:?}: the newest three answers are stored, the older ones dropped"
        );
        let running = guildhall::platform::start(
            guildhall_config::Config::clone(&config),
            guildhall::platform::Shape::Up,
        )
        .await
        .unwrap();
        let api = Api::new(&format!("http://{}", running.http_addr()));
        for n in [5i64, 3] {
            let body = json!({"delta": -1, "version": n});
            let again = send(api.clone(), hit.clone(), format!("hit-{n}"), body).await;
            assert_eq!(
                again,
                first[n as usize - 1],
                "{mode:?}: hit-{n} replays, byte for byte"
            );
        }
        // hit-2 fell out of the window: it is a new request, and its version is stale.
        let body = json!({"delta": -1, "version": 2});
        let forgotten = send(api.clone(), hit.clone(), "hit-2".into(), body).await;
        assert_eq!(forgotten.0, 409, "{mode:?}: {}", forgotten.1);
        let body = json!({"delta": -1, "version": 6});
        let next = send(api.clone(), hit.clone(), "hit-6".into(), body).await;
        assert_eq!(next.0, 200, "{mode:?}: {}", next.1);
        assert!(running.shutdown().await);
        assert_eq!(
            stored_answers(&url, &id).await,
            ["hit-4", "hit-5", "hit-6"],
            "{mode:?}: the window moved on in the database"
        );
        drop((_dir, _db));
    }
}

async fn write_behind_coalesces_and_flushes(db: Db) {
    let Some(stack) = up(db, |_| {}).await else {
        return;
    };
    let api = Api::new(&stack.base);
    let me = api.guest(None).await;
    let c = create(&api, token(&me)).await;
    let id = c["id"].as_str().unwrap();
    for version in 1..=50 {
        let delta = if version % 2 == 0 { 1 } else { -1 };
        let (status, _) = api
            .send(
                Method::PATCH,
                &path(&c, "/stats/hitpoints"),
                Some(token(&me)),
                Some(json!({"delta": delta, "version": version})),
            )
            .await;
        assert_eq!(status, 200);
    }
    // Acknowledged at once, written within the flush interval (1 s by default).
    guildhall_testkit::eventually("the flush", Duration::from_secs(5), || async {
        (stored(&stack, id).await == Some((51, false))).then_some(())
    })
    .await;
    let metrics = scrape(&stack).await;
    let written: f64 = metrics
        .lines()
        .find(|l| l.starts_with("players_rows_written_total"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .expect("rows written metric");
    assert!(
        written <= 10.0,
        "51 states coalesced into few row writes, got {written}"
    );
}

async fn write_through_commits_before_answering(db: Db) {
    let Some(stack) = up(db, |c| {
        c.players.write_mode = guildhall_config::WriteMode::WriteThrough
    })
    .await
    else {
        return;
    };
    let api = Api::new(&stack.base);
    let me = api.guest(None).await;
    let c = create(&api, token(&me)).await;
    let id = c["id"].as_str().unwrap();
    assert_eq!(
        stored(&stack, id).await,
        Some((1, false)),
        "stored before the 201"
    );
    for version in 1..=5 {
        api.send(
            Method::POST,
            &path(&c, "/temp-hp"),
            Some(token(&me)),
            Some(json!({"amount": version, "version": version})),
        )
        .await;
        assert_eq!(
            stored(&stack, id).await,
            Some((version + 1, false)),
            "stored before the 200"
        );
    }
    api.send(
        Method::DELETE,
        &path(&c, ""),
        Some(token(&me)),
        Some(json!({"version": 6})),
    )
    .await;
    assert_eq!(stored(&stack, id).await, Some((7, true)));
}

async fn shutdown_flushes_everything(db: Db) {
    // A long interval: nothing would be flushed before shutdown without the final flush.
    let Some(stack) = up(db, |c| c.players.flush_interval_ms = 5000).await else {
        return;
    };
    let api = Api::new(&stack.base);
    let me = api.guest(None).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let c = create(&api, token(&me)).await;
        api.send(
            Method::POST,
            &path(&c, "/level-up"),
            Some(token(&me)),
            Some(json!({"version": 1})),
        )
        .await;
        ids.push(c["id"].as_str().unwrap().to_owned());
    }
    let support::Stack {
        running, _dir, _db, ..
    } = stack;
    let config = running.platform.config.clone();
    assert!(running.shutdown().await);
    let store = open_store(&config.database_url()).await;
    for id in ids {
        let version: i64 = with_pool!(&store, |pool| {
            sqlx::query_scalar("SELECT version FROM players_characters WHERE id = $1")
                .bind(uuid::Uuid::parse_str(&id).unwrap())
                .fetch_one(pool)
                .await
                .unwrap()
        });
        assert_eq!(version, 2, "flushed at shutdown");
    }
    drop(_db);
}

async fn poisoned_rows_go_to_dead_letters_and_replay(db: Db) {
    let Some(stack) = up(db, |c| c.players.flush_attempts = 2).await else {
        return;
    };
    let url = stack.running.platform.config.database_url();
    let store = open_store(&url).await;
    // A row-specific failure while the database stays up: a trigger refusing one name.
    match &store {
        Store::Sqlite(sqlite) => {
            let pool = sqlite.pool();
            for event in ["INSERT", "UPDATE"] {
                sqlx::query(&format!(
                    "CREATE TRIGGER poison_{event} BEFORE {event} ON players_characters
                     WHEN NEW.state LIKE '%Poison%' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END"
                ))
                .execute(pool)
                .await
                .unwrap();
            }
        }
        Store::Postgres(pool) => {
            sqlx::query(
                "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN
                   IF NEW.state LIKE '%Poison%' THEN RAISE EXCEPTION 'poisoned row'; END IF; RETURN NEW;
                 END $$ LANGUAGE plpgsql",
            )
            .execute(pool)
            .await
            .unwrap();
            sqlx::query("CREATE TRIGGER poison BEFORE INSERT OR UPDATE ON players_characters FOR EACH ROW EXECUTE FUNCTION poison()")
                .execute(pool)
                .await
                .unwrap();
        }
    }
    let api = Api::new(&stack.base);
    let me = api.guest(None).await;
    let mut body = tordek();
    body["name"] = json!("Poison Ivy");
    let (status, poisoned) = keyed(
        &api,
        Method::POST,
        "/v1/characters",
        token(&me),
        "ivy-1",
        &body,
    )
    .await;
    let poisoned: Value = serde_json::from_str(&poisoned).unwrap();
    assert_eq!(status, 201, "acknowledged from the cache: {poisoned}");
    let healthy = create(&api, token(&me)).await;

    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_guildhall"))
            .args(args)
            .env("GUILDHALL_DATABASE__URL", &url)
            .env("GUILDHALL_TELEMETRY__LOG_FILTER", "off")
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap())
    };
    let poisoned_id = poisoned["id"].as_str().unwrap().to_owned();
    let listing = guildhall_testkit::eventually("the dead letter", Duration::from_secs(10), || {
        let (code, out) = cli(&["admin", "dead-letters", "list"]);
        let found = code == Some(0) && out.contains(&poisoned_id);
        async move { found.then_some(out) }
    })
    .await;
    assert!(
        listing.contains("poisoned row"),
        "the error is kept: {listing}"
    );
    assert_eq!(
        stored(&stack, healthy["id"].as_str().unwrap()).await,
        Some((1, false)),
        "other rows were written"
    );
    assert_eq!(stored(&stack, &poisoned_id).await, None);

    // The operator fixes the cause and replays.
    match &store {
        Store::Sqlite(sqlite) => {
            let pool = sqlite.pool();
            for event in ["INSERT", "UPDATE"] {
                sqlx::query(&format!("DROP TRIGGER poison_{event}"))
                    .execute(pool)
                    .await
                    .unwrap();
            }
        }
        Store::Postgres(pool) => {
            sqlx::query("DROP TRIGGER poison ON players_characters")
                .execute(pool)
                .await
                .unwrap();
        }
    }
    let letter = listing
        .lines()
        .find(|l| l.contains(&poisoned_id))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let (code, out) = cli(&["admin", "dead-letters", "replay", &letter]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("stored"), "{out}");
    assert_eq!(stored(&stack, &poisoned_id).await, Some((1, false)));
    assert_eq!(
        stored_answers(&url, &poisoned_id).await,
        ["ivy-1"],
        "the create's answer was kept in the dead letter and replayed with it"
    );
    assert_eq!(
        cli(&["admin", "dead-letters", "replay", &letter]).0,
        Some(1),
        "a dead letter replays once"
    );
    store.close().await;
}
