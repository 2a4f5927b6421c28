//! Every identity route over real HTTP, success and failure, on SQLite and on PostgreSQL.

#[macro_use]
mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::{Api, Db, expect_error, token, up};

on_both_stores!(
    guests,
    accounts,
    guest_upgrade_keeps_identity,
    refresh_rotation_and_reuse,
    logout_revokes,
    profile_updates_and_versions,
    display_name_rules,
    public_profiles,
    bad_input_changes_nothing,
    concurrent_signups_each_get_their_own_outcome,
);

async fn guests(db: Db) {
    let Some(stack) = up(db, |_| {}).await else {
        return;
    };
    let api = Api::new(&stack.base);

    let named = api.guest(Some("  Ｒｏｓｅ   Tyler ")).await;
    assert_eq!(
        named["display_name"], "Rose Tyler",
        "RFC 8266 enforcement on the way in"
    );
    for key in [
        "guest_id",
        "guest_secret",
        "session_token",
        "refresh_token",
        "expires_at",
    ] {
        assert!(named[key].is_string(), "{key} in {named}");
    }
    let anonymous = api.guest(None).await;
    assert!(
        anonymous["display_name"]
            .as_str()
            .unwrap()
            .starts_with("Guest-")
    );
    // An empty body is a guest without a name too.
    let (status, _) = api.send(Method::POST, "/v1/guest/init", None, None).await;
    assert_eq!(status, 201);

    let (status, profile) = api.get("/v1/profile", Some(token(&named))).await;
    assert_eq!(status, 200);
    assert_eq!(profile["display_name"], "Rose Tyler");
    assert_eq!(profile["kind"], "guest");
    assert_eq!(profile["version"], 1);
    assert_eq!(profile["user_id"], named["guest_id"]);

    let login = json!({"guest_id": named["guest_id"], "guest_secret": named["guest_secret"]});
    let (status, again) = api.post("/v1/guest/login", None, login).await;
    assert_eq!(status, 200, "{again}");
    let (status, profile) = api.get("/v1/profile", Some(token(&again))).await;
    assert_eq!(
        (status, &profile["display_name"]),
        (200, &json!("Rose Tyler"))
    );

    let wrong = api
        .post(
            "/v1/guest/login",
            None,
            json!({"guest_id": named["guest_id"], "guest_secret": "nope"}),
        )
        .await;
    let wrong = expect_error(wrong, 401, "invalid_credentials");
    let unknown = api
        .post(
            "/v1/guest/login",
            None,
            json!({"guest_id": uuid::Uuid::new_v4(), "guest_secret": named["guest_secret"]}),
        )
        .await;
    let unknown = expect_error(unknown, 401, "invalid_credentials");
    assert_eq!(wrong, unknown, "no hint which part was wrong");
    expect_error(
        api.post(
            "/v1/guest/login",
            None,
            json!({"guest_id": "not-a-uuid", "guest_secret": "x"}),
        )
        .await,
        400,
        "invalid_request",
    );
}

