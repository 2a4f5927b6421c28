//! The task that owns one SSH session: menus, prompts, and the games, watches and
//! replays they lead to. Everything here runs in that one task; the russh handler
//! only hands it the channel.
//!
//! Here: the session's start and end, the menus, prompts, playing and options.
//! `account.rs`: the forms that go through auth. `browse.rs`: watching, recordings
//! and deaths, and the paged list they pick from.

mod account;
mod browse;

use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use guildhall_gamehost::{GameId, GameInfo, InputSink, TermSize};
use russh::Channel;
use russh::server::Msg;

use crate::identity::Identity;
use crate::server::Shared;
use crate::term::{AsyncInput, Detach, Flow, Input, Term};
use crate::ui::{CLEAR, Edit, Key, LineEditor, Screen};

/// Longest input accepted at a prompt, in characters; more is ignored as typed.
const MAX_USERNAME: usize = 64;
const MAX_PASSWORD: usize = 128;
const MAX_EMAIL: usize = 254;

pub(crate) struct Context {
    pub shared: Arc<Shared>,
    pub ip: IpAddr,
}

/// Runs the session to its end, then closes the channel.
pub(crate) async fn run(context: Context, channel: Channel<Msg>, identity: Identity) {
    let (read, write) = channel.split();
    let mut term = Term::new(read, write, context.shared.settings.idle_timeout);
    if term.wait_for_shell().await {
        metrics::gauge!("terminal_sessions").increment(1.0);
        let mut app = App {
            context,
            identity,
            notice: None,
        };
        let goodbye = app.run(&mut term).await;
        metrics::gauge!("terminal_sessions").decrement(1.0);
        if let Some(goodbye) = goodbye {
            term.write(format!("\x1b[0m\r\n{goodbye}\r\n")).await;
        }
    }
    term.close().await;
}

/// How a menu step ended.
enum Step {
    Stay,
    Quit,
    Idle,
    Gone,
}

impl Step {
    fn from_input(input: Input) -> Step {
        match input {
            Input::Idle => Step::Idle,
            Input::Gone => Step::Gone,
            Input::Key(_) | Input::Resized => Step::Stay,
        }
    }
}

struct App {
    context: Context,
    identity: Identity,
    /// One line shown under the title on the next menu (a result, an error).
    notice: Option<String>,
}

impl App {
    fn shared(&self) -> &Shared {
        &self.context.shared
    }

    /// The name games know the signed-in player by, if they can play.
    fn player(&self) -> Option<guildhall_gamehost::UserName> {
        match &self.identity {
            Identity::Account(account) => Some(account.player.clone()),
            Identity::Anonymous => None,
        }
    }

