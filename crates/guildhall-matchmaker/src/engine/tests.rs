//! The engine, driven step by step with explicit times.

use super::*;

fn mode(min: u32, max: u32, drop_in: bool) -> ModeConfig {
    ModeConfig {
        name: "m".into(),
        min_players: min,
        max_players: max,
        max_wait_secs: 60,
        drop_in,
        skill_window: 100.0,
        skill_window_growth_per_sec: 10.0,
    }
}

fn engine(mode: ModeConfig) -> Engine {
    Engine::new(
        &[mode],
        Timing {
            server_timeout_ms: 5000,
            reservation_ms: 60_000,
            finished_ticket_ms: 300_000,
        },
    )
}

fn server(engine: &mut Engine, id: &str, capacity: u32) {
    engine.register(
        ServerInfo {
            server_id: id.into(),
            ws_url: format!("ws://{id}/arena/ws"),
            capacity,
            version: "1".into(),
            modes: vec!["m".into()],
        },
        0,
    );
}

fn ticket(engine: &mut Engine, rating: Option<f64>, now: i64) -> Uuid {
    let mut props = serde_json::Map::new();
    if let Some(r) = rating {
        props.insert("rating".into(), r.into());
    }
    engine
        .create_ticket(Uuid::new_v4(), "m", props, now)
        .unwrap()
        .id
}

fn run(engine: &mut Engine, now: i64) -> Vec<Placement> {
    let mut changes = Changes::default();
    engine.run(now, &mut changes)
}

#[test]
fn a_lone_ticket_waits_for_the_minimum() {
    let mut e = engine(mode(2, 10, true));
    server(&mut e, "a", 100);
    let t = ticket(&mut e, None, 0);
    assert!(run(&mut e, 10).is_empty());
    assert_eq!(e.ticket(t).unwrap().status, Status::Queued);
    let u = ticket(&mut e, None, 20);
    let placed = run(&mut e, 30);
    assert_eq!(placed.len(), 2);
    assert_eq!(placed[0].lobby, placed[1].lobby);
    assert_eq!(e.ticket(u).unwrap().status, Status::Assigned);
    assert_eq!(placed[0].ws_url, "ws://a/arena/ws");
}

#[test]
fn one_queued_ticket_per_user_and_mode() {
    let mut e = engine(mode(2, 10, true));
    let user = Uuid::new_v4();
    let first = e.create_ticket(user, "m", Default::default(), 0).unwrap();
    assert_eq!(
        e.create_ticket(user, "m", Default::default(), 1),
        Err(CreateError::AlreadyQueued(first.id))
    );
    assert_eq!(
        e.create_ticket(user, "other", Default::default(), 1),
        Err(CreateError::UnknownMode)
    );
    e.cancel(first.id, 2);
    assert!(e.create_ticket(user, "m", Default::default(), 3).is_ok());
}

#[test]
fn drop_in_fills_the_running_lobby_before_opening_another() {
    let mut e = engine(mode(2, 3, true));
    server(&mut e, "a", 100);
    ticket(&mut e, None, 0);
    ticket(&mut e, None, 0);
    let first = run(&mut e, 1);
    let lobby = first[0].lobby;
    // A third player drops into the running lobby alone.
    ticket(&mut e, None, 2);
    let second = run(&mut e, 3);
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].lobby, lobby);
    // The lobby is full now: the next two get a new one.
    ticket(&mut e, None, 4);
    assert!(run(&mut e, 5).is_empty());
    ticket(&mut e, None, 6);
    let third = run(&mut e, 7);
    assert_eq!(third.len(), 2);
    assert_ne!(third[0].lobby, lobby);
}

#[test]
fn without_drop_in_a_running_lobby_takes_nobody() {
    let mut e = engine(mode(2, 10, false));
    server(&mut e, "a", 100);
    ticket(&mut e, None, 0);
    ticket(&mut e, None, 0);
    assert_eq!(run(&mut e, 1).len(), 2);
    ticket(&mut e, None, 2);
    assert!(run(&mut e, 3).is_empty());
}

#[test]
fn the_skill_window_widens_with_waiting() {
    let mut e = engine(mode(2, 10, false));
    server(&mut e, "a", 100);
    let low = ticket(&mut e, Some(1000.0), 0);
    let high = ticket(&mut e, Some(1250.0), 0);
    // 250 apart; the window is 100 + 10/s: they match once the older waited 15 s.
    let mut changes = Changes::default();
    e.heartbeat("a", &[], 14_000, &mut changes);
    assert!(run(&mut e, 14_000).is_empty());
    let placed = run(&mut e, 15_000);
    assert_eq!(placed.len(), 2);
    assert_eq!(e.ticket(low).unwrap().status, Status::Assigned);
    assert_eq!(e.ticket(high).unwrap().status, Status::Assigned);
}

