//! The real OpenSSH client on a PTY the test holds, with a vt100 model of what it
//! shows: tests type like a person and read the screen like one.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long a screen may take to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(30);

pub struct Ssh {
    child: tokio::process::Child,
    reader: pty_process::OwnedReadPty,
    writer: pty_process::OwnedWritePty,
    screen: vt100::Parser,
    /// Everything received, for text that scrolled away or was overdrawn.
    raw: Vec<u8>,
}

impl Ssh {
    /// `ssh -t -p PORT user@127.0.0.1` in a `rows`x`cols` terminal, host key not checked,
    /// password authentication only.
    pub fn connect(addr: SocketAddr, user: &str, rows: u16, cols: u16) -> Ssh {
        let (pty, pts) = pty_process::open().unwrap();
        pty.resize(pty_process::Size::new(rows, cols)).unwrap();
        let child = pty_process::Command::new("ssh")
            .args(["-tt", "-F", "/dev/null", "-p", &addr.port().to_string()])
            .args([
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
            ])
            .args(["-o", "LogLevel=ERROR", "-o", "PubkeyAuthentication=no"])
            .args(["-o", "NumberOfPasswordPrompts=1", "-o", "ConnectTimeout=10"])
            .arg(format!("{user}@{}", addr.ip()))
            .env("TERM", "xterm")
            .kill_on_drop(true)
            .spawn(pts)
            .unwrap();
        let (reader, writer) = pty.into_split();
        Ssh {
            child,
            reader,
            writer,
            screen: vt100::Parser::new(nonzero(rows), nonzero(cols), 0),
            raw: Vec::new(),
        }
    }

    fn received(&mut self, bytes: &[u8]) {
        self.screen.process(bytes);
        self.raw.extend_from_slice(bytes);
    }

    /// Everything received so far, as text.
    pub fn raw_text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }

    /// The screen model (cursor, cells).
    pub fn screen(&self) -> &vt100::Screen {
        self.screen.screen()
    }

    /// What the terminal shows now.
    pub fn contents(&self) -> String {
        self.screen.screen().contents()
    }

    /// Reads output until the screen shows `text`; panics with the screen after
    /// [`PATIENCE`].
    pub async fn expect(&mut self, text: &str) -> String {
        self.wait_until(text, |screen| screen.contains(text)).await
    }

    /// Reads output until `done` holds for the screen's contents.
    pub async fn wait_until(&mut self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        let mut buf = [0u8; 8192];
        loop {
            let contents = self.contents();
            if done(&contents) {
                return contents;
            }
            match tokio::time::timeout_at(deadline, self.reader.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => self.received(&buf[..n]),
                Ok(_) => {
                    panic!("ssh ended before the screen showed {what:?}; it showed:\n{contents}")
                }
                Err(_) => panic!("the screen never showed {what:?}; it showed:\n{contents}"),
            }
        }
    }

    /// Reads until the client's terminal closes (ssh exited); panics after [`PATIENCE`].
    pub async fn expect_end(&mut self) -> String {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        let mut buf = [0u8; 8192];
        loop {
            match tokio::time::timeout_at(deadline, self.reader.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => self.received(&buf[..n]),
                Ok(_) => return self.contents(),
                Err(_) => panic!("ssh did not end; the screen shows:\n{}", self.contents()),
            }
        }
    }

    pub async fn send(&mut self, text: &str) {
        self.send_bytes(text.as_bytes()).await;
    }

    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.unwrap();
    }

    /// Types a line and Enter.
    pub async fn line(&mut self, text: &str) {
        self.send(text).await;
        self.send("\r").await;
    }

    /// Resizes the client's terminal: ssh sends a window change.
    pub fn resize(&mut self, rows: u16, cols: u16) {
        self.writer
            .resize(pty_process::Size::new(rows, cols))
            .unwrap();
        self.screen.set_size(nonzero(rows), nonzero(cols));
    }

    /// Kills the client, as a dropped connection would.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
        let _ = self.child.wait().await;
    }
}

