//! Helpers shared by the integration tests: a real game host on a fresh data
//! directory behind a real gRPC server on `127.0.0.1:0`, a [`RemoteHost`] calling
//! it, a scripted test game, and readers that wait for conditions with a deadline.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use guildhall_gamehost::{
    DeathSource, GameConfig, GameId, Host, HostConfig, Output, OutputSource, SharedBackend,
    TermSize, UserName,
};
use guildhall_gamehost_rpc::{RemoteHost, serve};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long any condition may take before a test fails.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// An xlogfile line as Debian's NetHack 3.6.6 writes it, with `%s` for the name.
pub const XLOG_LINE: &str = "version=3.6.6\\tpoints=0\\tdeathdnum=0\\tdeathlev=1\\tmaxlvl=1\\thp=14\\tmaxhp=14\\tdeaths=0\\tdeathdate=20250712\\tbirthdate=20250712\\tuid=0\\trole=Mon\\trace=Hum\\tgender=Mal\\talign=Law\\tname=%s\\tdeath=quit\\tconduct=0xfff\\tturns=2\\tachieve=0x0\\trealtime=7\\tstarttime=1752315630\\tendtime=1752315641\\tgender0=Mal\\talign0=Law\\tflags=0x4\\n";

/// A line-driven shell script standing in for a game (`$1` is the player): it
/// echoes lines, reports its size and pid, floods output, and on `die` writes an
/// xlogfile line for its player, as NetHack does when a game ends.
pub fn script() -> String {
    format!(
        r#"
echo ready
while IFS= read -r line; do
  case "$line" in
    size) stty size ;;
    pid) echo "pid=$$" ;;
    flood) i=0; while [ $i -lt 3000 ]; do echo "flood line $i"; i=$((i+1)); done; echo flood-done ;;
    die) printf '{XLOG_LINE}' "$1" >> xlogfile; echo died ;;
    quit) echo bye; exit 0 ;;
    *) echo "got:$line" ;;
  esac
done
"#
    )
}

pub fn game_id() -> GameId {
    GameId::parse("script").unwrap()
}

pub fn user(name: &str) -> UserName {
    UserName::parse(name).unwrap()
}

pub fn size(rows: u16, cols: u16) -> TermSize {
    TermSize::new(rows, cols)
}

/// The scripted game, with its xlogfile in its playground.
pub fn script_game() -> GameConfig {
    let script = script();
    let mut game = GameConfig::program(game_id(), "/bin/sh", &["-c", &script, "game", "{user}"]);
    game.name = "Script".into();
    game.xlogfile = Some(PathBuf::from("xlogfile"));
    game
}

/// A host, served over gRPC, and a client of it.
pub struct Served {
    pub host: Host,
    pub remote: RemoteHost,
    pub url: String,
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    pub server: JoinHandle<Result<(), tonic::transport::Error>>,
    _dir: TempDir,
}

impl Served {
    /// Shuts the server down and waits for [`serve`] to return.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(PATIENCE, self.server)
            .await
            .expect("serve returns after its shutdown")
            .unwrap()
            .unwrap();
    }
}

/// A host with `games` on a fresh directory (xlogfiles polled every 20 ms), tuned
/// by `tune`, served on a port of its own.
pub async fn served(games: Vec<GameConfig>, tune: impl FnOnce(&mut HostConfig)) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let mut config = HostConfig::new(dir.path().join("data"), games);
    config.xlog_poll_ms = 20;
    tune(&mut config);
    let host = Host::start(config).await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let backend: SharedBackend = Arc::new(host.clone());
    let server = tokio::spawn(serve(listener, backend, async {
        let _ = stopped.await;
    }));
    let url = format!("http://{addr}");
    let remote = RemoteHost::new(&url).unwrap();
    Served {
        host,
        remote,
        url,
        addr,
        stop,
        server,
        _dir: dir,
    }
}

/// A reader of a game's output that keeps every item and byte it received.
pub struct Reader {
    pub source: Box<dyn OutputSource>,
    /// Every byte received, redraws included.
    pub raw: Vec<u8>,
    pub items: Vec<Output>,
    pub ended: bool,
}

impl Reader {
    pub fn new(source: Box<dyn OutputSource>) -> Self {
        Reader {
            source,
            raw: Vec::new(),
            items: Vec::new(),
            ended: false,
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }

    /// Reads until `done` holds, failing the test after [`PATIENCE`].
    pub async fn wait_until(&mut self, what: &str, mut done: impl FnMut(&Self) -> bool) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !done(self) {
            assert!(
                !self.ended,
                "stream ended waiting for {what}; got:\n{}",
                self.text()
            );
            match tokio::time::timeout_at(deadline, self.source.recv()).await {
                Ok(Some(output)) => {
                    self.raw.extend_from_slice(output.bytes());
                    self.items.push(output);
                }
                Ok(None) => self.ended = true,
                Err(_) => panic!("timed out waiting for {what}; got:\n{}", self.text()),
            }
        }
    }

    /// Waits until the stream contains `text`.
    pub async fn wait_for(&mut self, text: &str) {
        self.wait_until(&format!("{text:?}"), |reader| reader.text().contains(text))
            .await;
    }

    /// Reads until the stream ends.
    pub async fn wait_for_end(&mut self) {
        self.wait_until("the end of the stream", |reader| reader.ended)
            .await;
    }
}

/// The next death from `deaths`, failing the test after [`PATIENCE`].
pub async fn next_death(deaths: &mut Box<dyn DeathSource>) -> guildhall_gamehost::Death {
    tokio::time::timeout(PATIENCE, deaths.recv())
        .await
        .expect("a death within the patience")
        .expect("the death stream is open")
}

/// Polls `check` every 20 ms until it holds, failing after [`PATIENCE`].
pub async fn eventually<F: Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
