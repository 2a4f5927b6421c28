//! Card tables in `guildhall up`: head's table API, table tokens, and a whole hand of
//! Briscola chiamata played by five WebSocket clients while an observer watches, over
//! the real protocol. Observers never see a hand and cannot act; a seat's second
//! connection takes over; a retried action id is answered once.

#[macro_use]
mod support;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use support::{Api, Db, expect_error, token};
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(10);

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Client {
    ws: Ws,
    /// Every message received, for leak checks.
    seen: Vec<Value>,
    next: u64,
    name: String,
}

impl Client {
    async fn connect(url: &str, token: &str, name: &str) -> Self {
        let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let mut client = Self {
            ws,
            seen: Vec::new(),
            next: 0,
            name: name.into(),
        };
        let result = client.act("join", json!({ "token": token })).await;
        assert_eq!(result["status"], "ok", "{name} join: {result}");
        client
    }

    async fn recv(&mut self) -> Value {
        loop {
            let frame = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("{}: nothing within {WAIT:?}", self.name))
                .expect("the connection is open")
                .unwrap();
            match frame {
                Message::Text(text) => {
                    let value: Value = serde_json::from_str(&text).unwrap();
                    self.seen.push(value.clone());
                    return value;
                }
                Message::Close(frame) => panic!("{}: closed {frame:?}", self.name),
                _ => continue,
            }
        }
    }

    /// Sends an action and returns its result, keeping what arrived meanwhile.
    async fn act(&mut self, message_type: &str, payload: Value) -> Value {
        self.next += 1;
        let action_id = format!("{}-{}", self.name, self.next);
        self.send(message_type, &action_id, payload).await
    }

    async fn send(&mut self, message_type: &str, action_id: &str, payload: Value) -> Value {
        let message =
            json!({"message_type": message_type, "action_id": action_id, "payload": payload});
        self.ws
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
        loop {
            let m = self.recv().await;
            if m["message_type"] == "action.result" && m["action_id"] == action_id {
                return m["payload"].clone();
            }
        }
    }

    /// A fresh snapshot of what this connection may see.
    async fn sync(&mut self) -> Value {
        self.next += 1;
        let action_id = format!("{}-{}", self.name, self.next);
        let message = json!({"message_type": "sync", "action_id": action_id, "payload": {}});
        self.ws
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
        loop {
            let m = self.recv().await;
            if m["message_type"] == "sync" && m["action_id"] == action_id {
                return m["payload"].clone();
            }
        }
    }
}

fn holds_a_hand(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.contains_key("hand") || map.values().any(holds_a_hand),
        Value::Array(items) => items.iter().any(holds_a_hand),
        _ => false,
    }
}

on_both_stores!(five_players_play_a_hand_while_an_observer_watches);

