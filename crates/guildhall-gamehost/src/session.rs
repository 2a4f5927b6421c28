//! One running game: the task that owns its process, PTY, screen model, recorder and
//! broadcast, driven by [`SessionCommand`]s.
//!
//! Everything about a session happens in its task, in order: output is fed to the
//! screen model, the recording and the broadcast in one step, so a snapshot taken
//! between two steps plus the broadcast from that point is exactly what a terminal
//! would show. The task never waits for a reader, and writes to the PTY only when the
//! game can take them, so a game that stops reading input cannot stall its output.

use std::num::NonZeroU16;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use guildhall_ttyrec::TermSize;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Child;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};

use crate::error::Error;
use crate::launch::CommandSpec;
use crate::names::{GameId, SessionId, UserName};
use crate::recordings::Recorder;
use crate::stream::{Attachment, OutputStream};

/// Bytes read from the PTY at once: one broadcast item at most.
const READ_CHUNK: usize = 8 * 1024;

/// Keystrokes waiting for the game to read them; more is dropped (a game that stopped
/// reading would otherwise let a client grow this without bound).
const MAX_PENDING_INPUT: usize = 64 * 1024;

/// How long output is still read after the game exited, for descendants that keep
/// the PTY open.
const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(1);

/// The largest terminal the screen model accepts; bigger requests are clamped so a
/// client cannot make the host allocate a screen of 65535² cells.
pub const MAX_ROWS: u16 = 500;
pub const MAX_COLS: u16 = 1000;

/// `size` within `1..=MAX_ROWS` × `1..=MAX_COLS`.
pub fn clamp_size(size: TermSize) -> TermSize {
    TermSize::new(size.rows.clamp(1, MAX_ROWS), size.cols.clamp(1, MAX_COLS))
}

/// What the broadcast carries.
#[derive(Clone, Debug)]
pub(crate) enum Event {
    Data(Bytes),
    Resize(TermSize),
}

/// The screen at one step of the session and the broadcast from that step on.
#[derive(Debug)]
pub(crate) struct Snapshot {
    pub size: TermSize,
    pub screen: Bytes,
    pub events: broadcast::Receiver<Event>,
}

#[derive(Debug)]
pub(crate) enum SessionCommand {
    /// Attach a player, replacing any attached one. Dropping `reply` unanswered means
    /// the game is going away (hung up or exited): launch a new one once it is gone.
    Attach {
        size: TermSize,
        reply: oneshot::Sender<Attachment>,
    },
    /// Keystrokes from attachment number `attachment` (stale ones are ignored).
    Input {
        attachment: u64,
        bytes: Bytes,
    },
    Resize {
        attachment: u64,
        size: TermSize,
    },
    Snapshot {
        reply: oneshot::Sender<Snapshot>,
    },
    /// Hang up now (host shutdown).
    HangUp,
}

/// What the host reads about a session without asking its task.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Status {
    pub size: TermSize,
    pub last_input: Instant,
    pub attached: bool,
}

/// The host's handle on a session.
#[derive(Debug)]
pub(crate) struct SessionHandle {
    pub id: SessionId,
    pub user: UserName,
    pub game: GameId,
    pub started: SystemTime,
    pub commands: mpsc::Sender<SessionCommand>,
    pub status: watch::Receiver<Status>,
    /// One clone per [`Watch`](crate::Watch): the count of watchers is its strong
    /// count less this one.
    pub watchers: Arc<()>,
    pub task: JoinHandle<()>,
}

impl SessionHandle {
    pub fn ended(&self) -> bool {
        self.commands.is_closed()
    }

    /// Attaches a player; `None` when the game is going away.
    pub async fn attach(&self, size: TermSize) -> Option<Attachment> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(SessionCommand::Attach { size, reply })
            .await
            .ok()?;
        answer.await.ok()
    }
}

/// The current screen of session `id` and the stream after it; `None` once it ended.
pub(crate) async fn open_output(
    id: SessionId,
    commands: mpsc::Sender<SessionCommand>,
) -> Option<OutputStream> {
    let (reply, answer) = oneshot::channel();
    commands
        .send(SessionCommand::Snapshot { reply })
        .await
        .ok()?;
    let snapshot = answer.await.ok()?;
    Some(OutputStream::new(id, commands, snapshot, None))
}

/// How a session behaves, from the host's configuration.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timing {
    /// Detached this long, the game gets SIGHUP.
    pub grace: Duration,
    /// Hung up this long, the game gets SIGKILL.
    pub hangup_timeout: Duration,
    pub stream_buffer: usize,
}

