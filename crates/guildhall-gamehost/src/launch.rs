//! What exactly runs when a player starts a game or edits their options: pure
//! functions from the configuration to a [`CommandSpec`].

use std::path::{Path, PathBuf};

use crate::config::{EditorConfig, GameConfig};
use crate::layout::DataLayout;
use crate::names::UserName;

/// Where `unshare` lives on Debian (util-linux).
pub const UNSHARE: &str = "/usr/bin/unshare";

/// The `PATH` every game and editor gets unless its configuration says otherwise.
pub const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin:/usr/games";

/// The `TERM` every game and editor gets unless its configuration says otherwise:
/// what nearly every SSH client is.
pub const DEFAULT_TERM: &str = "xterm-256color";

/// A program to run on a PTY, with its whole environment (nothing is inherited from
/// the host).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandSpec {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
}

/// The values of the placeholders described in [`config`](crate::config).
struct Placeholders<'a> {
    user: &'a str,
    playground: &'a Path,
    home: &'a Path,
    rc: &'a Path,
}

impl Placeholders<'_> {
    fn expand(&self, text: &str) -> String {
        text.replace("{user}", self.user)
            .replace("{playground}", &self.playground.to_string_lossy())
            .replace("{home}", &self.home.to_string_lossy())
            .replace("{rc}", &self.rc.to_string_lossy())
    }
}

/// The environment every command starts from, before a game's own `env`.
fn base_env(home: &Path) -> Vec<(String, String)> {
    vec![
        ("HOME".to_owned(), home.to_string_lossy().into_owned()),
        ("PATH".to_owned(), DEFAULT_PATH.to_owned()),
        ("TERM".to_owned(), DEFAULT_TERM.to_owned()),
    ]
}

/// Sets `key` to `value`, replacing an earlier value.
fn set_env(env: &mut Vec<(String, String)>, key: String, value: String) {
    env.retain(|(existing, _)| existing != &key);
    env.push((key, value));
}

/// The command that starts `game` for `user`: the game's own command in its
/// playground, wrapped in `unshare` when it needs private mounts.
pub fn game_command(game: &GameConfig, layout: &DataLayout, user: &UserName) -> CommandSpec {
    let playground = layout.playground(&game.id);
    let home = layout.home(user, &game.id);
    let rc = layout.rc_file(user, &game.id);
    let values = Placeholders {
        user: user.as_str(),
        playground: &playground,
        home: &home,
        rc: &rc,
    };
    let mut env = base_env(&home);
    for (key, value) in &game.env {
        set_env(&mut env, key.clone(), values.expand(value));
    }
    let args: Vec<String> = game.args.iter().map(|arg| values.expand(arg)).collect();
    let mounts = &game.playground.private_mounts;
    if mounts.is_empty() {
        return CommandSpec {
            program: game.command.clone(),
            args,
            env,
            cwd: playground,
        };
    }
    // unshare execs sh, which execs the game: the game keeps the pid the host
    // spawned, so signals reach it directly.
    let mut wrapped = private_mount_prefix(mounts.len());
    for mount in mounts {
        wrapped.push(
            playground
                .join(&mount.source)
                .to_string_lossy()
                .into_owned(),
        );
        wrapped.push(mount.target.to_string_lossy().into_owned());
    }
    wrapped.push(game.command.to_string_lossy().into_owned());
    wrapped.extend(args);
    CommandSpec {
        program: PathBuf::from(UNSHARE),
        args: wrapped,
        env,
        cwd: playground,
    }
}

/// `unshare` arguments that bind-mount `count` (source, target) pairs given after
/// them, then exec the command that follows the pairs.
///
/// The user namespace maps the host's user to root so that `mount` is allowed
/// without privileges on the host; the game sees itself as uid 0, and files it
/// creates belong to the host's user.
pub fn private_mount_prefix(count: usize) -> Vec<String> {
    let script = r#"mount --bind -- "$1" "$2" && shift 2 && "#.repeat(count) + r#"exec "$@""#;
    [
        "--user",
        "--map-root-user",
        "--mount",
        "--",
        "/bin/sh",
        "-c",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain([script, "gamehost-mounts".to_owned()])
    .collect()
}

/// The command that opens `user`'s options file for `game` in the restricted editor.
pub fn editor_command(
    editor: &EditorConfig,
    game: &GameConfig,
    layout: &DataLayout,
    user: &UserName,
) -> CommandSpec {
    let home = layout.home(user, &game.id);
    let rc = layout.rc_file(user, &game.id);
    let mut args = editor.args.clone();
    args.push(rc.to_string_lossy().into_owned());
    CommandSpec {
        program: editor.command.clone(),
        args,
        env: base_env(&home),
        cwd: home,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PrivateMount;
    use crate::names::GameId;

    fn game() -> GameConfig {
        let mut game = GameConfig::program(
            GameId::parse("hack").unwrap(),
            "/usr/games/hack",
            &["-u", "{user}"],
        );
        game.env.insert("OPTS".into(), "@{rc}".into());
        game.env.insert("TERM".into(), "vt100".into());
        game
    }

    #[test]
    fn expands_placeholders_and_overrides_the_base_environment() {
        let layout = DataLayout::new("/data");
        let user = UserName::parse("alice").unwrap();
        let spec = game_command(&game(), &layout, &user);
        assert_eq!(spec.program, PathBuf::from("/usr/games/hack"));
        assert_eq!(spec.args, ["-u", "alice"]);
        assert_eq!(spec.cwd, PathBuf::from("/data/playgrounds/hack"));
        let env = |key: &str| {
            spec.env
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(env("OPTS"), Some("@/data/users/alice/hack/hack.rc"));
        assert_eq!(env("TERM"), Some("vt100"));
        assert_eq!(env("HOME"), Some("/data/users/alice/hack"));
        assert_eq!(spec.env.iter().filter(|(k, _)| k == "TERM").count(), 1);
    }

    #[test]
    fn wraps_private_mounts_in_unshare() {
        let mut game = game();
        game.playground.private_mounts.push(PrivateMount {
            source: "sysconf".into(),
            target: "/etc/hack/sysconf".into(),
        });
        let layout = DataLayout::new("/data");
        let spec = game_command(&game, &layout, &UserName::parse("bob").unwrap());
        assert_eq!(spec.program, PathBuf::from(UNSHARE));
        let tail: Vec<&str> = spec
            .args
            .iter()
            .rev()
            .take(5)
            .rev()
            .map(String::as_str)
            .collect();
        assert_eq!(
            tail,
            [
                "/data/playgrounds/hack/sysconf",
                "/etc/hack/sysconf",
                "/usr/games/hack",
                "-u",
                "bob"
            ]
        );
        assert!(spec.args.iter().any(|arg| arg.ends_with(r#"exec "$@""#)));
    }
}
