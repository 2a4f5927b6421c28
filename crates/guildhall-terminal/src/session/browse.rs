//! Browsing what others do and did: games in progress (watching), one's recordings
//! (replay), recent deaths; and the paged, letter-picked list they share.

use std::time::SystemTime;

use bytes::Bytes;
use guildhall_gamehost::{Death, RecordingInfo, SessionId, TermSize, UserName};
use guildhall_ttyrec::{Control, Outcome, PlayOptions};
use tokio::sync::mpsc;

use super::{App, Step, host_error, unreachable_notice};
use crate::term::{AsyncInput, Detach, Flow, Input, RawInput, Term};
use crate::ui::{CLEAR, Key, short_duration};

/// Letters that pick an entry in a list (`q` is always "back").
const PICKS: &str = "abcdefghijklmnoprstuvwxyz";

/// A list to pick from: see [`App::pick_from`].
struct List<'a> {
    header: &'a [&'a str],
    entries: Vec<String>,
    empty: &'a str,
    footer: Option<&'a str>,
}

/// What the user did at a list.
enum Picked {
    /// The entry at this index of the whole list.
    Entry(usize),
    /// Nothing to act on (a page turned, a resize, another key): draw it again.
    Again,
    Leave(Step),
}

impl App {
    /// Draws a list under `header`, one entry per line picked by its letter, paged
    /// to fit the terminal (`<` and `>` turn pages), with `empty` when there is none
    /// and `footer` under it.
    async fn pick_from(&mut self, term: &mut Term, page: &mut usize, list: List<'_>) -> Picked {
        let mut screen = self.screen(term.size());
        for line in list.header {
            screen.line(line);
        }
        // Room for the entries: what is left, less the paging line and the footer.
        let reserved = 1 + usize::from(list.footer.is_some());
        let per_page = screen
            .rows_left()
            .saturating_sub(reserved)
            .clamp(1, PICKS.len());
        let pages = list.entries.len().div_ceil(per_page).max(1);
        *page = (*page).min(pages - 1);
        let first = *page * per_page;
        let shown = list.entries.len().saturating_sub(first).min(per_page);
        for (pick, entry) in PICKS.chars().zip(&list.entries[first..first + shown]) {
            screen.line(&format!(" {pick}) {entry}"));
        }
        if list.entries.is_empty() {
            screen.line(list.empty);
        }
        if pages > 1 {
            screen.line(&format!(" Page {}/{} (< and > to turn)", *page + 1, pages));
        }
        if let Some(footer) = list.footer {
            screen.line(footer);
        }
        term.write(screen.finish(" => ")).await;
        match term.next().await {
            Input::Key(Key::Char('q') | Key::Escape | Key::Interrupt) => Picked::Leave(Step::Stay),
            Input::Key(Key::Char('>')) => {
                *page = (*page + 1).min(pages - 1);
                Picked::Again
            }
            Input::Key(Key::Char('<')) => {
                *page = page.saturating_sub(1);
                Picked::Again
            }
            Input::Key(Key::Char(c)) => match PICKS.find(c).filter(|index| *index < shown) {
                Some(index) => Picked::Entry(first + index),
                None => Picked::Again,
            },
            Input::Key(_) | Input::Resized => Picked::Again,
            other => Picked::Leave(Step::from_input(other)),
        }
    }

    pub(super) async fn watch_menu(&mut self, term: &mut Term) -> Step {
        let mut page = 0;
        loop {
            let live = match self.shared().backend.live_sessions().await {
                Ok(live) => live,
                Err(error) => {
                    self.notice = Some(unreachable_notice(&error));
                    return Step::Stay;
                }
            };
            let now = SystemTime::now();
            let entries = live
                .iter()
                .map(|session| {
                    let played = now.duration_since(session.started).unwrap_or_default();
                    format!(
                        "{:<16} {:<14} {:>7} {:>7} {:>8} {:>5}",
                        session.user.as_str(),
                        session.game.as_str(),
                        short_duration(played),
                        short_duration(session.idle),
                        format!("{}x{}", session.size.cols, session.size.rows),
                        session.watchers,
                    )
                })
                .collect();
            let columns = format!(
                "    {:<16} {:<14} {:>7} {:>7} {:>8} {:>5}",
                "Player", "Game", "Time", "Idle", "Size", "Watch"
            );
            let list = List {
                header: &[
                    " Games in progress, least idle first. Pick one to watch; q to go back.",
                    &columns,
                ],
                entries,
                empty: " Nobody is playing right now.",
                footer: None,
            };
            match self.pick_from(term, &mut page, list).await {
                Picked::Entry(index) => match self.watch(term, live[index].id).await {
                    Step::Stay => {}
                    other => return other,
                },
                Picked::Again => {}
                Picked::Leave(step) => return step,
            }
        }
    }

    async fn watch(&mut self, term: &mut Term, session: SessionId) -> Step {
        let output = match self.shared().backend.watch(session).await {
            Ok(output) => output,
            Err(error) => {
                self.notice = Some(format!("Cannot watch that game: {}", host_error(&error)));
                return Step::Stay;
            }
        };
        term.discard_typeahead();
        metrics::gauge!("terminal_watchers").increment(1.0);
        let detach = term.attach(output, Watcher).await;
        metrics::gauge!("terminal_watchers").decrement(1.0);
        let step = self
            .after_game(term, detach, "The game you watched ended.".into())
            .await;
        if detach == Detach::Left {
            self.notice = None;
        }
        step
    }

