//! A `RemoteHost` driving a real game host through a real gRPC server: everything
//! the gateway does, over the wire, compared with what the host itself says.

mod common;

use std::path::Path;

use common::*;
use guildhall_gamehost::{GameBackend, Output, RcTemplate, parse_xlog_line};
use guildhall_ttyrec::Reader as TtyrecReader;

#[tokio::test]
async fn games_are_listed_as_the_host_lists_them() {
    let served = served(vec![script_game()], |_| {}).await;
    let games = served.remote.games().await.unwrap();
    assert_eq!(games, GameBackend::games(&served.host).await.unwrap());
    assert_eq!(games.len(), 1);
    assert_eq!(
        (games[0].id.as_str(), games[0].name.as_str()),
        ("script", "Script")
    );
}

#[tokio::test]
async fn input_echoes_and_a_resize_reaches_the_game() {
    let served = served(vec![script_game()], |_| {}).await;
    let play = served
        .remote
        .play(&user("alice"), &game_id(), size(30, 100))
        .await
        .unwrap();
    let input = play.input;
    let mut output = Reader::new(play.output);
    output
        .wait_until("the first item", |reader| !reader.items.is_empty())
        .await;
    assert!(
        matches!(output.items[0], Output::Screen { size: shown, .. } if shown == size(30, 100))
    );
    output.wait_for("ready").await;

    input.send("hello\r".into()).await.unwrap();
    output.wait_for("got:hello").await;
    input.send("size\r".into()).await.unwrap();
    output.wait_for("30 100").await;

    input.resize(size(40, 120)).await.unwrap();
    input.send("size\r".into()).await.unwrap();
    output.wait_for("40 120").await;
    assert!(output.items.contains(&Output::Resize(size(40, 120))));

    let live = served.remote.live_sessions().await.unwrap();
    let local = served.host.live_sessions().await.unwrap();
    assert_eq!(live.len(), 1);
    // The wire carries milliseconds.
    let started = |at: std::time::SystemTime| {
        at.duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
    };
    assert_eq!(started(live[0].started), started(local[0].started));
    assert_eq!(live[0].id, play.session);
    assert_eq!(live[0].size, size(40, 120));
    assert_eq!(
        (live[0].user.as_str(), live[0].game.as_str()),
        ("alice", "script")
    );
    assert!(live[0].attached);
}

#[tokio::test]
async fn keystrokes_arrive_in_order() {
    let served = served(vec![script_game()], |_| {}).await;
    let play = served
        .remote
        .play(&user("ordered"), &game_id(), size(24, 80))
        .await
        .unwrap();
    let mut output = Reader::new(play.output);
    output.wait_for("ready").await;
    // One byte at a time, without waiting for echoes.
    let typed = "abcdefghijklmnopqrstuvwxyz0123456789\r";
    for byte in typed.bytes() {
        play.input.send(vec![byte].into()).await.unwrap();
    }
    output
        .wait_for("got:abcdefghijklmnopqrstuvwxyz0123456789")
        .await;
}

