//! Abuse and administration over real HTTP: bans, password changes, rate limits, and
//! login bursts against bounded password hashing.

#[macro_use]
mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::{Api, Db, expect_error, token, up};

on_both_stores!(admin_ban_and_password_change);

async fn admin_ban_and_password_change(db: Db) {
    let Some(stack) = up(db, |_| {}).await else {
        return;
    };
    let api = Api::new(&stack.base);
    let created = api.account("jack", "harkness of torchwood").await;
    let user = created["user_id"].as_str().unwrap();
    let admin = Some("test-admin-token-0123456789");

    expect_error(
        api.send(
            Method::POST,
            &format!("/admin/v1/users/{user}/ban"),
            Some("wrong-admin-token-xx"),
            None,
        )
        .await,
        401,
        "unauthorized",
    );
    let (status, _) = api
        .send(
            Method::POST,
            &format!("/admin/v1/users/{user}/ban"),
            admin,
            None,
        )
        .await;
    assert_eq!(status, 204);
    expect_error(
        api.get("/v1/profile", Some(token(&created))).await,
        401,
        "unauthorized",
    );
    let login = json!({"username": "jack", "password": "harkness of torchwood"});
    expect_error(
        api.post("/v1/session/login", None, login.clone()).await,
        403,
        "banned",
    );
    let (status, sessions) = api
        .get(&format!("/admin/v1/users/{user}/sessions"), admin)
        .await;
    assert_eq!(status, 200);
    assert!(
        sessions["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["revoked_reason"] == "ban"),
        "{sessions}"
    );
    let (status, _) = api
        .send(
            Method::POST,
            &format!("/admin/v1/users/{user}/unban"),
            admin,
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, fresh) = api.post("/v1/session/login", None, login).await;
    assert_eq!(status, 200, "{fresh}");
    assert_eq!(
        api.get("/v1/profile", Some(token(&fresh))).await.0,
        200,
        "new tokens after unban work"
    );

    let other_session = api
        .post(
            "/v1/session/login",
            None,
            json!({"username": "jack", "password": "harkness of torchwood"}),
        )
        .await
        .1;
    let change =
        json!({"current_password": "harkness of torchwood", "new_password": "captain jack 2"});
    let (status, changed) = api
        .post("/v1/account/password", Some(token(&fresh)), change)
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        api.get("/v1/profile", Some(token(&changed))).await.0,
        200,
        "the new session works at once"
    );
    expect_error(
        api.get("/v1/profile", Some(token(&other_session))).await,
        401,
        "unauthorized",
    );
    expect_error(
        api.post(
            "/v1/session/login",
            None,
            json!({"username": "jack", "password": "harkness of torchwood"}),
        )
        .await,
        401,
        "invalid_credentials",
    );
    let wrong_current =
        json!({"current_password": "nope nope nope", "new_password": "whatever123"});
    expect_error(
        api.post("/v1/account/password", Some(token(&changed)), wrong_current)
            .await,
        401,
        "invalid_credentials",
    );
}

#[tokio::test]
async fn login_is_rate_limited_per_username() {
    let Some(stack) = up(Db::Sqlite, |c| c.auth.login_per_username_per_minute = 3).await else {
        return;
    };
    let api = Api::new(&stack.base);
    api.account("amy", "pond of leadworth").await;
    for _ in 0..3 {
        api.post(
            "/v1/session/login",
            None,
            json!({"username": "amy", "password": "wrong password!"}),
        )
        .await;
    }
    let response = api
        .http
        .post(format!("{}/v1/session/login", api.base))
        .json(&json!({"username": "amy", "password": "pond of leadworth"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert!(response.headers().get("retry-after").is_some());
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
}

#[tokio::test]
async fn a_login_burst_is_shed_quickly_not_queued() {
    // Slow hashing (256 MiB, 3 passes) so the burst outruns the hashing slots.
    let Some(stack) = up(Db::Sqlite, |c| {
        c.auth.argon2_memory_kib = 262_144;
        c.auth.argon2_iterations = 3;
        c.auth.login_per_ip_per_minute = 1_000;
        c.auth.login_per_username_per_minute = 1_000;
    })
    .await
    else {
        return;
    };
    let api = Api::new(&stack.base);
    api.account("clara", "impossible girl").await;
    let started = std::time::Instant::now();
    let logins: Vec<_> = (0..12)
        .map(|_| {
            let api = api.clone();
            tokio::spawn(async move {
                let response = api
                    .http
                    .post(format!("{}/v1/session/login", api.base))
                    .json(&json!({"username": "clara", "password": "impossible girl"}))
                    .send()
                    .await
                    .unwrap();
                let retry_after = response.headers().get("retry-after").is_some();
                (response.status().as_u16(), retry_after)
            })
        })
        .collect();
    let (mut ok, mut shed) = (0, 0);
    for login in logins {
        match login.await.unwrap() {
            (200, _) => ok += 1,
            (429, true) => shed += 1,
            other => panic!("only 200 or 429 with Retry-After, got {other:?}"),
        }
    }
    assert!(
        ok >= 1 && shed >= 1,
        "some served, the excess shed: {ok} ok, {shed} shed"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}
