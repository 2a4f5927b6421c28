//! Terminal games over SSH, as players see them: the real OpenSSH client on a PTY,
//! real NetHack from Debian, the gateway and game host in `guildhall up` and in the
//! split shape (gateways in front of a game host over gRPC).
//!
//! The NetHack scenarios are skipped with a notice when NetHack is not installed,
//! except under CI (which installs it).

mod ssh;
mod support;

use std::net::SocketAddr;
use std::time::Duration;

use guildhall::service::ServiceKind;
use ssh::{QUIET, Ssh, new_character, play_until, search_turns, turns};
use support::{Api, Db};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PASSWORD: &str = "correct-horse-battery";

fn nethack_installed() -> bool {
    if guildhall_gamehost::nethack::is_installed() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must install nethack-console"
    );
    eprintln!("nethack-console is not installed: skipping");
    false
}

/// `guildhall up` with NetHack, its SSH gateway on port 0.
async fn up_with_nethack(tune: impl FnOnce(&mut guildhall_config::Config)) -> support::Stack {
    support::up(Db::Sqlite, |config| {
        config.gamehost.nethack = true;
        tune(config);
    })
    .await
    .unwrap()
}

fn ssh_addr(stack: &support::Stack) -> SocketAddr {
    stack.running.ssh_addr().expect("the SSH gateway runs")
}

/// Logs in with the SSH user name and password: straight to the account menu.
async fn login(addr: SocketAddr, user: &str, rows: u16, cols: u16) -> Ssh {
    let mut ssh = Ssh::connect(addr, user, rows, cols);
    ssh.expect("password:").await;
    ssh.line(PASSWORD).await;
    ssh.expect(&format!("Logged in as {user}.")).await;
    ssh
}

/// Quits NetHack from its command prompt and answers the end-of-game questions
/// until the gateway's menu is back.
async fn quit_game(ssh: &mut Ssh) {
    play_until(ssh, "a command prompt", |_| true).await;
    ssh.send("#quit\r").await;
    ssh.expect("Really quit?").await;
    ssh.send("y").await;
    loop {
        let screen = ssh
            .wait_until("the end or a question", |screen| {
                screen.contains("ended.") || screen.contains("--More--") || screen.contains("[ynq]")
            })
            .await;
        if screen.contains("ended.") {
            return;
        }
        ssh.send(if screen.contains("--More--") {
            "\r"
        } else {
            "q"
        })
        .await;
        ssh.wait_until("an answer", |now| now != screen).await;
    }
}

