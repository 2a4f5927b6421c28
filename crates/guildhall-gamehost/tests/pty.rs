//! A scripted program on a real PTY: input, resize, detach and reattach, takeover,
//! the grace period's SIGHUP, the end of a game, its recording and the options
//! editor.

mod common;

use std::path::Path;

use common::*;
use guildhall_gamehost::{DEFAULT_GRACE_PERIOD_SECS, Output, RcTemplate};
use guildhall_ttyrec::{Reader, TermSize};

fn pid_in(text: &str) -> String {
    let start = text.find("pid=").expect("a pid") + 4;
    text[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect()
}

#[tokio::test]
async fn input_echoes_and_a_resize_reaches_the_program() {
    let (host, _dir) = host_with(vec![script_game()], |_| {}).await;
    let alice = user("alice");
    let attachment = host
        .start_or_attach(&alice, &game_id(), size(30, 100))
        .await
        .unwrap();
    let mut client = Client::new(attachment);
    client.wait_for_raw("ready").await;

    client.send("hello\r").await;
    client.wait_for_raw("got:hello").await;
    client.send("size\r").await;
    client.wait_for_raw("30 100").await;

    client.source.resize(size(40, 120)).await.unwrap();
    client.send("size\r").await;
    client.wait_for_raw("40 120").await;
    assert!(client.items.contains(&Output::Resize(size(40, 120))));
    let live = host.live_sessions().await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].size, size(40, 120));
    assert_eq!(
        (live[0].user.as_str(), live[0].game.as_str()),
        ("alice", "script")
    );
    assert!(live[0].attached);
}

#[tokio::test]
async fn detach_and_reattach_find_the_same_process() {
    let (host, _dir) = host_with(vec![script_game()], |_| {}).await;
    assert_eq!(host.config().grace_period_secs, DEFAULT_GRACE_PERIOD_SECS);
    let bob = user("bob");
    let mut client = Client::new(
        host.start_or_attach(&bob, &game_id(), size(24, 80))
            .await
            .unwrap(),
    );
    client.wait_for_raw("ready").await;
    client.send("pid\r").await;
    client.wait_for_raw("pid=").await;
    let session = client.source.session();
    let pid = pid_in(&client.raw_text());
    client.source.detach();

    eventually("the game to show as detached", || async {
        let live = host.live_sessions().await.unwrap();
        live.len() == 1 && !live[0].attached
    })
    .await;

    let mut again = Client::new(
        host.start_or_attach(&bob, &game_id(), size(24, 80))
            .await
            .unwrap(),
    );
    assert_eq!(again.source.session(), session);
    // The first thing a reattached player gets is the screen as it was.
    again
        .wait_until("the first item", |client| !client.items.is_empty())
        .await;
    assert!(matches!(again.items[0], Output::Screen { .. }));
    assert!(
        again.contents().contains(&format!("pid={pid}")),
        "{}",
        again.contents()
    );
    again.send("pid\r").await;
    again
        .wait_until("a second pid line", |client| {
            client.raw_text().matches("pid=").count() >= 2
        })
        .await;
    let text = again.raw_text();
    let last = &text[text.rfind("pid=").unwrap()..];
    assert_eq!(pid_in(last), pid);
}

