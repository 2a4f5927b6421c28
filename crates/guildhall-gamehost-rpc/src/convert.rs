//! Between the game host's types and the wire's: pure functions, both directions,
//! so a round trip can be checked without a network.
//!
//! The server only converts out of its own well-formed values. The client converts
//! what the server sent and treats anything it cannot read as [`Malformed`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use guildhall_gamehost::{
    Death, GameId, GameInfo, LiveSession, MAX_COLS, MAX_ROWS, Output, RecordingInfo, SessionId,
    TermSize, UserName, XlogEntry,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::proto;

/// A reply the client cannot read: a field missing or out of range. Only a server
/// of another version (or a bug) sends one.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Malformed(pub String);

impl Malformed {
    fn new(what: impl Into<String>) -> Self {
        Malformed(what.into())
    }
}

/// A terminal size from the wire, clamped to what the host accepts (at least one
/// cell, at most [`MAX_COLS`] × [`MAX_ROWS`]) so no request can be absurd.
pub(crate) fn size_from_wire(cols: u32, rows: u32) -> TermSize {
    fn clamp(value: u32, max: u16) -> u16 {
        u16::try_from(value.clamp(1, u32::from(max))).unwrap_or(max)
    }
    TermSize::new(clamp(rows, MAX_ROWS), clamp(cols, MAX_COLS))
}

pub(crate) fn resize_to_wire(size: TermSize) -> proto::Resize {
    proto::Resize {
        cols: u32::from(size.cols),
        rows: u32::from(size.rows),
    }
}

pub(crate) fn session_id_from_wire(text: &str) -> Result<SessionId, Malformed> {
    Uuid::parse_str(text)
        .map(SessionId::from)
        .map_err(|_| Malformed::new(format!("{text:?} is not a session id")))
}

pub(crate) fn game_to_wire(game: GameInfo) -> proto::Game {
    proto::Game {
        id: game.id.into(),
        name: game.name,
    }
}

pub(crate) fn game_from_wire(game: proto::Game) -> Result<GameInfo, Malformed> {
    Ok(GameInfo {
        id: game_id(&game.id)?,
        name: game.name,
    })
}

pub(crate) fn output_to_wire(output: Output) -> proto::Output {
    use proto::output::Kind;
    let kind = match output {
        Output::Screen { size, bytes } => Kind::Screen(proto::Screen {
            cols: u32::from(size.cols),
            rows: u32::from(size.rows),
            bytes,
        }),
        Output::Data(bytes) => Kind::Data(proto::Data { bytes }),
        Output::Resize(size) => Kind::Resize(resize_to_wire(size)),
    };
    proto::Output { kind: Some(kind) }
}

pub(crate) fn output_from_wire(output: proto::Output) -> Result<Output, Malformed> {
    use proto::output::Kind;
    match output.kind {
        Some(Kind::Screen(screen)) => Ok(Output::Screen {
            size: size_from_wire(screen.cols, screen.rows),
            bytes: screen.bytes,
        }),
        Some(Kind::Data(data)) => Ok(Output::Data(data.bytes)),
        Some(Kind::Resize(size)) => Ok(Output::Resize(size_from_wire(size.cols, size.rows))),
        None => Err(Malformed::new("an output item with nothing in it")),
    }
}

pub(crate) fn live_session_to_wire(session: LiveSession) -> proto::LiveSession {
    proto::LiveSession {
        id: session.id.to_string(),
        user: session.user.into(),
        game: session.game.into(),
        started_unix_ms: unix_ms(session.started),
        idle_ms: u64::try_from(session.idle.as_millis()).unwrap_or(u64::MAX),
        cols: u32::from(session.size.cols),
        rows: u32::from(session.size.rows),
        watchers: u64::try_from(session.watchers).unwrap_or(u64::MAX),
        attached: session.attached,
    }
}

