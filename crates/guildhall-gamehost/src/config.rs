//! Typed configuration: the host's knobs and one [`GameConfig`] per game.
//!
//! Any terminal program can be a game: its command, arguments, environment, options
//! template and playground are all here. [`GameConfig::nethack`](crate::nethack)
//! is the preset for Debian's `nethack-console`. Arguments and environment values
//! may use these placeholders, expanded at each launch:
//!
//! | placeholder    | becomes                                                   |
//! | -------------- | --------------------------------------------------------- |
//! | `{user}`       | the player's [`UserName`](crate::UserName)                |
//! | `{playground}` | the game's playground directory (also the working dir)    |
//! | `{home}`       | the player's directory for this game (`HOME`)             |
//! | `{rc}`         | the player's options file, made from the game's template  |

use std::collections::{BTreeMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::names::GameId;

/// Everything the host needs, loaded and validated once at startup.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    /// Root of the host's state: playgrounds, players' options files, save backups
    /// and recordings (see [`DataLayout`](crate::DataLayout)).
    pub data_dir: PathBuf,
    /// How long a game whose player disconnected keeps running, waiting for them to
    /// reattach, before it gets SIGHUP (NetHack saves on it).
    #[serde(default = "default_grace_period_secs")]
    pub grace_period_secs: u64,
    /// How long a game may take to exit after SIGHUP before it is killed.
    #[serde(default = "default_hangup_timeout_secs")]
    pub hangup_timeout_secs: u64,
    /// Output chunks kept for the slowest reader of a session (player or watcher);
    /// one that falls further behind is skipped forward with a screen redraw.
    #[serde(default = "default_stream_buffer")]
    pub stream_buffer: usize,
    /// Save backups kept per player and game; the oldest go first.
    #[serde(default = "default_backups_kept")]
    pub backups_kept: usize,
    /// How often xlogfiles are checked for new lines.
    #[serde(default = "default_xlog_poll_ms")]
    pub xlog_poll_ms: u64,
    /// The editor players change their options file with.
    #[serde(default)]
    pub editor: EditorConfig,
    pub games: Vec<GameConfig>,
}

/// Five minutes, as the issue asks.
pub const DEFAULT_GRACE_PERIOD_SECS: u64 = 300;
/// NetHack saves in well under a second; this is for a game stuck on I/O.
pub const DEFAULT_HANGUP_TIMEOUT_SECS: u64 = 30;
/// Output arrives in chunks of at most 8 KiB, so this bounds a session's backlog at
/// 2 MiB while covering seconds of normal play.
pub const DEFAULT_STREAM_BUFFER: usize = 256;
pub const DEFAULT_BACKUPS_KEPT: usize = 10;
pub const DEFAULT_XLOG_POLL_MS: u64 = 500;

fn default_grace_period_secs() -> u64 {
    DEFAULT_GRACE_PERIOD_SECS
}
fn default_hangup_timeout_secs() -> u64 {
    DEFAULT_HANGUP_TIMEOUT_SECS
}
fn default_stream_buffer() -> usize {
    DEFAULT_STREAM_BUFFER
}
fn default_backups_kept() -> usize {
    DEFAULT_BACKUPS_KEPT
}
fn default_xlog_poll_ms() -> u64 {
    DEFAULT_XLOG_POLL_MS
}

