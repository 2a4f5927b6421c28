//! The names the host is addressed by, parsed once at the boundary: a player's
//! [`UserName`], a configured game's [`GameId`] and a running game's [`SessionId`].

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::Error;

/// The longest user name: NetHack keeps 31 characters of a player name (`PL_NSIZ`
/// is 32 with the terminating NUL) and names its save file after it.
pub const MAX_USER_NAME_LEN: usize = 31;

/// A player's name as games and files see it: 1 to 31 ASCII letters, digits or
/// underscores, starting with a letter.
///
/// The rule is narrow on purpose: the name becomes a directory, part of a save file
/// name and NetHack's `-u` argument, where a `-` would be read as a role suffix
/// (`alice-Val`) and anything else would be rewritten by the game.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserName(String);

impl UserName {
    /// Checks `name` against the rule above.
    pub fn parse(name: &str) -> Result<Self, Error> {
        let mut chars = name.chars();
        let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
        let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if starts_with_letter && rest_ok && name.len() <= MAX_USER_NAME_LEN {
            Ok(UserName(name.to_owned()))
        } else {
            Err(Error::InvalidUserName(name.to_owned()))
        }
    }

    /// The name an account plays under. An account username (RFC 8265, case-mapped, so
    /// never an ASCII capital) that follows the rule is used as it is. Any other (`josé`,
    /// `1337`, `ana-maria`) gets a stable name of its own: its letters, digits and
    /// underscores, then `_X` and ten hex digits of its SHA-256 (`jos_X4f1c...`). The
    /// capital `X` means no account's own name can ever be such a name.
    pub fn for_account(username: &str) -> Self {
        if let Ok(name) = UserName::parse(username) {
            return name;
        }
        let digest = Sha256::digest(username.as_bytes());
        let hash: String = digest[..5].iter().map(|b| format!("{b:02x}")).collect();
        let stem: String = username
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(MAX_USER_NAME_LEN - 2 - hash.len())
            .collect();
        let name = if stem.starts_with(|c: char| c.is_ascii_alphabetic()) {
            format!("{stem}_X{hash}")
        } else {
            format!("X{hash}_{stem}")
        };
        UserName(name.trim_end_matches('_').to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for UserName {
    type Error = Error;
    fn try_from(name: String) -> Result<Self, Error> {
        UserName::parse(&name)
    }
}

impl From<UserName> for String {
    fn from(name: UserName) -> String {
        name.0
    }
}

impl fmt::Display for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A configured game's id (`nethack`): 1 to 32 lowercase ASCII letters, digits, `-`
/// or `_`. It names directories, so nothing else is allowed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct GameId(String);

impl GameId {
    pub fn parse(id: &str) -> Result<Self, Error> {
        let ok = (1..=32).contains(&id.len())
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if ok {
            Ok(GameId(id.to_owned()))
        } else {
            Err(Error::InvalidGameId(id.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for GameId {
    type Error = Error;
    fn try_from(id: String) -> Result<Self, Error> {
        GameId::parse(&id)
    }
}

impl From<GameId> for String {
    fn from(id: GameId) -> String {
        id.0
    }
}

impl fmt::Display for GameId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One launch of a game: a new id each time the process starts, kept across detach
/// and reattach.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SessionId(Uuid);

impl SessionId {
    pub(crate) fn new() -> Self {
        SessionId(Uuid::now_v7())
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl From<Uuid> for SessionId {
    fn from(id: Uuid) -> Self {
        SessionId(id)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names() {
        for ok in ["alice", "Bob_2", "a", &"x".repeat(31)] {
            assert!(UserName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "2alice",
            "alice-Val",
            "al ice",
            "al/ice",
            "ålice",
            &"x".repeat(32),
        ] {
            assert!(UserName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn accounts_play_under_their_own_name_when_it_is_one() {
        assert_eq!(UserName::for_account("alice_2").as_str(), "alice_2");
        let jose = UserName::for_account("josé");
        assert!(jose.as_str().starts_with("jos_X"), "{jose}");
        assert_eq!(jose, UserName::for_account("josé"), "stable");
        assert_ne!(jose, UserName::for_account("josè"));
        assert!(UserName::for_account("1337").as_str().starts_with('X'));
        assert!(UserName::for_account("ана").as_str().starts_with('X'));
        assert!(
            UserName::for_account("ana-maria")
                .as_str()
                .starts_with("anamaria_X")
        );
    }

    proptest::proptest! {
        /// Every account gets a name games accept, and a derived one always holds an
        /// ASCII capital, which no case-mapped account username has.
        #[test]
        fn every_account_name_maps_to_a_valid_player_name(username in "\\PC{1,40}") {
            let name = UserName::for_account(&username);
            proptest::prop_assert!(UserName::parse(name.as_str()).is_ok(), "{}", name);
            if UserName::parse(&username).is_err() {
                proptest::prop_assert!(name.as_str().contains('X'));
            }
        }
    }

    #[test]
    fn game_ids() {
        assert!(GameId::parse("nethack").is_ok());
        assert!(GameId::parse("dcss-0_32").is_ok());
        for bad in ["", "NetHack", "a/b", "..", &"x".repeat(33)] {
            assert!(GameId::parse(bad).is_err(), "{bad}");
        }
    }
}
