//! The character record, its creation, and the invariants every rule keeps.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ability::{Abilities, MAX_SCORE, MIN_SCORE};
use crate::armor::Armor;
use crate::class::Class;
use crate::currency::{Currency, MAX_COINS};
use crate::derive::max_hp_for;
use crate::error::{IntentError, InvalidCharacter};
use crate::generation::{Generation, validate_generation};
use crate::intent::MAX_TEMP_HP;
use crate::race::Race;
use crate::weapon::Weapon;

/// The lowest character level.
pub const MIN_LEVEL: u8 = 1;
/// The highest character level.
pub const MAX_LEVEL: u8 = 20;

/// A character's authoritative state: what is stored, cached and versioned. Derived
/// stats are not stored; [`derive`](crate::derive()) computes them from this.
///
/// The fields are public so the service can map them to and from its tables, but only
/// [`create`] and [`apply`](crate::apply) produce new states; anything else (a database
/// row, a cache entry) can be checked with [`Character::validate`].
///
/// JSON (also the first part of [`view`](crate::view)): every field under its own name,
/// enums as snake_case ids, `armor`/`weapon` `null` when nothing is equipped, and the
/// timestamps as integer unix seconds for the service to format as it likes. Unknown
/// keys are ignored when deserializing, so a view (which adds `derived`) reads back as a
/// `Character`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Character {
    /// The character's id.
    pub id: Uuid,
    /// The id of the user who owns it.
    pub owner: Uuid,
    /// The display name, already normalized and checked by the service.
    pub name: String,
    /// Race.
    pub race: Race,
    /// Class.
    pub class: Class,
    /// Level, [`MIN_LEVEL`]`..=`[`MAX_LEVEL`].
    pub level: u8,
    /// Ability scores, each 1–30.
    pub abilities: Abilities,
    /// Maximum hit points; always [`max_hp_for`]`(class, level, con)`.
    pub max_hp: i32,
    /// Current hit points, `0..=max_hp`.
    pub hp: i32,
    /// Temporary hit points, `0..=`[`MAX_TEMP_HP`]; lost before `hp`.
    pub temp_hp: i32,
    /// Worn armor, if any.
    pub armor: Option<Armor>,
    /// Whether a shield is carried. Never together with a two-handed weapon.
    pub shield: bool,
    /// Wielded weapon, if any.
    pub weapon: Option<Weapon>,
    /// Coins.
    pub currency: Currency,
    /// Optimistic-concurrency version: 1 at creation, +1 per applied intent.
    pub version: i64,
    /// Creation time, unix seconds, as passed to [`create`].
    pub created_at: i64,
    /// Time of the last applied intent, unix seconds, as passed to [`apply`](crate::apply).
    pub updated_at: i64,
}

/// What a player sends to create a character. JSON:
/// `{"name": "Tordek", "race": "dwarf", "class": "fighter", "generation": "standard_array",
/// "abilities": {"str": 15, "dex": 12, "con": 14, "int": 8, "wis": 13, "cha": 10}}`.
/// Unknown keys are rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCharacter {
    /// The name, already normalized and checked by the service (`guildhall-names`).
    pub name: String,
    /// Race.
    pub race: Race,
    /// Class.
    pub class: Class,
    /// The six scores, final: racial increases are not added on top (see the crate
    /// documentation).
    pub abilities: Abilities,
    /// How the scores were generated; decides which scores are legal. Absent:
    /// [`Generation::Manual`] (each score 3–18).
    #[serde(default)]
    pub generation: Generation,
}

/// A new level 1 character: full hit points, no temporary hit points, nothing equipped,
/// no coins, version 1, both timestamps `now`.
///
/// Fails if the scores could not have come from the claimed generation method.
pub fn create(
    id: Uuid,
    owner: Uuid,
    new: NewCharacter,
    now: i64,
) -> Result<Character, IntentError> {
    validate_generation(&new.abilities, new.generation)?;
    let max_hp = max_hp_for(new.class, MIN_LEVEL, new.abilities.constitution);
    Ok(Character {
        id,
        owner,
        name: new.name,
        race: new.race,
        class: new.class,
        level: MIN_LEVEL,
        abilities: new.abilities,
        max_hp,
        hp: max_hp,
        temp_hp: 0,
        armor: None,
        shield: false,
        weapon: None,
        currency: Currency::default(),
        version: 1,
        created_at: now,
        updated_at: now,
    })
}

impl Character {
    /// Checks the invariants [`create`] establishes and [`apply`](crate::apply) keeps, for
    /// states that come from elsewhere (a database row, a cache, a migration). A failure
    /// means corrupt data, not a player error.
    ///
    /// The rules never panic on an invalid character (derived stats treat out-of-range
    /// values as the nearest valid ones), but their results for one are not meaningful.
    pub fn validate(&self) -> Result<(), InvalidCharacter> {
        let fail = |reason: String| Err(InvalidCharacter { reason });
        if !(MIN_LEVEL..=MAX_LEVEL).contains(&self.level) {
            return fail(format!(
                "level {} is outside {MIN_LEVEL}–{MAX_LEVEL}",
                self.level
            ));
        }
        for (ability, score) in self.abilities.iter() {
            if !(MIN_SCORE..=MAX_SCORE).contains(&score) {
                return fail(format!(
                    "{} {score} is outside {MIN_SCORE}–{MAX_SCORE}",
                    ability.name()
                ));
            }
        }
        let expected = max_hp_for(self.class, self.level, self.abilities.constitution);
        if self.max_hp != expected {
            return fail(format!(
                "max_hp {} should be {expected} for a level {} {} with constitution {}",
                self.max_hp,
                self.level,
                self.class.id(),
                self.abilities.constitution
            ));
        }
        if !(0..=self.max_hp).contains(&self.hp) {
            return fail(format!("hp {} is outside 0–{}", self.hp, self.max_hp));
        }
        if !(0..=MAX_TEMP_HP).contains(&self.temp_hp) {
            return fail(format!(
                "temp_hp {} is outside 0–{MAX_TEMP_HP}",
                self.temp_hp
            ));
        }
        for denomination in crate::Denomination::ALL {
            let n = self.currency.get(denomination);
            if !(0..=MAX_COINS).contains(&n) {
                return fail(format!(
                    "{n} {} is outside 0–{MAX_COINS}",
                    denomination.id()
                ));
            }
        }
        if let Some(weapon) = self.weapon
            && self.shield
            && weapon.is_two_handed()
        {
            return fail(format!(
                "a shield is carried with the two-handed {}",
                weapon.id()
            ));
        }
        if self.version < 1 {
            return fail(format!("version {} is below 1", self.version));
        }
        Ok(())
    }
}