#[tokio::test]
async fn a_second_connection_takes_the_game_over() {
    let (host, _dir) = host_with(vec![script_game()], |_| {}).await;
    let carol = user("carol");
    let mut first = Client::new(
        host.start_or_attach(&carol, &game_id(), size(24, 80))
            .await
            .unwrap(),
    );
    first.wait_for_raw("ready").await;
    let mut second = Client::new(
        host.start_or_attach(&carol, &game_id(), size(24, 80))
            .await
            .unwrap(),
    );
    assert_eq!(first.source.session(), second.source.session());
    first.wait_for_end().await;

    // Both go through the session in order: the replaced one's line would come first.
    first.send("from-first\r").await;
    second.send("from-second\r").await;
    second.wait_for_raw("got:from-second").await;
    assert!(!second.raw_text().contains("got:from-first"));
    assert_eq!(host.live_sessions().await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_grace_period_ends_with_sighup() {
    let (host, dir) = host_with(vec![script_game()], |config| config.grace_period_secs = 1).await;
    let dave = user("dave");
    let mut client = Client::new(
        host.start_or_attach(&dave, &game_id(), size(24, 80))
            .await
            .unwrap(),
    );
    client.wait_for_raw("ready").await;
    let session = client.source.session();
    drop(client);

    eventually("the game to be hung up", || async {
        host.live_sessions().await.unwrap().is_empty()
    })
    .await;
    let marker = dir.path().join("data/playgrounds/script/hangup-dave");
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "hangup\n");

    // Coming back after that starts a new game.
    let mut client = Client::new(
        host.start_or_attach(&dave, &game_id(), size(24, 80))
            .await
            .unwrap(),
    );
    assert_ne!(client.source.session(), session);
    client.wait_for_raw("ready").await;
}

#[tokio::test]
async fn a_game_that_exits_ends_its_streams_and_its_session() {
    let (host, _dir) = host_with(vec![script_game()], |_| {}).await;
    let erin = user("erin");
    let mut client = Client::new(
        host.start_or_attach(&erin, &game_id(), size(24, 80))
            .await
            .unwrap(),
    );
    client.wait_for_raw("ready").await;
    let mut watcher = Client::new(host.watch(client.source.session()).await.unwrap());
    client.send("quit\r").await;
    client.wait_for_end().await;
    watcher.wait_for_end().await;
    assert!(client.raw_text().contains("bye"));
    assert!(watcher.raw_text().contains("bye"));
    eventually("the session to go", || async {
        host.live_sessions().await.unwrap().is_empty()
    })
    .await;
    assert!(host.watch(client.source.session()).await.is_err());
}

#[tokio::test]
async fn a_session_is_recorded_as_ttyrec_with_its_sizes() {
    let (host, _dir) = host_with(vec![script_game()], |_| {}).await;
    let fay = user("fay");
    let mut client = Client::new(
        host.start_or_attach(&fay, &game_id(), size(30, 100))
            .await
            .unwrap(),
    );
    client.wait_for_raw("ready").await;
    client.send("hello\r").await;
    client.wait_for_raw("got:hello").await;
    client.source.resize(size(40, 120)).await.unwrap();
    client.send("size\r").await;
    client.wait_for_raw("40 120").await;
    client.send("quit\r").await;
    client.wait_for_end().await;
    eventually("the session to go", || async {
        host.live_sessions().await.unwrap().is_empty()
    })
    .await;

    let recordings = host.recordings(&fay).await.unwrap();
    assert_eq!(recordings.len(), 1);
    let recording = &recordings[0];
    assert_eq!(recording.game, game_id());
    assert!(
        recording
            .path
            .starts_with(host.layout().recordings(&fay, &game_id()))
    );
    assert_eq!(recording.path.extension().unwrap(), "ttyrec");

    let mut reader = Reader::new(std::fs::File::open(&recording.path).unwrap());
    let mut frames = Vec::new();
    while let Some(frame) = reader.read_frame().unwrap() {
        frames.push(frame);
    }
    assert_eq!(frames[0].data, TermSize::new(30, 100).resize_sequence());
    assert!(
        frames
            .iter()
            .any(|frame| frame.data == TermSize::new(40, 120).resize_sequence())
    );
    assert_eq!(reader.size(), Some(TermSize::new(40, 120)));
    let text: Vec<u8> = frames
        .iter()
        .flat_map(|frame| frame.data.iter().copied())
        .collect();
    let text = String::from_utf8_lossy(&text);
    for expected in ["ready", "got:hello", "40 120", "bye"] {
        assert!(
            text.contains(expected),
            "{expected} missing from the recording"
        );
    }
    assert!(frames.windows(2).all(|pair| pair[0].time <= pair[1].time));
}

#[tokio::test]
async fn options_are_edited_in_a_restricted_editor() {
    let mut game = script_game();
    game.rc_template = Some(RcTemplate::Text("OPTIONS=color\n".into()));
    let (host, _dir) = host_with(vec![game], |_| {}).await;
    let gus = user("gus");
    let command = host.edit_options(&gus, &game_id()).await.unwrap();
    let rc = host.layout().rc_file(&gus, &game_id());
    assert_eq!(command.program, Path::new("/usr/bin/rnano"));
    assert_eq!(command.args.last().unwrap(), &rc.to_string_lossy());
    assert_eq!(std::fs::read_to_string(&rc).unwrap(), "OPTIONS=color\n");

    if !Path::new("/usr/bin/rnano").exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install nano (rnano)"
        );
        eprintln!("skipping the editor run: /usr/bin/rnano is missing (apt-get install nano)");
        return;
    }
    let mut editor = Client::new(
        host.open_options_editor(&gus, &game_id(), size(24, 80))
            .await
            .unwrap(),
    );
    editor.wait_for_screen("OPTIONS=color").await;
    editor.wait_for_screen("Restricted").await;
    editor.send("OPTIONS=time\r").await;
    editor.wait_for_screen("OPTIONS=time").await;
    // ^T would run a command and ^R read another file. Both are refused, so the key
    // typed after each lands in the text rather than in a prompt.
    editor.send("\x14a").await;
    editor.wait_for_screen("aOPTIONS=color").await;
    assert!(editor.contents().contains("disabled in restricted mode"));
    editor.send("\x12b").await;
    editor.wait_for_screen("abOPTIONS=color").await;
    // ^O writes, Enter keeps the name, ^X leaves.
    editor.send("\x0f").await;
    editor.wait_for_screen("File Name to Write").await;
    editor.send("\r").await;
    editor.wait_for_screen("Wrote").await;
    editor.send("\x18").await;
    editor.wait_for_end().await;
    let text = std::fs::read_to_string(&rc).unwrap();
    assert_eq!(text, "OPTIONS=time\nabOPTIONS=color\n");
    assert!(
        host.live_sessions().await.unwrap().is_empty(),
        "the editor is not listed"
    );
}
