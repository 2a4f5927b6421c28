//! NetHack's xlogfile: one line per finished game, tab-separated `key=value` fields.
//! The host follows each game's xlogfile and publishes every new line as a
//! [`Death`] (the `game.death` event once the bus is wired).

use std::collections::BTreeMap;
use std::io::{ErrorKind, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::fs;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::broadcast;

use crate::error::Error;
use crate::names::{GameId, UserName};

/// The event name a [`Death`] is published under.
pub const DEATH_EVENT: &str = "game.death";

/// The most read from an xlogfile per poll; the rest waits for the next poll.
const MAX_READ: u64 = 1 << 20;

/// One xlogfile line: the fields every NetHack 3.6 line has, typed, and all of them
/// as written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct XlogEntry {
    /// The player name (`-u`), which the host makes the user name.
    pub name: String,
    /// Three-letter role, race, gender and alignment: `Val`, `Hum`, `Fem`, `Law`.
    pub role: String,
    pub race: String,
    pub gender: String,
    pub align: String,
    /// How the game ended: `killed by a jackal`, `quit`, `ascended`.
    pub death: String,
    pub points: i64,
    pub turns: i64,
    /// The deepest level reached.
    pub maxlvl: i64,
    /// Unix times the game started and ended.
    pub starttime: i64,
    pub endtime: i64,
    /// Every field of the line, including those above and those this struct does not
    /// name (`conduct`, `achieve`, `realtime`…).
    pub fields: BTreeMap<String, String>,
}

/// Parses one line (without its newline).
pub fn parse_xlog_line(line: &str) -> Result<XlogEntry, Error> {
    let mut fields = BTreeMap::new();
    for field in line.trim_end_matches(['\r', '\n']).split('\t') {
        let (key, value) = field
            .split_once('=')
            .ok_or_else(|| Error::Xlog(format!("field {field:?} has no '='")))?;
        fields.insert(key.to_owned(), value.to_owned());
    }
    let text = |key: &str| {
        fields
            .get(key)
            .cloned()
            .ok_or_else(|| Error::Xlog(format!("no {key} field")))
    };
    let number = |key: &str| {
        text(key)?
            .parse::<i64>()
            .map_err(|_| Error::Xlog(format!("{key} is not a number")))
    };
    Ok(XlogEntry {
        name: text("name")?,
        role: text("role")?,
        race: text("race")?,
        gender: text("gender")?,
        align: text("align")?,
        death: text("death")?,
        points: number("points")?,
        turns: number("turns")?,
        maxlvl: number("maxlvl")?,
        starttime: number("starttime")?,
        endtime: number("endtime")?,
        fields,
    })
}

/// A finished game, as published on [`Host::deaths`](crate::Host::deaths).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Death {
    pub game: GameId,
    /// The player, when the line's name is a valid user name (it always is for games
    /// this host launched).
    pub user: Option<UserName>,
    pub entry: XlogEntry,
}

/// The unread end of a growing file: complete lines out, the partial last line kept.
#[derive(Debug, Default)]
pub(crate) struct Tail {
    /// Bytes of the file consumed, complete lines or not.
    offset: u64,
    partial: Vec<u8>,
}

impl Tail {
    pub fn at(offset: u64) -> Self {
        Tail {
            offset,
            partial: Vec::new(),
        }
    }

    /// Takes `bytes` read at the current offset; returns the lines they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<String> {
        self.offset += bytes.len() as u64;
        self.partial.extend_from_slice(bytes);
        let Some(end) = self.partial.iter().rposition(|&b| b == b'\n') else {
            return Vec::new();
        };
        let rest = self.partial.split_off(end + 1);
        let complete = std::mem::replace(&mut self.partial, rest);
        complete
            .split(|&b| b == b'\n')
            .filter(|line| !line.is_empty())
            .map(|line| String::from_utf8_lossy(line).into_owned())
            .collect()
    }

    /// Starts over when the file shrank (rotated or truncated).
    pub fn check_len(&mut self, len: u64) {
        if len < self.offset {
            *self = Tail::at(0);
        }
    }
}

/// Where following `path` starts: its current end, so games that ended before the
/// host started are not published again.
pub(crate) async fn end_of(path: &Path) -> u64 {
    fs::metadata(path).await.map_or(0, |meta| meta.len())
}