pub(crate) fn live_session_from_wire(
    session: proto::LiveSession,
) -> Result<LiveSession, Malformed> {
    Ok(LiveSession {
        id: session_id_from_wire(&session.id)?,
        user: user_name(&session.user)?,
        game: game_id(&session.game)?,
        started: from_unix_ms(session.started_unix_ms)?,
        idle: Duration::from_millis(session.idle_ms),
        size: size_from_wire(session.cols, session.rows),
        watchers: usize::try_from(session.watchers)
            .map_err(|_| Malformed::new("too many watchers"))?,
        attached: session.attached,
    })
}

/// `None` for a start time RFC 3339 cannot write (past the year 9999).
pub(crate) fn recording_to_wire(recording: RecordingInfo) -> Option<proto::Recording> {
    Some(proto::Recording {
        game: recording.game.into(),
        name: recording.name,
        started: recording.started.format(&Rfc3339).ok()?,
        bytes: recording.bytes,
    })
}

pub(crate) fn recording_from_wire(recording: proto::Recording) -> Result<RecordingInfo, Malformed> {
    Ok(RecordingInfo {
        game: game_id(&recording.game)?,
        name: recording.name,
        started: OffsetDateTime::parse(&recording.started, &Rfc3339).map_err(|_| {
            Malformed::new(format!("{:?} is not an RFC 3339 time", recording.started))
        })?,
        bytes: recording.bytes,
    })
}

pub(crate) fn death_to_wire(death: Death) -> proto::Death {
    let entry = death.entry;
    proto::Death {
        game: death.game.into(),
        user: death.user.map(String::from),
        entry: Some(proto::XlogEntry {
            name: entry.name,
            role: entry.role,
            race: entry.race,
            gender: entry.gender,
            align: entry.align,
            death: entry.death,
            points: entry.points,
            turns: entry.turns,
            maxlvl: entry.maxlvl,
            starttime: entry.starttime,
            endtime: entry.endtime,
            fields: entry.fields,
        }),
    }
}

pub(crate) fn death_from_wire(death: proto::Death) -> Result<Death, Malformed> {
    let entry = death
        .entry
        .ok_or_else(|| Malformed::new("a death without its xlogfile entry"))?;
    Ok(Death {
        game: game_id(&death.game)?,
        user: death.user.as_deref().map(user_name).transpose()?,
        entry: XlogEntry {
            name: entry.name,
            role: entry.role,
            race: entry.race,
            gender: entry.gender,
            align: entry.align,
            death: entry.death,
            points: entry.points,
            turns: entry.turns,
            maxlvl: entry.maxlvl,
            starttime: entry.starttime,
            endtime: entry.endtime,
            fields: entry.fields,
        },
    })
}

fn user_name(name: &str) -> Result<UserName, Malformed> {
    UserName::parse(name).map_err(|error| Malformed(error.to_string()))
}

fn game_id(id: &str) -> Result<GameId, Malformed> {
    GameId::parse(id).map_err(|error| Malformed(error.to_string()))
}

/// Milliseconds since the Unix epoch, negative before it.
fn unix_ms(at: SystemTime) -> i64 {
    match at.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
    }
}

