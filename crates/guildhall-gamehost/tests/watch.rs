//! Spectating: the listing, a watcher joining mid-game, and a watcher too slow to
//! keep up.

mod common;

use common::*;
use guildhall_gamehost::Output;

#[tokio::test]
async fn a_watcher_joining_mid_game_gets_the_screen_then_live_output() {
    let (host, _dir) = host_with(vec![script_game()], |_| {}).await;
    let alice = user("alice");
    let mut player = Client::new(
        host.start_or_attach(&alice, &game_id(), size(24, 80))
            .await
            .unwrap(),
    );
    player.wait_for_raw("ready").await;
    player.send("draw\r").await;
    player.wait_for_screen("DRAWN-ON-SCREEN").await;

    let live = host.live_sessions().await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].watchers, 0);
    let mut watcher = Client::new(host.watch(live[0].id).await.unwrap());
    assert_eq!(watcher.source.session(), live[0].id);
    watcher
        .wait_until("the first item", |client| !client.items.is_empty())
        .await;
    assert!(
        matches!(watcher.items[0], Output::Screen { size: shown, .. } if shown == size(24, 80))
    );
    // The redraw puts the text where the game drew it (row 5, column 10).
    let row = watcher
        .contents()
        .lines()
        .nth(4)
        .unwrap_or_default()
        .to_owned();
    assert_eq!(row.trim_end(), format!("{}DRAWN-ON-SCREEN", " ".repeat(9)));
    assert_eq!(host.live_sessions().await.unwrap()[0].watchers, 1);

    player.send("live\r").await;
    watcher.wait_for_raw("got:live").await;
    assert!(matches!(watcher.items.last(), Some(Output::Data(_))));

    drop(watcher);
    eventually("the watcher to be gone from the count", || async {
        host.live_sessions().await.unwrap()[0].watchers == 0
    })
    .await;
}

#[tokio::test]
async fn a_slow_watcher_is_skipped_forward_and_never_slows_the_player() {
    let (host, _dir) = host_with(vec![script_game()], |config| config.stream_buffer = 2).await;
    let bob = user("bob");
    let mut player = Client::new(
        host.start_or_attach(&bob, &game_id(), size(24, 80))
            .await
            .unwrap(),
    );
    player.wait_for_raw("ready").await;
    let mut slow = Client::new(host.watch(player.source.session()).await.unwrap());

    // The watcher reads nothing while the game writes 3000 lines.
    player.send("flood\r").await;
    player.wait_for_screen("flood-done").await;

    slow.wait_for_screen("flood-done").await;
    let screens = slow
        .items
        .iter()
        .filter(|item| matches!(item, Output::Screen { .. }))
        .count();
    assert!(
        screens >= 2,
        "the slow watcher got a redraw instead of the backlog"
    );
    assert!(
        !slow.raw_text().contains("flood line 5\r\n"),
        "the backlog was skipped"
    );
    // The redraw shows the last lines the game wrote.
    assert!(slow.contents().contains("flood line 2999"));
}

#[tokio::test]
async fn live_sessions_are_sorted_by_idle_time() {
    let (host, _dir) = host_with(vec![script_game()], |_| {}).await;
    let mut clients = Vec::new();
    for name in ["first", "second", "third"] {
        let mut client = Client::new(
            host.start_or_attach(&user(name), &game_id(), size(24, 80))
                .await
                .unwrap(),
        );
        client.wait_for_raw("ready").await;
        clients.push(client);
    }
    // The first player types last, so is the least idle.
    clients[0].send("hello\r").await;
    clients[0].wait_for_raw("got:hello").await;
    let live = host.live_sessions().await.unwrap();
    let users: Vec<&str> = live.iter().map(|session| session.user.as_str()).collect();
    assert_eq!(users[0], "first");
    assert_eq!(users.len(), 3);
    assert!(live.windows(2).all(|pair| pair[0].idle <= pair[1].idle));
}