/// Starts `spec` on a new PTY of `size` and the task that owns it.
pub(crate) fn spawn(
    id: SessionId,
    user: UserName,
    game: GameId,
    spec: &CommandSpec,
    size: TermSize,
    recorder: Option<Recorder>,
    timing: Timing,
) -> Result<SessionHandle, Error> {
    let size = clamp_size(size);
    let (pty, pts) = pty_process::open()?;
    pty.resize(pty_process::Size::new(size.rows, size.cols))?;
    let child = pty_process::Command::new(&spec.program)
        .args(&spec.args)
        .env_clear()
        .envs(spec.env.iter().map(|(key, value)| (key, value)))
        .current_dir(&spec.cwd)
        .spawn(pts)
        .map_err(|e| Error::Spawn {
            game: game.clone(),
            source: match e {
                pty_process::Error::Io(e) => e,
                other => std::io::Error::other(other.to_string()),
            },
        })?;
    let pid = child
        .id()
        .and_then(|pid| i32::try_from(pid).ok())
        .map(Pid::from_raw);
    let (commands_tx, commands) = mpsc::channel(64);
    let (events, _) = broadcast::channel(timing.stream_buffer);
    let (status_tx, status) = watch::channel(Status {
        size,
        last_input: Instant::now(),
        attached: false,
    });
    let (rows, cols) = (nonzero(size.rows), nonzero(size.cols));
    let session = Session {
        id,
        game: game.clone(),
        child,
        pid,
        exited: false,
        screen: vt100::Parser::new(rows, cols, 0),
        size,
        recorder,
        events,
        commands,
        commands_tx: commands_tx.clone(),
        status: status_tx,
        attached: None,
        next_attachment: 0,
        timing,
        hangup_at: None,
        hung_up: false,
        kill_at: None,
        drain_until: None,
        pending: Vec::new(),
    };
    let task = tokio::spawn(session.run(pty));
    Ok(SessionHandle {
        id,
        user,
        game,
        started: SystemTime::now(),
        commands: commands_tx,
        status,
        watchers: Arc::new(()),
        task,
    })
}

fn nonzero(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).unwrap_or(NonZeroU16::MIN)
}

/// The attached player, as the session sees them.
struct Attached {
    id: u64,
    /// Resolves (with an error) when the player's last attachment half is dropped.
    presence: oneshot::Receiver<()>,
    /// Sent on when another attachment replaces this one; dropped with the session.
    replaced: oneshot::Sender<()>,
}

struct Session {
    id: SessionId,
    game: GameId,
    child: Child,
    /// The game's process group (it is a session leader on its PTY), for signals.
    pid: Option<Pid>,
    /// Set once the game was reaped: its pid may be reused, so no more signals.
    exited: bool,
    screen: vt100::Parser,
    size: TermSize,
    recorder: Option<Recorder>,
    events: broadcast::Sender<Event>,
    commands: mpsc::Receiver<SessionCommand>,
    /// Handed to output streams so they can ask for a redraw.
    commands_tx: mpsc::Sender<SessionCommand>,
    status: watch::Sender<Status>,
    attached: Option<Attached>,
    /// Numbers attachments so input from a replaced one is ignored.
    next_attachment: u64,
    timing: Timing,
    /// Set while detached: when the grace period ends.
    hangup_at: Option<Instant>,
    /// SIGHUP was sent: nobody may attach to this process again.
    hung_up: bool,
    /// Set after SIGHUP: when to stop waiting and kill.
    kill_at: Option<Instant>,
    /// Set when the game exited: the last moment to wait for its remaining output.
    drain_until: Option<Instant>,
    /// Keystrokes the game has not read yet.
    pending: Vec<u8>,
}