fn from_unix_ms(ms: i64) -> Result<SystemTime, Malformed> {
    let distance = Duration::from_millis(ms.unsigned_abs());
    let at = if ms >= 0 {
        UNIX_EPOCH.checked_add(distance)
    } else {
        UNIX_EPOCH.checked_sub(distance)
    };
    at.ok_or_else(|| Malformed::new(format!("{ms} ms from 1970 is out of range")))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use bytes::Bytes;
    use guildhall_gamehost::parse_xlog_line;

    use super::*;

    #[test]
    fn sizes_are_clamped_to_what_the_host_accepts() {
        assert_eq!(size_from_wire(80, 24), TermSize::new(24, 80));
        assert_eq!(size_from_wire(0, 0), TermSize::new(1, 1));
        assert_eq!(
            size_from_wire(u32::MAX, 1_000_000),
            TermSize::new(MAX_ROWS, MAX_COLS)
        );
    }

    #[test]
    fn output_round_trips() {
        for output in [
            Output::Screen {
                size: TermSize::new(24, 80),
                bytes: Bytes::from_static(b"\x1b[H\x1b[2Jhello"),
            },
            Output::Data(Bytes::from_static(b"got:hello\r\n")),
            Output::Data(Bytes::new()),
            Output::Resize(TermSize::new(40, 120)),
        ] {
            assert_eq!(output_from_wire(output_to_wire(output.clone())), Ok(output));
        }
        assert!(output_from_wire(proto::Output { kind: None }).is_err());
    }

    #[test]
    fn live_sessions_round_trip_to_the_millisecond() {
        let session = LiveSession {
            id: SessionId::from(Uuid::now_v7()),
            user: UserName::parse("alice").unwrap(),
            game: GameId::parse("nethack").unwrap(),
            started: UNIX_EPOCH + Duration::from_millis(1_752_315_630_123),
            idle: Duration::from_millis(4_250),
            size: TermSize::new(24, 80),
            watchers: 3,
            attached: true,
        };
        assert_eq!(
            live_session_from_wire(live_session_to_wire(session.clone())),
            Ok(session)
        );
    }

    #[test]
    fn times_before_the_epoch_and_out_of_range_are_handled() {
        let before = UNIX_EPOCH - Duration::from_millis(1_500);
        assert_eq!(unix_ms(before), -1_500);
        assert_eq!(from_unix_ms(-1_500), Ok(before));
        // Whatever a server sends, reading it never panics.
        for extreme in [i64::MIN, i64::MAX] {
            let _ = from_unix_ms(extreme);
        }
        let mut wire = live_session_to_wire(LiveSession {
            id: SessionId::from(Uuid::nil()),
            user: UserName::parse("bob").unwrap(),
            game: GameId::parse("g").unwrap(),
            started: UNIX_EPOCH,
            idle: Duration::ZERO,
            size: TermSize::new(24, 80),
            watchers: 0,
            attached: false,
        });
        wire.user = "not a name".into();
        assert!(live_session_from_wire(wire.clone()).is_err());
        wire.user = "bob".into();
        wire.id = "nope".into();
        assert!(live_session_from_wire(wire).is_err());
    }

    #[test]
    fn recordings_round_trip_exactly() {
        let recording = RecordingInfo {
            game: GameId::parse("nethack").unwrap(),
            name: "2025-07-12T10-20-30.123Z.ttyrec".into(),
            started: OffsetDateTime::from_unix_timestamp_nanos(1_752_315_630_123_456_789).unwrap(),
            bytes: 12_345,
        };
        let wire = recording_to_wire(recording.clone()).unwrap();
        assert_eq!(wire.started, "2025-07-12T10:20:30.123456789Z");
        assert_eq!(recording_from_wire(wire), Ok(recording));
    }

    #[test]
    fn deaths_round_trip_exactly() {
        let line = "version=3.6.6\tpoints=0\tmaxlvl=1\trole=Mon\trace=Hum\tgender=Mal\talign=Law\tname=alice\tdeath=killed by a jackal, while helpless=1\tturns=2\tstarttime=1752315630\tendtime=1752315641\tconduct=0xfff";
        let entry = parse_xlog_line(line).unwrap();
        let death = Death {
            game: GameId::parse("nethack").unwrap(),
            user: Some(UserName::parse("alice").unwrap()),
            entry,
        };
        assert_eq!(
            death_from_wire(death_to_wire(death.clone())),
            Ok(death.clone())
        );

        let anonymous = Death {
            user: None,
            entry: XlogEntry {
                fields: BTreeMap::new(),
                ..death.entry.clone()
            },
            ..death.clone()
        };
        assert_eq!(
            death_from_wire(death_to_wire(anonymous.clone())),
            Ok(anonymous)
        );
        let mut wire = death_to_wire(death);
        wire.entry = None;
        assert!(death_from_wire(wire).is_err());
    }
}
