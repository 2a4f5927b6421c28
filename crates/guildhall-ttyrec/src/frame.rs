//! One frame of a recording, its 12-byte header, and the crate's error type.

use std::io;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

/// Length of a frame header: `sec`, `usec` and `len`, each a little-endian `u32`.
pub const HEADER_LEN: usize = 12;

/// The longest frame data a [`Reader`](crate::Reader) accepts by default, and the
/// longest a writer emits (it splits longer output into several frames).
///
/// Real recorders write one frame per read from the terminal, a few KiB at most; the
/// cap exists so that a corrupt length field is an error, not a 4 GiB allocation.
pub const MAX_FRAME_LEN: usize = 1 << 20;

/// One chunk of terminal output and the wall-clock time it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Time since the Unix epoch, with microsecond precision (finer parts are dropped
    /// when written).
    pub time: Duration,
    /// The bytes written to the terminal: arbitrary, not necessarily UTF-8, and a
    /// character or escape sequence may continue in the next frame.
    pub data: Bytes,
}

impl Frame {
    /// A frame at `time` (since the Unix epoch).
    pub fn new(time: Duration, data: impl Into<Bytes>) -> Self {
        Frame {
            time,
            data: data.into(),
        }
    }
}

/// Why reading, writing or playing a recording failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The recording itself could not be read or written.
    #[error("recording I/O failed: {0}")]
    Io(#[from] io::Error),
    /// Playback output could not be written (the viewer's terminal went away).
    #[error("writing playback output failed: {0}")]
    Output(#[source] io::Error),
    /// The recording ends part-way through a frame header.
    #[error("recording truncated at byte {offset}: {got} of the {HEADER_LEN} header bytes")]
    TruncatedHeader {
        /// Byte offset of the header in the recording.
        offset: u64,
        /// How many header bytes were there.
        got: usize,
    },
    /// The recording ends part-way through a frame's data.
    #[error(
        "recording truncated in the frame at byte {offset}: header promises {expected} bytes, {got} follow"
    )]
    TruncatedFrame {
        /// Byte offset of the frame's header in the recording.
        offset: u64,
        /// The length the header gives.
        expected: u32,
        /// How many data bytes were there.
        got: usize,
    },
    /// A frame header gives a length above the reader's limit: the file is corrupt or
    /// not a ttyrec file.
    #[error(
        "frame at byte {offset} claims {len} bytes, above the {max}-byte limit (corrupt or not a ttyrec file?)"
    )]
    FrameTooLarge {
        /// Byte offset of the frame's header in the recording.
        offset: u64,
        /// The length the header gives.
        len: u32,
        /// The reader's limit.
        max: usize,
    },
    /// A timestamp whose seconds do not fit the header's 32 bits (after 2106).
    #[error("time {0:?} since the epoch does not fit a ttyrec header")]
    TimeOutOfRange(Duration),
}

/// Encodes a header for `len` bytes at `time`; `len` is at most [`MAX_FRAME_LEN`]
/// (writers split longer output).
pub(crate) fn encode_header(time: Duration, len: usize) -> Result<[u8; HEADER_LEN], Error> {
    let sec = u32::try_from(time.as_secs()).map_err(|_| Error::TimeOutOfRange(time))?;
    debug_assert!(len <= MAX_FRAME_LEN);
    let len = len as u32;
    let mut header = [0; HEADER_LEN];
    header[0..4].copy_from_slice(&sec.to_le_bytes());
    header[4..8].copy_from_slice(&time.subsec_micros().to_le_bytes());
    header[8..12].copy_from_slice(&len.to_le_bytes());
    Ok(header)
}

/// Decodes a header into the frame's time and data length.
///
/// A `usec` of a million or more is out of spec but is carried into the seconds
/// rather than rejected: the aim is to play whatever other recorders wrote.
pub(crate) fn decode_header(header: &[u8; HEADER_LEN]) -> (Duration, u32) {
    let field =
        |i: usize| u32::from_le_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
    let time = Duration::from_secs(field(0).into()) + Duration::from_micros(field(4).into());
    (time, field(8))
}

/// The wall clock as time since the Unix epoch (zero if the clock is before 1970).
pub(crate) fn wall_clock() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_layout_is_sec_usec_len_little_endian() {
        let header = encode_header(Duration::new(0x0102_0304, 5_000_999), 0x0a0b).unwrap();
        assert_eq!(header, [4, 3, 2, 1, 0x88, 0x13, 0, 0, 0x0b, 0x0a, 0, 0]);
        assert_eq!(
            decode_header(&header),
            (Duration::new(0x0102_0304, 5_000_000), 0x0a0b)
        );
    }

    #[test]
    fn out_of_range_usec_carries_into_seconds() {
        let mut header = encode_header(Duration::from_secs(10), 1).unwrap();
        header[4..8].copy_from_slice(&2_500_000u32.to_le_bytes());
        assert_eq!(decode_header(&header).0, Duration::from_millis(12_500));
    }

    #[test]
    fn seconds_past_u32_are_rejected() {
        let time = Duration::from_secs(u64::from(u32::MAX) + 1);
        assert!(matches!(encode_header(time, 1), Err(Error::TimeOutOfRange(t)) if t == time));
    }
}