async fn accounts(db: Db) {
    let Some(stack) = up(db, |_| {}).await else {
        return;
    };
    let api = Api::new(&stack.base);
    let created = api.account("Alice", "correct horse battery").await;
    assert!(created["user_id"].is_string() && created["session_token"].is_string());
    let (_, profile) = api.get("/v1/profile", Some(token(&created))).await;
    assert_eq!(
        (profile["display_name"].as_str(), profile["kind"].as_str()),
        (Some("Alice"), Some("account"))
    );

    // Usernames compare case-mapped (RFC 8265): ALICE is Alice.
    let taken = api
        .post(
            "/v1/accounts",
            None,
            json!({"username": "ALICE", "password": "another password", "email": "a2@example.com"}),
        )
        .await;
    expect_error(taken, 409, "username_taken");

    let (status, login) = api
        .post(
            "/v1/session/login",
            None,
            json!({"username": "alice", "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(status, 200, "{login}");
    assert_eq!(login["user_id"], created["user_id"]);
    let wrong_password = api
        .post(
            "/v1/session/login",
            None,
            json!({"username": "alice", "password": "wrong horse battery"}),
        )
        .await;
    let wrong_user = api
        .post(
            "/v1/session/login",
            None,
            json!({"username": "nobody", "password": "correct horse battery"}),
        )
        .await;
    let (a, b) = (
        expect_error(wrong_password, 401, "invalid_credentials"),
        expect_error(wrong_user, 401, "invalid_credentials"),
    );
    assert_eq!(a, b, "wrong username and wrong password look the same");

    for (username, password, email) in [
        ("al", "long enough pw", "x@example.com"),
        ("has space", "long enough pw", "x@example.com"),
        ("a".repeat(21).as_str(), "long enough pw", "x@example.com"),
        ("bob", "short", "x@example.com"),
        ("bob", &"p".repeat(129), "x@example.com"),
        ("bob", "long enough pw", "not-an-email"),
        ("bob", "long enough pw", "  padded@example.com  "),
    ] {
        let response = api
            .post(
                "/v1/accounts",
                None,
                json!({"username": username, "password": password, "email": email}),
            )
            .await;
        expect_error(response, 400, "invalid_request");
    }
    // A reserved-looking username is refused before anything is stored.
    let reserved = api
        .post(
            "/v1/accounts",
            None,
            json!({"username": "Admin", "password": "long enough pw", "email": "x@example.com"}),
        )
        .await;
    expect_error(reserved, 422, "display_name_reserved");

    // The JWKS publishes the key the token names.
    let (status, jwks) = api.get("/.well-known/jwks.json", None).await;
    assert_eq!(status, 200);
    let kid = jsonwebtoken::decode_header(token(&login))
        .unwrap()
        .kid
        .unwrap();
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == kid && k["alg"] == "EdDSA" && k["crv"] == "Ed25519")
    );
}

async fn guest_upgrade_keeps_identity(db: Db) {
    let Some(stack) = up(db, |_| {}).await else {
        return;
    };
    let api = Api::new(&stack.base);
    let guest = api.guest(Some("Martha")).await;
    let body =
        json!({"username": "martha", "password": "doctor who?", "email": "martha@example.com"});
    let (status, account) = api.post("/v1/accounts", Some(token(&guest)), body).await;
    assert_eq!(status, 201, "{account}");
    assert_eq!(
        account["user_id"], guest["guest_id"],
        "the guest keeps its id"
    );
    let (_, profile) = api.get("/v1/profile", Some(token(&account))).await;
    assert_eq!(
        (profile["display_name"].as_str(), profile["kind"].as_str()),
        (Some("Martha"), Some("account"))
    );
    // The guest's session and secret are over.
    expect_error(
        api.get("/v1/profile", Some(token(&guest))).await,
        401,
        "unauthorized",
    );
    let relogin = api
        .post(
            "/v1/guest/login",
            None,
            json!({"guest_id": guest["guest_id"], "guest_secret": guest["guest_secret"]}),
        )
        .await;
    expect_error(relogin, 401, "invalid_credentials");
    // An account cannot be "upgraded" again.
    let again = api
        .post(
            "/v1/accounts",
            Some(token(&account)),
            json!({"username": "martha2", "password": "doctor who?", "email": "m2@example.com"}),
        )
        .await;
    expect_error(again, 403, "forbidden");
}

async fn refresh_rotation_and_reuse(db: Db) {
    let Some(stack) = up(db, |_| {}).await else {
        return;
    };
    let api = Api::new(&stack.base);
    let guest = api.guest(None).await;
    let (status, second) = api
        .post(
            "/v1/session/refresh",
            None,
            json!({"refresh_token": guest["refresh_token"]}),
        )
        .await;
    assert_eq!(status, 200, "{second}");
    assert_ne!(second["refresh_token"], guest["refresh_token"], "rotated");
    assert_eq!(api.get("/v1/profile", Some(token(&second))).await.0, 200);

    // Replaying the first refresh token: refused, and the whole session is revoked.
    expect_error(
        api.post(
            "/v1/session/refresh",
            None,
            json!({"refresh_token": guest["refresh_token"]}),
        )
        .await,
        401,
        "unauthorized",
    );
    expect_error(
        api.post(
            "/v1/session/refresh",
            None,
            json!({"refresh_token": second["refresh_token"]}),
        )
        .await,
        401,
        "unauthorized",
    );
    expect_error(
        api.get("/v1/profile", Some(token(&second))).await,
        401,
        "unauthorized",
    );
    expect_error(
        api.post(
            "/v1/session/refresh",
            None,
            json!({"refresh_token": "garbage"}),
        )
        .await,
        401,
        "unauthorized",
    );
}

async fn logout_revokes(db: Db) {
    let Some(stack) = up(db, |_| {}).await else {
        return;
    };
    let api = Api::new(&stack.base);
    let guest = api.guest(None).await;
    let other = api.guest(None).await;
    let (status, _) = api
        .send(
            Method::POST,
            "/v1/session/logout",
            Some(token(&guest)),
            None,
        )
        .await;
    assert_eq!(status, 204);
    expect_error(
        api.get("/v1/profile", Some(token(&guest))).await,
        401,
        "unauthorized",
    );
    expect_error(
        api.send(
            Method::POST,
            "/v1/session/logout",
            Some(token(&guest)),
            None,
        )
        .await,
        401,
        "unauthorized",
    );
    expect_error(
        api.post(
            "/v1/session/refresh",
            None,
            json!({"refresh_token": guest["refresh_token"]}),
        )
        .await,
        401,
        "unauthorized",
    );
    assert_eq!(
        api.get("/v1/profile", Some(token(&other))).await.0,
        200,
        "other sessions are untouched"
    );
    expect_error(
        api.send(Method::POST, "/v1/session/logout", None, None)
            .await,
        401,
        "unauthorized",
    );
}

async fn profile_updates_and_versions(db: Db) {
    let Some(stack) = up(db, |_| {}).await else {
        return;
    };
    let api = Api::new(&stack.base);
    let guest = api.guest(Some("Donna")).await;
    let t = token(&guest);
    let put = |name: &str, if_match: Option<&str>| {
        let mut request = api
            .http
            .put(format!("{}/v1/profile", api.base))
            .bearer_auth(t)
            .json(&json!({"display_name": name}));
        if let Some(v) = if_match {
            request = request.header("if-match", v);
        }
        request.send()
    };
    let response = put("Donna Noble", None).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["etag"], "\"2\"");
    let profile: Value = response.json().await.unwrap();
    assert_eq!(
        (
            profile["display_name"].as_str(),
            profile["version"].as_i64()
        ),
        (Some("Donna Noble"), Some(2))
    );

    let stale = put("Stale Write", Some("\"1\"")).await.unwrap();
    assert_eq!(stale.status(), 409);
    let body: Value = stale.json().await.unwrap();
    assert_eq!(body["error"]["code"], "version_conflict");
    assert_eq!(
        body["profile"]["version"], 2,
        "the conflict carries the current profile"
    );
    assert_eq!(body["profile"]["display_name"], "Donna Noble");

    let fresh = put("Temp Donna", Some("\"2\"")).await.unwrap();
    assert_eq!(fresh.status(), 200);
    for bad in ["yesterday", "3", "W/\"3\"", "\"2\", \"3\""] {
        assert_eq!(
            put("Whatever", Some(bad)).await.unwrap().status(),
            400,
            "If-Match {bad}"
        );
    }
    // `*` means "whatever the current version is".
    assert_eq!(put("Star Donna", Some("*")).await.unwrap().status(), 200);
    assert_eq!(
        put("Temp Donna", Some("\"4\"")).await.unwrap().status(),
        200
    );
    let (_, profile) = api.get("/v1/profile", Some(t)).await;
    assert_eq!(
        (
            profile["display_name"].as_str(),
            profile["version"].as_i64()
        ),
        (Some("Temp Donna"), Some(5))
    );
    // The auth scheme is case-insensitive (RFC 9110).
    let lower = api
        .http
        .get(format!("{}/v1/profile", api.base))
        .header("authorization", format!("bearer {t}"))
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status(), 200);
}