#[test]
fn the_nearest_ratings_are_grouped_first() {
    let mut e = engine(mode(2, 2, false));
    server(&mut e, "a", 100);
    let a = ticket(&mut e, Some(1000.0), 0);
    let far = ticket(&mut e, Some(1090.0), 1);
    let near = ticket(&mut e, Some(1010.0), 2);
    let placed = run(&mut e, 3);
    let ids: HashSet<Uuid> = placed.iter().map(|p| p.ticket).collect();
    assert_eq!(ids, HashSet::from([a, near]));
    assert_eq!(e.ticket(far).unwrap().status, Status::Queued);
}

#[test]
fn tickets_expire_after_the_maximum_wait() {
    let mut e = engine(mode(2, 10, true));
    let t = ticket(&mut e, None, 0);
    run(&mut e, 60_000);
    assert_eq!(e.ticket(t).unwrap().status, Status::Queued);
    run(&mut e, 60_001);
    assert_eq!(e.ticket(t).unwrap().status, Status::Expired);
    assert_eq!(e.queued_count(), 0);
}

#[test]
fn no_server_means_everyone_waits() {
    let mut e = engine(mode(2, 10, true));
    ticket(&mut e, None, 0);
    ticket(&mut e, None, 0);
    assert!(run(&mut e, 1).is_empty());
    server(&mut e, "a", 100);
    assert_eq!(run(&mut e, 2).len(), 2);
}

#[test]
fn a_silent_server_is_evicted_and_gets_no_lobbies() {
    let mut e = engine(mode(2, 10, true));
    server(&mut e, "a", 100);
    server(&mut e, "b", 100);
    let mut changes = Changes::default();
    assert!(e.heartbeat("b", &[], 4000, &mut changes));
    ticket(&mut e, None, 5500);
    ticket(&mut e, None, 5500);
    let placed = run(&mut e, 5600);
    assert!(placed.iter().all(|p| p.server_id == "b"));
    assert!(e.server("a").is_none());
    assert!(!e.heartbeat("a", &[], 5700, &mut changes));
}

#[test]
fn servers_are_filled_by_capacity() {
    let mut e = engine(mode(2, 2, false));
    server(&mut e, "small", 2);
    for _ in 0..4 {
        ticket(&mut e, None, 0);
    }
    // Only one lobby of 2 fits; the other two wait.
    assert_eq!(run(&mut e, 1).len(), 2);
    assert_eq!(e.queued_count(), 2);
}

#[test]
fn heartbeats_reconcile_lobbies() {
    let mut e = engine(mode(2, 10, true));
    server(&mut e, "a", 100);
    ticket(&mut e, None, 0);
    ticket(&mut e, None, 0);
    let placed = run(&mut e, 1);
    let lobby = placed[0].lobby;
    let mut changes = Changes::default();
    // One arrived; the other's reservation still holds the seat.
    e.heartbeat(
        "a",
        &[LobbyReport {
            lobby_id: lobby,
            mode: "m".into(),
            players: vec![placed[0].user],
        }],
        2,
        &mut changes,
    );
    assert_eq!(e.lobby(lobby).unwrap().occupancy(), 2);
    // The lobby closed on the server and the other reservation lapsed: it is forgotten.
    run(&mut e, 70_000);
    e.heartbeat("a", &[], 70_001, &mut changes);
    assert!(e.lobby(lobby).is_none());
}

#[test]
fn a_lobby_its_server_closed_takes_nobody_new() {
    let mut e = engine(mode(2, 10, true));
    server(&mut e, "a", 100);
    ticket(&mut e, None, 0);
    ticket(&mut e, None, 0);
    let placed = run(&mut e, 1);
    let lobby = placed[0].lobby;
    let mut changes = Changes::default();
    let everyone: Vec<Uuid> = placed.iter().map(|p| p.user).collect();
    e.heartbeat(
        "a",
        &[LobbyReport {
            lobby_id: lobby,
            mode: "m".into(),
            players: everyone,
        }],
        2,
        &mut changes,
    );
    // A third player is sent there, then the lobby closes on the server before they
    // arrive: the lobby is forgotten at once, and the next player is not sent there.
    ticket(&mut e, None, 3);
    assert_eq!(run(&mut e, 4)[0].lobby, lobby);
    e.heartbeat("a", &[], 5, &mut changes);
    assert!(e.lobby(lobby).is_none());
    ticket(&mut e, None, 6);
    assert!(run(&mut e, 7).iter().all(|p| p.lobby != lobby));
}

#[test]
fn a_reverted_placement_queues_again() {
    let mut e = engine(mode(2, 10, true));
    server(&mut e, "a", 100);
    let t = ticket(&mut e, None, 0);
    ticket(&mut e, None, 0);
    let placed = run(&mut e, 1);
    let mut changes = Changes::default();
    for p in &placed {
        e.revert(p, &mut changes);
    }
    assert_eq!(e.ticket(t).unwrap().status, Status::Queued);
    assert_eq!(e.lobby_count(), 0);
    assert_eq!(run(&mut e, 2).len(), 2);
}
