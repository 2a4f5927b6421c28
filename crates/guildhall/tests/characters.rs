//! Characters over real HTTP, on SQLite and PostgreSQL, as a client sees them: intents,
//! versions, ownership, idempotency, concurrency and the metrics they leave. What the
//! database holds behind the API is `characters_storage.rs`.

#[macro_use]
mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::characters::{create, keyed, path, tordek};
use support::{Api, Db, expect_error, scrape, token, up};

on_both_stores!(
    create_read_and_ownership,
    intents_versions_and_rules,
    idempotency_keys,
    concurrent_intents_one_winner,
    intents_are_counted_by_intent_and_result,
);

async fn create_read_and_ownership(db: Db) {
    let Some(stack) = up(db, |_| {}).await else {
        return;
    };
    let api = Api::new(&stack.base);
    let me = api.guest(None).await;
    let other = api.guest(None).await;
    let c = create(&api, token(&me)).await;
    assert_eq!(
        (
            c["name"].as_str(),
            c["level"].as_i64(),
            c["version"].as_i64()
        ),
        (Some("Tordek"), Some(1), Some(1))
    );
    assert_eq!(
        (c["max_hp"].as_i64(), c["hp"].as_i64()),
        (Some(12), Some(12)),
        "d10 + Con 2"
    );
    assert_eq!(c["derived"]["armor_class"], 11);
    assert_eq!(c["derived"]["speed"], 25);
    assert_eq!(c["derived"]["saving_throws"]["str"], 4);
    assert!(c["created_at"].as_str().unwrap().ends_with('Z'));

    let (status, listed) = api.get("/v1/characters", Some(token(&me))).await;
    assert_eq!(status, 200);
    assert_eq!(listed["characters"].as_array().unwrap().len(), 1);
    assert_eq!(api.get(&path(&c, ""), Some(token(&me))).await.1, c);

    // Someone else's character does not exist for you.
    expect_error(
        api.get(&path(&c, ""), Some(token(&other))).await,
        404,
        "character_not_found",
    );
    let steal = api
        .send(
            Method::PATCH,
            &path(&c, "/stats/hitpoints"),
            Some(token(&other)),
            Some(json!({"delta": -5, "version": 1})),
        )
        .await;
    expect_error(steal, 404, "character_not_found");
    assert_eq!(
        api.get("/v1/characters", Some(token(&other))).await.1["characters"],
        json!([])
    );
    expect_error(
        api.get("/v1/characters/not-a-uuid", Some(token(&me))).await,
        404,
        "character_not_found",
    );
    expect_error(
        api.get(
            &format!("/v1/characters/{}", uuid::Uuid::new_v4()),
            Some(token(&me)),
        )
        .await,
        404,
        "character_not_found",
    );
    expect_error(api.get("/v1/characters", None).await, 401, "unauthorized");

    for bad in [
        json!({"name": "x", "race": "orc", "class": "fighter", "generation": "manual", "abilities": {"str": 10, "dex": 10, "con": 10, "int": 10, "wis": 10, "cha": 10}}),
        json!({"name": "x", "race": "human", "class": "fighter", "generation": "point_buy", "abilities": {"str": 15, "dex": 15, "con": 15, "int": 8, "wis": 8, "cha": 10}}),
        json!({"name": "", "race": "human", "class": "fighter", "generation": "manual", "abilities": {"str": 10, "dex": 10, "con": 10, "int": 10, "wis": 10, "cha": 10}}),
        json!({"name": "x", "race": "human", "class": "fighter", "generation": "manual", "abilities": {"str": 19, "dex": 10, "con": 10, "int": 10, "wis": 10, "cha": 10}}),
        // No generation named: the manual range, 3–18.
        json!({"name": "x", "race": "human", "class": "fighter", "abilities": {"str": 19, "dex": 10, "con": 10, "int": 10, "wis": 10, "cha": 10}}),
        json!({"name": "x", "race": "human", "class": "fighter", "abilities": {"str": 2, "dex": 10, "con": 10, "int": 10, "wis": 10, "cha": 10}}),
    ] {
        expect_error(
            api.post("/v1/characters", Some(token(&me)), bad).await,
            422,
            "invalid_intent",
        );
    }
    assert_eq!(
        api.get("/v1/characters", Some(token(&me))).await.1["characters"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "rejections created nothing"
    );
    // The issue's creation body names no generation method: scores 3–18 are taken as
    // rolled, so one that is neither a standard array nor a point buy is accepted.
    let (status, rolled) = api
        .post(
            "/v1/characters",
            Some(token(&me)),
            json!({"name": "Rolled", "race": "human", "class": "wizard", "abilities": {"str": 3, "dex": 18, "con": 17, "int": 18, "wis": 9, "cha": 4}}),
        )
        .await;
    assert_eq!(status, 201, "{rolled}");
    assert_eq!(
        (
            rolled["abilities"]["str"].as_i64(),
            rolled["abilities"]["int"].as_i64()
        ),
        (Some(3), Some(18))
    );
}

async fn intents_versions_and_rules(db: Db) {
    let Some(stack) = up(db, |_| {}).await else {
        return;
    };
    let api = Api::new(&stack.base);
    let me = api.guest(None).await;
    let t = token(&me);
    let c = create(&api, t).await;
    let act = |method: Method, rest: &str, body: Value| {
        let api = api.clone();
        let p = path(&c, rest);
        let t = t.to_owned();
        async move { api.send(method, &p, Some(&t), Some(body)).await }
    };

    let (status, c2) = act(Method::POST, "/temp-hp", json!({"amount": 5, "version": 1})).await;
    assert_eq!(
        (status, c2["temp_hp"].as_i64(), c2["version"].as_i64()),
        (200, Some(5), Some(2))
    );
    let (_, c3) = act(
        Method::PATCH,
        "/stats/hitpoints",
        json!({"delta": -8, "version": 2}),
    )
    .await;
    assert_eq!(
        (c3["temp_hp"].as_i64(), c3["hp"].as_i64()),
        (Some(0), Some(9)),
        "temporary HP go first"
    );

    // A stale version: 409 with the latest state, exactly as the seed shows.
    let stale = act(
        Method::PATCH,
        "/stats/hitpoints",
        json!({"delta": -1, "version": 2}),
    )
    .await;
    let body = expect_error(stale, 409, "version_conflict");
    assert_eq!(
        (
            body["character"]["version"].as_i64(),
            body["character"]["hp"].as_i64()
        ),
        (Some(3), Some(9))
    );
    assert!(body["character"]["derived"].is_object());

    let (status, armored) = act(
        Method::POST,
        "/equip-armor",
        json!({"armor": "chain_mail", "version": 3}),
    )
    .await;
    assert_eq!(status, 200, "{armored}");
    assert_eq!(
        (
            armored["derived"]["armor_class"].as_i64(),
            armored["derived"]["stealth_disadvantage"].as_bool()
        ),
        (Some(16), Some(true))
    );
    let (_, weapon) = act(
        Method::POST,
        "/equip-weapon",
        json!({"weapon": "greatsword", "version": 4}),
    )
    .await;
    assert_eq!(weapon["derived"]["attack"]["damage"], "2d6+2");
    expect_error(
        act(
            Method::POST,
            "/shield",
            json!({"equipped": true, "version": 5}),
        )
        .await,
        422,
        "invalid_intent",
    );
    expect_error(
        act(
            Method::POST,
            "/equip-armor",
            json!({"armor": "mithral_dream", "version": 5}),
        )
        .await,
        422,
        "invalid_intent",
    );
    expect_error(
        act(
            Method::PATCH,
            "/currency",
            json!({"deltas": {"gp": -1}, "version": 5}),
        )
        .await,
        422,
        "invalid_intent",
    );
    let (_, rich) = act(
        Method::PATCH,
        "/currency",
        json!({"deltas": {"gp": 10, "sp": 3}, "version": 5}),
    )
    .await;
    assert_eq!(
        rich["currency"],
        json!({"cp": 0, "sp": 3, "ep": 0, "gp": 10, "pp": 0})
    );
    let (_, leveled) = act(Method::POST, "/level-up", json!({"version": 6})).await;
    assert_eq!(
        (
            leveled["level"].as_i64(),
            leveled["max_hp"].as_i64(),
            leveled["hp"].as_i64()
        ),
        (Some(2), Some(20), Some(17))
    );

    // Bad requests change nothing.
    expect_error(
        act(Method::POST, "/level-up", json!({})).await,
        400,
        "invalid_request",
    );
    expect_error(
        act(Method::POST, "/level-up", json!({"version": "7"})).await,
        400,
        "invalid_request",
    );
    expect_error(
        act(
            Method::POST,
            "/level-up",
            json!({"version": 7, "levels": 3}),
        )
        .await,
        422,
        "invalid_intent",
    );
    expect_error(
        act(
            Method::PATCH,
            "/stats/hitpoints",
            json!({"delta": 1e10, "version": 7}),
        )
        .await,
        422,
        "invalid_intent",
    );
    let (_, now) = api.get(&path(&c, ""), Some(t)).await;
    assert_eq!(now["version"], 7, "only applied intents moved the version");

    let (status, _) = act(Method::DELETE, "", json!({"version": 7})).await;
    assert_eq!(status, 204);
    expect_error(
        api.get(&path(&c, ""), Some(t)).await,
        404,
        "character_not_found",
    );
    assert_eq!(
        api.get("/v1/characters", Some(t)).await.1["characters"],
        json!([])
    );
}

async fn idempotency_keys(db: Db) {
    let Some(stack) = up(db, |_| {}).await else {
        return;
    };
    let api = Api::new(&stack.base);
    let me = api.guest(None).await;
    let t = token(&me);
    let send = |method: Method, path: String, key: &'static str, body: Value| {
        let api = api.clone();
        let t = t.to_owned();
        async move {
            let (status, text) = keyed(&api, method, &path, &t, key, &body).await;
            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
        }
    };
    let first = send(Method::POST, "/v1/characters".into(), "create-1", tordek()).await;
    let retry = send(Method::POST, "/v1/characters".into(), "create-1", tordek()).await;
    assert_eq!(first.0, 201);
    assert_eq!(first, retry, "a retried create returns the first answer");
    assert_eq!(
        api.get("/v1/characters", Some(t)).await.1["characters"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "and creates nothing more"
    );

    let hit = format!(
        "/v1/characters/{}/stats/hitpoints",
        first.1["id"].as_str().unwrap()
    );
    let a = send(
        Method::PATCH,
        hit.clone(),
        "hit-1",
        json!({"delta": -3, "version": 1}),
    )
    .await;
    let b = send(
        Method::PATCH,
        hit.clone(),
        "hit-1",
        json!({"delta": -3, "version": 1}),
    )
    .await;
    assert_eq!(a, b);
    assert_eq!(
        (a.1["hp"].as_i64(), a.1["version"].as_i64()),
        (Some(9), Some(2)),
        "applied once"
    );
    let c = send(
        Method::PATCH,
        hit.clone(),
        "hit-2",
        json!({"delta": -3, "version": 2}),
    )
    .await;
    assert_eq!(c.1["hp"], 6, "a new key is a new intent");
    // Every key is remembered across the intents after it, not only the last one.
    for (key, version, first) in [("hit-1", 1, &a), ("hit-2", 2, &c)] {
        let again = send(
            Method::PATCH,
            hit.clone(),
            key,
            json!({"delta": -3, "version": version}),
        )
        .await;
        assert_eq!(&again, first, "{key} replays its first answer");
    }
    let retry = send(Method::POST, "/v1/characters".into(), "create-1", tordek()).await;
    assert_eq!(retry, first, "the create's answer too");
}

async fn concurrent_intents_one_winner(db: Db) {
    let Some(stack) = up(db, |_| {}).await else {
        return;
    };
    let api = Api::new(&stack.base);
    let me = api.guest(None).await;
    let c = create(&api, token(&me)).await;
    let p = path(&c, "/stats/hitpoints");
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (api, p, t) = (api.clone(), p.clone(), token(&me).to_owned());
            tokio::spawn(async move {
                api.send(
                    Method::PATCH,
                    &p,
                    Some(&t),
                    Some(json!({"delta": -1, "version": 1})),
                )
                .await
            })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            200 => ok += 1,
            409 => {
                assert_eq!(
                    body["character"]["version"], 2,
                    "the conflict carries the winner's state"
                );
                assert_eq!(body["character"]["hp"], 11);
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(ok, 1, "exactly one of 100 same-version intents wins");
}

/// The value of one exact series (`name{labels}`) in a Prometheus scrape; 0 if absent.
fn series(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

async fn intents_are_counted_by_intent_and_result(db: Db) {
    let Some(stack) = up(db, |_| {}).await else {
        return;
    };
    let api = Api::new(&stack.base);
    let me = api.guest(None).await;
    // The recorder is process-wide: compare with a scrape taken first.
    let before = scrape(&stack).await;
    let c = create(&api, token(&me)).await;
    let mut nameless = tordek();
    nameless["name"] = json!("   ");
    let (status, _) = api.post("/v1/characters", Some(token(&me)), nameless).await;
    assert_eq!(status, 422);
    for (body, expected) in [
        (json!({"amount": 5, "version": 1}), 200),
        (json!({"amount": 5, "version": 2}), 200),
        (json!({"amount": -1, "version": 3}), 422),
    ] {
        let (status, _) = api
            .post(&path(&c, "/temp-hp"), Some(token(&me)), body)
            .await;
        assert_eq!(status, expected);
    }
    let after = scrape(&stack).await;
    let delta = |name: &str| series(&after, name) - series(&before, name);
    for (name, expected) in [
        (r#"players_intents_total{intent="create",result="ok"}"#, 1.0),
        (
            r#"players_intents_total{intent="create",result="invalid"}"#,
            1.0,
        ),
        (
            r#"players_intents_total{intent="temp_hp",result="ok"}"#,
            2.0,
        ),
        (
            r#"players_intents_total{intent="temp_hp",result="invalid"}"#,
            1.0,
        ),
        (
            r#"players_intent_duration_seconds_count{intent="create"}"#,
            1.0,
        ),
        (
            r#"players_intent_duration_seconds_count{intent="temp_hp"}"#,
            2.0,
        ),
    ] {
        assert_eq!(delta(name), expected, "{name}");
    }
}