/// Whether NetHack waits for a command: no `--More--`, the cursor on the hero.
pub fn settled(ssh: &Ssh) -> bool {
    let screen = ssh.screen();
    let (row, col) = screen.cursor_position();
    !ssh.contents().contains("--More--")
        && screen
            .cell(row, col)
            .is_some_and(|cell| cell.contents() == "@")
}

/// Reads until `goal` holds and NetHack waits for a command, answering `--More--`.
pub async fn play_until(ssh: &mut Ssh, what: &str, goal: impl Fn(&Ssh) -> bool) {
    loop {
        let mut reached = false;
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !reached {
            assert!(
                tokio::time::Instant::now() < deadline,
                "never reached {what:?}; the screen shows:\n{}",
                ssh.contents()
            );
            reached = (goal(ssh) && settled(ssh)) || ssh.contents().contains("--More--");
            if !reached {
                ssh.read_some().await;
            }
        }
        let screen = ssh.contents();
        if !screen.contains("--More--") {
            return;
        }
        ssh.send("\r").await;
        ssh.wait_until("the --More-- to be answered", |now| now != screen)
            .await;
    }
}

/// A new character: a dwarvish Valkyrie, accepted; the game starts.
pub async fn new_character(ssh: &mut Ssh) {
    // A dwarvish Valkyrie, the sturdiest start: a random character can die to the first
    // monster within the few turns a test plays, which would end the game under test.
    ssh.expect("Shall I pick").await;
    ssh.send("n").await;
    ssh.expect("Pick a role").await;
    ssh.send("v").await;
    ssh.expect("Pick a race").await;
    ssh.send("d").await;
    ssh.expect("Is this ok?").await;
    ssh.send("y").await;
    play_until(ssh, "the status line", |ssh| {
        ssh.contents().contains("Dlvl:")
    })
    .await;
}

/// The turn counter (`T:123`, with `OPTIONS=time`).
pub fn turns(screen: &str) -> Option<u64> {
    let at = screen.find("T:")? + 2;
    screen[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

/// Output quiet this long means a game finished drawing its turn.
pub const QUIET: Duration = Duration::from_millis(300);

/// Searches one turn at a time until `count` more turns passed, answering any
/// `--More--`, and returns the turn counter once the game is quiet.
pub async fn search_turns(ssh: &mut Ssh, count: u64) -> u64 {
    ssh.settle(QUIET).await;
    let before = turns(&ssh.contents()).expect("the turn counter is on");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while turns(&ssh.contents()).unwrap_or(0) < before + count {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the turns never passed; the screen shows:\n{}",
            ssh.contents()
        );
        let key = if ssh.contents().contains("--More--") {
            "\r"
        } else {
            "s"
        };
        ssh.send(key).await;
        ssh.settle(QUIET).await;
    }
    turns(&ssh.contents()).unwrap()
}

impl Ssh {
    /// Reads until the output has been quiet for `quiet` (a game finishing a counted
    /// command draws several turns after the cursor first came back to the hero).
    pub async fn settle(&mut self, quiet: Duration) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        let mut buf = [0u8; 8192];
        loop {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the output never went quiet"
            );
            match tokio::time::timeout(quiet, self.reader.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => self.received(&buf[..n]),
                Ok(_) => panic!("ssh ended; the screen shows:\n{}", self.contents()),
                Err(_) => return,
            }
        }
    }

    /// Reads one chunk of output (panics if ssh ended or nothing came in time).
    pub async fn read_some(&mut self) {
        let mut buf = [0u8; 8192];
        match tokio::time::timeout(PATIENCE, self.reader.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => self.received(&buf[..n]),
            Ok(_) => panic!("ssh ended; the screen shows:\n{}", self.contents()),
            Err(_) => panic!("no output; the screen shows:\n{}", self.contents()),
        }
    }
}

fn nonzero(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).expect("a terminal has rows and columns")
}