async fn display_name_rules(db: Db) {
    let Some(stack) = up(db, |c| c.head.reserved_names = vec!["Gamemaster".into()]).await else {
        return;
    };
    let api = Api::new(&stack.base);
    api.account("rory", "the last centurion").await;
    let guest = api.guest(None).await;
    let t = token(&guest);
    let put = |name: String| {
        let api = api.clone();
        let t = t.to_owned();
        async move {
            api.send(
                Method::PUT,
                "/v1/profile",
                Some(&t),
                Some(json!({"display_name": name})),
            )
            .await
        }
    };
    for name in [
        "",
        "   ",
        &"x".repeat(33),
        "zero\u{200B}width",
        "bell\u{0007}",
        "rtl\u{202E}override",
    ] {
        expect_error(put(name.to_owned()).await, 422, "invalid_display_name");
    }
    for name in [
        "admin",
        "ADMIN",
        "Ａｄｍｉｎ",
        "\u{0430}dmin",
        "Moderator",
        "system",
        "Support",
        "GameMaster",
        "RORY",
        "rory",
    ] {
        expect_error(put(name.to_owned()).await, 422, "display_name_reserved");
    }
    let (status, profile) = put("Amy Pond".into()).await;
    assert_eq!(
        (status, profile["display_name"].as_str()),
        (200, Some("Amy Pond"))
    );
    // Rejections changed nothing: version went from 1 to 2 with the one accepted write.
    assert_eq!(profile["version"], 2);
    // Your own username is yours to display.
    let (_, rory) = api
        .post(
            "/v1/session/login",
            None,
            json!({"username": "rory", "password": "the last centurion"}),
        )
        .await;
    let (status, _) = api
        .send(
            Method::PUT,
            "/v1/profile",
            Some(token(&rory)),
            Some(json!({"display_name": "Rory"})),
        )
        .await;
    assert_eq!(status, 200);
}

