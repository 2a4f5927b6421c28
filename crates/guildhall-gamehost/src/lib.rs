//! The game host: terminal games played over SSH, run by a stateful host that a
//! stateless SSH gateway drives (through a trait, later). No SSH and no RPC here.
//!
//! - Games are configured ([`GameConfig`]); NetHack 3.6 from Debian's
//!   `nethack-console` is the preset [`GameConfig::nethack`], and any terminal
//!   program can be added with its command, arguments, environment, options template
//!   and playground.
//! - [`Host::start_or_attach`] launches a player's game on a PTY, or reattaches to
//!   it: one running game per player per game. A detached game keeps running for
//!   the grace period (5 minutes by default), then gets SIGHUP (NetHack saves).
//! - Saves are backed up before each launch; options are edited with a restricted
//!   editor ([`Host::edit_options`]).
//! - Every session is recorded as a ttyrec with its terminal size in the stream
//!   ([`Host::recordings`]).
//! - Anyone can [`Host::watch`] a live game ([`Host::live_sessions`]): the current
//!   screen from a vt100 model, then the live stream, from one broadcast that never
//!   waits for a slow watcher.
//! - Deaths from NetHack's xlogfile arrive on [`Host::deaths`].
//!
//! # Where things are
//!
//! - `config.rs`: [`HostConfig`], [`GameConfig`] and their parts.
//! - `nethack.rs`: the NetHack preset and how Debian's build is made to run in a
//!   private playground.
//! - `host.rs`: [`Host`] and the registry task that owns the table of running games.
//! - `session.rs`: the task that owns one running game.
//! - `stream.rs`: [`Attachment`], [`Watch`] and the [`OutputStream`] both read.
//! - `launch.rs`: the exact command a launch runs ([`CommandSpec`]).
//! - `playground.rs`, `saves.rs`, `recordings.rs`, `layout.rs`: files.
//! - `xlog.rs`: xlogfile lines and the follower.

mod backend;
mod config;
mod error;
mod host;
mod launch;
mod layout;
mod names;
pub mod nethack;
mod playground;
mod recordings;
pub mod saves;
mod session;
mod stamp;
mod stream;
mod xlog;

pub use backend::{
    DeathSource, GameBackend, GameInfo, InputSink, MAX_RECORDING_BYTES, OutputSource, Play,
    RecordingInfo, SharedBackend,
};
pub use config::{
    DEFAULT_BACKUPS_KEPT, DEFAULT_GRACE_PERIOD_SECS, DEFAULT_HANGUP_TIMEOUT_SECS,
    DEFAULT_STREAM_BUFFER, DEFAULT_XLOG_POLL_MS, EditorConfig, FileText, GameConfig, HostConfig,
    Link, PlaygroundSetup, PrivateMount, RcTemplate,
};
pub use error::Error;
pub use guildhall_ttyrec::TermSize;
pub use host::{Host, LiveSession};
pub use launch::{CommandSpec, DEFAULT_PATH, DEFAULT_TERM};
pub use layout::DataLayout;
pub use names::{GameId, MAX_USER_NAME_LEN, SessionId, UserName};
pub use recordings::Recording;
pub use session::{MAX_COLS, MAX_ROWS};
pub use stream::{Attachment, Output, OutputStream, PlayerInput, Watch};
pub use xlog::{DEATH_EVENT, Death, XlogEntry, parse_xlog_line};
