//! ttyrec recordings of terminal game sessions: every NetHack game played through the
//! SSH gateway is written as one, `guildhall replay` plays it back, and
//! `guildhall replay --export cast` turns it into asciicast v2 for web players.
//!
//! # The file format
//!
//! A ttyrec file is a plain sequence of frames with no file header. Each frame is a
//! 12-byte header of three little-endian `u32`s followed by `len` bytes of terminal
//! output:
//!
//! ```text
//! offset  size  field
//!      0     4  sec    wall-clock seconds since the Unix epoch
//!      4     4  usec   microseconds within that second
//!      8     4  len    length of the data that follows
//!     12   len  data   bytes the program wrote to its terminal
//! ```
//!
//! The format has no place for the terminal size, so, like termrec and
//! dgamelaunch-style servers, a recorder writes the xterm resize request
//! `ESC [ 8 ; rows ; cols t` as a frame of its own at the start and after every resize
//! ([`TermSize::resize_sequence`]). Players that understand it resize; the others ignore
//! an unknown control sequence.
//!
//! Files written here play in Debian's `ttyplay`, and files written by `ttyrec` read
//! here (`tests/interop.rs` checks both against the real tools).
//!
//! # Where things are
//!
//! - `frame.rs`: [`Frame`], the header codec and [`Error`].
//! - `read.rs`: [`Reader`] and [`AsyncReader`], with a cap on frame length so a corrupt
//!   or hostile file fails with an error instead of a multi-gigabyte allocation.
//! - `write.rs`: [`Writer`] and [`AsyncWriter`] (the game host's recorder).
//! - `size.rs`: [`TermSize`] and the [`SizeScanner`] that finds resize requests in
//!   output.
//! - `play.rs`: [`play`], with pause, speed, skip and quit.
//! - `asciicast.rs`: [`export_asciicast`].

mod asciicast;
mod frame;
mod play;
mod read;
mod size;
mod write;

pub use asciicast::{CastOptions, export_asciicast};
pub use frame::{Error, Frame, HEADER_LEN, MAX_FRAME_LEN};
pub use play::{
    Control, DEFAULT_MAX_IDLE, MAX_SPEED, MIN_SPEED, Outcome, PlayOptions, Playback, play,
};
pub use read::{AsyncReader, Reader};
pub use size::{SizeScanner, TermSize};
pub use write::{AsyncWriter, Writer};