async fn public_profiles(db: Db) {
    let Some(stack) = up(db, |_| {}).await else {
        return;
    };
    let api = Api::new(&stack.base);
    let a = api.guest(Some("Clara")).await;
    let b = api.guest(Some("Danny")).await;
    let (status, profile) = api
        .get(
            &format!("/v1/users/{}/profile", a["guest_id"].as_str().unwrap()),
            Some(token(&b)),
        )
        .await;
    assert_eq!(
        (status, profile["display_name"].as_str()),
        (200, Some("Clara"))
    );
    assert!(profile.get("version").is_none() && profile.get("guest_secret").is_none());
    expect_error(
        api.get(
            &format!("/v1/users/{}/profile", uuid::Uuid::new_v4()),
            Some(token(&b)),
        )
        .await,
        404,
        "user_not_found",
    );
    expect_error(
        api.get(
            &format!("/v1/users/{}/profile", a["guest_id"].as_str().unwrap()),
            None,
        )
        .await,
        401,
        "unauthorized",
    );
    expect_error(
        api.get("/v1/users/not-a-uuid/profile", Some(token(&b)))
            .await,
        400,
        "invalid_request",
    );
    expect_error(
        api.get("/v1/profile", Some("Bearer-but-garbage")).await,
        401,
        "unauthorized",
    );
}

