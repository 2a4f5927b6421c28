//! The preset for NetHack 3.6 from Debian's `nethack-console`.
//!
//! How Debian's build finds its files, and what the preset does about each:
//!
//! - The binary is `/usr/lib/games/nethack/nethack-console` (`/usr/games/nethack` is
//!   a wrapper script that sets `HACKDIR` and picks an options file). The preset runs
//!   the binary itself.
//! - `HACKDIR` (or `NETHACKDIR`) names the playground. When it differs from the
//!   compiled-in `/usr/lib/games/nethack`, the game `chdir`s there and keeps
//!   *everything* there: `nhdat`, `save/`, level and lock files, `record`,
//!   `logfile`, `xlogfile`, `perm`, bones. So each host gets its own playground by
//!   pointing `HACKDIR` at `<data>/playgrounds/nethack`, with links to the read-only
//!   data files and fresh score files.
//! - The sysconf is compiled in as `/etc/nethack/sysconf`, with no way to move it,
//!   and Debian's lets `root` and `games` into wizard mode and allows only 10 games.
//!   The preset writes its own into the playground and bind-mounts it over the
//!   system path in a private user and mount namespace (see
//!   [`PlaygroundSetup::private_mounts`]): nobody is a wizard, nobody may shell out
//!   or suspend, and `MAXPLAYERS=0` lifts the limit (lock files are then named by uid
//!   and player, so each player has one game at a time, as the host also ensures).
//! - `-u <user>` names the character; `NETHACKOPTIONS=@<file>` reads the player's
//!   options file, made from Debian's `/etc/nethack/nethackrc.console`.
//! - Saves are `save/<uid><name>.gz` (Debian compresses them with gzip). The game
//!   runs as uid 0 inside its namespace, so they are `save/0<name>.gz` there; the
//!   patterns accept any uid.
//! - On SIGHUP the game saves and exits, which is what the grace period relies on.

use std::path::Path;

use crate::config::{FileText, GameConfig, Link, PlaygroundSetup, PrivateMount, RcTemplate};
use crate::names::GameId;

/// The game binary.
pub const BINARY: &str = "/usr/lib/games/nethack/nethack-console";
/// Its read-only data files.
pub const LIB_DIR: &str = "/usr/lib/games/nethack";
/// Where the game reads its sysconf, whatever `HACKDIR` says.
pub const SYSTEM_SYSCONF: &str = "/etc/nethack/sysconf";
/// Debian's options file for the console build: the template of players' options.
pub const RC_TEMPLATE: &str = "/etc/nethack/nethackrc.console";

/// The sysconf the preset gives the game.
pub const SYSCONF: &str = "\
# Written by the Guildhall game host at each start; edits are lost.
# Nobody may enter debug (wizard) mode.
WIZARDS=
# Anyone may choose explore mode (it does not score).
EXPLORERS=*
# Nobody may use '!' (shell escape) or '^Z' (suspend).
SHELLERS=
# Every name is a player's own: never prompt for another.
GENERICUSERS=
# 0: no limit on simultaneous games; lock files are named by uid and player.
MAXPLAYERS=0
# No debugger traces on a panic: the game runs unattended.
PANICTRACE_GDB=0
PANICTRACE_LIBC=0
";

/// Whether Debian's `nethack-console` is installed here.
pub fn is_installed() -> bool {
    Path::new(BINARY).exists()
}

impl GameConfig {
    /// NetHack 3.6 from Debian's `nethack-console`, with id `nethack`.
    pub fn nethack() -> GameConfig {
        let link = |name: &str| Link {
            path: name.into(),
            target: Path::new(LIB_DIR).join(name),
        };
        GameConfig {
            id: GameId::parse("nethack").unwrap_or_else(|_| unreachable!("a valid id")),
            name: "NetHack 3.6".to_owned(),
            command: BINARY.into(),
            args: vec!["-u".to_owned(), "{user}".to_owned()],
            env: [("HACKDIR", "{playground}"), ("NETHACKOPTIONS", "@{rc}")]
                .into_iter()
                .map(|(key, value)| (key.to_owned(), value.to_owned()))
                .collect(),
            rc_template: Some(RcTemplate::Path(RC_TEMPLATE.into())),
            playground: PlaygroundSetup {
                dirs: vec!["save".into()],
                empty_files: ["record", "logfile", "xlogfile", "perm"]
                    .map(Into::into)
                    .to_vec(),
                links: vec![link("nhdat"), link("symbols"), link("license"), link("hh")],
                files: vec![FileText {
                    path: "sysconf".into(),
                    text: SYSCONF.to_owned(),
                }],
                private_mounts: vec![PrivateMount {
                    source: "sysconf".into(),
                    target: SYSTEM_SYSCONF.into(),
                }],
            },
            save_files: vec![
                "save/{digits}{user}".to_owned(),
                "save/{digits}{user}.gz".to_owned(),
            ],
            xlogfile: Some("xlogfile".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HostConfig;

    #[test]
    fn the_preset_is_valid() {
        HostConfig::new("/tmp/gamehost", vec![GameConfig::nethack()])
            .validate()
            .unwrap();
    }
}
