//! Derived statistics: everything a client shows that follows from the stored state.
//!
//! Sources, all SRD 5.1: proficiency bonus by level ("Classes", each class table: +2 at
//! levels 1–4, +3 at 5–8, +4 at 9–12, +5 at 13–16, +6 at 17–20); hit points ("Classes →
//! Hit Points": the hit die's maximum plus the Constitution modifier at 1st level, then
//! the fixed value — half the die plus one — plus the modifier per level); armor class
//! ("Equipment → Armor and Shields", and Unarmored Defense under "Barbarian" and
//! "Monk"); speed (each race's "Speed" trait, "Heavy Armor" for the Strength
//! requirement); saving throws and initiative ("Using Ability Scores"); carrying
//! capacity ("Using Ability Scores → Lifting and Carrying": Strength × 15 lb, the same
//! for Small and Medium creatures).

use serde::{Deserialize, Serialize};

use crate::ability::{Ability, AbilityBonuses, modifier};
use crate::armor::{HEAVY_ARMOR_SPEED_PENALTY, SHIELD_AC_BONUS};
use crate::attack::{Attack, attack};
use crate::character::{Character, MAX_LEVEL, MIN_LEVEL};
use crate::class::Class;

/// Pounds of carrying capacity per point of Strength.
pub const CARRY_LB_PER_STRENGTH: i32 = 15;

/// The stats that follow from a character's state. Returned with every character as
/// `derived`; never stored, never sent by clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Derived {
    /// Armor class: the best of the ways the character has to compute it, plus 2 for a
    /// shield.
    pub armor_class: i32,
    /// Walking speed in feet.
    pub speed: i32,
    /// Proficiency bonus for the character's level.
    pub proficiency_bonus: i32,
    /// The six ability modifiers.
    pub ability_modifiers: AbilityBonuses,
    /// The six saving-throw bonuses: modifier, plus the proficiency bonus for the class's
    /// two saves.
    pub saving_throws: AbilityBonuses,
    /// Initiative bonus: the Dexterity modifier.
    pub initiative: i32,
    /// Whether the worn armor gives disadvantage on Dexterity (Stealth) checks.
    pub stealth_disadvantage: bool,
    /// Whether the class is trained in the worn armor and the carried shield (true when
    /// wearing neither). When false, the SRD gives disadvantage on every ability check,
    /// saving throw and attack roll that uses Strength or Dexterity, and no spellcasting;
    /// [`Attack::disadvantage`] already reflects it, the saves do not (they are plain
    /// numbers).
    pub armor_proficient: bool,
    /// The attack with the wielded weapon, or the unarmed strike.
    pub attack: Attack,
    /// Carrying capacity in pounds: Strength × 15.
    pub carrying_capacity: i32,
}

/// The derived stats of `character`. Total: any value of every field gives an answer
/// without panicking (out-of-range levels count as the nearest valid level).
pub fn derive(character: &Character) -> Derived {
    let abilities = &character.abilities;
    let modifiers = abilities.modifiers();
    let proficiency = proficiency_bonus(character.level);
    let saving_throws = AbilityBonuses::from_fn(|a| {
        let bonus = if character.class.has_save_proficiency(a) {
            proficiency
        } else {
            0
        };
        modifiers.get(a) + bonus
    });
    let armor_proficient = is_armor_proficient(character);
    Derived {
        armor_class: armor_class(character),
        speed: speed(character),
        proficiency_bonus: proficiency,
        ability_modifiers: modifiers,
        saving_throws,
        initiative: modifiers.dexterity,
        stealth_disadvantage: character
            .armor
            .is_some_and(|a| a.stats().stealth_disadvantage),
        armor_proficient,
        attack: attack(character, proficiency, armor_proficient),
        carrying_capacity: i32::from(abilities.strength) * CARRY_LB_PER_STRENGTH,
    }
}

/// The proficiency bonus at `level`: `2 + floor((level - 1) / 4)`, so +2 at 1–4 up to
/// +6 at 17–20. Levels outside 1–20 count as the nearest valid level.
pub fn proficiency_bonus(level: u8) -> i32 {
    let level = i32::from(level.clamp(MIN_LEVEL, MAX_LEVEL));
    2 + (level - 1) / 4
}