async fn bad_input_changes_nothing(db: Db) {
    let Some(stack) = up(db, |_| {}).await else {
        return;
    };
    let api = Api::new(&stack.base);
    let guest = api.guest(Some("River")).await;
    let t = token(&guest);
    let raw = |method: Method, path: &str, body: Vec<u8>| {
        api.http
            .request(method, format!("{}{path}", api.base))
            .bearer_auth(t)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let cases: Vec<(Method, &str, Vec<u8>, u16)> = vec![
        (
            Method::PUT,
            "/v1/profile",
            b"{\"display_name\": ".to_vec(),
            400,
        ),
        (
            Method::PUT,
            "/v1/profile",
            b"{\"display_name\": 42}".to_vec(),
            400,
        ),
        (
            Method::PUT,
            "/v1/profile",
            b"{\"display_name\": \"x\", \"version\": 9}".to_vec(),
            400,
        ),
        (Method::PUT, "/v1/profile", b"[1,2,3]".to_vec(), 400),
        (
            Method::PUT,
            "/v1/profile",
            vec![b'{', b'"', 0xC3, 0x28, b'"', b'}'],
            400,
        ),
        (
            Method::PUT,
            "/v1/profile",
            format!("{{\"display_name\": \"{}\"}}", "x".repeat(200_000)).into_bytes(),
            413,
        ),
        (
            Method::PUT,
            "/v1/profile",
            b"{\"display_name\": \"Robert'); DROP TABLE head_profiles;--\"}".to_vec(),
            422,
        ),
        (
            Method::POST,
            "/v1/guest/init",
            b"{\"display_name\": null, \"admin\": true}".to_vec(),
            400,
        ),
        (
            Method::POST,
            "/v1/session/login",
            b"{\"username\": \"x' OR '1'='1\", \"password\": \"' OR 1=1 --\"}".to_vec(),
            401,
        ),
        (
            Method::POST,
            "/v1/accounts",
            b"{\"username\": [], \"password\": {}, \"email\": 1}".to_vec(),
            400,
        ),
    ];
    for (method, path, body, want) in cases {
        let response = raw(method.clone(), path, body).await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, want, "{method} {path}: {body}");
        assert!(
            body["error"]["code"].is_string(),
            "envelope for {method} {path}: {body}"
        );
    }
    // SQL meta-characters are just a (too long? no: valid) display name when legal.
    let (status, profile) = api
        .send(
            Method::PUT,
            "/v1/profile",
            Some(t),
            Some(json!({"display_name": "O'Brien; --"})),
        )
        .await;
    assert_eq!(
        (status, profile["display_name"].as_str()),
        (200, Some("O'Brien; --"))
    );
    assert_eq!(
        profile["version"], 2,
        "every rejected request above changed nothing"
    );
}

/// Concurrent creates share transactions (group commit): each caller must still get its
/// own user, its own profile and its own outcome, and one taken username must fail only
/// the requests that asked for it.
async fn concurrent_signups_each_get_their_own_outcome(db: Db) {
    let Some(stack) = up(db, |config| config.auth.register_per_ip_per_minute = 10_000).await else {
        return;
    };
    let api = Api::new(&stack.base);

    let guests = futures_util::future::join_all((0..40).map(|i| {
        let api = &api;
        async move {
            let name = format!("Guest Number {i}");
            (name.clone(), api.guest(Some(&name)).await)
        }
    }))
    .await;
    let mut ids = std::collections::HashSet::new();
    for (name, guest) in &guests {
        assert!(
            ids.insert(guest["guest_id"].as_str().unwrap().to_owned()),
            "duplicate id"
        );
        let (status, profile) = api.get("/v1/profile", Some(token(guest))).await;
        assert_eq!(status, 200, "{profile}");
        assert_eq!(
            (
                profile["user_id"].as_str(),
                profile["display_name"].as_str()
            ),
            (guest["guest_id"].as_str(), Some(name.as_str())),
            "each guest sees its own profile"
        );
    }

    // Four ask for the same username (compared case-mapped), two for their own.
    let usernames = ["Zed", "zed", "ZED", "Zed", "Ann", "Bob"];
    let outcomes = futures_util::future::join_all(usernames.iter().map(|username| {
        let api = &api;
        async move {
            let body = json!({"username": username, "password": "long enough pass", "email": "z@example.com"});
            loop {
                // A saturated hashing slot answers 429; a client tries again.
                let (status, body) = api.post("/v1/accounts", None, body.clone()).await;
                if status != 429 {
                    return (status, body);
                }
            }
        }
    }))
    .await;
    let statuses: Vec<u16> = outcomes.iter().map(|(status, _)| *status).collect();
    assert_eq!(
        statuses[..4].iter().filter(|s| **s == 201).count(),
        1,
        "exactly one Zed: {outcomes:?}"
    );
    for (status, body) in &outcomes[..4] {
        if *status != 201 {
            expect_error((*status, body.clone()), 409, "username_taken");
        }
    }
    assert_eq!(&statuses[4..], [201, 201], "{outcomes:?}");
    for (status, body) in &outcomes {
        if *status == 201 {
            let (status, profile) = api.get("/v1/profile", Some(token(body))).await;
            assert_eq!((status, &profile["user_id"]), (200, &body["user_id"]));
        }
    }
}
