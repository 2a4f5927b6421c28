//! The arena server on loopback, driven over real WebSockets: the join handshake and its
//! refusals, both encodings, inputs and acknowledgements, flooding, duplicate connections,
//! the reconnect window, and a lobby that panics while the others tick on.
//!
//! Join tokens are signed here with a key the arena trusts, as auth would sign them, so
//! each test can make exactly the token it needs (expired, for another server...).

use std::sync::Arc;
use std::time::Duration;

use guildhall_arena::Arena;
use guildhall_bots::{Incoming, Session};
use guildhall_config::ArenaConfig;
use guildhall_testkit::eventually;
use guildhall_tokens::{ARENA_AUDIENCE, Grant, Jwks, KeyPair, Signer, Verifier, now_unix};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use uuid::Uuid;

const SERVER: &str = "arena-test";
const WAIT: Duration = Duration::from_secs(5);

struct Harness {
    arena: Arc<Arena>,
    url: String,
    signer: Signer,
    shutdown: CancellationToken,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn harness(tune: impl FnOnce(&mut ArenaConfig)) -> Harness {
    let key = KeyPair::generate();
    let verifier = Arc::new(Verifier::new("guildhall", 0));
    verifier.set_keys(&Jwks {
        keys: vec![key.public_jwk()],
    });
    let mut config = ArenaConfig {
        server_id: SERVER.into(),
        ..ArenaConfig::default()
    };
    tune(&mut config);
    let shutdown = CancellationToken::new();
    let tasks = TaskTracker::new();
    let arena = Arena::new(config, verifier, None, shutdown.clone(), &tasks);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    arena.set_listen_addr(addr);
    let app = guildhall_arena::routes(arena.clone());
    let stop = shutdown.clone();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(stop.cancelled_owned())
            .await
    });
    Harness {
        url: arena.ws_url(),
        arena,
        signer: Signer::new(key),
        shutdown,
    }
}

impl Harness {
    /// A join token as the matchmaker would get it from auth.
    fn token(&self, user: Uuid, lobby: Uuid, server: &str, ttl_secs: i64) -> String {
        let mut claims = serde_json::Map::new();
        claims.insert("lobby".into(), lobby.to_string().into());
        claims.insert("mode".into(), "arena-ffa".into());
        claims.insert("srv".into(), server.into());
        let grant = Grant {
            aud: ARENA_AUDIENCE.into(),
            sub: user,
            ttl_secs: 60,
            claims,
        };
        let mut claims = grant.into_claims("guildhall", now_unix());
        claims.insert("exp".into(), (now_unix() + ttl_secs).into());
        self.signer.sign(&claims)
    }

    async fn connect(&self) -> Session {
        Session::connect(&self.url, false).await.unwrap()
    }

    /// A new player in `lobby`: the session and its welcome.
    async fn player(&self, lobby: Uuid) -> (Session, Value) {
        let mut session = self.connect().await;
        let welcome = session
            .join(&self.token(Uuid::new_v4(), lobby, SERVER, 60))
            .await
            .unwrap();
        (session, welcome)
    }
}

/// The close that ends a refused connection, after its `error` message.
async fn refused(session: &mut Session) -> (String, u16) {
    // Longer than the server's 5 s join deadline.
    let error = session
        .expect("error", Duration::from_secs(8))
        .await
        .unwrap();
    let code = error["code"].as_str().unwrap().to_owned();
    let close = match session.recv().await.unwrap() {
        Some(Incoming::Closed { code, .. }) => code,
        other => panic!("expected a close, got {other:?}"),
    };
    (code, close)
}

