//! The attack a character makes with what it holds.
//!
//! Source: SRD 5.1, "Combat → Making an Attack → Attack Rolls" and "Damage Rolls" (the
//! ability modifier is added to both; the proficiency bonus to the attack roll only when
//! proficient), "Equipment → Weapons" (finesse, heavy, reach, versatile), and the unarmed strike in
//! "Combat → Melee Attacks" (1 + Strength modifier bludgeoning; everyone is proficient).

use serde::{Deserialize, Serialize};

use crate::ability::Ability;
use crate::character::Character;
use crate::damage::{DamageRoll, DamageType};
use crate::race::Size;
use crate::weapon::{AttackKind, Range, Weapon, WeaponProperty, WeaponStats};

/// Reach of a melee attack, in feet; the reach property adds 5.
const BASE_REACH: u16 = 5;
const REACH_PROPERTY_BONUS: u16 = 5;

/// The attack with the wielded weapon, or the unarmed strike when nothing is wielded.
/// JSON example: `{"weapon": "rapier", "kind": "melee", "ability": "dex", "proficient":
/// true, "attack_bonus": 5, "damage": "1d8+3", "damage_type": "piercing",
/// "two_handed_damage": null, "disadvantage": false, "reach": 5, "range": null,
/// "properties": ["finesse"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Attack {
    /// The weapon; `null` for an unarmed strike.
    pub weapon: Option<Weapon>,
    /// Melee or ranged. Thrown melee weapons (dagger, javelin...) are melee; their
    /// `range` says how far they can be thrown, with the same numbers.
    pub kind: AttackKind,
    /// The ability whose modifier is used: Strength for melee, Dexterity for ranged, the
    /// higher of the two for finesse weapons.
    pub ability: Ability,
    /// Whether the proficiency bonus is included.
    pub proficient: bool,
    /// What is added to the d20.
    pub attack_bonus: i32,
    /// The damage on a hit, e.g. `"1d8+3"`; `null` for the net, which deals none.
    pub damage: Option<String>,
    /// The damage type; `null` with `damage`.
    pub damage_type: Option<DamageType>,
    /// For a versatile weapon used in two hands, which needs the shield hand free: the
    /// damage with the larger die. `null` otherwise.
    pub two_handed_damage: Option<String>,
    /// Whether attack rolls have disadvantage regardless of circumstances: a Small
    /// character with a heavy weapon, or armor or a shield the class is not trained in.
    pub disadvantage: bool,
    /// Reach in feet for melee attacks (5, or 10 with the reach property); `null` for
    /// ranged weapons.
    pub reach: Option<u16>,
    /// Normal and long range in feet, for ammunition and thrown weapons.
    pub range: Option<Range>,
    /// The weapon's properties, e.g. `["finesse", "light"]`.
    pub properties: Vec<WeaponProperty>,
}

pub(crate) fn attack(c: &Character, proficiency: i32, armor_proficient: bool) -> Attack {
    match c.weapon {
        None => unarmed_strike(c, proficiency, armor_proficient),
        Some(weapon) => weapon_attack(c, weapon, proficiency, armor_proficient),
    }
}

fn unarmed_strike(c: &Character, proficiency: i32, armor_proficient: bool) -> Attack {
    let strength = c.abilities.modifier(Ability::Strength);
    Attack {
        weapon: None,
        kind: AttackKind::Melee,
        ability: Ability::Strength,
        proficient: true,
        attack_bonus: strength + proficiency,
        damage: Some(DamageRoll::Flat(1).with_modifier(strength)),
        damage_type: Some(DamageType::Bludgeoning),
        two_handed_damage: None,
        disadvantage: !armor_proficient,
        reach: Some(BASE_REACH),
        range: None,
        properties: Vec::new(),
    }
}

fn weapon_attack(
    c: &Character,
    weapon: Weapon,
    proficiency: i32,
    armor_proficient: bool,
) -> Attack {
    let stats = weapon.stats();
    let ability = attack_ability(c, &stats);
    let ability_mod = c.abilities.modifier(ability);
    let proficient = c.class.is_proficient_with_weapon(weapon);
    let small_with_heavy = stats.has(WeaponProperty::Heavy) && c.race.size() == Size::Small;
    Attack {
        weapon: Some(weapon),
        kind: stats.kind,
        ability,
        proficient,
        attack_bonus: ability_mod + if proficient { proficiency } else { 0 },
        damage: stats.damage.map(|d| d.roll.with_modifier(ability_mod)),
        damage_type: stats.damage.map(|d| d.damage_type),
        two_handed_damage: match (stats.versatile, c.shield) {
            (Some(die), false) => Some(DamageRoll::Dice(die).with_modifier(ability_mod)),
            _ => None,
        },
        disadvantage: !armor_proficient || small_with_heavy,
        reach: match stats.kind {
            AttackKind::Melee if stats.has(WeaponProperty::Reach) => {
                Some(BASE_REACH + REACH_PROPERTY_BONUS)
            }
            AttackKind::Melee => Some(BASE_REACH),
            AttackKind::Ranged => None,
        },
        range: stats.range,
        properties: stats.properties.to_vec(),
    }
}

/// Strength for melee, Dexterity for ranged; finesse lets the wielder pick, and a player
/// picks the higher (on a tie, the weapon's usual ability, which changes nothing).
fn attack_ability(c: &Character, stats: &WeaponStats) -> Ability {
    let usual = match stats.kind {
        AttackKind::Melee => Ability::Strength,
        AttackKind::Ranged => Ability::Dexterity,
    };
    if !stats.has(WeaponProperty::Finesse) {
        return usual;
    }
    let other = match usual {
        Ability::Strength => Ability::Dexterity,
        _ => Ability::Strength,
    };
    if c.abilities.modifier(other) > c.abilities.modifier(usual) {
        other
    } else {
        usual
    }
}
