//! Builders shared by the integration tests. Each test binary uses a different subset.
#![allow(dead_code)]

use guildhall_characters::{
    Abilities, Character, Class, Generation, Intent, NewCharacter, Race, apply, create,
};
use uuid::Uuid;

pub const T0: i64 = 1_700_000_000;

/// Scores in str, dex, con, int, wis, cha order.
pub fn scores(s: [u8; 6]) -> Abilities {
    Abilities {
        strength: s[0],
        dexterity: s[1],
        constitution: s[2],
        intelligence: s[3],
        wisdom: s[4],
        charisma: s[5],
    }
}

/// A new level 1 character with manual scores (each must be 3–18).
pub fn character(race: Race, class: Class, s: [u8; 6]) -> Character {
    let new = NewCharacter {
        name: "Tester".to_owned(),
        race,
        class,
        abilities: scores(s),
        generation: Generation::Manual,
    };
    match create(Uuid::from_u128(1), Uuid::from_u128(2), new, T0) {
        Ok(c) => c,
        Err(e) => panic!("test character {s:?} refused: {e}"),
    }
}

/// `intent` applied, which the test expects to succeed.
pub fn ok(c: &Character, intent: Intent) -> Character {
    match apply(c, &intent, T0 + 1) {
        Ok(next) => next,
        Err(e) => panic!("{intent:?} refused: {e}"),
    }
}

/// The character levelled up to `level` through the `level_up` intent.
pub fn at_level(mut c: Character, level: u8) -> Character {
    while c.level < level {
        c = ok(&c, Intent::LevelUp);
    }
    c
}
