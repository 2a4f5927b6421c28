//! Drawing menus for any terminal size, and reading keys and lines from raw input.
//!
//! Input arrives as bytes from the SSH channel, in arbitrary chunks: a key (a UTF-8
//! character or an escape sequence) may be split across two chunks, and anything may
//! be garbage. [`KeyDecoder`] turns bytes into [`Key`]s and never fails;
//! [`LineEditor`] turns keys into a bounded line of printable text.

use guildhall_gamehost::TermSize;

/// The smallest terminal menus are drawn for; smaller ones get a clipped menu.
const MIN_COLS: u16 = 20;
const MIN_ROWS: u16 = 6;

/// Bytes that reset attributes, clear the screen and home the cursor.
pub(crate) const CLEAR: &[u8] = b"\x1b[0m\x1b[H\x1b[2J";

/// One key press, as menus see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Key {
    Char(char),
    Enter,
    Backspace,
    /// Escape alone (not the start of a sequence).
    Escape,
    /// Ctrl-C or Ctrl-D: leave the current prompt or screen.
    Interrupt,
    /// Anything else: arrows, function keys, other control characters, bytes that are
    /// not UTF-8. Menus ignore it.
    Other,
}

/// Splits raw input into keys, across chunk boundaries.
#[derive(Debug, Default)]
pub(crate) struct KeyDecoder {
    /// An incomplete UTF-8 character or escape sequence from the previous chunk.
    pending: Vec<u8>,
}

/// Longer escape sequences are not keys anyone types; they are dropped.
const MAX_SEQUENCE: usize = 16;

impl KeyDecoder {
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Vec<Key> {
        let mut keys = Vec::new();
        let mut input: Vec<u8> = std::mem::take(&mut self.pending);
        input.extend_from_slice(bytes);
        let mut at = 0;
        while at < input.len() {
            match decode(&input[at..]) {
                Decoded::Key(key, used) => {
                    keys.push(key);
                    at += used;
                }
                Decoded::Incomplete => {
                    self.pending = input[at..].to_vec();
                    break;
                }
            }
        }
        keys
    }

    /// Whether a lone Escape waits to see if a sequence follows.
    pub(crate) fn has_pending(&self) -> bool {
        self.pending == [0x1b]
    }

    /// Ends a pause in input: a lone pending Escape is a key after all.
    pub(crate) fn flush(&mut self) -> Option<Key> {
        let pending = std::mem::take(&mut self.pending);
        (pending == [0x1b]).then_some(Key::Escape)
    }
}

enum Decoded {
    Key(Key, usize),
    Incomplete,
}

fn decode(input: &[u8]) -> Decoded {
    let first = input[0];
    match first {
        b'\r' | b'\n' => {
            // A terminal sends CR or CR LF for Enter: one key either way.
            let used = if first == b'\r' && input.get(1) == Some(&b'\n') {
                2
            } else {
                1
            };
            Decoded::Key(Key::Enter, used)
        }
        0x7f | 0x08 => Decoded::Key(Key::Backspace, 1),
        0x03 | 0x04 => Decoded::Key(Key::Interrupt, 1),
        0x1b => escape(input),
        0x00..=0x1f => Decoded::Key(Key::Other, 1),
        _ => utf8(input),
    }
}

fn escape(input: &[u8]) -> Decoded {
    let Some(&second) = input.get(1) else {
        return Decoded::Incomplete;
    };
    match second {
        // CSI: parameters, then a final byte in 0x40..=0x7e.
        b'[' => match input[2..].iter().position(|b| (0x40..=0x7e).contains(b)) {
            Some(end) => Decoded::Key(Key::Other, end + 3),
            None if input.len() < MAX_SEQUENCE => Decoded::Incomplete,
            None => Decoded::Key(Key::Other, input.len()),
        },
        // SS3 (application cursor keys): one more byte.
        b'O' => match input.get(2) {
            Some(_) => Decoded::Key(Key::Other, 3),
            None => Decoded::Incomplete,
        },
        0x1b => Decoded::Key(Key::Escape, 1),
        // Alt+key: the key is not a menu choice.
        _ => Decoded::Key(Key::Other, 2),
    }
}