/// The next snapshot's jet `id`.
async fn jet_in_snapshot(session: &mut Session, id: u64) -> Value {
    loop {
        let snapshot = session.expect("snapshot", WAIT).await.unwrap();
        if let Some(jet) = snapshot["jets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["id"] == id)
        {
            return jet.clone();
        }
    }
}

#[tokio::test]
async fn a_joined_player_gets_a_welcome_and_snapshots_every_tick() {
    let h = harness(|_| {}).await;
    let lobby = Uuid::new_v4();
    let (mut a, welcome) = h.player(lobby).await;
    assert_eq!(welcome["lobby_id"], lobby.to_string());
    assert_eq!(welcome["tick_rate"], 30);
    assert_eq!(welcome["arena"], json!({"width": 2000.0, "height": 1500.0}));
    let jet = welcome["jet_id"].as_u64().unwrap();
    let first = a.expect("snapshot", WAIT).await.unwrap();
    let second = a.expect("snapshot", WAIT).await.unwrap();
    assert_eq!(
        second["tick"].as_u64().unwrap(),
        first["tick"].as_u64().unwrap() + 1
    );
    assert!(
        first["jets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j["id"] == jet)
    );
    // A second player in the same lobby shows up in the first one's snapshots.
    let (_b, welcome_b) = h.player(lobby).await;
    let jet_b = welcome_b["jet_id"].as_u64().unwrap();
    assert_ne!(jet_b, jet);
    jet_in_snapshot(&mut a, jet_b).await;
}

#[tokio::test]
async fn inputs_are_applied_and_acknowledged_in_both_encodings() {
    let h = harness(|_| {}).await;
    let lobby = Uuid::new_v4();
    for msgpack in [false, true] {
        let mut session = Session::connect(&h.url, msgpack).await.unwrap();
        let welcome = session
            .join(&h.token(Uuid::new_v4(), lobby, SERVER, 60))
            .await
            .unwrap();
        let jet = welcome["jet_id"].as_u64().unwrap();
        let before = jet_in_snapshot(&mut session, jet).await;
        session
            .send(&json!({"type": "input", "seq": 1, "thrust": true, "turn": 0, "fire": false}))
            .await
            .unwrap();
        // Within a few ticks the input is acknowledged and the jet has sped up.
        let mut moved = None;
        for _ in 0..10 {
            let now = jet_in_snapshot(&mut session, jet).await;
            if now["last_seq"] == 1 && (now["vx"] != before["vx"] || now["vy"] != before["vy"]) {
                moved = Some(now);
                break;
            }
        }
        assert!(moved.is_some(), "thrust never showed in 10 snapshots");
        session
            .send(&json!({"type": "ping", "t": 42}))
            .await
            .unwrap();
        let pong = session.expect("pong", WAIT).await.unwrap();
        assert_eq!(pong["t"], 42);
    }
}

#[tokio::test]
async fn joins_are_refused_with_clear_codes() {
    let h = harness(|config| config.lobby_capacity = 1).await;
    let lobby = Uuid::new_v4();

    // Not a join first.
    let mut s = h.connect().await;
    s.send(&json!({"type": "input", "seq": 1})).await.unwrap();
    assert_eq!(refused(&mut s).await, ("invalid_request".into(), 4400));

    // Not JSON at all.
    let mut s = h.connect().await;
    s.send_raw(tokio_tungstenite::tungstenite::Message::Text("{{{".into()))
        .await
        .unwrap();
    assert_eq!(refused(&mut s).await, ("invalid_request".into(), 4400));

    // A forged token, an expired one, and an access token (wrong audience).
    let mut s = h.connect().await;
    s.send(&json!({"type": "join", "token": "eyJhbGciOiJFZERTQSJ9.e30.AAAA"}))
        .await
        .unwrap();
    assert_eq!(refused(&mut s).await, ("unauthorized".into(), 4401));
    let mut s = h.connect().await;
    s.send(&json!({"type": "join", "token": h.token(Uuid::new_v4(), lobby, SERVER, -5)}))
        .await
        .unwrap();
    assert_eq!(refused(&mut s).await, ("unauthorized".into(), 4401));
    let access = h.signer.sign(&json!({
        "iss": "guildhall", "aud": "guildhall", "sub": Uuid::new_v4(), "sid": Uuid::new_v4(),
        "kind": "guest", "iat": now_unix(), "exp": now_unix() + 60, "jti": Uuid::new_v4(),
        "lobby": lobby, "mode": "arena-ffa", "srv": SERVER,
    }));
    let mut s = h.connect().await;
    s.send(&json!({"type": "join", "token": access}))
        .await
        .unwrap();
    assert_eq!(refused(&mut s).await, ("unauthorized".into(), 4401));

    // A token for another game server.
    let mut s = h.connect().await;
    s.send(&json!({"type": "join", "token": h.token(Uuid::new_v4(), lobby, "elsewhere", 60)}))
        .await
        .unwrap();
    assert_eq!(refused(&mut s).await, ("lobby_closed".into(), 4410));

    // The lobby holds one player.
    let (_first, _) = h.player(lobby).await;
    let mut s = h.connect().await;
    s.send(&json!({"type": "join", "token": h.token(Uuid::new_v4(), lobby, SERVER, 60)}))
        .await
        .unwrap();
    assert_eq!(refused(&mut s).await, ("join_failed".into(), 4409));

    // A tampered rejoin token.
    let mut s = h.connect().await;
    s.send(&json!({"type": "join", "token": format!("rj.{lobby}.{}.nope", Uuid::new_v4())}))
        .await
        .unwrap();
    assert_eq!(refused(&mut s).await, ("unauthorized".into(), 4401));

    // No join at all within 5 seconds.
    let mut s = h.connect().await;
    assert_eq!(refused(&mut s).await, ("timeout".into(), 4408));
}

#[tokio::test]
async fn input_floods_are_capped_per_tick() {
    let h = harness(|config| config.max_inputs_per_tick = 4).await;
    let (mut s, welcome) = h.player(Uuid::new_v4()).await;
    let jet = welcome["jet_id"].as_u64().unwrap();
    // Fifty inputs in one burst: a tick takes at most four of them.
    for seq in 1..=50 {
        s.send(&json!({"type": "input", "seq": seq, "thrust": true, "turn": 1, "fire": true}))
            .await
            .unwrap();
    }
    let mut acknowledged = 0;
    for _ in 0..10 {
        acknowledged = jet_in_snapshot(&mut s, jet).await["last_seq"]
            .as_u64()
            .unwrap();
        if acknowledged > 0 {
            break;
        }
    }
    assert!(
        (1..50).contains(&acknowledged),
        "a burst of 50 was taken up to seq {acknowledged}"
    );
    // Out-of-range turns and stale sequence numbers change nothing.
    s.send(&json!({"type": "input", "seq": 1000, "turn": 7}))
        .await
        .unwrap();
    s.send(&json!({"type": "input", "seq": 1, "turn": 0}))
        .await
        .unwrap();
    let later = jet_in_snapshot(&mut s, jet).await["last_seq"]
        .as_u64()
        .unwrap();
    assert!(later < 1000 && later >= acknowledged, "last_seq {later}");
}

#[tokio::test]
async fn a_dropped_player_rejoins_within_the_window_and_keeps_its_jet() {
    let h = harness(|config| config.reconnect_window_secs = 2).await;
    let lobby = Uuid::new_v4();
    let (_watcher, _) = h.player(lobby).await;
    let (first, welcome) = h.player(lobby).await;
    let jet = welcome["jet_id"].clone();
    let rejoin = welcome["rejoin_token"].as_str().unwrap().to_owned();
    drop(first); // the TCP connection just goes

    let mut again = h.connect().await;
    let welcome = again.join(&rejoin).await.unwrap();
    assert_eq!(welcome["jet_id"], jet);

    // A second connection of the same player takes over; the first is told why.
    let mut third = h.connect().await;
    third.join(&rejoin).await.unwrap();
    assert_eq!(
        refused(&mut again).await,
        ("duplicate_connection_handled".into(), 4409)
    );

    // Dropped past the window, the seat is gone.
    drop(third);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut late = h.connect().await;
    late.send(&json!({"type": "join", "token": rejoin}))
        .await
        .unwrap();
    assert_eq!(refused(&mut late).await, ("unauthorized".into(), 4401));
}

#[tokio::test]
async fn leaving_frees_the_seat_at_once_and_an_empty_lobby_closes() {
    let h = harness(|_| {}).await;
    let lobby = Uuid::new_v4();
    let (mut s, welcome) = h.player(lobby).await;
    let rejoin = welcome["rejoin_token"].as_str().unwrap().to_owned();
    assert_eq!(h.arena.lobby_count(), 1);
    s.send(&json!({"type": "leave"})).await.unwrap();
    eventually("the empty lobby to close", WAIT, || async {
        (h.arena.lobby_count() == 0).then_some(())
    })
    .await;
    // Neither the seat nor the lobby comes back.
    let mut late = h.connect().await;
    late.send(&json!({"type": "join", "token": rejoin}))
        .await
        .unwrap();
    assert_eq!(refused(&mut late).await.1, 4410);
    let mut late = h.connect().await;
    late.send(&json!({"type": "join", "token": h.token(Uuid::new_v4(), lobby, SERVER, 60)}))
        .await
        .unwrap();
    assert_eq!(refused(&mut late).await, ("lobby_closed".into(), 4410));
}

#[tokio::test]
async fn a_lobby_that_panics_is_contained() {
    let h = harness(|_| {}).await;
    let (doomed, healthy) = (Uuid::new_v4(), Uuid::new_v4());
    let (mut victim, _) = h.player(doomed).await;
    let (mut survivor, _) = h.player(healthy).await;
    victim.expect("snapshot", WAIT).await.unwrap();

    assert!(h.arena.crash_lobby(doomed).await);
    let closed = victim.expect("lobby_closed", WAIT).await.unwrap();
    assert_eq!(closed["reason"], "the lobby crashed");
    assert!(matches!(
        victim.recv().await.unwrap(),
        Some(Incoming::Closed { code: 1011, .. })
    ));

    // The other lobby never missed a beat: its ticks keep coming, one after another.
    let mut last = survivor.expect("snapshot", WAIT).await.unwrap()["tick"]
        .as_u64()
        .unwrap();
    for _ in 0..10 {
        let tick = survivor.expect("snapshot", WAIT).await.unwrap()["tick"]
            .as_u64()
            .unwrap();
        assert_eq!(tick, last + 1);
        last = tick;
    }
    assert_eq!(h.arena.lobby_ids(), vec![healthy]);
    // The crashed lobby stays closed.
    let mut late = h.connect().await;
    late.send(&json!({"type": "join", "token": h.token(Uuid::new_v4(), doomed, SERVER, 60)}))
        .await
        .unwrap();
    assert_eq!(refused(&mut late).await, ("lobby_closed".into(), 4410));
}
