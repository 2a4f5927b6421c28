//! Character rules from the D&D 5e System Reference Document (SRD 5.1): races, classes,
//! armor, weapons, derived stats and the intents that change a character. Pure
//! functions: no I/O, no async, no clock (times are passed in as unix seconds).
//!
//! The service (cache, database, HTTP) is built on four calls:
//!
//! * [`create`] turns a player's [`NewCharacter`] into a level 1 [`Character`] at
//!   version 1, after checking the ability scores against the claimed [`Generation`]
//!   method (manual 3–18, the standard array, or a 27-point buy).
//! * [`apply`] takes the current state and an [`Intent`] (take damage, equip armor,
//!   spend coins, level up...) and returns the next state with `version + 1`, or an
//!   [`IntentError`] whose message tells the player why not. It never modifies its
//!   input, so a refused intent leaves nothing to roll back. Clients send intents, never
//!   state: this is where the server stays authoritative.
//! * [`derive()`] computes what follows from the state (armor class, speed, saving
//!   throws, attack, ...), and [`view`] is the JSON clients get: the character plus
//!   `derived`. Derived stats are never stored, so they cannot go stale when a rule
//!   changes.
//! * [`Character::validate`] checks a state loaded from elsewhere against the
//!   invariants the rules keep.
//!
//! What stays with the service: normalizing the name (`guildhall-names`), ownership, the
//! expected-version check before `apply`, and storage.
//!
//! # Data
//!
//! The tables are code, each module citing the SRD 5.1 section it transcribes: the 9
//! races ([`Race`]: speed, size), the 12 classes ([`Class`]: hit die, saving throws,
//! armor and weapon proficiencies), the 12 armors and the shield ([`Armor`]), and the 37
//! simple and martial weapons ([`Weapon`]). Ids in JSON are snake_case (`half_orc`,
//! `chain_mail`, `hand_crossbow`), and an unknown id is a serde error, so it never
//! reaches the rules.
//!
//! # Not modelled (yet)
//!
//! Only what the derived stats above need is here. Deliberately left out, so that nobody
//! mistakes them for implemented:
//!
//! * racial traits other than speed, size and the dwarf's immunity to the heavy-armor
//!   slowdown: no racial ability score increases (the scores a player submits are the
//!   character's scores), no subraces (so no hill dwarf +1 hit point per level), no
//!   darkvision or resistances;
//! * class features other than Unarmored Defense: no monk Martial Arts (a monk's unarmed
//!   strike is the plain 1 + Str), no fighting styles, no Ability Score Improvements at
//!   levels 4, 8, ... (scores never change after creation), no spellcasting, no
//!   multiclassing;
//! * situational rules: the lance's and net's special rules, range and cover, the
//!   druid's refusal of metal armor, the variant encumbrance rules.
//!
//! Each of these would be a new field or intent, not a change to the existing ones.

mod ability;
mod armor;
mod attack;
mod character;
mod class;
mod currency;
mod damage;
mod derive;
mod error;
mod generation;
mod intent;
mod race;
mod view;
mod weapon;

pub use ability::{Abilities, Ability, AbilityBonuses, MAX_SCORE, MIN_SCORE, modifier};
pub use armor::{
    Armor, ArmorCategory, ArmorStats, HEAVY_ARMOR_SPEED_PENALTY, MEDIUM_ARMOR_DEX_CAP,
    SHIELD_AC_BONUS,
};
pub use attack::Attack;
pub use character::{Character, MAX_LEVEL, MIN_LEVEL, NewCharacter, create};
pub use class::{ArmorTraining, Class, WeaponTraining};
pub use currency::{Currency, CurrencyDeltas, Denomination, MAX_COINS};
pub use damage::{DamageRoll, DamageType, Dice, WeaponDamage};
pub use derive::{CARRY_LB_PER_STRENGTH, Derived, derive, max_hp_for, proficiency_bonus};
pub use error::{IntentError, InvalidCharacter};
pub use generation::{
    Generation, MANUAL_MAX, MANUAL_MIN, POINT_BUY_BUDGET, POINT_BUY_MAX, POINT_BUY_MIN,
    STANDARD_ARRAY, point_buy_cost, validate_generation,
};
pub use intent::{Intent, MAX_HP_CHANGE, MAX_TEMP_HP, apply};
pub use race::{Race, Size};
pub use view::{CharacterView, view};
pub use weapon::{AttackKind, Range, Weapon, WeaponCategory, WeaponProperty, WeaponStats};