fn utf8(input: &[u8]) -> Decoded {
    let width = match input[0] {
        0x20..=0x7e => 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return Decoded::Key(Key::Other, 1),
    };
    if input.len() < width {
        // Only wait if what we have could still become a character.
        return if input[1..].iter().all(|b| (0x80..=0xbf).contains(b)) {
            Decoded::Incomplete
        } else {
            Decoded::Key(Key::Other, 1)
        };
    }
    match std::str::from_utf8(&input[..width]) {
        Ok(text) => match text.chars().next() {
            Some(c) if !c.is_control() => Decoded::Key(Key::Char(c), width),
            _ => Decoded::Key(Key::Other, width),
        },
        Err(_) => Decoded::Key(Key::Other, 1),
    }
}

/// What a key did to a line being edited.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Edit {
    /// Bytes to write to show the change (none for a secret).
    Echo(Vec<u8>),
    Submit(String),
    Cancel,
    /// The key does nothing here (a full line, an arrow, Backspace on nothing).
    Ignored,
}

/// A one-line prompt: printable characters up to a limit, Backspace, Enter to submit,
/// Escape or Ctrl-C to cancel. A secret line echoes nothing.
#[derive(Debug)]
pub(crate) struct LineEditor {
    text: String,
    max_chars: usize,
    secret: bool,
}

impl LineEditor {
    pub(crate) fn new(max_chars: usize, secret: bool) -> Self {
        LineEditor {
            text: String::new(),
            max_chars,
            secret,
        }
    }

    pub(crate) fn key(&mut self, key: Key) -> Edit {
        match key {
            Key::Char(c) if self.text.chars().count() < self.max_chars => {
                self.text.push(c);
                if self.secret {
                    Edit::Echo(Vec::new())
                } else {
                    Edit::Echo(c.to_string().into_bytes())
                }
            }
            Key::Backspace => match self.text.pop() {
                Some(_) if self.secret => Edit::Echo(Vec::new()),
                Some(c) => {
                    let cells = display_width(c);
                    Edit::Echo(b"\x08 \x08".repeat(cells))
                }
                None => Edit::Ignored,
            },
            Key::Enter => Edit::Submit(std::mem::take(&mut self.text)),
            Key::Escape | Key::Interrupt => Edit::Cancel,
            Key::Char(_) | Key::Other => Edit::Ignored,
        }
    }
}

/// Terminal cells a character takes: 2 for wide East Asian characters, else 1. A
/// rough rule, enough for erasing what was echoed.
fn display_width(c: char) -> usize {
    let wide = matches!(c as u32,
        0x1100..=0x115f | 0x2e80..=0xa4cf | 0xac00..=0xd7a3 | 0xf900..=0xfaff
        | 0xfe30..=0xfe4f | 0xff00..=0xff60 | 0xffe0..=0xffe6 | 0x1f300..=0x1faff
        | 0x20000..=0x3fffd);
    if wide { 2 } else { 1 }
}

/// A screen drawn from the top: lines clipped to the width, and no more lines than
/// fit above the prompt row.
#[derive(Debug)]
pub(crate) struct Screen {
    out: Vec<u8>,
    cols: usize,
    /// Lines that may still be written (the last row is kept for the prompt).
    rows_left: usize,
}

impl Screen {
    pub(crate) fn new(size: TermSize) -> Self {
        let size = usable(size);
        Screen {
            out: CLEAR.to_vec(),
            cols: usize::from(size.cols),
            rows_left: usize::from(size.rows) - 1,
        }
    }

    /// Lines that still fit.
    pub(crate) fn rows_left(&self) -> usize {
        self.rows_left
    }

    /// Writes one line, clipped to the width; dropped when the screen is full.
    pub(crate) fn line(&mut self, text: &str) {
        if self.rows_left == 0 {
            return;
        }
        self.rows_left -= 1;
        let mut cells = 0;
        for c in text.chars() {
            // Text shown here comes from the host and other players: no control
            // characters reach the terminal.
            let c = if c.is_control() { '?' } else { c };
            cells += display_width(c);
            if cells > self.cols {
                break;
            }
            let mut buffer = [0; 4];
            self.out
                .extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
        }
        self.out.extend_from_slice(b"\r\n");
    }

    pub(crate) fn blank(&mut self) {
        self.line("");
    }

