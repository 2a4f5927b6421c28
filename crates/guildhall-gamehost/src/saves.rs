//! A player's save files: found by the game's patterns, backed up before each launch.
//!
//! A pattern is a path relative to the playground whose last part may use `{user}`
//! (the player's name) and `{digits}` (one or more ASCII digits). NetHack saves as
//! `save/<uid><name>.gz`, so its patterns are `save/{digits}{user}` and
//! `save/{digits}{user}.gz`; `{digits}` rather than a fixed uid because the uid the
//! game sees depends on whether it runs in a user namespace.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use tokio::fs;

use crate::config::GameConfig;
use crate::error::Error;
use crate::layout::DataLayout;
use crate::names::UserName;
use crate::stamp::file_stamp;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part<'a> {
    Literal(&'a str),
    User,
    Digits,
}

fn parts(pattern: &str) -> Vec<Part<'_>> {
    let mut parts = Vec::new();
    let mut rest = pattern;
    while !rest.is_empty() {
        let next = [("{user}", Part::User), ("{digits}", Part::Digits)]
            .into_iter()
            .filter_map(|(token, part)| rest.find(token).map(|at| (at, token, part)))
            .min_by_key(|&(at, _, _)| at);
        match next {
            Some((at, token, part)) => {
                if at > 0 {
                    parts.push(Part::Literal(&rest[..at]));
                }
                parts.push(part);
                rest = &rest[at + token.len()..];
            }
            None => {
                parts.push(Part::Literal(rest));
                rest = "";
            }
        }
    }
    parts
}

fn matches(parts: &[Part<'_>], name: &str, user: &str) -> bool {
    match parts.split_first() {
        None => name.is_empty(),
        Some((Part::Literal(text), rest)) => name
            .strip_prefix(text)
            .is_some_and(|name| matches(rest, name, user)),
        Some((Part::User, rest)) => name
            .strip_prefix(user)
            .is_some_and(|name| matches(rest, name, user)),
        Some((Part::Digits, rest)) => {
            let digits = name.bytes().take_while(u8::is_ascii_digit).count();
            (1..=digits).any(|len| matches(rest, &name[len..], user))
        }
    }
}

/// Whether the file name `name` is `user`'s by the last part of `pattern`.
pub fn save_file_matches(pattern: &str, name: &str, user: &UserName) -> bool {
    let last = pattern.rsplit('/').next().unwrap_or(pattern);
    matches(&parts(last), name, user.as_str())
}

/// `user`'s save files for `game`, sorted.
pub async fn save_files(
    game: &GameConfig,
    layout: &DataLayout,
    user: &UserName,
) -> Result<Vec<PathBuf>, Error> {
    let playground = layout.playground(&game.id);
    let mut found = Vec::new();
    for pattern in &game.save_files {
        let dir = match Path::new(pattern).parent() {
            Some(parent) => playground.join(parent),
            None => playground.clone(),
        };
        let mut entries = match fs::read_dir(&dir).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io(&dir)(e)),
        };
        while let Some(entry) = entries.next_entry().await.map_err(Error::io(&dir))? {
            let name = entry.file_name();
            let is_file = entry.file_type().await.is_ok_and(|kind| kind.is_file());
            if is_file && save_file_matches(pattern, &name.to_string_lossy(), user) {
                found.push(entry.path());
            }
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

/// Copies `user`'s save files for `game` into a new backup directory and prunes
/// the oldest backups beyond `keep`. Returns the new directory, if there was
/// anything to back up.
pub async fn back_up(
    game: &GameConfig,
    layout: &DataLayout,
    user: &UserName,
    keep: usize,
) -> Result<Option<PathBuf>, Error> {
    let files = save_files(game, layout, user).await?;
    if files.is_empty() {
        return Ok(None);
    }
    let backups = layout.backups(user, &game.id);
    let dir = backups.join(file_stamp(OffsetDateTime::now_utc()));
    fs::create_dir_all(&dir).await.map_err(Error::io(&dir))?;
    for file in &files {
        if let Some(name) = file.file_name() {
            let to = dir.join(name);
            fs::copy(file, &to).await.map_err(Error::io(&to))?;
        }
    }
    prune(&backups, keep.max(1)).await?;
    Ok(Some(dir))
}

/// Removes the oldest backup directories of `backups` beyond `keep`.
async fn prune(backups: &Path, keep: usize) -> Result<(), Error> {
    let mut dirs = Vec::new();
    let mut entries = fs::read_dir(backups).await.map_err(Error::io(backups))?;
    while let Some(entry) = entries.next_entry().await.map_err(Error::io(backups))? {
        dirs.push(entry.path());
    }
    dirs.sort();
    let excess = dirs.len().saturating_sub(keep);
    for dir in &dirs[..excess] {
        fs::remove_dir_all(dir).await.map_err(Error::io(dir))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nethack_save_names() {
        let alice = UserName::parse("alice").unwrap();
        let plain = "save/{digits}{user}";
        let gz = "save/{digits}{user}.gz";
        assert!(save_file_matches(gz, "0alice.gz", &alice));
        assert!(save_file_matches(gz, "1000alice.gz", &alice));
        assert!(save_file_matches(plain, "1000alice", &alice));
        assert!(!save_file_matches(plain, "1000alice.gz", &alice));
        assert!(!save_file_matches(gz, "alice.gz", &alice));
        assert!(!save_file_matches(gz, "0alice2.gz", &alice));
        assert!(!save_file_matches(gz, "0malice.gz", &alice));
        let alice2 = UserName::parse("alice2").unwrap();
        assert!(save_file_matches(gz, "0alice2.gz", &alice2));
        // Digits may end the user's own name: backtracking still finds the split.
        let a1 = UserName::parse("a1").unwrap();
        assert!(save_file_matches("{user}{digits}", "a12", &a1));
    }
}
