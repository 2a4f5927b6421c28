//! The terminal size, carried in the output stream as xterm's resize request
//! `ESC [ 8 ; rows ; cols t`, since the ttyrec header has no field for it.

use std::fmt;

/// A terminal size in character cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TermSize {
    /// Lines.
    pub rows: u16,
    /// Columns.
    pub cols: u16,
}

impl TermSize {
    /// The size assumed when a recording never states one: the VT100's 80×24.
    pub const DEFAULT: TermSize = TermSize { rows: 24, cols: 80 };

    /// A size of `rows` lines by `cols` columns.
    pub fn new(rows: u16, cols: u16) -> Self {
        TermSize { rows, cols }
    }

    /// The xterm request `ESC [ 8 ; rows ; cols t` that a recorder writes as a frame at
    /// the start and after every resize.
    pub fn resize_sequence(self) -> Vec<u8> {
        format!("\x1b[8;{};{}t", self.rows, self.cols).into_bytes()
    }
}

impl Default for TermSize {
    fn default() -> Self {
        TermSize::DEFAULT
    }
}

/// `COLSxROWS`, as asciicast and most terminal tools write a size.
impl fmt::Display for TermSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.cols, self.rows)
    }
}

/// Parameter bytes kept for one control sequence; `8;65535;65535` is 13, so anything
/// longer is some other sequence and is dropped.
const MAX_PARAMS: usize = 16;

/// Finds resize requests in terminal output, including ones split across frames.
///
/// Feed it every frame's data in order; it keeps the few bytes of an unfinished
/// control sequence between calls. Only the exact form `ESC [ 8 ; rows ; cols t` with
/// non-zero sizes counts (xterm reads a zero as "leave unchanged", which says nothing
/// about the size).
#[derive(Clone, Debug, Default)]
pub struct SizeScanner {
    state: State,
    /// Parameter bytes (digits and `;`) of the control sequence being read.
    params: Vec<u8>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum State {
    /// Outside any escape sequence.
    #[default]
    Ground,
    /// After `ESC`.
    Escape,
    /// After `ESC [`, collecting parameters.
    Csi,
}

impl SizeScanner {
    /// A scanner at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Scans `data` and returns the sizes requested in it, in order.
    pub fn scan(&mut self, data: &[u8]) -> Vec<TermSize> {
        let mut sizes = Vec::new();
        for &byte in data {
            if let Some(size) = self.step(byte) {
                sizes.push(size);
            }
        }
        sizes
    }

    fn step(&mut self, byte: u8) -> Option<TermSize> {
        const ESC: u8 = 0x1b;
        match (self.state, byte) {
            (_, ESC) => self.state = State::Escape,
            (State::Escape, b'[') => {
                self.state = State::Csi;
                self.params.clear();
            }
            (State::Csi, b'0'..=b'9' | b';') if self.params.len() < MAX_PARAMS => {
                self.params.push(byte);
            }
            (State::Csi, b't') => {
                self.state = State::Ground;
                return parse_resize(&self.params);
            }
            _ => self.state = State::Ground,
        }
        None
    }
}

/// Parses the parameters `8;rows;cols` of a `CSI … t` sequence.
fn parse_resize(params: &[u8]) -> Option<TermSize> {
    let text = std::str::from_utf8(params).ok()?;
    let mut fields = text.split(';');
    let (op, rows, cols) = (fields.next()?, fields.next()?, fields.next()?);
    if op != "8" || fields.next().is_some() {
        return None;
    }
    let (rows, cols) = (rows.parse::<u16>().ok()?, cols.parse::<u16>().ok()?);
    (rows > 0 && cols > 0).then_some(TermSize { rows, cols })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_sequence_it_writes() {
        let size = TermSize::new(40, 132);
        assert_eq!(size.resize_sequence(), b"\x1b[8;40;132t");
        assert_eq!(SizeScanner::new().scan(&size.resize_sequence()), vec![size]);
    }

    #[test]
    fn finds_sequences_among_output_and_split_anywhere() {
        let stream = b"hello\x1b[2J\x1b[8;24;80tmore\x1b\x1b[8;50;200t\x1b[1;1H";
        for split in 0..=stream.len() {
            let mut scanner = SizeScanner::new();
            let mut sizes = scanner.scan(&stream[..split]);
            sizes.extend(scanner.scan(&stream[split..]));
            assert_eq!(
                sizes,
                vec![TermSize::new(24, 80), TermSize::new(50, 200)],
                "split at {split}"
            );
        }
    }

    #[test]
    fn ignores_other_window_operations_and_nonsense() {
        let noise: &[&[u8]] = &[
            b"\x1b[8;0;80t",    // zero means "unchanged"
            b"\x1b[4;600;800t", // size in pixels
            b"\x1b[8;24t",
            b"\x1b[8;24;80;1t",
            b"\x1b[8;99999;80t",
            b"\x1b[?8;24;80t",
            b"\x1b[8;24;80\nt",
            b"\x1b[8;000000000000000000024;80t",
        ];
        for bytes in noise {
            assert_eq!(SizeScanner::new().scan(bytes), vec![], "{bytes:?}");
        }
    }

    #[test]
    fn displays_as_cols_x_rows() {
        assert_eq!(TermSize::new(24, 80).to_string(), "80x24");
    }
}