/// Follows `path` from `start` (see [`end_of`]), publishing each new line as a
/// death in `game`, checking every `poll`. Runs until aborted.
pub(crate) async fn follow(
    game: GameId,
    path: PathBuf,
    start: u64,
    poll: Duration,
    deaths: broadcast::Sender<Death>,
) {
    let mut tail = Tail::at(start);
    let mut interval = tokio::time::interval(poll);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        match read_new(&path, &mut tail).await {
            Ok(lines) => {
                for line in lines {
                    match parse_xlog_line(&line) {
                        Ok(entry) => {
                            let user = UserName::parse(&entry.name).ok();
                            let _no_listener = deaths.send(Death {
                                game: game.clone(),
                                user,
                                entry,
                            });
                        }
                        Err(error) => tracing::warn!(%game, %error, "skipping xlogfile line"),
                    }
                }
            }
            Err(e) if e.kind() == ErrorKind::NotFound => tail = Tail::at(0),
            Err(error) => {
                tracing::warn!(%game, path = %path.display(), %error, "cannot read xlogfile")
            }
        }
    }
}

async fn read_new(path: &Path, tail: &mut Tail) -> std::io::Result<Vec<String>> {
    let mut file = fs::File::open(path).await?;
    let len = file.metadata().await?.len();
    tail.check_len(len);
    if len == tail.offset {
        return Ok(Vec::new());
    }
    file.seek(SeekFrom::Start(tail.offset)).await?;
    let mut bytes = Vec::new();
    file.take((len - tail.offset).min(MAX_READ))
        .read_to_end(&mut bytes)
        .await?;
    Ok(tail.feed(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A real line from Debian's NetHack 3.6.6 after `#quit`.
    const QUIT: &str = "version=3.6.6\tpoints=0\tdeathdnum=0\tdeathlev=1\tmaxlvl=1\thp=14\tmaxhp=14\tdeaths=0\tdeathdate=20250712\tbirthdate=20250712\tuid=0\trole=Mon\trace=Hum\tgender=Mal\talign=Law\tname=alice\tdeath=quit\tconduct=0xfff\tturns=2\tachieve=0x0\trealtime=7\tstarttime=1752315630\tendtime=1752315641\tgender0=Mal\talign0=Law\tflags=0x4";

    #[test]
    fn parses_a_real_line() {
        let entry = parse_xlog_line(QUIT).unwrap();
        assert_eq!(entry.name, "alice");
        assert_eq!((entry.role.as_str(), entry.race.as_str()), ("Mon", "Hum"));
        assert_eq!(
            (entry.gender.as_str(), entry.align.as_str()),
            ("Mal", "Law")
        );
        assert_eq!(entry.death, "quit");
        assert_eq!((entry.points, entry.turns, entry.maxlvl), (0, 2, 1));
        assert_eq!(
            (entry.starttime, entry.endtime),
            (1_752_315_630, 1_752_315_641)
        );
        assert_eq!(entry.fields["conduct"], "0xfff");
        assert_eq!(entry.fields.len(), 26);
    }

    #[test]
    fn keeps_equals_signs_and_spaces_in_values() {
        let line = QUIT.replace("death=quit", "death=killed by a jackal, while helpless=1");
        let entry = parse_xlog_line(&line).unwrap();
        assert_eq!(entry.death, "killed by a jackal, while helpless=1");
    }

    #[test]
    fn rejects_broken_lines() {
        assert!(parse_xlog_line("").is_err());
        assert!(parse_xlog_line(&QUIT.replace("\tname=alice", "")).is_err());
        assert!(parse_xlog_line(&QUIT.replace("points=0", "points=lots")).is_err());
        assert!(parse_xlog_line(&QUIT.replace("\tflags=0x4", "\tflags")).is_err());
    }

    #[test]
    fn tail_keeps_partial_lines() {
        let mut tail = Tail::at(0);
        assert!(tail.feed(b"a=1\tb").is_empty());
        assert_eq!(tail.feed(b"=2\nc=3\n\nd="), ["a=1\tb=2", "c=3"]);
        assert_eq!(tail.feed(b"4\n"), ["d=4"]);
        assert_eq!(tail.offset, 17);
        tail.check_len(5);
        assert_eq!(tail.offset, 0);
    }

    proptest! {
        #[test]
        fn tail_yields_the_same_lines_however_the_bytes_are_split(
            lines in proptest::collection::vec("[a-z=\t]{1,20}", 0..8),
            cuts in proptest::collection::vec(0usize..200, 0..6),
        ) {
            let text: String = lines.iter().map(|line| format!("{line}\n")).collect();
            let bytes = text.as_bytes();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|cut| cut.min(bytes.len())).collect();
            cuts.push(0);
            cuts.push(bytes.len());
            cuts.sort();
            let mut tail = Tail::at(0);
            let mut got = Vec::new();
            for pair in cuts.windows(2) {
                got.extend(tail.feed(&bytes[pair[0]..pair[1]]));
            }
            prop_assert_eq!(got, lines);
        }
    }
}
