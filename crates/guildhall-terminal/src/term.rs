//! One SSH session's terminal: the channel's read half (keys, resizes, the end), its
//! write half, and the current size. Owned by the session task alone.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use guildhall_gamehost::{OutputSource, TermSize};
use russh::ChannelMsg;
use russh::server::Msg;
use russh::{ChannelReadHalf, ChannelWriteHalf};

use crate::ui::{self, Key, KeyDecoder};

/// How long a lone Escape waits for the rest of a sequence before it counts as a key.
const ESCAPE_PAUSE: Duration = Duration::from_millis(50);

/// Until the client asks for a shell.
const SETUP_TIMEOUT: Duration = Duration::from_secs(20);

/// What the user did, as menus see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Input {
    Key(Key),
    /// The terminal changed size: redraw.
    Resized,
    /// No keystroke for the idle timeout.
    Idle,
    /// The client closed the session or the connection.
    Gone,
}

/// How an attached game or a watch ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Detach {
    /// The game's output ended (it exited, or another connection took it over).
    Ended,
    /// The user left (a watcher pressed `q`).
    Left,
    Idle,
    Gone,
}

pub(crate) struct Term {
    read: ChannelReadHalf,
    write: Arc<ChannelWriteHalf<Msg>>,
    size: TermSize,
    keys: KeyDecoder,
    queued: std::collections::VecDeque<Key>,
    idle: Duration,
}

impl Term {
    pub(crate) fn new(read: ChannelReadHalf, write: ChannelWriteHalf<Msg>, idle: Duration) -> Self {
        Term {
            read,
            write: Arc::new(write),
            size: TermSize::new(24, 80),
            keys: KeyDecoder::default(),
            queued: Default::default(),
            idle,
        }
    }

    pub(crate) fn size(&self) -> TermSize {
        self.size
    }

    /// Waits for the client's shell request, noting the PTY size on the way. `false`
    /// when the client leaves, asks for something else, or has no PTY.
    pub(crate) async fn wait_for_shell(&mut self) -> bool {
        let mut has_pty = false;
        let setup = async {
            while let Some(message) = self.read.wait().await {
                match message {
                    ChannelMsg::RequestPty {
                        col_width,
                        row_height,
                        ..
                    } => {
                        has_pty = true;
                        self.size = size(col_width, row_height);
                    }
                    ChannelMsg::RequestShell { .. } => return true,
                    ChannelMsg::Eof | ChannelMsg::Close => return false,
                    _ => {}
                }
            }
            false
        };
        let shell = tokio::time::timeout(SETUP_TIMEOUT, setup)
            .await
            .unwrap_or(false);
        if shell && !has_pty {
            self.write(Bytes::from_static(
                b"Guildhall needs a terminal: connect with ssh -t.\r\n",
            ))
            .await;
            return false;
        }
        shell
    }

    /// Writes to the client; `false` once the channel is gone.
    pub(crate) async fn write(&self, bytes: impl Into<Bytes>) -> bool {
        self.write.data_bytes(bytes.into()).await.is_ok()
    }

    /// The next key (or resize, or the end), waiting at most the idle timeout.
    pub(crate) async fn next(&mut self) -> Input {
        loop {
            if let Some(key) = self.queued.pop_front() {
                return Input::Key(key);
            }
            let pending_escape = self.keys.has_pending();
            let wait = if pending_escape {
                ESCAPE_PAUSE
            } else {
                self.idle
            };
            let message = match tokio::time::timeout(wait, self.read.wait()).await {
                Ok(message) => message,
                Err(_) if pending_escape => {
                    if let Some(key) = self.keys.flush() {
                        return Input::Key(key);
                    }
                    continue;
                }
                Err(_) => return Input::Idle,
            };
            match message {
                Some(ChannelMsg::Data { data }) => {
                    self.queued.extend(self.keys.feed(&data));
                }
                Some(ChannelMsg::WindowChange {
                    col_width,
                    row_height,
                    ..
                }) => {
                    self.size = size(col_width, row_height);
                    return Input::Resized;
                }
                Some(ChannelMsg::Eof | ChannelMsg::Close) | None => return Input::Gone,
                Some(_) => {}
            }
        }
    }

