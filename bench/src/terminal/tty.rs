//! One terminal the benchmark types into and reads from: an SSH session (russh client,
//! PTY requested, shell started) or a PTY of this process running a program directly.
//! Both are read the same way: output is buffered and searched for what a step waits
//! for (a prompt, an echoed keystroke, a timestamped marker).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use russh::client::{self, Handle};
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg};
use russh::{ChannelMsg, ChannelReadHalf, ChannelWriteHalf};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The size every terminal asks for.
const COLS: u16 = 80;
const ROWS: u16 = 24;

/// How a client signs in.
#[derive(Clone)]
pub enum Login {
    /// An account's username and password (the gateway's players).
    Password { user: String, password: String },
    /// A name the gateway lets in without a password (`watch@`).
    Anonymous { user: String },
    /// A key in `authorized_keys` (sshd).
    Key { user: String, key: Arc<PrivateKey> },
}

/// How long the steps of one connection took.
#[derive(Clone, Copy, Debug)]
pub struct Handshake {
    /// TCP connect to the end of the key exchange (host key checked).
    pub kex: Duration,
    /// TCP connect to authentication accepted: the handshake.
    pub total: Duration,
}

/// The russh client's callbacks: every host key is accepted (the servers are ours, on
/// loopback, with keys made for this run).
struct Client;

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

fn client_config() -> Arc<client::Config> {
    Arc::new(client::Config {
        nodelay: true,
        // A session moves keystrokes and screens; a small window keeps 1,000 of them
        // light on the client side too.
        window_size: 256 * 1024,
        ..Default::default()
    })
}

/// Connects and signs in; `Err` when the server refuses.
pub async fn connect(addr: SocketAddr, login: &Login) -> anyhow::Result<(Ssh, Handshake)> {
    let start = Instant::now();
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut handle = client::connect_stream(client_config(), stream, Client).await?;
    let kex = start.elapsed();
    let result = match login {
        Login::Password { user, password } => handle.authenticate_password(user, password).await?,
        Login::Anonymous { user } => handle.authenticate_none(user).await?,
        Login::Key { user, key } => {
            let key = PrivateKeyWithHashAlg::new(key.clone(), None);
            handle.authenticate_publickey(user, key).await?
        }
    };
    let total = start.elapsed();
    if !result.success() {
        bail!("authentication refused: {result:?}");
    }
    Ok((Ssh { handle }, Handshake { kex, total }))
}

/// A signed-in SSH connection without a terminal yet.
pub struct Ssh {
    handle: Handle<Client>,
}

impl Ssh {
    /// Opens a session channel with a PTY and starts the shell (the gateway's menu,
    /// sshd's forced command).
    pub async fn terminal(self) -> anyhow::Result<Tty> {
        let channel = self.handle.channel_open_session().await?;
        channel
            .request_pty(false, "xterm", COLS.into(), ROWS.into(), 0, 0, &[])
            .await?;
        channel.request_shell(false).await?;
        let (read, write) = channel.split();
        Ok(Tty::new(Io::Ssh {
            _handle: self.handle,
            read,
            write,
        }))
    }

    /// Says goodbye (the probes' connections end here).
    pub async fn close(self) {
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}

enum Io {
    Ssh {
        /// The connection: dropping it ends the session.
        _handle: Handle<Client>,
        read: ChannelReadHalf,
        write: ChannelWriteHalf<client::Msg>,
    },
    Pty {
        read: pty_process::OwnedReadPty,
        write: pty_process::OwnedWritePty,
        /// Killed when dropped.
        _child: tokio::process::Child,
    },
}

/// A terminal: bytes in, bytes out, and what came out but was not looked at yet.
pub struct Tty {
    io: Io,
    /// Output not consumed by a wait yet.
    pending: Vec<u8>,
}

/// Past this, output nobody waits for is dropped (all but a possible partial match).
const MAX_PENDING: usize = 64 * 1024;

impl Tty {
    fn new(io: Io) -> Self {
        Tty {
            io,
            pending: Vec::new(),
        }
    }

    /// `program` on a fresh PTY of this process: the baseline without any server.
    pub fn direct(program: &str) -> anyhow::Result<Self> {
        let (pty, pts) = pty_process::open()?;
        pty.resize(pty_process::Size::new(ROWS, COLS))?;
        let child = pty_process::Command::new(program)
            .kill_on_drop(true)
            .spawn(pts)
            .with_context(|| format!("starting {program} on a PTY"))?;
        let (read, write) = pty.into_split();
        Ok(Tty::new(Io::Pty {
            read,
            write,
            _child: child,
        }))
    }

    pub async fn send(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        match &mut self.io {
            Io::Ssh { write, .. } => write.data_bytes(bytes.to_vec()).await?,
            Io::Pty { write, .. } => write.write_all(bytes).await?,
        }
        Ok(())
    }

