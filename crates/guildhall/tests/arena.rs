//! Matchmaking and the arena in `guildhall up`, on SQLite and PostgreSQL: the whole path
//! a client takes (guest init → ticket → long-poll → assignment → WebSocket join →
//! snapshots → match end → stats) over real HTTP and WebSocket, and the ticket API's
//! refusals.

#[macro_use]
mod support;

use std::time::Duration;

use guildhall_bots::{Incoming, Session};
use guildhall_testkit::eventually;
use reqwest::Method;
use serde_json::{Value, json};
use support::{Api, Db, expect_error, token};

const WAIT: Duration = Duration::from_secs(10);

on_both_stores!(
    two_players_are_matched_play_and_their_results_are_kept,
    ticket_rules
);

async fn ticket(api: &Api, player: &Value, mode: &str) -> (u16, Value) {
    api.post(
        "/v1/matchmaking/tickets",
        Some(token(player)),
        json!({ "mode": mode }),
    )
    .await
}

async fn assignment(api: &Api, player: &Value, ticket: &str) -> Value {
    eventually("the ticket to be assigned", WAIT, || async {
        let (status, body) = api
            .get(
                &format!("/v1/matchmaking/tickets/{ticket}?wait=5"),
                Some(token(player)),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        (body["status"] == "assigned").then(|| body["assignment"].clone())
    })
    .await
}

async fn jet_position(session: &mut Session, jet: &Value) -> (f64, f64) {
    loop {
        let snapshot = session.expect("snapshot", WAIT).await.unwrap();
        if let Some(j) = snapshot["jets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| &j["id"] == jet)
        {
            return (j["x"].as_f64().unwrap(), j["y"].as_f64().unwrap());
        }
    }
}

async fn two_players_are_matched_play_and_their_results_are_kept(db: Db) {
    let Some(stack) = support::up(db, |config| {
        config.arena.time_limit_secs = 10;
    })
    .await
    else {
        return;
    };
    let api = Api::new(&stack.base);
    let (a, b) = (api.guest(None).await, api.guest(None).await);

    let (status, queued) = ticket(&api, &a, "arena-ffa").await;
    assert_eq!(status, 202, "{queued}");
    assert_eq!(queued["status"], "queued");
    let ticket_a = queued["ticket_id"].as_str().unwrap().to_owned();
    // Alone, A stays queued: a long-poll comes back queued after its wait.
    let started = std::time::Instant::now();
    let (_, still) = api
        .get(
            &format!("/v1/matchmaking/tickets/{ticket_a}?wait=1"),
            Some(token(&a)),
        )
        .await;
    assert_eq!(still["status"], "queued");
    assert!(started.elapsed() >= Duration::from_millis(900));

    let (status, queued_b) = ticket(&api, &b, "arena-ffa").await;
    assert_eq!(status, 202);
    let ticket_b = queued_b["ticket_id"].as_str().unwrap().to_owned();
    let (seat_a, seat_b) = (
        assignment(&api, &a, &ticket_a).await,
        assignment(&api, &b, &ticket_b).await,
    );
    assert_eq!(seat_a["lobby_id"], seat_b["lobby_id"]);
    assert_eq!(
        seat_a["ws_url"],
        format!("ws://{}/arena/ws", stack.running.http_addr())
    );

    // A speaks JSON, B MessagePack.
    let mut sa = Session::connect(seat_a["ws_url"].as_str().unwrap(), false)
        .await
        .unwrap();
    let mut sb = Session::connect(seat_b["ws_url"].as_str().unwrap(), true)
        .await
        .unwrap();
    let welcome_a = sa
        .join(seat_a["join_token"].as_str().unwrap())
        .await
        .unwrap();
    let welcome_b = sb
        .join(seat_b["join_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(welcome_a["lobby_id"], seat_a["lobby_id"]);
    let jet_a = welcome_a["jet_id"].clone();
    let jet_b = welcome_b["jet_id"].clone();

    // A thrusts; B sees A's jet move.
    let before = jet_position(&mut sb, &jet_a).await;
    sa.send(&json!({"type": "input", "seq": 1, "thrust": true, "turn": 0, "fire": false}))
        .await
        .unwrap();
    let mut moved = 0.0;
    for _ in 0..30 {
        let now = jet_position(&mut sb, &jet_a).await;
        moved = ((now.0 - before.0).powi(2) + (now.1 - before.1).powi(2)).sqrt();
        if moved > 20.0 {
            break;
        }
    }
    assert!(moved > 20.0, "A's jet moved only {moved} as B saw it");

    // The 10-second match ends for both, with both in the results.
    let end = sb
        .expect("match_end", Duration::from_secs(20))
        .await
        .unwrap();
    let results = end["results"].as_array().unwrap();
    let users: Vec<&Value> = results.iter().map(|r| &r["user_id"]).collect();
    assert!(
        users.contains(&&a["guest_id"]) && users.contains(&&b["guest_id"]),
        "{end}"
    );
    assert!(results.iter().any(|r| r["jet_id"] == jet_b));
    // ...and is in both players' stats.
    for player in [&a, &b] {
        let id = player["guest_id"].as_str().unwrap();
        let stats = eventually("the match in the stats", WAIT, || async {
            let (status, stats) = api.get(&format!("/v1/users/{id}/stats"), None).await;
            assert_eq!(status, 200);
            (stats["matches"] == 1).then_some(stats)
        })
        .await;
        assert_eq!(stats["recent"].as_array().unwrap().len(), 1);
    }
    let (_, nobody) = api
        .get(&format!("/v1/users/{}/stats", uuid::Uuid::new_v4()), None)
        .await;
    assert_eq!(nobody["matches"], 0);
    expect_error(
        api.get("/v1/users/not-a-uuid/stats", None).await,
        400,
        "invalid_request",
    );

    // Leaving ends the session cleanly.
    sa.send(&json!({"type": "leave"})).await.unwrap();
    let closed = loop {
        match sa.recv().await.unwrap() {
            Some(Incoming::Message(_)) => continue,
            other => break other,
        }
    };
    assert!(
        matches!(closed, Some(Incoming::Closed { code: 1000, .. })),
        "{closed:?}"
    );
    stack.running.shutdown().await;
}

async fn ticket_rules(db: Db) {
    let Some(stack) = support::up(db, |_| {}).await else {
        return;
    };
    let api = Api::new(&stack.base);
    let (a, b) = (api.guest(None).await, api.guest(None).await);

    expect_error(
        api.post(
            "/v1/matchmaking/tickets",
            None,
            json!({"mode": "arena-ffa"}),
        )
        .await,
        401,
        "unauthorized",
    );
    expect_error(
        ticket(&api, &a, "no-such-mode").await,
        400,
        "invalid_request",
    );
    expect_error(
        api.post(
            "/v1/matchmaking/tickets",
            Some(token(&a)),
            json!({"mode": "arena-ffa", "properties": {"rating": "high"}}),
        )
        .await,
        400,
        "invalid_request",
    );

    let (_, first) = ticket(&api, &a, "arena-ffa").await;
    let id = first["ticket_id"].as_str().unwrap();
    let again = expect_error(ticket(&api, &a, "arena-ffa").await, 409, "ticket_exists");
    assert_eq!(again["error"]["details"]["ticket_id"], id);

    // Someone else's ticket is as unknown as a missing one.
    let path = format!("/v1/matchmaking/tickets/{id}");
    expect_error(
        api.get(&path, Some(token(&b))).await,
        404,
        "ticket_not_found",
    );
    expect_error(
        api.send(Method::DELETE, &path, Some(token(&b)), None).await,
        404,
        "ticket_not_found",
    );
    expect_error(
        api.get("/v1/matchmaking/tickets/nope", Some(token(&a)))
            .await,
        404,
        "ticket_not_found",
    );
    expect_error(
        api.get(&format!("{path}?wait=soon"), Some(token(&a))).await,
        400,
        "invalid_request",
    );

    // Cancelling ends it, wakes a waiting long-poll, and frees the mode for a new ticket.
    let waiter = {
        let (api, a, path) = (api.clone(), a.clone(), path.clone());
        tokio::spawn(async move { api.get(&format!("{path}?wait=20"), Some(token(&a))).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, cancelled) = api.send(Method::DELETE, &path, Some(token(&a)), None).await;
    assert_eq!(
        (status, cancelled["status"].as_str()),
        (200, Some("cancelled"))
    );
    let (_, woken) = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("the long-poll woke on cancel")
        .unwrap();
    assert_eq!(woken["status"], "cancelled");
    let (status, _) = ticket(&api, &a, "arena-ffa").await;
    assert_eq!(status, 202);
    stack.running.shutdown().await;
}