    /// Keys typed but not read yet are dropped (before a game, after a screen).
    pub(crate) fn discard_typeahead(&mut self) {
        self.queued.clear();
        let _ = self.keys.flush();
    }

    /// Copies `output` to the client while `on_data` handles what the user types,
    /// until the output ends, `on_data` says to leave, or the user goes.
    ///
    /// Output is written by its own task, so a game's screen never waits for input
    /// handling and keystrokes never wait for a slow screen write.
    pub(crate) async fn attach<F>(
        &mut self,
        mut output: Box<dyn OutputSource>,
        mut on_data: F,
    ) -> Detach
    where
        F: AsyncInput,
    {
        let writer = self.write.clone();
        let mut forward = tokio::spawn(async move {
            while let Some(item) = output.recv().await {
                let bytes = match item {
                    guildhall_gamehost::Output::Screen { bytes, .. }
                    | guildhall_gamehost::Output::Data(bytes) => bytes,
                    guildhall_gamehost::Output::Resize(_) => continue,
                };
                if writer.data_bytes(bytes).await.is_err() {
                    break;
                }
            }
        });
        let detach = loop {
            let message = tokio::select! {
                _ = &mut forward => {
                    self.discard_typeahead();
                    // The forwarding task is finished: its handle must not be awaited again.
                    return Detach::Ended;
                }
                message = tokio::time::timeout(self.idle, self.read.wait()) => message,
            };
            match message {
                Err(_) => break Detach::Idle,
                Ok(Some(ChannelMsg::Data { data })) => {
                    if on_data.data(Bytes::copy_from_slice(&data)).await == Flow::Leave {
                        break Detach::Left;
                    }
                }
                Ok(Some(ChannelMsg::WindowChange {
                    col_width,
                    row_height,
                    ..
                })) => {
                    self.size = size(col_width, row_height);
                    on_data.resize(self.size).await;
                }
                Ok(Some(ChannelMsg::Eof | ChannelMsg::Close) | None) => break Detach::Gone,
                Ok(Some(_)) => {}
            }
        };
        forward.abort();
        let _ = forward.await;
        self.discard_typeahead();
        detach
    }

    /// A writer for playback, which writes through `AsyncWrite`.
    pub(crate) fn writer(&self) -> impl tokio::io::AsyncWrite + Unpin + Send + 'static {
        Box::pin(self.write.make_writer())
    }

    /// Reads raw channel messages for playback controls: `None` when the user went.
    pub(crate) async fn next_raw(&mut self) -> Option<RawInput> {
        match tokio::time::timeout(self.idle, self.read.wait()).await {
            Err(_) => None,
            Ok(Some(ChannelMsg::Data { data })) => Some(RawInput::Keys(self.keys.feed(&data))),
            Ok(Some(ChannelMsg::WindowChange {
                col_width,
                row_height,
                ..
            })) => {
                self.size = size(col_width, row_height);
                Some(RawInput::Resized)
            }
            Ok(Some(ChannelMsg::Eof | ChannelMsg::Close) | None) => None,
            Ok(Some(_)) => Some(RawInput::Keys(Vec::new())),
        }
    }

    /// Ends the session politely: exit status 0, EOF, close.
    pub(crate) async fn close(self) {
        let _ = self.write.exit_status(0).await;
        let _ = self.write.eof().await;
        let _ = self.write.close().await;
    }
}

/// Raw input during playback.
pub(crate) enum RawInput {
    Keys(Vec<Key>),
    Resized,
}

/// Whether to stay attached after some input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    Stay,
    Leave,
}

/// What an attached screen does with input: a player's game takes every byte, a
/// watcher only leaves.
pub(crate) trait AsyncInput: Send {
    fn data(&mut self, bytes: Bytes) -> impl Future<Output = Flow> + Send;
    fn resize(&mut self, size: TermSize) -> impl Future<Output = ()> + Send;
}

fn size(cols: u32, rows: u32) -> TermSize {
    let clamp = |n: u32| u16::try_from(n).unwrap_or(u16::MAX);
    ui::usable(TermSize::new(clamp(rows), clamp(cols)))
}