/// Maximum hit points of a `class` character of `level` with a Constitution score of
/// `constitution`: at 1st level the hit die's maximum plus the Constitution modifier,
/// and at each later level the die's fixed value (d6 4, d8 5, d10 6, d12 7) plus the
/// modifier, never less than 1 per level. Fixed values rather than rolls, which the
/// SRD offers as the alternative: the result is then a function of the state alone, so
/// a retried or replayed level-up gives the same character.
///
/// Levels outside 1–20 count as the nearest valid level.
pub fn max_hp_for(class: Class, level: u8, constitution: u8) -> i32 {
    let con = modifier(constitution);
    let die = i32::from(class.hit_die());
    let fixed = die / 2 + 1;
    let later_levels = i32::from(level.clamp(MIN_LEVEL, MAX_LEVEL)) - 1;
    (die + con).max(1) + later_levels * (fixed + con).max(1)
}

/// Unarmored 10 + Dex; in armor, its base plus the Dexterity it allows; Unarmored
/// Defense for barbarians (10 + Dex + Con, shield allowed) and monks (10 + Dex + Wis, no
/// shield). A character with several ways to compute AC uses the best one, as a player
/// would: a barbarian with a Constitution penalty is no worse off than anyone unarmored.
fn armor_class(c: &Character) -> i32 {
    let m = |a: Ability| c.abilities.modifier(a);
    let dex = m(Ability::Dexterity);
    let body = match c.armor {
        Some(armor) => {
            let stats = armor.stats();
            stats.base_ac + stats.dex_contribution(dex)
        }
        None => {
            let plain = 10 + dex;
            let unarmored_defense = match c.class {
                Class::Barbarian => Some(10 + dex + m(Ability::Constitution)),
                Class::Monk if !c.shield => Some(10 + dex + m(Ability::Wisdom)),
                _ => None,
            };
            unarmored_defense.map_or(plain, |ud| ud.max(plain))
        }
    };
    body + if c.shield { SHIELD_AC_BONUS } else { 0 }
}

/// The race's base speed, 10 feet less in heavy armor whose Strength requirement the
/// character does not meet (unless the race ignores that, like dwarves).
fn speed(c: &Character) -> i32 {
    let base = c.race.base_speed();
    let slowed = c.armor.is_some_and(|armor| {
        armor
            .stats()
            .strength
            .is_some_and(|needed| c.abilities.strength < needed)
    }) && c.race.slowed_by_heavy_armor();
    if slowed {
        (base - HEAVY_ARMOR_SPEED_PENALTY).max(0)
    } else {
        base
    }
}

fn is_armor_proficient(c: &Character) -> bool {
    let armor_ok = c.armor.is_none_or(|a| c.class.is_proficient_with_armor(a));
    let shield_ok = !c.shield || c.class.is_proficient_with_shields();
    armor_ok && shield_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proficiency_bonus_by_level() {
        let levels = [1, 4, 5, 8, 9, 12, 13, 16, 17, 20];
        let expected = [2, 2, 3, 3, 4, 4, 5, 5, 6, 6];
        for (level, bonus) in levels.into_iter().zip(expected) {
            assert_eq!(proficiency_bonus(level), bonus, "level {level}");
        }
        // Out of range: nearest valid level.
        assert_eq!((proficiency_bonus(0), proficiency_bonus(255)), (2, 6));
    }

    #[test]
    fn max_hp_examples() {
        // Fighter, Con 14 (+2): 10 + 2 at 1st; + 6 + 2 per later level.
        assert_eq!(max_hp_for(Class::Fighter, 1, 14), 12);
        assert_eq!(max_hp_for(Class::Fighter, 5, 14), 44);
        // Wizard, Con 8 (−1): 6 − 1 at 1st; + 4 − 1 per later level.
        assert_eq!(max_hp_for(Class::Wizard, 1, 8), 5);
        assert_eq!(max_hp_for(Class::Wizard, 2, 8), 8);
        // Barbarian d12 → fixed 7; cleric d8 → fixed 5.
        assert_eq!(max_hp_for(Class::Barbarian, 3, 10), 12 + 7 + 7);
        assert_eq!(max_hp_for(Class::Cleric, 20, 10), 8 + 19 * 5);
        // Con 1 (−5) on a d6: 6 − 5 = 1 at 1st, and the 1-per-level floor after.
        assert_eq!(max_hp_for(Class::Sorcerer, 1, 1), 1);
        assert_eq!(max_hp_for(Class::Sorcerer, 10, 1), 10);
    }
}