    /// The finished screen, with `prompt` on the line after the last one written.
    pub(crate) fn finish(mut self, prompt: &str) -> Vec<u8> {
        let width = self.cols;
        let prompt: String = prompt
            .chars()
            .filter(|c| !c.is_control())
            .take(width.saturating_sub(1))
            .collect();
        self.out.extend_from_slice(prompt.as_bytes());
        self.out
    }
}

/// The size menus are drawn for: the client's, or 80x24 when it did not say, never
/// below the minimum.
pub(crate) fn usable(size: TermSize) -> TermSize {
    let (rows, cols) = if size.rows == 0 || size.cols == 0 {
        (24, 80)
    } else {
        (size.rows, size.cols)
    };
    TermSize::new(rows.max(MIN_ROWS), cols.max(MIN_COLS))
}

/// A duration as menus show it: `42s`, `12m`, `3h05m`, `2d04h`.
pub(crate) fn short_duration(duration: std::time::Duration) -> String {
    let secs = duration.as_secs();
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86_400 => format!("{}h{:02}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d{:02}h", secs / 86_400, secs % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(chunks: &[&[u8]]) -> Vec<Key> {
        let mut decoder = KeyDecoder::default();
        chunks.iter().flat_map(|c| decoder.feed(c)).collect()
    }

    #[test]
    fn characters_split_across_chunks_are_one_key() {
        assert_eq!(
            keys(&[b"a\xc3", b"\xa9b"]),
            [Key::Char('a'), Key::Char('é'), Key::Char('b')]
        );
        assert_eq!(keys(&[b"\xe2\x82", b"\xac"]), [Key::Char('€')]);
    }

    #[test]
    fn escape_sequences_are_single_keys_even_when_split() {
        assert_eq!(keys(&[b"\x1b[", b"A", b"x"]), [Key::Other, Key::Char('x')]);
        assert_eq!(keys(&[b"\x1bOA"]), [Key::Other]);
        assert_eq!(keys(&[b"\x1b[1;5D\r\n"]), [Key::Other, Key::Enter]);
    }

    #[test]
    fn a_lone_escape_is_a_key_once_input_pauses() {
        let mut decoder = KeyDecoder::default();
        assert!(decoder.feed(b"\x1b").is_empty());
        assert_eq!(decoder.flush(), Some(Key::Escape));
        assert_eq!(decoder.flush(), None);
    }

    #[test]
    fn garbage_becomes_ignorable_keys_without_panicking() {
        let junk: Vec<u8> = (0..=255u8)
            .chain([0xff, 0xfe, 0xc3, 0x28, 0xf0, 0x28])
            .collect();
        let decoded = keys(&[&junk]);
        assert!(decoded.contains(&Key::Char('a')));
        assert!(
            decoded
                .iter()
                .all(|k| !matches!(k, Key::Char(c) if c.is_control()))
        );
        // An overlong unterminated CSI does not grow without bound.
        let mut decoder = KeyDecoder::default();
        decoder.feed(&[b"\x1b[".as_slice(), &[b'1'; 100]].concat());
        assert!(decoder.pending.len() < MAX_SEQUENCE);
    }

    #[test]
    fn the_line_editor_bounds_and_cancels() {
        let mut line = LineEditor::new(3, false);
        for c in "abcd".chars() {
            line.key(Key::Char(c));
        }
        assert_eq!(line.key(Key::Backspace), Edit::Echo(b"\x08 \x08".to_vec()));
        assert_eq!(line.key(Key::Enter), Edit::Submit("ab".into()));
        let mut secret = LineEditor::new(8, true);
        assert_eq!(secret.key(Key::Char('p')), Edit::Echo(Vec::new()));
        assert_eq!(secret.key(Key::Interrupt), Edit::Cancel);
    }

    #[test]
    fn screens_clip_to_any_size() {
        let mut screen = Screen::new(TermSize::new(3, 10));
        for _ in 0..10 {
            screen.line("a line much longer than ten columns\x1b[2J");
        }
        let out = String::from_utf8(screen.finish("> ")).unwrap();
        let body = out
            .strip_prefix(std::str::from_utf8(CLEAR).unwrap())
            .unwrap();
        // The minimum size applies: 6 rows, 20 columns, one row kept for the prompt.
        assert_eq!(body.matches("\r\n").count(), 5);
        assert!(body.lines().all(|l| l.trim_end().chars().count() <= 20));
        assert!(!body.contains('\x1b'));
    }
}