#[tokio::test]
async fn a_player_registers_edits_options_plays_resizes_reconnects_and_is_watched() {
    if !nethack_installed() {
        return;
    }
    let stack = up_with_nethack(|_| {}).await;
    let addr = ssh_addr(&stack);

    // Any SSH user name listed as anonymous reaches the menu without a password.
    let mut alice = Ssh::connect(addr, "nethack", 24, 80);
    alice.expect("r) Register").await;
    alice.send("r").await;
    alice.expect("Username: ").await;
    alice.line("alice").await;
    alice.expect("Password (8 to 128").await;
    alice.line(PASSWORD).await;
    alice.expect("Password again").await;
    alice.line(PASSWORD).await;
    alice.expect("Email: ").await;
    alice.line("alice@example.com").await;
    let menu = alice.expect("Logged in as alice.").await;
    assert!(menu.contains("1) Play NetHack"), "{menu}");
    // The account is a platform account: head logs it in over HTTP too.
    let api = Api::new(&stack.base);
    let (status, _) = api
        .post(
            "/v1/session/login",
            None,
            serde_json::json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, 200);

    // Options: the restricted editor opens the player's rc file; turn on the turn
    // counter at its top, save, leave.
    alice.send("o").await;
    alice.expect("OPTIONS").await;
    alice.send("OPTIONS=time\r").await;
    alice.send("\x0f").await; // ^O: write out
    alice.expect("File Name to Write").await;
    alice.send("\r").await;
    alice.expect("Wrote").await;
    alice.send("\x18").await; // ^X: exit
    alice.expect("Options for NetHack 3.6 saved.").await;

    // Play: a new character, some turns.
    alice.send("1").await;
    new_character(&mut alice).await;
    let played = search_turns(&mut alice, 3).await;

    // The player's terminal grows; the watch list reports the new size.
    alice.resize(30, 100);
    let mut bob = Ssh::connect(addr, "watch", 30, 100);
    bob.expect("w) Watch").await;
    bob.send("w").await;
    bob.expect("a) alice").await;
    let mut listed = bob.contents();
    while !listed.contains("100x30") {
        // The list is read when drawn: redraw until the resize has arrived.
        bob.send(" ").await;
        listed = bob
            .wait_until("a redraw", |now| now.contains("a) alice"))
            .await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(listed.contains("nethack"), "{listed}");

    // Watching: the same screen, then the same moves, and nothing typed reaches the game.
    bob.send("a").await;
    let status = |screen: &str| {
        screen
            .lines()
            .find(|line| line.contains("Dlvl:"))
            .map(str::to_owned)
    };
    bob.expect("Dlvl:").await;
    let more = search_turns(&mut alice, 2).await;
    assert!(more >= played + 2);
    alice.settle(QUIET).await;
    let line = status(&alice.contents()).unwrap();
    bob.wait_until("the player's status line", |screen| {
        status(screen).as_deref() == Some(line.as_str())
    })
    .await;
    // What a watcher types never reaches the game: twenty searches would show.
    let before = turns(&alice.contents()).unwrap();
    bob.send("20s").await;
    search_turns(&mut alice, 1).await;
    alice.settle(QUIET).await;
    let more = turns(&alice.contents()).unwrap();
    assert!(
        more < before + 20,
        "the watcher's keys moved the game: T:{before} -> T:{more}"
    );

    // Disconnect; the game keeps running; logging in again offers to resume it, and
    // resuming shows the same game (not a new character).
    alice.kill().await;
    let mut alice = login(addr, "alice", 30, 100).await;
    alice.expect("1) Resume NetHack").await;
    alice.send("1").await;
    play_until(&mut alice, "the resumed game", |ssh| {
        turns(&ssh.contents()).is_some()
    })
    .await;
    assert!(!alice.raw_text().contains("Shall I pick"));
    assert!(turns(&alice.contents()).unwrap() >= more);
    // The watcher kept watching through the reconnect.
    search_turns(&mut alice, 2).await;
    alice.settle(QUIET).await;
    let after = turns(&alice.contents()).unwrap();
    bob.wait_until("the moves after the reconnect", |screen| {
        turns(screen) == Some(after)
    })
    .await;
    // A watcher leaves with q.
    bob.send("q").await;
    bob.expect("a) alice").await;
}

#[tokio::test]
async fn a_game_saved_on_disconnect_is_restored_and_its_death_is_streamed() {
    if !nethack_installed() {
        return;
    }
    let stack = up_with_nethack(|config| config.gamehost.grace_period_secs = 1).await;
    let addr = ssh_addr(&stack);
    Api::new(&stack.base).account("carol", PASSWORD).await;

    let mut carol = login(addr, "carol", 24, 80).await;
    carol.expect("1) Play NetHack").await;
    carol.send("1").await;
    new_character(&mut carol).await;

    // Gone for longer than the grace period: NetHack gets SIGHUP and saves.
    carol.kill().await;
    let mut eve = Ssh::connect(addr, "guest", 24, 80);
    eve.expect("w) Watch").await;
    loop {
        eve.send("w").await;
        let list = eve.expect("Games in progress").await;
        if list.contains("Nobody is playing") {
            break;
        }
        eve.send("q").await;
        eve.expect("w) Watch").await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eve.send("q").await;

    // The deaths stream, subscribed before the game ends.
    let events = reqwest::get(format!("{}/v1/terminal/events", stack.base))
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    assert!(
        events.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut events = events;

    // Back: the saved game is restored, not a new character.
    let mut carol = login(addr, "carol", 24, 80).await;
    carol.expect("1) Play NetHack").await;
    carol.send("1").await;
    play_until(&mut carol, "the restored game", |ssh| {
        ssh.raw_text().contains("welcome back") && ssh.contents().contains("Dlvl:")
    })
    .await;
    assert!(!carol.raw_text().contains("Shall I pick"));

    // Quitting ends the game: the menu says so, and the death is streamed.
    quit_game(&mut carol).await;
    let mut received = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !received.contains("\n\n") || !received.contains("event: game.death") {
        let chunk = tokio::time::timeout_at(deadline, events.chunk())
            .await
            .expect("a death event within 30 s")
            .unwrap()
            .expect("the stream stays open");
        received.push_str(&String::from_utf8_lossy(&chunk));
    }
    let data = received
        .lines()
        .find_map(|line| line.strip_prefix("data: "))
        .unwrap();
    let death: serde_json::Value = serde_json::from_str(data).unwrap();
    assert_eq!(death["game"], "nethack");
    assert_eq!(death["user"], "carol");
    assert_eq!(death["entry"]["death"], "quit");

    // The menu lists it among recent deaths.
    carol.send("d").await;
    carol.expect("carol").await;
    carol.expect("quit").await;
}

/// The split shape: `up` holds auth and the game host (serving gRPC, no SSH); two
/// gateway processes of their own sit in front of it.
#[tokio::test]
async fn a_game_outlives_its_gateway_and_resumes_through_another() {
    if !nethack_installed() {
        return;
    }
    const INTERNAL: &str = "terminal-split-internal-token";
    let stack = up_with_nethack(|config| {
        config.ssh.enabled = false;
        config.gamehost.grpc_listen = "127.0.0.1:0".into();
        config.auth.internal_token = INTERNAL.into();
    })
    .await;
    assert!(stack.running.ssh_addr().is_none());
    let grpc = stack.running.grpc_addr().expect("the host serves gRPC");
    Api::new(&stack.base).account("dave", PASSWORD).await;

    let gateway = |host_url: String| {
        let dir = tempfile::tempdir().unwrap();
        let mut config = support::test_config(dir.path());
        config.gamehost.enabled = false;
        config.ssh.game_host_url = host_url;
        config.peers.auth = stack.base.clone();
        config.auth.internal_token = INTERNAL.into();
        // Both gateways show clients the same host key, as behind one address.
        config.ssh.host_key = stack._dir.path().join("gateway_key").display().to_string();
        (config, dir)
    };
    let patience = Duration::from_secs(30);
    let (config, _a_dir) = gateway(format!("http://{grpc}"));
    let first = support::serve(config, ServiceKind::Terminal, patience).await;
    let (config, _b_dir) = gateway(format!("http://{grpc}"));
    let second = support::serve(config, ServiceKind::Terminal, patience).await;

    let mut dave = login(first.ssh_addr().unwrap(), "dave", 24, 80).await;
    dave.send("1").await;
    new_character(&mut dave).await;
    let map = dave.contents();

    // The gateway goes away: the player is disconnected, the game is not.
    assert!(first.shutdown().await);
    let goodbye = dave.expect_end().await;
    assert!(!goodbye.is_empty());

    let mut dave = login(second.ssh_addr().unwrap(), "dave", 24, 80).await;
    dave.expect("1) Resume NetHack").await;
    dave.send("1").await;
    play_until(&mut dave, "the same game", |ssh| {
        ssh.contents().contains("Dlvl:")
    })
    .await;
    assert!(!dave.raw_text().contains("Shall I pick"));
    let status = |screen: &str| {
        screen
            .lines()
            .find(|line| line.contains("Dlvl:"))
            .map(str::to_owned)
    };
    assert_eq!(status(&dave.contents()), status(&map));

    // A gateway whose game host cannot be reached still logs players in and says so.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_addr = closed.local_addr().unwrap();
    drop(closed);
    let (config, _c_dir) = gateway(format!("http://{closed_addr}"));
    let lonely = support::serve(config, ServiceKind::Terminal, patience).await;
    let mut dave_again = login(lonely.ssh_addr().unwrap(), "dave", 24, 80).await;
    let menu = dave_again.expect("unreachable").await;
    assert!(!menu.contains("NetHack"), "{menu}");
    assert!(menu.contains("c) Change password"), "{menu}");
    dave_again.send("q").await;
    dave_again.expect("Goodbye.").await;
}

#[tokio::test]
async fn an_account_games_cannot_name_plays_under_its_derived_name() {
    if !nethack_installed() {
        return;
    }
    let stack = up_with_nethack(|_| {}).await;
    Api::new(&stack.base).account("zoë", PASSWORD).await;
    let player = guildhall_gamehost::UserName::for_account("zoë");
    assert!(player.as_str().starts_with("zo_X"), "{player}");

    let mut zoe = login(ssh_addr(&stack), "zoë", 24, 80).await;
    zoe.expect("1) Play NetHack").await;
    zoe.send("1").await;
    new_character(&mut zoe).await;
    let greeting = format!("{player}, welcome to NetHack!");
    play_until(&mut zoe, &greeting, |ssh| {
        ssh.raw_text().contains(&greeting)
    })
    .await;
    // Watchers find the game under that name.
    let mut watcher = Ssh::connect(ssh_addr(&stack), "watch", 24, 80);
    watcher.expect("w) Watch").await;
    watcher.send("w").await;
    watcher.expect(&format!("a) {player}")).await;
}

/// Reads what the server sends first on a raw TCP connection (its SSH banner, or a
/// refusal line), up to `limit` bytes or EOF.
async fn first_line(stream: &mut tokio::net::TcpStream) -> String {
    let mut buf = vec![0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
        .await
        .expect("the server answers")
        .unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

async fn connect_from(source: &str, to: SocketAddr) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    socket.connect(to).await.unwrap()
}

#[tokio::test]
async fn connection_caps_hold_under_a_flood_and_silent_clients_are_dropped() {
    let stack = support::up(Db::Sqlite, |config| {
        config.ssh.max_connections = 6;
        config.ssh.max_per_ip = 4;
        config.ssh.handshake_timeout_secs = 2;
    })
    .await
    .unwrap();
    let addr = ssh_addr(&stack);

    // Four from one address are served; the fifth is told why and closed.
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut stream = connect_from("127.0.0.1", addr).await;
        assert!(
            first_line(&mut stream)
                .await
                .starts_with("SSH-2.0-Guildhall")
        );
        held.push(stream);
    }
    let mut refused = connect_from("127.0.0.1", addr).await;
    assert!(
        first_line(&mut refused)
            .await
            .contains("too many connections from your address")
    );
    // Two more from another address fill the gateway; a third address finds it full.
    for _ in 0..2 {
        let mut stream = connect_from("127.0.0.2", addr).await;
        assert!(
            first_line(&mut stream)
                .await
                .starts_with("SSH-2.0-Guildhall")
        );
        held.push(stream);
    }
    let mut full = connect_from("127.0.0.3", addr).await;
    assert!(first_line(&mut full).await.contains("the server is full"));

    // Clients that never finish the handshake are dropped after its timeout.
    for stream in &mut held {
        let mut rest = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest)).await;
        assert!(read.is_ok(), "a silent client was not dropped");
    }
    drop(held);

    // A flood of connections opened and dropped at once, and garbage instead of SSH.
    let mut flood = Vec::new();
    for n in 0..200 {
        flood.push(tokio::spawn(async move {
            let source = format!("127.0.1.{}", n % 50 + 1);
            let mut stream = connect_from(&source, addr).await;
            if n % 2 == 0 {
                let _ = stream.write_all(&[0xff; 4096]).await;
            }
        }));
    }
    for task in flood {
        task.await.unwrap();
    }
    // The listener is alive and a real client gets the menu once the flood is gone.
    support_eventually_menu(addr).await;
    let metrics = support::scrape(&stack).await;
    assert!(
        metrics.contains("terminal_connections_refused_total"),
        "{metrics}"
    );
}

/// A real client reaches the menu (connections left over from a flood may still be
/// closing, so it tries until it is admitted).
async fn support_eventually_menu(addr: SocketAddr) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let mut stream = connect_from("127.0.0.9", addr).await;
        if first_line(&mut stream).await.starts_with("SSH-2.0-") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never admitted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut ssh = Ssh::connect(addr, "nethack", 24, 80);
    ssh.expect("l) Log in").await;
    ssh.send("q").await;
    ssh.expect("Goodbye.").await;
}

