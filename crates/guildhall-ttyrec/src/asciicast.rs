//! Export to asciicast v2 (<https://docs.asciinema.org/manual/asciicast/v2/>), the
//! newline-delimited JSON that asciinema's web player reads: a header object, then one
//! `[time, code, data]` array per event.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};
use std::time::Duration;

use serde::Serialize;

use crate::frame::{Error, Frame};
use crate::size::{SizeScanner, TermSize};

/// How much output the exporter holds back while looking for the first resize request
/// to put its size in the header. Recordings made here state it in the first frame.
const SIZE_LOOKAHEAD: usize = 1 << 20;

/// Header fields of an asciicast export beyond those taken from the recording.
#[derive(Clone, Debug, PartialEq)]
pub struct CastOptions {
    /// The size in the header when no resize request turns up in the first
    /// MiB of output. Default 80×24.
    pub default_size: TermSize,
    /// `title`, omitted when `None`.
    pub title: Option<String>,
    /// `env` (conventionally `TERM` and `SHELL`), omitted when empty.
    pub env: BTreeMap<String, String>,
    /// `idle_time_limit`, which asciicast players apply as a cap on gaps; omitted when
    /// `None`. Event times themselves are always the recorded ones.
    pub idle_time_limit: Option<Duration>,
}

impl Default for CastOptions {
    fn default() -> Self {
        CastOptions {
            default_size: TermSize::DEFAULT,
            title: None,
            env: BTreeMap::new(),
            idle_time_limit: None,
        }
    }
}

#[derive(Serialize)]
struct Header<'a> {
    version: u8,
    width: u16,
    height: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    idle_time_limit: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    env: &'a BTreeMap<String, String>,
}