impl HostConfig {
    /// A configuration with every default, storing its state under `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>, games: Vec<GameConfig>) -> Self {
        HostConfig {
            data_dir: data_dir.into(),
            grace_period_secs: DEFAULT_GRACE_PERIOD_SECS,
            hangup_timeout_secs: DEFAULT_HANGUP_TIMEOUT_SECS,
            stream_buffer: DEFAULT_STREAM_BUFFER,
            backups_kept: DEFAULT_BACKUPS_KEPT,
            xlog_poll_ms: DEFAULT_XLOG_POLL_MS,
            editor: EditorConfig::default(),
            games,
        }
    }

    pub fn grace_period(&self) -> Duration {
        Duration::from_secs(self.grace_period_secs)
    }

    pub fn hangup_timeout(&self) -> Duration {
        Duration::from_secs(self.hangup_timeout_secs)
    }

    pub fn xlog_poll(&self) -> Duration {
        Duration::from_millis(self.xlog_poll_ms)
    }

    pub fn game(&self, id: &GameId) -> Option<&GameConfig> {
        self.games.iter().find(|game| &game.id == id)
    }

    /// Checks what serde cannot: unique ids, absolute programs, and playground paths
    /// that stay inside the playground.
    pub fn validate(&self) -> Result<(), Error> {
        if self.stream_buffer == 0 {
            return Err(Error::Config("stream_buffer must be at least 1".into()));
        }
        if !self.editor.command.is_absolute() {
            return Err(Error::Config(
                "editor.command must be an absolute path".into(),
            ));
        }
        let mut ids = HashSet::new();
        for game in &self.games {
            if !ids.insert(&game.id) {
                return Err(Error::Config(format!(
                    "game {} is configured twice",
                    game.id
                )));
            }
            game.validate()?;
        }
        Ok(())
    }
}

/// A game: what to run and what it needs around it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GameConfig {
    pub id: GameId,
    /// Shown to players: "NetHack 3.6".
    pub name: String,
    /// Absolute path of the program.
    pub command: PathBuf,
    /// Arguments, with placeholders.
    #[serde(default)]
    pub args: Vec<String>,
    /// The game's whole environment besides `HOME`, `PATH` and `TERM` (which it may
    /// override), with placeholders: the host's own environment is never passed on.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// What a player's options file starts as.
    #[serde(default)]
    pub rc_template: Option<RcTemplate>,
    #[serde(default)]
    pub playground: PlaygroundSetup,
    /// Where the game keeps a player's saves, as patterns relative to the playground
    /// (see [`save_file_matches`](crate::saves::save_file_matches)): they are backed
    /// up before each launch.
    #[serde(default)]
    pub save_files: Vec<String>,
    /// NetHack's extended log, relative to the playground: each new line is
    /// published as a [`Death`](crate::Death).
    #[serde(default)]
    pub xlogfile: Option<PathBuf>,
}

impl GameConfig {
    /// A game that is just `command args…` in an empty playground.
    pub fn program(id: GameId, command: impl Into<PathBuf>, args: &[&str]) -> Self {
        GameConfig {
            name: id.to_string(),
            id,
            command: command.into(),
            args: args.iter().map(|arg| arg.to_string()).collect(),
            env: BTreeMap::new(),
            rc_template: None,
            playground: PlaygroundSetup::default(),
            save_files: Vec::new(),
            xlogfile: None,
        }
    }

    fn validate(&self) -> Result<(), Error> {
        let bad = |what: String| Err(Error::Config(format!("game {}: {what}", self.id)));
        if !self.command.is_absolute() {
            return bad(format!(
                "command {} is not an absolute path",
                self.command.display()
            ));
        }
        for key in self.env.keys() {
            if key.is_empty() || key.contains('=') || key.contains('\0') {
                return bad(format!("invalid environment variable name {key:?}"));
            }
        }
        let setup = &self.playground;
        let relative = setup
            .dirs
            .iter()
            .chain(&setup.empty_files)
            .chain(setup.links.iter().map(|link| &link.path))
            .chain(setup.files.iter().map(|file| &file.path))
            .chain(setup.private_mounts.iter().map(|mount| &mount.source))
            .chain(&self.xlogfile);
        for path in relative {
            if !is_inside(path) {
                return bad(format!(
                    "{} must be a relative path inside the playground",
                    path.display()
                ));
            }
        }
        for pattern in &self.save_files {
            if !is_inside(Path::new(pattern)) {
                return bad(format!(
                    "save file pattern {pattern} must stay inside the playground"
                ));
            }
        }
        for mount in &setup.private_mounts {
            if !mount.target.is_absolute() {
                return bad(format!(
                    "private mount target {} is not absolute",
                    mount.target.display()
                ));
            }
        }
        for link in &setup.links {
            if !link.target.is_absolute() {
                return bad(format!(
                    "link target {} is not absolute",
                    link.target.display()
                ));
            }
        }
        Ok(())
    }
}

