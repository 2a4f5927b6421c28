//! What clients receive: the character with its derived stats.

use serde::Serialize;

use crate::character::Character;
use crate::derive::{Derived, derive};

/// A character as the API returns it: every [`Character`] field at the top level, plus
/// `derived`. Build it with [`view`] and serialize it; it borrows the character, so
/// building one costs only the derivation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CharacterView<'a> {
    /// The stored state, flattened into the top level.
    #[serde(flatten)]
    pub character: &'a Character,
    /// The derived stats, under `derived`.
    pub derived: Derived,
}

/// The view of `character`, with freshly derived stats.
pub fn view(character: &Character) -> CharacterView<'_> {
    CharacterView {
        character,
        derived: derive(character),
    }
}
