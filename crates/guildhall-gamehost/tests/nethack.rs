//! The real NetHack from Debian's `nethack-console`: a character is created, a few
//! moves are made, the game is saved on disconnect and restored on the next launch,
//! its recording is a ttyrec, and after a quit its xlogfile line becomes a death.
//!
//! Skipped with a notice when NetHack is not installed, except under CI.

mod common;

use common::*;
use guildhall_gamehost::{Attachment, GameConfig, GameId, Host, TermSize, nethack};
use guildhall_ttyrec::Reader;

fn installed() -> bool {
    if nethack::is_installed() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must install nethack-console ({} is missing)",
        nethack::BINARY
    );
    eprintln!(
        "skipping: {} is missing (apt-get install nethack-console)",
        nethack::BINARY
    );
    false
}

/// The turn counter on the status line (`T:123`, with `OPTIONS=time`).
fn turns(screen: &str) -> Option<u64> {
    let at = screen.find("T:")? + 2;
    screen[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

/// Whether NetHack is waiting for a command: no `--More--`, and the cursor on the
/// hero. (Output arrives in PTY-sized chunks, so a screen can be seen half drawn;
/// the cursor only goes back to the hero once the turn is drawn.)
fn settled(client: &Client<Attachment>) -> bool {
    let screen = client.screen.screen();
    let (row, col) = screen.cursor_position();
    !client.contents().contains("--More--")
        && screen
            .cell(row, col)
            .is_some_and(|cell| cell.contents() == "@")
}

/// Reads until `goal` holds and the game waits for a command, answering each
/// `--More--` on the way.
async fn play_until(
    client: &mut Client<Attachment>,
    what: &str,
    goal: impl Fn(&Client<Attachment>) -> bool,
) {
    loop {
        client
            .wait_until(what, |client| {
                (goal(client) && settled(client)) || client.contents().contains("--More--")
            })
            .await;
        let screen = client.contents();
        if !screen.contains("--More--") {
            return;
        }
        client.send("\r").await;
        client
            .wait_until("the --More-- to be answered", |client| {
                client.contents() != screen
            })
            .await;
    }
}

/// Sends `keys` once the game seems to wait for a command, and reads until `goal`.
/// A `--More--` drawn after the screen looked settled ignores what is typed, so it
/// is answered and the keys are sent again. `keys` must not hold a Return, which
/// would answer such a `--More--` itself.
async fn command(
    client: &mut Client<Attachment>,
    keys: &str,
    what: &str,
    goal: impl Fn(&Client<Attachment>) -> bool,
) {
    loop {
        play_until(client, "the game to wait for a command", |_| true).await;
        client.send(keys).await;
        client
            .wait_until(what, |client| {
                goal(client) || client.contents().contains("--More--")
            })
            .await;
        if goal(client) {
            return;
        }
    }
}

async fn launch(host: &Host, name: &str) -> Client<Attachment> {
    let attachment = host
        .start_or_attach(&user(name), &nethack_id(), TermSize::new(24, 80))
        .await
        .unwrap();
    Client::new(attachment)
}

/// A dwarvish Valkyrie, the sturdiest start: a random character can die to the first
/// monster within the few turns a test plays, which would end the game under test.
async fn new_character(client: &mut Client<Attachment>) {
    client.wait_for_screen("Shall I pick").await;
    client.send("n").await;
    client.wait_for_screen("Pick a role").await;
    client.send("v").await;
    client.wait_for_screen("Pick a race").await;
    client.send("d").await;
    client.wait_for_screen("Is this ok?").await;
    client.send("y").await;
}

fn nethack_id() -> GameId {
    GameId::parse("nethack").unwrap()
}

#[tokio::test]
async fn nethack_is_saved_on_hangup_restored_on_return_and_its_death_published() {
    if !installed() {
        return;
    }
    let (host, _dir) = host_with(vec![GameConfig::nethack()], |config| {
        config.grace_period_secs = 1
    })
    .await;
    let alice = user("alice");

    // The player's options come from Debian's template; turn on the turn counter as
    // a player would in the editor.
    let options = host.edit_options(&alice, &nethack_id()).await.unwrap();
    let rc = options.args.last().unwrap().clone();
    let mut text = std::fs::read_to_string(&rc).unwrap();
    assert!(text.contains("OPTIONS=windowtype:tty"), "Debian's template");
    text.push_str("OPTIONS=time\n");
    std::fs::write(&rc, text).unwrap();

    // A new character.
    let mut client = launch(&host, "alice").await;
    new_character(&mut client).await;
    play_until(&mut client, "the welcome and the status line", |client| {
        client.raw_text().contains("welcome to NetHack") && turns(&client.contents()).is_some()
    })
    .await;

    // A few moves: search until three turns passed. A monster coming into view
    // interrupts a search count, so it is given again until the turns are there.
    let before = turns(&client.contents()).unwrap();
    while turns(&client.contents()).unwrap() < before + 3 {
        let seen = client.raw.len();
        client.send("5s").await;
        play_until(&mut client, "searching", |client| client.raw.len() > seen).await;
    }
    let played = turns(&client.contents()).unwrap();

    // Disconnect: after the one-second grace period SIGHUP makes NetHack save.
    assert!(
        host.save_files(&alice, &nethack_id())
            .await
            .unwrap()
            .is_empty()
    );
    drop(client);
    eventually("the game to save and exit", || async {
        host.live_sessions().await.unwrap().is_empty()
    })
    .await;
    let saves = host.save_files(&alice, &nethack_id()).await.unwrap();
    assert_eq!(saves.len(), 1, "{saves:?}");
    let save_name = saves[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(save_name.ends_with("alice.gz"), "{save_name}");

    // Coming back restores the same character; the save was backed up first.
    let mut deaths = host.deaths();
    let mut client = launch(&host, "alice").await;
    client
        .wait_until("the restore", |client| {
            let screen = client.contents();
            screen.contains("Restoring save file") || screen.contains("welcome back")
        })
        .await;
    let backups = host.layout().backups(&alice, &nethack_id());
    let backup: Vec<_> = std::fs::read_dir(&backups).unwrap().collect();
    assert_eq!(backup.len(), 1);
    assert!(backup[0].as_ref().unwrap().path().join(&save_name).exists());
    play_until(&mut client, "the restored game", |client| {
        client.raw_text().contains("welcome back") && turns(&client.contents()).is_some()
    })
    .await;
    assert!(!client.raw_text().contains("Shall I pick"));
    assert!(turns(&client.contents()).unwrap() >= played);

    // Quit: confirm, skip the disclosure, and the game ends.
    command(&mut client, "#", "the extended command prompt", |client| {
        client
            .contents()
            .lines()
            .next()
            .is_some_and(|line| line.trim_end() == "#")
    })
    .await;
    client.send("quit\r").await;
    client.wait_for_screen("Really quit?").await;
    client.send("y").await;
    client.wait_for_screen("possessions identified?").await;
    client.send("q").await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !client.ended {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the game did not end"
        );
        client
            .wait_until("the end or a prompt", |client| {
                client.ended
                    || client.contents().contains("--More--")
                    || client.contents().contains("[ynq]")
            })
            .await;
        if client.ended {
            break;
        }
        let screen = client.contents();
        client
            .send(if screen.contains("--More--") {
                "\r"
            } else {
                "q"
            })
            .await;
        client
            .wait_until("an answer", |client| {
                client.ended || client.contents() != screen
            })
            .await;
    }

    let death = tokio::time::timeout(PATIENCE, deaths.recv())
        .await
        .expect("a death event")
        .unwrap();
    assert_eq!(death.game, nethack_id());
    assert_eq!(death.user, Some(alice.clone()));
    assert_eq!(death.entry.name, "alice");
    assert_eq!(death.entry.death, "quit");
    assert!(death.entry.turns >= i64::try_from(played).unwrap());

    // Both sessions were recorded, with the size first and the game's output after.
    eventually("the last session to go", || async {
        host.live_sessions().await.unwrap().is_empty()
    })
    .await;
    let recordings = host.recordings(&alice).await.unwrap();
    assert_eq!(recordings.len(), 2);
    for recording in &recordings {
        let mut reader = Reader::new(std::fs::File::open(&recording.path).unwrap());
        let first = reader.read_frame().unwrap().unwrap();
        assert_eq!(first.data, TermSize::new(24, 80).resize_sequence());
        let mut text = Vec::new();
        while let Some(frame) = reader.read_frame().unwrap() {
            text.extend_from_slice(&frame.data);
        }
        assert_eq!(reader.size(), Some(TermSize::new(24, 80)));
        assert!(String::from_utf8_lossy(&text).contains("NetHack"));
    }
    // A quit game leaves no save behind.
    assert!(
        host.save_files(&alice, &nethack_id())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn nethack_runs_with_the_private_sysconf() {
    if !installed() {
        return;
    }
    let (host, _dir) = host_with(vec![GameConfig::nethack()], |_| {}).await;
    let mut client = launch(&host, "bob").await;
    new_character(&mut client).await;
    play_until(&mut client, "the welcome and the status line", |client| {
        client.raw_text().contains("welcome to NetHack") && client.contents().contains("Dlvl:1")
    })
    .await;
    // SHELLERS is empty: '!' is not a command.
    command(&mut client, "!", "the refusal", |client| {
        client.contents().contains("Unknown command")
    })
    .await;
    let playground = host.layout().playground(&nethack_id());
    let sysconf = std::fs::read_to_string(playground.join("sysconf")).unwrap();
    assert!(sysconf.contains("\nWIZARDS=\n") && sysconf.contains("\nMAXPLAYERS=0\n"));
    // The lock file is named by uid and player (MAXPLAYERS=0), not `alock`.
    let locks: Vec<String> = std::fs::read_dir(&playground)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with("bob.0"))
        .collect();
    assert_eq!(locks.len(), 1, "{locks:?}");
    host.shutdown().await;
    assert_eq!(
        host.save_files(&user("bob"), &nethack_id())
            .await
            .unwrap()
            .len(),
        1,
        "saved at shutdown"
    );
}
