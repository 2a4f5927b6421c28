//! Where the host keeps things under its data directory. Only this file knows the
//! layout:
//!
//! ```text
//! <data>/playgrounds/<game>/                 the game's working directory
//! <data>/users/<user>/<game>/                the player's HOME for the game
//! <data>/users/<user>/<game>/<game>.rc       the player's options file
//! <data>/backups/<user>/<game>/<timestamp>/  save files as they were before a launch
//! <data>/recordings/<user>/<game>/<timestamp>.ttyrec
//! ```

use std::path::{Path, PathBuf};

use crate::names::{GameId, UserName};

#[derive(Clone, Debug)]
pub struct DataLayout {
    root: PathBuf,
}

impl DataLayout {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DataLayout { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn playground(&self, game: &GameId) -> PathBuf {
        self.root.join("playgrounds").join(game.as_str())
    }

    pub fn home(&self, user: &UserName, game: &GameId) -> PathBuf {
        self.root
            .join("users")
            .join(user.as_str())
            .join(game.as_str())
    }

    pub fn rc_file(&self, user: &UserName, game: &GameId) -> PathBuf {
        self.home(user, game).join(format!("{game}.rc"))
    }

    pub fn backups(&self, user: &UserName, game: &GameId) -> PathBuf {
        self.root
            .join("backups")
            .join(user.as_str())
            .join(game.as_str())
    }

    pub fn user_recordings(&self, user: &UserName) -> PathBuf {
        self.root.join("recordings").join(user.as_str())
    }

    pub fn recordings(&self, user: &UserName, game: &GameId) -> PathBuf {
        self.user_recordings(user).join(game.as_str())
    }
}