/// Writes `frames` to `out` as asciicast v2.
///
/// - The header's `width`/`height` come from the first resize request in the
///   recording (looked for in its first MiB), else [`CastOptions::default_size`];
///   `timestamp` is the first frame's time, omitted for an empty recording.
/// - Each frame becomes an `"o"` event timed from the first frame (never going
///   backwards, even if the recorder's clock did); each later resize to a new size
///   adds an `"r"` event (`"COLSxROWS"`).
/// - Data is always a valid JSON string: a UTF-8 character split across frames is
///   carried to the frame where it completes, and bytes that are not UTF-8 become
///   U+FFFD, exactly as `String::from_utf8_lossy` would treat the whole stream.
///
/// Fails on the first frame that fails to read (having written the events before it)
/// or when `out` fails. `out` is buffered internally and flushed at the end.
pub fn export_asciicast<I, W>(frames: I, out: W, options: &CastOptions) -> Result<(), Error>
where
    I: IntoIterator<Item = Result<Frame, Error>>,
    W: Write,
{
    let mut frames = frames.into_iter();

    // Hold frames back until the first resize request says what size the header has.
    let mut held = Vec::new();
    let mut held_bytes = 0;
    let mut lookahead = SizeScanner::new();
    let mut first_size = None;
    let mut failure = None;
    for frame in frames.by_ref() {
        let frame = match frame {
            Ok(frame) => frame,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        held_bytes += frame.data.len();
        first_size = lookahead.scan(&frame.data).first().copied();
        held.push(frame);
        if first_size.is_some() || held_bytes > SIZE_LOOKAHEAD {
            break;
        }
    }

    let size = first_size.unwrap_or(options.default_size);
    let start = held.first().map(|frame| frame.time);
    let mut out = BufWriter::new(out);
    let header = Header {
        version: 2,
        width: size.cols,
        height: size.rows,
        timestamp: start.map(|time| time.as_secs()),
        idle_time_limit: options.idle_time_limit.map(|limit| limit.as_secs_f64()),
        title: options.title.as_deref(),
        env: &options.env,
    };
    serde_json::to_writer(&mut out, &header).map_err(io::Error::from)?;
    out.write_all(b"\n")?;

    let mut events = Events {
        out,
        start: start.unwrap_or_default(),
        last: Duration::ZERO,
        utf8: Utf8Stream::default(),
        sizes: SizeScanner::new(),
        size,
    };
    for frame in held {
        events.frame(&frame)?;
    }
    if let Some(e) = failure {
        events.out.flush()?;
        return Err(e);
    }
    for frame in frames {
        match frame {
            Ok(frame) => events.frame(&frame)?,
            Err(e) => {
                events.out.flush()?;
                return Err(e);
            }
        }
    }
    events.finish()
}

/// Turns frames into event lines once the header is out.
struct Events<W: Write> {
    out: BufWriter<W>,
    /// The first frame's time: event times are offsets from it.
    start: Duration,
    /// The latest event time written, so times never decrease.
    last: Duration,
    utf8: Utf8Stream,
    sizes: SizeScanner,
    /// The size most recently announced (header or `"r"` event).
    size: TermSize,
}

impl<W: Write> Events<W> {
    fn frame(&mut self, frame: &Frame) -> Result<(), Error> {
        self.last = self.last.max(frame.time.saturating_sub(self.start));
        let text = self.utf8.decode(&frame.data);
        self.event("o", &text)?;
        for size in self.sizes.scan(&frame.data) {
            if size != self.size {
                self.size = size;
                self.event("r", &size.to_string())?;
            }
        }
        Ok(())
    }

    fn event(&mut self, code: &str, data: &str) -> Result<(), Error> {
        if data.is_empty() {
            return Ok(());
        }
        write!(
            self.out,
            "[{}.{:06}, \"{code}\", ",
            self.last.as_secs(),
            self.last.subsec_micros()
        )?;
        serde_json::to_writer(&mut self.out, data).map_err(io::Error::from)?;
        self.out.write_all(b"]\n")?;
        Ok(())
    }

    fn finish(mut self) -> Result<(), Error> {
        let rest = self.utf8.finish();
        self.event("o", &rest)?;
        self.out.flush()?;
        Ok(())
    }
}

/// Decodes a byte stream that arrives in pieces as UTF-8, carrying a character split
/// between pieces to the next one and replacing invalid bytes with U+FFFD.
#[derive(Debug, Default)]
struct Utf8Stream {
    /// The start of a character the last piece ended in: at most three bytes.
    carry: Vec<u8>,
}

impl Utf8Stream {
    fn decode(&mut self, piece: &[u8]) -> String {
        let mut input = std::mem::take(&mut self.carry);
        input.extend_from_slice(piece);
        let mut text = String::with_capacity(input.len());
        let mut rest = &input[..];
        loop {
            match std::str::from_utf8(rest) {
                Ok(valid) => {
                    text.push_str(valid);
                    break;
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    text.push_str(std::str::from_utf8(valid).unwrap());
                    match e.error_len() {
                        Some(invalid) => {
                            text.push(char::REPLACEMENT_CHARACTER);
                            rest = &after[invalid..];
                        }
                        None => {
                            self.carry = after.to_vec();
                            break;
                        }
                    }
                }
            }
        }
        text
    }

    /// What is left when the stream ends: a replacement for a character cut short.
    fn finish(&mut self) -> String {
        if std::mem::take(&mut self.carry).is_empty() {
            String::new()
        } else {
            char::REPLACEMENT_CHARACTER.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_split_over_pieces_is_carried() {
        let mut utf8 = Utf8Stream::default();
        let euro = "€".as_bytes();
        assert_eq!(utf8.decode(&[b'a', euro[0]]), "a");
        assert_eq!(utf8.decode(&euro[1..2]), "");
        assert_eq!(utf8.decode(&[euro[2], b'b']), "€b");
        assert_eq!(utf8.finish(), "");
    }

    #[test]
    fn invalid_bytes_and_a_cut_character_become_replacements() {
        let mut utf8 = Utf8Stream::default();
        assert_eq!(utf8.decode(b"a\xffb\xe2\x82"), "a\u{fffd}b");
        assert_eq!(utf8.decode(b"c"), "\u{fffd}c");
        assert_eq!(utf8.decode(b"\xe2"), "");
        assert_eq!(utf8.finish(), "\u{fffd}");
    }
}