/// True when `path` is relative and never climbs out (`..`).
fn is_inside(path: &Path) -> bool {
    path.components().next().is_some()
        && path
            .components()
            .all(|part| matches!(part, Component::Normal(_)))
}

/// A game's options template: a file (read at each use, so package upgrades show) or
/// the text itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RcTemplate {
    Path(PathBuf),
    Text(String),
}

/// What a game's playground holds. It is the game's working directory, shared by
/// every player of the game on this host, and made or refreshed when the host
/// starts.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaygroundSetup {
    /// Directories to create (NetHack's `save`).
    #[serde(default)]
    pub dirs: Vec<PathBuf>,
    /// Files to create empty when missing, never touched after (score files, logs).
    #[serde(default)]
    pub empty_files: Vec<PathBuf>,
    /// Read-only files of the installed game, linked again at each start so a package
    /// upgrade is picked up (NetHack's `nhdat`).
    #[serde(default)]
    pub links: Vec<Link>,
    /// Files written at each start (NetHack's sysconf).
    #[serde(default)]
    pub files: Vec<FileText>,
    /// Playground files that the game must find at a fixed system path: the game runs
    /// in its own user and mount namespace (`unshare`) where each is bind-mounted
    /// over its target, so the host never changes the system's copy.
    #[serde(default)]
    pub private_mounts: Vec<PrivateMount>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// In the playground.
    pub path: PathBuf,
    /// Absolute.
    pub target: PathBuf,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileText {
    /// In the playground.
    pub path: PathBuf,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivateMount {
    /// In the playground.
    pub source: PathBuf,
    /// The absolute system path the game reads.
    pub target: PathBuf,
}

/// The options editor: it must not be able to open another file or start a shell.
/// Debian's `rnano` (from `nano`) is nano in restricted mode: only the file named on
/// its command line, no "read file", "save as", spell checker or suspend.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditorConfig {
    pub command: PathBuf,
    /// Given before the file name. The default skips nanorc files, which could
    /// otherwise turn features back on.
    #[serde(default)]
    pub args: Vec<String>,
}

impl Default for EditorConfig {
    fn default() -> Self {
        EditorConfig {
            command: PathBuf::from("/usr/bin/rnano"),
            args: vec!["--ignorercfiles".to_owned()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_toml_with_defaults() {
        let text = r#"
            data_dir = "/var/lib/guildhall/gamehost"
            [[games]]
            id = "robots"
            name = "Robots"
            command = "/usr/games/robots"
            args = ["-u", "{user}"]
            rc_template = { text = "x" }
        "#;
        let config: HostConfig = toml::from_str(text).unwrap();
        config.validate().unwrap();
        assert_eq!(config.grace_period(), Duration::from_secs(300));
        assert_eq!(
            config.games[0].rc_template,
            Some(RcTemplate::Text("x".into()))
        );
    }

    #[test]
    fn rejects_paths_out_of_the_playground() {
        let mut game = GameConfig::program(GameId::parse("g").unwrap(), "/bin/true", &[]);
        game.playground.dirs.push("../etc".into());
        let config = HostConfig::new("/tmp/x", vec![game]);
        assert!(matches!(config.validate(), Err(Error::Config(_))));
    }

    #[test]
    fn rejects_duplicate_games_and_relative_commands() {
        let id = GameId::parse("g").unwrap();
        let twice = HostConfig::new(
            "/tmp/x",
            vec![
                GameConfig::program(id.clone(), "/bin/true", &[]),
                GameConfig::program(id.clone(), "/bin/true", &[]),
            ],
        );
        assert!(twice.validate().is_err());
        let relative = HostConfig::new("/tmp/x", vec![GameConfig::program(id, "true", &[])]);
        assert!(relative.validate().is_err());
    }
}