    /// Menus until the user quits or leaves; what to say on the way out.
    async fn run(&mut self, term: &mut Term) -> Option<&'static str> {
        loop {
            let step = match self.identity {
                Identity::Anonymous => self.anonymous_menu(term).await,
                Identity::Account(_) => self.account_menu(term).await,
            };
            match step {
                Step::Stay => {}
                Step::Quit => return Some("Goodbye."),
                Step::Idle => {
                    return Some("Idle too long: goodbye. Your game keeps running for a while.");
                }
                Step::Gone => return None,
            }
        }
    }

    /// A screen with the title, the signed-in line and the notice.
    fn screen(&mut self, size: TermSize) -> Screen {
        let mut screen = Screen::new(size);
        screen.line(&format!(" {}", self.shared().settings.title));
        match &self.identity {
            Identity::Anonymous => screen.line(" Not logged in."),
            Identity::Account(account) => screen.line(&format!(" Logged in as {}.", account.name)),
        }
        screen.blank();
        if let Some(notice) = self.notice.take() {
            screen.line(&format!(" {notice}"));
            screen.blank();
        }
        screen
    }

    async fn anonymous_menu(&mut self, term: &mut Term) -> Step {
        let mut screen = self.screen(term.size());
        for line in [
            " l) Log in",
            " r) Register",
            " w) Watch games in progress",
            " d) Recent deaths",
            " q) Quit",
        ] {
            screen.line(line);
        }
        term.write(screen.finish(" => ")).await;
        match term.next().await {
            Input::Key(Key::Char('l')) => self.login(term).await,
            Input::Key(Key::Char('r')) => self.register(term).await,
            Input::Key(Key::Char('w')) => self.watch_menu(term).await,
            Input::Key(Key::Char('d')) => self.deaths(term).await,
            Input::Key(Key::Char('q') | Key::Interrupt) => Step::Quit,
            other => Step::from_input(other),
        }
    }

    async fn account_menu(&mut self, term: &mut Term) -> Step {
        let Identity::Account(account) = &self.identity else {
            return Step::Stay;
        };
        let player = account.player.clone();
        let backend = self.shared().backend.clone();
        // What the host offers now; when it cannot be reached, the rest of the menu
        // still works.
        let games = match backend.games().await {
            Ok(games) => games,
            Err(error) => {
                self.notice = Some(unreachable_notice(&error));
                Vec::new()
            }
        };
        let running: Vec<GameId> = if games.is_empty() {
            Vec::new()
        } else {
            backend
                .live_sessions()
                .await
                .map(|live| {
                    live.into_iter()
                        .filter(|s| s.user == player)
                        .map(|s| s.game)
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut screen = self.screen(term.size());
        for (n, game) in games.iter().take(9).enumerate() {
            let verb = if running.contains(&game.id) {
                "Resume"
            } else {
                "Play"
            };
            screen.line(&format!(" {}) {verb} {}", n + 1, game.name));
        }
        for line in [
            " w) Watch games in progress",
            " r) My recordings",
            " o) Edit game options",
            " c) Change password",
            " d) Recent deaths",
            " l) Log out",
            " q) Quit",
        ] {
            screen.line(line);
        }
        term.write(screen.finish(" => ")).await;
        match term.next().await {
            Input::Key(Key::Char(c @ '1'..='9')) => {
                let index = usize::from(c as u8 - b'1');
                match games.get(index) {
                    Some(game) => self.play(term, game.clone()).await,
                    _ => Step::Stay,
                }
            }
            Input::Key(Key::Char('w')) => self.watch_menu(term).await,
            Input::Key(Key::Char('r')) => self.recordings_menu(term).await,
            Input::Key(Key::Char('o')) => self.options_menu(term, &games).await,
            Input::Key(Key::Char('c')) => self.change_password(term).await,
            Input::Key(Key::Char('d')) => self.deaths(term).await,
            Input::Key(Key::Char('l')) => self.logout().await,
            Input::Key(Key::Char('q') | Key::Interrupt) => Step::Quit,
            other => Step::from_input(other),
        }
    }

    /// Asks for one line under `lines`, redrawn on resize. `Err` says how the form
    /// ends instead: `Step::Stay` when the user cancelled (Escape, Ctrl-C).
    async fn ask(
        &mut self,
        term: &mut Term,
        lines: &[&str],
        label: &str,
        max_chars: usize,
        secret: bool,
    ) -> Result<String, Step> {
        let mut editor = LineEditor::new(max_chars, secret);
        let mut typed = String::new();
        loop {
            let mut screen = self.screen(term.size());
            for line in lines {
                screen.line(line);
            }
            let mut out = screen.finish(label);
            if !secret {
                out.extend_from_slice(typed.as_bytes());
            }
            term.write(out).await;
            loop {
                match term.next().await {
                    Input::Key(key) => match editor.key(key) {
                        Edit::Echo(bytes) => {
                            if !secret {
                                apply_echo(&mut typed, key);
                            }
                            if !bytes.is_empty() {
                                term.write(bytes).await;
                            }
                        }
                        Edit::Submit(text) => return Ok(text),
                        Edit::Cancel => return Err(Step::Stay),
                        Edit::Ignored => {}
                    },
                    Input::Resized => break,
                    other => return Err(Step::from_input(other)),
                }
            }
        }
    }

    async fn play(&mut self, term: &mut Term, game: GameInfo) -> Step {
        let Some(player) = self.player() else {
            return Step::Stay;
        };
        let backend = self.shared().backend.clone();
        let play = match backend.play(&player, &game.id, term.size()).await {
            Ok(play) => play,
            Err(error) => {
                self.notice = Some(format!(
                    "{} could not start: {}",
                    game.name,
                    host_error(&error)
                ));
                return Step::Stay;
            }
        };
        term.discard_typeahead();
        metrics::gauge!("terminal_players").increment(1.0);
        let detach = term.attach(play.output, Player(play.input)).await;
        metrics::gauge!("terminal_players").decrement(1.0);
        self.after_game(term, detach, format!("Your game of {} ended.", game.name))
            .await
    }

    async fn options_menu(&mut self, term: &mut Term, games: &[GameInfo]) -> Step {
        let Some(player) = self.player() else {
            return Step::Stay;
        };
        let game = match games {
            [] => return Step::Stay,
            [one] => one.clone(),
            many => {
                let mut screen = self.screen(term.size());
                screen.line(" Edit the options of which game?");
                for (n, game) in many.iter().take(9).enumerate() {
                    screen.line(&format!(" {}) {}", n + 1, game.name));
                }
                screen.line(" q) Back");
                term.write(screen.finish(" => ")).await;
                match term.next().await {
                    Input::Key(Key::Char(c @ '1'..='9')) => {
                        match many.get(usize::from(c as u8 - b'1')) {
                            Some(game) => game.clone(),
                            None => return Step::Stay,
                        }
                    }
                    other => return Step::from_input(other),
                }
            }
        };
        let backend = self.shared().backend.clone();
        let editor = match backend.edit_options(&player, &game.id, term.size()).await {
            Ok(editor) => editor,
            Err(error) => {
                self.notice = Some(format!(
                    "The options editor could not start: {}",
                    host_error(&error)
                ));
                return Step::Stay;
            }
        };
        term.discard_typeahead();
        let detach = term.attach(editor.output, Player(editor.input)).await;
        self.after_game(term, detach, format!("Options for {} saved.", game.name))
            .await
    }

    async fn after_game(&mut self, term: &mut Term, detach: Detach, ended: String) -> Step {
        term.write(CLEAR).await;
        match detach {
            Detach::Ended | Detach::Left => {
                self.notice = Some(ended);
                Step::Stay
            }
            Detach::Idle => Step::Idle,
            Detach::Gone => Step::Gone,
        }
    }
}

/// A player's game takes every byte typed.
struct Player(Box<dyn InputSink>);

impl AsyncInput for Player {
    async fn data(&mut self, bytes: Bytes) -> Flow {
        match self.0.send(bytes).await {
            Ok(()) => Flow::Stay,
            Err(_) => Flow::Leave,
        }
    }
    async fn resize(&mut self, size: TermSize) {
        let _ = self.0.resize(size).await;
    }
}

fn apply_echo(typed: &mut String, key: Key) {
    match key {
        Key::Char(c) => typed.push(c),
        Key::Backspace => {
            typed.pop();
        }
        _ => {}
    }
}

/// Whether the host could not be reached (rather than refusing).
fn unreachable(error: &guildhall_gamehost::Error) -> bool {
    matches!(
        error,
        guildhall_gamehost::Error::Unreachable(_) | guildhall_gamehost::Error::HostClosed
    )
}

/// Why one action failed, to finish a sentence ("… could not start: {}").
fn host_error(error: &guildhall_gamehost::Error) -> String {
    if unreachable(error) {
        "the game host is unreachable right now; try again shortly.".into()
    } else {
        error.to_string()
    }
}

/// A menu's notice when it could not read from the host.
fn unreachable_notice(error: &guildhall_gamehost::Error) -> String {
    if unreachable(error) {
        "The game host is unreachable right now: games and watching will be back shortly.".into()
    } else {
        format!("The game host refused: {error}")
    }
}