fn pid_in(text: &str) -> String {
    let start = text.rfind("pid=").expect("a pid") + 4;
    text[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect()
}

#[tokio::test]
async fn dropping_the_play_detaches_and_playing_again_reattaches() {
    let served = served(vec![script_game()], |_| {}).await;
    let bob = user("bob");
    let play = served
        .remote
        .play(&bob, &game_id(), size(24, 80))
        .await
        .unwrap();
    let session = play.session;
    let input = play.input;
    let mut output = Reader::new(play.output);
    output.wait_for("ready").await;
    input.send("pid\r".into()).await.unwrap();
    output.wait_for("pid=").await;
    let pid = pid_in(&output.text());
    drop(input);
    drop(output);

    eventually("the game to show as detached", || async {
        let live = served.remote.live_sessions().await.unwrap();
        live.len() == 1 && !live[0].attached
    })
    .await;

    let again = served
        .remote
        .play(&bob, &game_id(), size(24, 80))
        .await
        .unwrap();
    assert_eq!(again.session, session, "the same game, still running");
    let mut output = Reader::new(again.output);
    output
        .wait_until("the first item", |reader| !reader.items.is_empty())
        .await;
    assert!(matches!(output.items[0], Output::Screen { .. }));
    assert!(
        output.text().contains(&format!("pid={pid}")),
        "{}",
        output.text()
    );
    again.input.send("pid\r".into()).await.unwrap();
    output
        .wait_until("a second pid line", |reader| {
            reader.text().matches("pid=").count() >= 2
        })
        .await;
    assert_eq!(pid_in(&output.text()), pid, "the same process");
    assert!(served.remote.live_sessions().await.unwrap()[0].attached);
}

#[tokio::test]
async fn a_second_connection_takes_the_game_over_and_ends_the_first_stream() {
    let served = served(vec![script_game()], |_| {}).await;
    let carol = user("carol");
    let first = served
        .remote
        .play(&carol, &game_id(), size(24, 80))
        .await
        .unwrap();
    let mut first_output = Reader::new(first.output);
    first_output.wait_for("ready").await;
    let second = served
        .remote
        .play(&carol, &game_id(), size(24, 80))
        .await
        .unwrap();
    assert_eq!(first.session, second.session);
    first_output.wait_for_end().await;

    let mut second_output = Reader::new(second.output);
    second.input.send("mine\r".into()).await.unwrap();
    second_output.wait_for("got:mine").await;
}

#[tokio::test]
async fn a_watcher_gets_the_screen_then_live_output_and_is_counted() {
    let served = served(vec![script_game()], |_| {}).await;
    let play = served
        .remote
        .play(&user("dave"), &game_id(), size(24, 80))
        .await
        .unwrap();
    let mut player = Reader::new(play.output);
    player.wait_for("ready").await;
    play.input.send("before\r".into()).await.unwrap();
    player.wait_for("got:before").await;
    assert_eq!(served.remote.live_sessions().await.unwrap()[0].watchers, 0);

    let mut watcher = Reader::new(served.remote.watch(play.session).await.unwrap());
    watcher
        .wait_until("the first item", |reader| !reader.items.is_empty())
        .await;
    assert!(
        matches!(watcher.items[0], Output::Screen { size: shown, .. } if shown == size(24, 80))
    );
    assert!(
        watcher.text().contains("got:before"),
        "the screen shows the game so far"
    );
    assert_eq!(served.remote.live_sessions().await.unwrap()[0].watchers, 1);

    play.input.send("live\r".into()).await.unwrap();
    watcher.wait_for("got:live").await;
    assert!(matches!(watcher.items.last(), Some(Output::Data(_))));

    drop(watcher);
    eventually("the watcher to leave the count", || async {
        served.remote.live_sessions().await.unwrap()[0].watchers == 0
    })
    .await;
}

#[tokio::test]
async fn recordings_are_listed_and_read_back_as_ttyrec() {
    let served = served(vec![script_game()], |_| {}).await;
    let erin = user("erin");
    let play = served
        .remote
        .play(&erin, &game_id(), size(30, 100))
        .await
        .unwrap();
    let mut output = Reader::new(play.output);
    output.wait_for("ready").await;
    play.input.send("hello\r".into()).await.unwrap();
    output.wait_for("got:hello").await;
    // Enough output for the recording to take several chunks.
    for _ in 0..3 {
        play.input.send("flood\r".into()).await.unwrap();
        output.wait_for("flood-done").await;
        output.raw.clear();
    }
    play.input.send("quit\r".into()).await.unwrap();
    output.wait_for_end().await;
    eventually("the game to end", || async {
        served.remote.live_sessions().await.unwrap().is_empty()
    })
    .await;

    let listed = served.remote.recordings(&erin).await.unwrap();
    assert_eq!(
        listed,
        GameBackend::recordings(&served.host, &erin).await.unwrap()
    );
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].game, game_id());

    let bytes = served
        .remote
        .read_recording(&erin, &game_id(), &listed[0].name)
        .await
        .unwrap();
    assert_eq!(bytes.len() as u64, listed[0].bytes);
    assert!(bytes.len() > 2 * guildhall_gamehost_rpc::RECORDING_CHUNK_BYTES);
    let file = served
        .host
        .layout()
        .recordings(&erin, &game_id())
        .join(&listed[0].name);
    assert_eq!(&bytes[..], &std::fs::read(file).unwrap()[..]);

    let mut reader = TtyrecReader::new(&bytes[..]);
    let mut text = Vec::new();
    let mut frames = 0;
    while let Some(frame) = reader.read_frame().unwrap() {
        text.extend_from_slice(&frame.data);
        frames += 1;
    }
    assert!(frames > 2);
    let text = String::from_utf8_lossy(&text);
    for expected in ["ready", "got:hello", "flood line 2999", "bye"] {
        assert!(
            text.contains(expected),
            "{expected} missing from the recording"
        );
    }
}

