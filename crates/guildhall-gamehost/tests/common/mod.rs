//! Helpers shared by the integration tests: a host on a fresh data directory, a
//! scripted test game, and a client that keeps its own screen model and waits for
//! conditions with a deadline.

#![allow(dead_code)]

use std::time::Duration;

use guildhall_gamehost::{
    Attachment, GameConfig, GameId, Host, HostConfig, Output, TermSize, UserName, Watch,
};
use tempfile::TempDir;

/// How long any condition may take before a test fails.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A line-driven shell script standing in for a game: it echoes lines, reports its
/// size and pid, floods output on request and notes SIGHUP in `$MARKER`.
pub const SCRIPT: &str = r#"
trap 'echo hangup > "$MARKER"; exit 0' HUP
echo ready
while IFS= read -r line; do
  case "$line" in
    size) stty size ;;
    pid) echo "pid=$$" ;;
    draw) printf '\033[2J\033[5;10HDRAWN-ON-SCREEN\r\n' ;;
    flood) i=0; while [ $i -lt 3000 ]; do echo "flood line $i"; i=$((i+1)); done; echo flood-done ;;
    quit) echo bye; exit 0 ;;
    *) echo "got:$line" ;;
  esac
done
"#;

pub fn game_id() -> GameId {
    GameId::parse("script").unwrap()
}

pub fn user(name: &str) -> UserName {
    UserName::parse(name).unwrap()
}

/// The scripted game, noting SIGHUP in `<playground>/hangup-<user>`.
pub fn script_game() -> GameConfig {
    let mut game = GameConfig::program(game_id(), "/bin/sh", &["-c", SCRIPT]);
    game.env
        .insert("MARKER".into(), "{playground}/hangup-{user}".into());
    game
}

/// A host on a fresh directory (kept alive by the returned `TempDir`).
pub async fn host_with(
    games: Vec<GameConfig>,
    tune: impl FnOnce(&mut HostConfig),
) -> (Host, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = HostConfig::new(dir.path().join("data"), games);
    tune(&mut config);
    let host = Host::start(config).await.unwrap();
    (host, dir)
}

/// Anything that yields session output.
pub trait Source {
    fn next_output(&mut self) -> impl Future<Output = Option<Output>>;
}

impl Source for Attachment {
    async fn next_output(&mut self) -> Option<Output> {
        self.recv().await
    }
}

impl Source for Watch {
    async fn next_output(&mut self) -> Option<Output> {
        self.recv().await
    }
}

/// A terminal on the receiving end: every output item goes through its own vt100
/// model, and the raw bytes are kept.
pub struct Client<S> {
    pub source: S,
    pub screen: vt100::Parser,
    /// Every byte received, redraws included.
    pub raw: Vec<u8>,
    /// Every item received, in order.
    pub items: Vec<Output>,
    pub ended: bool,
}

impl<S: Source> Client<S> {
    pub fn new(source: S) -> Self {
        Client {
            source,
            screen: vt100::Parser::new(nonzero(24), nonzero(80), 0),
            raw: Vec::new(),
            items: Vec::new(),
            ended: false,
        }
    }

    pub fn contents(&self) -> String {
        self.screen.screen().contents()
    }

    pub fn raw_text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }

    fn take(&mut self, output: Output) {
        match &output {
            Output::Screen { size, bytes } => {
                self.screen
                    .screen_mut()
                    .set_size(nonzero(size.rows), nonzero(size.cols));
                self.screen.process(bytes);
                self.raw.extend_from_slice(bytes);
            }
            Output::Data(bytes) => {
                self.screen.process(bytes);
                self.raw.extend_from_slice(bytes);
            }
            Output::Resize(size) => self
                .screen
                .screen_mut()
                .set_size(nonzero(size.rows), nonzero(size.cols)),
        }
        self.items.push(output);
    }

    /// Reads until `done` holds, failing the test after [`PATIENCE`] with `what`
    /// and the screen.
    pub async fn wait_until(&mut self, what: &str, mut done: impl FnMut(&Self) -> bool) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !done(self) {
            if self.ended {
                panic!(
                    "stream ended waiting for {what}; screen:\n{}",
                    self.contents()
                );
            }
            match tokio::time::timeout_at(deadline, self.source.next_output()).await {
                Ok(Some(output)) => self.take(output),
                Ok(None) => self.ended = true,
                Err(_) => panic!("timed out waiting for {what}; screen:\n{}", self.contents()),
            }
        }
    }

    /// Waits until the screen shows `text`.
    pub async fn wait_for_screen(&mut self, text: &str) {
        self.wait_until(&format!("{text:?} on screen"), |client| {
            client.contents().contains(text)
        })
        .await;
    }

    /// Waits until the raw stream contains `text`.
    pub async fn wait_for_raw(&mut self, text: &str) {
        self.wait_until(&format!("{text:?} in the stream"), |client| {
            client.raw_text().contains(text)
        })
        .await;
    }

    /// Reads until the stream ends.
    pub async fn wait_for_end(&mut self) {
        self.wait_until("the end of the stream", |client| client.ended)
            .await;
    }
}

impl Client<Attachment> {
    pub async fn send(&self, text: &str) {
        self.source.send(text.as_bytes().to_vec()).await.unwrap();
    }
}

/// Polls `check` every 50 ms until it holds, failing after [`PATIENCE`].
pub async fn eventually<F: Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn nonzero(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).unwrap()
}

pub fn size(rows: u16, cols: u16) -> TermSize {
    TermSize::new(rows, cols)
}