    pub(super) async fn recordings_menu(&mut self, term: &mut Term) -> Step {
        let Some(player) = self.player() else {
            self.notice = Some("Only players have recordings.".into());
            return Step::Stay;
        };
        let recordings = match self.shared().backend.recordings(&player).await {
            Ok(recordings) => recordings,
            Err(error) => {
                self.notice = Some(unreachable_notice(&error));
                return Step::Stay;
            }
        };
        let entries: Vec<String> = recordings
            .iter()
            .map(|recording| {
                format!(
                    "{:<14} {}  {} KiB",
                    recording.game.as_str(),
                    recording
                        .started
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default(),
                    recording.bytes.div_ceil(1024),
                )
            })
            .collect();
        let mut page = 0;
        loop {
            let list = List {
                header: &[" Your recordings, newest first. Pick one to replay; q to go back."],
                entries: entries.clone(),
                empty: " No recordings yet: they are made as you play.",
                footer: Some(
                    " While replaying: space pauses, + and - change speed, . skips a pause, q stops.",
                ),
            };
            match self.pick_from(term, &mut page, list).await {
                Picked::Entry(index) => {
                    match self.replay(term, &player, &recordings[index]).await {
                        Step::Stay => {}
                        other => return other,
                    }
                }
                Picked::Again => {}
                Picked::Leave(step) => return step,
            }
        }
    }

    async fn replay(
        &mut self,
        term: &mut Term,
        player: &UserName,
        recording: &RecordingInfo,
    ) -> Step {
        let bytes = match self
            .shared()
            .backend
            .read_recording(player, &recording.game, &recording.name)
            .await
        {
            Ok(bytes) => bytes,
            Err(error) => {
                self.notice = Some(format!("Cannot replay that: {}", host_error(&error)));
                return Step::Stay;
            }
        };
        let mut reader = guildhall_ttyrec::Reader::new(std::io::Cursor::new(bytes));
        let frames =
            futures_util::stream::iter(std::iter::from_fn(move || reader.read_frame().transpose()));
        let (controls, mut control_rx) = mpsc::channel(16);
        let writer = term.writer();
        term.write(CLEAR).await;
        let mut playing = tokio::spawn(async move {
            guildhall_ttyrec::play(frames, writer, &mut control_rx, PlayOptions::default()).await
        });
        let step = loop {
            tokio::select! {
                done = &mut playing => {
                    let finished = matches!(done, Ok(Ok(playback)) if playback.outcome == Outcome::Finished);
                    self.notice = Some(if finished { "End of the recording.".into() } else { "Replay stopped.".into() });
                    break Step::Stay;
                }
                input = term.next_raw() => match input {
                    None => {
                        playing.abort();
                        break Step::Gone;
                    }
                    Some(RawInput::Resized) => {}
                    Some(RawInput::Keys(keys)) => {
                        for key in keys {
                            if let Some(control) = replay_control(key) {
                                let _ = controls.send(control).await;
                            }
                        }
                    }
                }
            }
        };
        term.write(CLEAR).await;
        term.discard_typeahead();
        step
    }

    pub(super) async fn deaths(&mut self, term: &mut Term) -> Step {
        let rows = usize::from(term.size().rows);
        let deaths = match self.shared().backend.recent_deaths(rows).await {
            Ok(deaths) => deaths,
            Err(error) => {
                self.notice = Some(unreachable_notice(&error));
                return Step::Stay;
            }
        };
        let mut screen = self.screen(term.size());
        screen.line(" Recent deaths, newest first.");
        if deaths.is_empty() {
            screen.line(" Nobody has died yet.");
        }
        for death in &deaths {
            screen.line(&death_line(death));
        }
        term.write(screen.finish(" Press any key to go back. "))
            .await;
        Step::from_input(term.next().await)
    }
}

/// A watcher can only leave: `q`, Escape or Ctrl-C. Nothing reaches the game.
struct Watcher;

impl AsyncInput for Watcher {
    async fn data(&mut self, bytes: Bytes) -> Flow {
        if bytes.iter().any(|b| matches!(b, b'q' | b'Q' | 0x03 | 0x04)) {
            Flow::Leave
        } else {
            Flow::Stay
        }
    }
    async fn resize(&mut self, _size: TermSize) {}
}

fn replay_control(key: Key) -> Option<Control> {
    match key {
        Key::Char(' ') => Some(Control::TogglePause),
        Key::Char('+' | 'f') => Some(Control::SpeedUp),
        Key::Char('-' | 's') => Some(Control::SlowDown),
        Key::Char('=' | '1') => Some(Control::NormalSpeed),
        Key::Char('.') | Key::Enter => Some(Control::SkipIdle),
        Key::Char('q') | Key::Escape | Key::Interrupt => Some(Control::Quit),
        _ => None,
    }
}

fn death_line(death: &Death) -> String {
    let entry = &death.entry;
    let when = time::OffsetDateTime::from_unix_timestamp(entry.endtime)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]"
            ))
            .ok()
        })
        .unwrap_or_default();
    format!(
        " {when} {} ({}-{}-{}-{}) {}, {} points, T:{}",
        entry.name,
        entry.role,
        entry.race,
        entry.gender,
        entry.align,
        entry.death,
        entry.points,
        entry.turns
    )
}