    /// Waits for more output and appends it to `pending`; `Err` once the terminal is
    /// gone.
    async fn fill(&mut self) -> anyhow::Result<()> {
        match &mut self.io {
            Io::Ssh { read, .. } => loop {
                match read.wait().await {
                    Some(ChannelMsg::Data { data }) => {
                        self.pending.extend_from_slice(&data);
                        return Ok(());
                    }
                    Some(ChannelMsg::ExtendedData { data, .. }) => {
                        self.pending.extend_from_slice(&data);
                        return Ok(());
                    }
                    Some(ChannelMsg::Eof | ChannelMsg::Close) | None => {
                        bail!("the session ended");
                    }
                    Some(_) => {}
                }
            },
            Io::Pty { read, .. } => {
                let mut buffer = [0u8; 4096];
                let n = read.read(&mut buffer).await?;
                if n == 0 {
                    bail!("the PTY closed");
                }
                self.pending.extend_from_slice(&buffer[..n]);
                Ok(())
            }
        }
    }

    /// Waits until `pattern` has come out, consumes output up to its end, and returns
    /// what was consumed.
    pub async fn wait_for(&mut self, pattern: &[u8], timeout: Duration) -> anyhow::Result<Vec<u8>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(at) = find(&self.pending, pattern) {
                let end = at + pattern.len();
                return Ok(self.pending.drain(..end).collect());
            }
            if self.pending.len() > MAX_PENDING {
                let keep = pattern.len().saturating_sub(1);
                self.pending.drain(..self.pending.len() - keep);
            }
            tokio::time::timeout_at(deadline, self.fill())
                .await
                .map_err(|_| {
                    let tail = String::from_utf8_lossy(
                        &self.pending[self.pending.len().saturating_sub(200)..],
                    )
                    .into_owned();
                    anyhow::anyhow!(
                        "{:?} did not come out within {timeout:?}; the last output was {tail:?}",
                        String::from_utf8_lossy(pattern)
                    )
                })??;
        }
    }

    /// Types `key` again every `every` until it is echoed: the way to know a game is
    /// attached, since keys typed before that go to a menu or are discarded.
    pub async fn until_echoed(
        &mut self,
        key: u8,
        every: Duration,
        timeout: Duration,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            self.send(&[key]).await?;
            match self.wait_for(&[key], every).await {
                Ok(_) => return Ok(()),
                Err(_) if Instant::now() < deadline => {}
                Err(err) => return Err(err.context(format!("{:?} was never echoed", key as char))),
            }
        }
    }

    /// Ends the current line and waits until both its echo and `cat`'s copy of it came
    /// out: afterwards nothing is in flight and the line is empty.
    pub async fn sync(&mut self, n: u64, timeout: Duration) -> anyhow::Result<()> {
        let line = format!("\rSYNC{n}\r");
        self.send(line.as_bytes()).await?;
        let echoed = format!("SYNC{n}\r\n");
        self.wait_for(echoed.as_bytes(), timeout).await?;
        self.wait_for(echoed.as_bytes(), timeout).await?;
        Ok(())
    }

    /// Waits for output, then returns the timestamps of the markers in it (in order) and
    /// consumes them; a marker cut in two stays pending until its rest arrives.
    pub async fn markers(&mut self) -> anyhow::Result<Vec<u64>> {
        self.fill().await?;
        let (found, used) = parse_markers(&self.pending);
        self.pending.drain(..used);
        Ok(found)
    }
}

/// A timestamped marker: `@` and ten digits, microseconds since the benchmark's epoch.
pub fn marker(micros: u64) -> String {
    format!("{MARKER_START}{micros:0width$}", width = MARKER_DIGITS)
}

const MARKER_START: char = '@';
const MARKER_DIGITS: usize = 10;

/// The markers in `bytes`, and how many bytes were looked at for good (everything but
/// a marker that may still be incomplete).
fn parse_markers(bytes: &[u8]) -> (Vec<u64>, usize) {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(offset) = bytes[at..].iter().position(|&b| b == MARKER_START as u8) {
        let start = at + offset;
        let digits = &bytes[start + 1..];
        let complete = digits.len() >= MARKER_DIGITS;
        let run = digits
            .iter()
            .take(MARKER_DIGITS)
            .take_while(|b| b.is_ascii_digit())
            .count();
        if run == MARKER_DIGITS {
            let text = std::str::from_utf8(&digits[..MARKER_DIGITS]).unwrap_or("0");
            found.push(text.parse().unwrap_or(0));
            at = start + 1 + MARKER_DIGITS;
        } else if !complete && run == digits.len() {
            return (found, start);
        } else {
            at = start + 1;
        }
    }
    (found, bytes.len())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_found_whole_and_kept_when_cut() {
        let text = format!("x{}\r\n{}", marker(42), &marker(1234)[..5]);
        let (found, used) = parse_markers(text.as_bytes());
        assert_eq!(found, [42]);
        assert_eq!(&text.as_bytes()[used..], &marker(1234).as_bytes()[..5]);
        let (found, used) = parse_markers(b"@12x@0000000007");
        assert_eq!((found, used), (vec![7], 15));
    }
}