#[tokio::test]
async fn bad_input_on_every_prompt_is_refused_and_changes_nothing() {
    let stack = support::up(Db::Sqlite, |_| {}).await.unwrap();
    let addr = ssh_addr(&stack);
    let api = Api::new(&stack.base);
    api.account("frank", PASSWORD).await;

    let mut ssh = Ssh::connect(addr, "nethack", 24, 80);
    ssh.expect("l) Log in").await;
    // Junk at the menu: control characters, escape sequences, invalid UTF-8.
    ssh.send_bytes(b"\x00\x01\x1b[999;999H\x9b\xff\xfe\xc3(\x07")
        .await;
    // Login with a huge username full of garbage: refused like any wrong login.
    ssh.send("l").await;
    ssh.expect("Username: ").await;
    let mut huge = vec![b'a'; 100_000];
    huge.extend_from_slice(b"\x1b[2J\xff\xfe\x00\x7f\x7f");
    ssh.send_bytes(&huge).await;
    ssh.send("\r").await;
    ssh.expect("Password: ").await;
    ssh.line("wrong-password").await;
    let screen = ssh.expect("l) Log in").await;
    assert!(screen.contains("Not logged in."), "{screen}");

    // Register with a name no account may have.
    ssh.send("r").await;
    ssh.expect("Username: ").await;
    ssh.send_bytes("ad\u{200b}min\u{1f600}".as_bytes()).await;
    ssh.send("\r").await;
    ssh.expect("That username cannot be used").await;
    // Mismatched passwords register nothing.
    ssh.send("r").await;
    ssh.expect("Username: ").await;
    ssh.line("grace").await;
    ssh.expect("Password (8").await;
    ssh.line(PASSWORD).await;
    ssh.expect("Password again").await;
    ssh.line("something-else").await;
    ssh.expect("The passwords differ").await;
    let (status, _) = api
        .post(
            "/v1/session/login",
            None,
            serde_json::json!({"username": "grace", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, 401, "nothing was registered");
    // Escape leaves a prompt.
    ssh.send("l").await;
    ssh.expect("Username: ").await;
    ssh.send("\x1b").await;
    ssh.expect("l) Log in").await;

    // The account menu through the SSH password; a wrong change of password changes nothing.
    let mut frank = login(addr, "frank", 24, 80).await;
    frank.send("c").await;
    frank.expect("Current password").await;
    frank.line("not-the-password").await;
    frank.expect("New password:").await;
    frank.line("a-new-password-1").await;
    frank.expect("New password again").await;
    frank.line("a-new-password-1").await;
    frank
        .wait_until("a refusal", |screen| {
            screen.contains("Logged in as frank.") && !screen.contains("Password changed")
        })
        .await;
    let (status, _) = api
        .post(
            "/v1/session/login",
            None,
            serde_json::json!({"username": "frank", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, 200, "the password is unchanged");
    // Logging out goes back to the anonymous menu; quitting ends the connection.
    frank.send("l").await;
    frank.expect("Logged out.").await;
    frank.send("q").await;
    frank.expect("Goodbye.").await;

    // A wrong SSH password is refused: ssh gives up after its one prompt.
    let mut wrong = Ssh::connect(addr, "frank", 24, 80);
    wrong.expect("password:").await;
    wrong.line("not-the-password").await;
    let end = wrong.expect_end().await;
    assert!(end.contains("Permission denied"), "{end}");

    // Commands are refused: the gateway is menus and games only.
    let output = tokio::process::Command::new("ssh")
        .args(["-F", "/dev/null", "-p", &addr.port().to_string()])
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
        ])
        .args(["-o", "LogLevel=ERROR", "-o", "BatchMode=yes"])
        .arg(format!("nethack@{}", addr.ip()))
        .arg("cat /etc/passwd")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    assert!(!String::from_utf8_lossy(&output.stdout).contains("root:"));
}