async fn five_players_play_a_hand_while_an_observer_watches(db: Db) {
    let Some(stack) = support::up(db, |_| {}).await else {
        return;
    };
    let api = Api::new(&stack.base);
    let guests: Vec<Value> = futures_util::future::join_all((0..6).map(|_| api.guest(None))).await;

    let (status, created) = api
        .post("/v1/tables", Some(token(&guests[0])), json!({}))
        .await;
    assert_eq!(status, 201, "{created}");
    let game_id = created["game_id"].as_str().unwrap().to_owned();
    assert_eq!(game_id.len(), 6);
    assert_eq!(created["seat"], 0);
    let ws_url = created["ws_url"].as_str().unwrap().to_owned();
    let mut tokens = vec![created["player_token"].as_str().unwrap().to_owned()];
    for (i, guest) in guests.iter().enumerate().take(5).skip(1) {
        let (status, seated) = api
            .post(
                &format!("/v1/tables/{game_id}/join"),
                Some(token(guest)),
                json!({"display_name": format!("P{i}")}),
            )
            .await;
        assert_eq!(
            (status, seated["seat"].as_u64()),
            (200, Some(i as u64)),
            "{seated}"
        );
        tokens.push(seated["player_token"].as_str().unwrap().to_owned());
    }
    // Joining again gives the same seat; a sixth player does not fit.
    let (_, again) = api
        .post(
            &format!("/v1/tables/{game_id}/join"),
            Some(token(&guests[2])),
            json!({}),
        )
        .await;
    assert_eq!(again["seat"], 2);
    expect_error(
        api.post(
            &format!("/v1/tables/{game_id}/join"),
            Some(token(&guests[5])),
            json!({}),
        )
        .await,
        409,
        "join_failed",
    );
    expect_error(
        api.post("/v1/tables/ZZZZZZ/join", Some(token(&guests[5])), json!({}))
            .await,
        404,
        "game_not_found",
    );
    expect_error(
        api.post("/v1/tables", None, json!({})).await,
        401,
        "unauthorized",
    );
    // Watching needs no account: a shared link is enough.
    let (status, watch) = api
        .post(
            &format!("/v1/tables/{game_id}/observer-token"),
            None,
            json!({"display_name": "fan"}),
        )
        .await;
    assert_eq!(status, 200, "{watch}");

    let mut observer = Client::connect(
        &ws_url,
        watch["observer_token"].as_str().unwrap(),
        "observer",
    )
    .await;
    let mut players = Vec::new();
    for (seat, t) in tokens.iter().enumerate() {
        players.push(Client::connect(&ws_url, t, &format!("seat{seat}")).await);
    }

    // Each player sees exactly its own eight cards; the observer sees none.
    for (seat, player) in players.iter_mut().enumerate() {
        let view = player.sync().await;
        assert_eq!(view["seat"], seat as u64);
        assert_eq!(view["hand"].as_array().map(Vec::len), Some(8), "{view}");
    }
    let view = observer.sync().await;
    assert!(view.get("hand").is_none(), "{view}");
    assert_eq!(view["hand_sizes"], json!([8, 8, 8, 8, 8]));

    // Observers cannot act.
    let refused = observer.act("bid", json!({"pass": true})).await;
    assert_eq!(refused["code"], "forbidden", "{refused}");

    // Play the hand: the first bidder bids an ace, the rest pass; the caller calls coppe;
    // then whoever is to play plays their first card.
    let mut actions = 0;
    loop {
        let table = observer.sync().await;
        if table["hand_number"].as_u64() != Some(1) || table["phase"] == "hand_over" {
            break;
        }
        let turn = table["turn"].as_u64().expect("someone is to act") as usize;
        let player = &mut players[turn];
        let result = match table["phase"].as_str().unwrap() {
            "auction" if table["highest_bid"].is_null() => {
                player.act("bid", json!({"rank": 1})).await
            }
            "auction" => player.act("bid", json!({"pass": true})).await,
            "calling" => {
                player
                    .act("call-partner-suit", json!({"suit": "coppe"}))
                    .await
            }
            "playing" => {
                let card = player.sync().await["hand"][0].clone();
                player.act("play", json!({"card": card})).await
            }
            other => panic!("unexpected phase {other}"),
        };
        assert_eq!(result["status"], "ok", "seat {turn}: {result}");
        actions += 1;
        assert!(actions < 100, "a hand ends");
    }
    // One bid, four passes, the call, forty cards.
    assert_eq!(actions, 46);
    // The hand was scored for everyone to see, and the next one dealt.
    let scored = loop {
        if let Some(m) = observer
            .seen
            .iter()
            .find(|m| m["message_type"] == "score.update")
        {
            break m.clone();
        }
        observer.recv().await;
    };
    let result = &scored["payload"]["result"];
    assert_eq!(
        result["caller_points"].as_u64().unwrap() + result["defender_points"].as_u64().unwrap(),
        120,
        "{scored}"
    );

    // A retried action id gets the first answer, and changes nothing.
    let table = observer.sync().await;
    let turn = table["turn"].as_u64().unwrap() as usize;
    let bid = if table["highest_bid"].is_null() {
        json!({"rank": 1})
    } else {
        json!({"pass": true})
    };
    let first = players[turn].send("bid", "retry-me", bid.clone()).await;
    let second = players[turn].send("bid", "retry-me", bid).await;
    assert_eq!(first, second);
    assert_eq!(
        observer.sync().await["version"].as_u64().unwrap(),
        table["version"].as_u64().unwrap() + 1
    );

    // Nothing the observer received ever held a hand.
    let observed = observer.seen.clone();
    assert!(
        !observed.iter().any(holds_a_hand),
        "the observer was sent a hand"
    );

    // A second connection for seat 3 takes over; the first is told why.
    let mut takeover = Client::connect(&ws_url, &tokens[3], "seat3-again").await;
    let old = &mut players[3];
    let told = loop {
        match tokio::time::timeout(WAIT, old.ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
        {
            Message::Text(text) => {
                let m: Value = serde_json::from_str(&text).unwrap();
                if m["message_type"] == "action.result" && m["payload"]["status"] == "error" {
                    break m;
                }
            }
            Message::Close(_) => panic!("closed without saying why"),
            _ => {}
        }
    };
    assert_eq!(told["payload"]["code"], "duplicate_connection_handled");
    assert_eq!(takeover.sync().await["seat"], 3);
    stack.running.shutdown().await;
}

/// A client that asks and asks but never reads its answers: the gateway's writes to it
/// back up (its socket's buffers are full), and then its outbox. The other connection at
/// the table is answered at once all along, and the slow one is dropped instead of
/// being buffered for without end.
#[tokio::test]
async fn a_client_that_stops_reading_holds_up_no_one_and_is_dropped() {
    let Some(stack) = support::up(Db::Sqlite, |_| {}).await else {
        return;
    };
    let api = Api::new(&stack.base);
    let guest = api.guest(None).await;
    let (status, created) = api.post("/v1/tables", Some(token(&guest)), json!({})).await;
    assert_eq!(status, 201, "{created}");
    let game_id = created["game_id"].as_str().unwrap().to_owned();
    let ws_url = created["ws_url"].as_str().unwrap().to_owned();
    let (_, watch) = api
        .post(
            &format!("/v1/tables/{game_id}/observer-token"),
            None,
            json!({}),
        )
        .await;
    let mut player =
        Client::connect(&ws_url, created["player_token"].as_str().unwrap(), "seat0").await;

    // The slow client: a small receive buffer, so the server's writes back up early.
    let addr = ws_url
        .trim_start_matches("ws://")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
    let (ws, _) = tokio_tungstenite::client_async(&ws_url, stream)
        .await
        .unwrap();
    let mut slow = Client {
        ws,
        seen: Vec::new(),
        next: 0,
        name: "slow".into(),
    };
    let joined = slow
        .act(
            "join",
            json!({ "token": watch["observer_token"].as_str().unwrap() }),
        )
        .await;
    assert_eq!(joined["status"], "ok", "{joined}");
    const ASKED: usize = 30_000;
    for n in 0..ASKED {
        let message = json!({"message_type": "sync", "action_id": format!("s{n}"), "payload": {}});
        slow.ws
            .feed(Message::Text(message.to_string().into()))
            .await
            .unwrap();
    }
    slow.ws.flush().await.unwrap();

    // Meanwhile the player's requests are answered as ever.
    for _ in 0..5 {
        assert_eq!(player.sync().await["seat"], 0);
    }

    // The slow client finds, once it reads, that the gateway let it go: its stream ends
    // before all its answers came.
    let mut answers = 0;
    let ended = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(frame) = slow.ws.next().await {
            match frame {
                Ok(Message::Text(text)) => {
                    let m: Value = serde_json::from_str(&text).unwrap();
                    if m["message_type"] == "action.result" {
                        answers += 1;
                    }
                }
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the slow client is still connected ({answers} answers read)"
    );
    eprintln!("slow client: {answers} answers of {ASKED} before the gateway let it go");
    assert!(answers < ASKED, "every one of {ASKED} answers arrived");
    // And the player is still served.
    assert_eq!(player.sync().await["seat"], 0);
    stack.running.shutdown().await;
}