#[tokio::test]
async fn deaths_arrive_on_the_stream_and_in_the_recent_list() {
    let served = served(vec![script_game()], |_| {}).await;
    let mut deaths = served.remote.deaths().await.unwrap();
    assert!(served.remote.recent_deaths(10).await.unwrap().is_empty());

    let play = served
        .remote
        .play(&user("fay"), &game_id(), size(24, 80))
        .await
        .unwrap();
    let mut output = Reader::new(play.output);
    output.wait_for("ready").await;
    play.input.send("die\r".into()).await.unwrap();
    output.wait_for("died").await;

    let death = next_death(&mut deaths).await;
    let line = XLOG_LINE
        .replace("%s", "fay")
        .replace("\\t", "\t")
        .replace("\\n", "");
    assert_eq!(death.game, game_id());
    assert_eq!(death.user, Some(user("fay")));
    assert_eq!(
        death.entry,
        parse_xlog_line(&line).unwrap(),
        "every field, exactly"
    );

    eventually("the death to be kept", || async {
        !served.remote.recent_deaths(10).await.unwrap().is_empty()
    })
    .await;
    let recent = served.remote.recent_deaths(10).await.unwrap();
    assert_eq!(recent, vec![death.clone()]);
    assert_eq!(
        recent,
        GameBackend::recent_deaths(&served.host, 10).await.unwrap()
    );
    assert!(served.remote.recent_deaths(0).await.unwrap().is_empty());
}

#[tokio::test]
async fn options_are_edited_through_the_same_call() {
    let mut game = script_game();
    game.rc_template = Some(RcTemplate::Text("OPTIONS=color\n".into()));
    let served = served(vec![game], |_| {}).await;
    if !Path::new("/usr/bin/rnano").exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install nano (rnano)"
        );
        eprintln!("skipping: /usr/bin/rnano is missing (apt-get install nano)");
        return;
    }
    let gus = user("gus");
    let editor = served
        .remote
        .edit_options(&gus, &game_id(), size(24, 80))
        .await
        .unwrap();
    let mut output = Reader::new(editor.output);
    output.wait_for("OPTIONS=color").await;
    // ^X leaves (nothing was changed, so nano asks nothing).
    editor.input.send("\x18".into()).await.unwrap();
    output.wait_for_end().await;
    assert!(
        served.remote.live_sessions().await.unwrap().is_empty(),
        "the editor is not listed"
    );
}

#[tokio::test]
async fn shutting_the_server_down_ends_open_streams() {
    let served = served(vec![script_game()], |_| {}).await;
    let play = served
        .remote
        .play(&user("hal"), &game_id(), size(24, 80))
        .await
        .unwrap();
    let mut player = Reader::new(play.output);
    player.wait_for("ready").await;
    let mut watcher = Reader::new(served.remote.watch(play.session).await.unwrap());
    let mut deaths = served.remote.deaths().await.unwrap();

    let host = served.host.clone();
    served.stop().await;
    player.wait_for_end().await;
    watcher.wait_for_end().await;
    assert!(
        tokio::time::timeout(PATIENCE, deaths.recv())
            .await
            .unwrap()
            .is_none()
    );
    // The game itself belongs to the host, not to the server.
    assert_eq!(host.live_sessions().await.unwrap().len(), 1);
}