/// Waits until `deadline`, or forever without one.
async fn at(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Waits until the attached player leaves, or forever when nobody is attached.
async fn player_left(attached: &mut Option<Attached>) {
    match attached {
        Some(attached) => {
            let _ = (&mut attached.presence).await;
        }
        None => std::future::pending().await,
    }
}

impl Session {
    async fn run(mut self, pty: pty_process::Pty) {
        let (mut reader, mut writer) = pty.into_split();
        let mut buf = vec![0; READ_CHUNK];
        // Nobody is attached yet: the grace period runs until the host attaches
        // the player who launched the game.
        self.detached();
        loop {
            tokio::select! {
                read = reader.read(&mut buf) => match read {
                    // EIO: every process holding the PTY is gone.
                    Ok(0) | Err(_) => break,
                    Ok(n) => self.output(&buf[..n]),
                },
                written = writer.write(&self.pending), if !self.pending.is_empty() => match written {
                    Ok(n) => {
                        self.pending.drain(..n);
                    }
                    Err(error) => {
                        tracing::debug!(session = %self.id, %error, "pty write failed");
                        self.pending.clear();
                    }
                },
                Some(command) = self.commands.recv() => self.command(command, &writer).await,
                () = player_left(&mut self.attached) => {
                    self.attached = None;
                    self.detached();
                }
                () = at(self.hangup_at) => self.hang_up(),
                () = at(self.kill_at) => {
                    self.kill_at = None;
                    self.signal(Signal::SIGKILL);
                }
                status = self.child.wait(), if !self.exited => {
                    tracing::info!(session = %self.id, game = %self.game, ?status, "game exited");
                    self.exited = true;
                    self.hangup_at = None;
                    self.kill_at = None;
                    self.drain_until = Some(Instant::now() + DRAIN_AFTER_EXIT);
                }
                () = at(self.drain_until) => break,
            }
        }
        self.finish().await;
    }

    async fn command(&mut self, command: SessionCommand, writer: &pty_process::OwnedWritePty) {
        match command {
            SessionCommand::Attach { size, reply } => self.attach(size, reply, writer).await,
            SessionCommand::Input { attachment, bytes } => {
                if self.is_attached(attachment) {
                    let room = MAX_PENDING_INPUT.saturating_sub(self.pending.len());
                    self.pending
                        .extend_from_slice(&bytes[..bytes.len().min(room)]);
                    self.status
                        .send_modify(|status| status.last_input = Instant::now());
                }
            }
            SessionCommand::Resize { attachment, size } => {
                if self.is_attached(attachment) {
                    self.resize(size, writer);
                }
            }
            SessionCommand::Snapshot { reply } => {
                let _gone = reply.send(self.snapshot());
            }
            SessionCommand::HangUp => self.hang_up(),
        }
    }

    fn is_attached(&self, attachment: u64) -> bool {
        self.attached
            .as_ref()
            .is_some_and(|attached| attached.id == attachment)
    }

    async fn attach(
        &mut self,
        size: TermSize,
        reply: oneshot::Sender<Attachment>,
        writer: &pty_process::OwnedWritePty,
    ) {
        if self.hung_up || self.exited {
            return;
        }
        if let Some(previous) = self.attached.take() {
            let _gone = previous.replaced.send(());
        }
        self.hangup_at = None;
        self.resize(size, writer);
        self.next_attachment += 1;
        let (presence, presence_rx) = oneshot::channel();
        let (replaced_tx, replaced) = oneshot::channel();
        let attachment = Attachment::new(
            self.id,
            self.next_attachment,
            self.commands_tx.clone(),
            self.snapshot(),
            replaced,
            presence,
        );
        // If the caller is gone, the attachment is dropped here and the presence
        // channel reports it on the next turn of the loop.
        let _gone = reply.send(attachment);
        self.attached = Some(Attached {
            id: self.next_attachment,
            presence: presence_rx,
            replaced: replaced_tx,
        });
        self.status.send_modify(|status| status.attached = true);
    }

    fn detached(&mut self) {
        self.hangup_at = Some(Instant::now() + self.timing.grace);
        self.status.send_modify(|status| status.attached = false);
    }

    fn hang_up(&mut self) {
        self.hangup_at = None;
        if self.hung_up || self.exited {
            return;
        }
        tracing::info!(session = %self.id, game = %self.game, "hanging up");
        self.hung_up = true;
        self.signal(Signal::SIGHUP);
        self.kill_at = Some(Instant::now() + self.timing.hangup_timeout);
    }

    fn signal(&self, signal: Signal) {
        if self.exited {
            return;
        }
        if let Some(pid) = self.pid
            && let Err(error) = killpg(pid, signal)
        {
            tracing::debug!(session = %self.id, %error, ?signal, "signal not sent");
        }
    }

    fn resize(&mut self, size: TermSize, writer: &pty_process::OwnedWritePty) {
        let size = clamp_size(size);
        if size == self.size {
            return;
        }
        // The screen model changes before the game can draw at the new size.
        self.size = size;
        self.screen
            .screen_mut()
            .set_size(nonzero(size.rows), nonzero(size.cols));
        if let Err(error) = writer.resize(pty_process::Size::new(size.rows, size.cols)) {
            tracing::debug!(session = %self.id, %error, "pty resize failed");
        }
        if let Some(recorder) = &mut self.recorder {
            recorder.size(size);
        }
        let _no_reader = self.events.send(Event::Resize(size));
        self.status.send_modify(|status| status.size = size);
    }

    fn output(&mut self, data: &[u8]) {
        self.screen.process(data);
        let data = Bytes::copy_from_slice(data);
        // The recorder only queues: its own task does the disk writes.
        if let Some(recorder) = &mut self.recorder {
            recorder.data(data.clone());
        }
        let _no_reader = self.events.send(Event::Data(data));
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            size: self.size,
            screen: Bytes::from(self.screen.screen().state_formatted()),
            events: self.events.subscribe(),
        }
    }

    async fn finish(mut self) {
        if !self.exited {
            // The PTY closed first: the game is exiting or has closed its terminal.
            self.signal(Signal::SIGHUP);
            let waited = tokio::time::timeout(self.timing.hangup_timeout, self.child.wait()).await;
            if waited.is_err() {
                self.signal(Signal::SIGKILL);
                let _ = self.child.wait().await;
            }
        }
        if let Some(recorder) = self.recorder.take() {
            recorder.finish().await;
        }
        tracing::info!(session = %self.id, game = %self.game, "session ended");
    }
}
