//! The SRD weapon table: simple and martial, melee and ranged.
//!
//! Source: SRD 5.1, "Equipment → Weapons", the Weapons table and "Weapon Properties".
//! Every weapon of the table is here, including the two whose rules are mostly prose:
//! the lance (special: disadvantage within 5 feet, two hands when not mounted) and the
//! net (special: no damage, restrains). Their "special" rules are situational and are
//! not modelled beyond the `Special` property; see the crate documentation.

use serde::{Deserialize, Serialize};

use crate::damage::{DamageRoll, DamageType, Dice, WeaponDamage};

/// A weapon. JSON ids are snake_case: `"light_hammer"`, `"war_pick"`, `"hand_crossbow"`,
/// `"light_crossbow"`, `"heavy_crossbow"`. Each variant is the SRD weapon of that name
/// (the table's "Crossbow, light" is `LightCrossbow`); [`Weapon::stats`] has its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weapon {
    // Simple melee.
    Club,
    Dagger,
    Greatclub,
    Handaxe,
    Javelin,
    LightHammer,
    Mace,
    Quarterstaff,
    Sickle,
    Spear,
    // Simple ranged.
    LightCrossbow,
    Dart,
    Shortbow,
    Sling,
    // Martial melee.
    Battleaxe,
    Flail,
    Glaive,
    Greataxe,
    Greatsword,
    Halberd,
    Lance,
    Longsword,
    Maul,
    Morningstar,
    Pike,
    Rapier,
    Scimitar,
    Shortsword,
    Trident,
    WarPick,
    Warhammer,
    Whip,
    // Martial ranged.
    Blowgun,
    HandCrossbow,
    HeavyCrossbow,
    Longbow,
    Net,
}

/// Simple or martial; decides who is proficient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeaponCategory {
    /// Simple weapons.
    Simple,
    /// Martial weapons.
    Martial,
}

/// Melee or ranged: a melee weapon attacks with Strength, a ranged one with Dexterity
/// (finesse weapons with the better of the two).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttackKind {
    /// Melee weapon (thrown melee weapons included: daggers, javelins, spears...).
    Melee,
    /// Ranged weapon.
    Ranged,
}

/// A weapon property from the SRD's "Weapon Properties".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeaponProperty {
    /// Fires ammunition; has a range.
    Ammunition,
    /// Attacks with the better of Strength and Dexterity.
    Finesse,
    /// Small creatures have disadvantage on attack rolls with it.
    Heavy,
    /// Suited to fighting with a weapon in each hand.
    Light,
    /// One shot per action, bonus action or reaction.
    Loading,
    /// Adds 5 feet to the wielder's reach.
    Reach,
    /// Has rules of its own (lance, net).
    Special,
    /// Can be thrown; has a range.
    Thrown,
    /// Needs two hands, so no shield.
    TwoHanded,
    /// One hand or two; two hands use the larger die (no shield then).
    Versatile,
}

/// Normal and long range in feet; beyond normal range attacks have disadvantage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Range {
    /// Normal range.
    pub normal: u16,
    /// Long range.
    pub long: u16,
}

/// One row of the weapon table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct WeaponStats {
    /// Simple or martial.
    pub category: WeaponCategory,
    /// Melee or ranged.
    pub kind: AttackKind,
    /// Damage on a hit; `None` for the net, which deals none.
    pub damage: Option<WeaponDamage>,
    /// The two-handed die of a versatile weapon.
    pub versatile: Option<Dice>,
    /// Range of ammunition and thrown weapons.
    pub range: Option<Range>,
    /// The weapon's properties.
    pub properties: &'static [WeaponProperty],
}

impl WeaponStats {
    /// Whether the weapon has `property`.
    pub fn has(&self, property: WeaponProperty) -> bool {
        self.properties.contains(&property)
    }
}

use AttackKind::{Melee, Ranged};
use DamageType::{Bludgeoning as B, Piercing as P, Slashing as S};
use WeaponCategory::{Martial, Simple};
use WeaponProperty::*;

const fn dmg(count: u8, sides: u8, damage_type: DamageType) -> Option<WeaponDamage> {
    Some(WeaponDamage {
        roll: DamageRoll::Dice(Dice { count, sides }),
        damage_type,
    })
}

const fn flat(amount: i32, damage_type: DamageType) -> Option<WeaponDamage> {
    Some(WeaponDamage {
        roll: DamageRoll::Flat(amount),
        damage_type,
    })
}

const fn d(count: u8, sides: u8) -> Option<Dice> {
    Some(Dice { count, sides })
}

const fn r(normal: u16, long: u16) -> Option<Range> {
    Some(Range { normal, long })
}

const fn row(
    category: WeaponCategory,
    kind: AttackKind,
    damage: Option<WeaponDamage>,
    properties: &'static [WeaponProperty],
    versatile: Option<Dice>,
    range: Option<Range>,
) -> WeaponStats {
    WeaponStats {
        category,
        kind,
        damage,
        versatile,
        range,
        properties,
    }
}

impl Weapon {
    /// All 37, in the table's order.
    pub const ALL: [Weapon; 37] = [
        Weapon::Club,
        Weapon::Dagger,
        Weapon::Greatclub,
        Weapon::Handaxe,
        Weapon::Javelin,
        Weapon::LightHammer,
        Weapon::Mace,
        Weapon::Quarterstaff,
        Weapon::Sickle,
        Weapon::Spear,
        Weapon::LightCrossbow,
        Weapon::Dart,
        Weapon::Shortbow,
        Weapon::Sling,
        Weapon::Battleaxe,
        Weapon::Flail,
        Weapon::Glaive,
        Weapon::Greataxe,
        Weapon::Greatsword,
        Weapon::Halberd,
        Weapon::Lance,
        Weapon::Longsword,
        Weapon::Maul,
        Weapon::Morningstar,
        Weapon::Pike,
        Weapon::Rapier,
        Weapon::Scimitar,
        Weapon::Shortsword,
        Weapon::Trident,
        Weapon::WarPick,
        Weapon::Warhammer,
        Weapon::Whip,
        Weapon::Blowgun,
        Weapon::HandCrossbow,
        Weapon::HeavyCrossbow,
        Weapon::Longbow,
        Weapon::Net,
    ];

    /// The JSON id, e.g. `"war_pick"`.
    pub fn id(self) -> &'static str {
        match self {
            Weapon::Club => "club",
            Weapon::Dagger => "dagger",
            Weapon::Greatclub => "greatclub",
            Weapon::Handaxe => "handaxe",
            Weapon::Javelin => "javelin",
            Weapon::LightHammer => "light_hammer",
            Weapon::Mace => "mace",
            Weapon::Quarterstaff => "quarterstaff",
            Weapon::Sickle => "sickle",
            Weapon::Spear => "spear",
            Weapon::LightCrossbow => "light_crossbow",
            Weapon::Dart => "dart",
            Weapon::Shortbow => "shortbow",
            Weapon::Sling => "sling",
            Weapon::Battleaxe => "battleaxe",
            Weapon::Flail => "flail",
            Weapon::Glaive => "glaive",
            Weapon::Greataxe => "greataxe",
            Weapon::Greatsword => "greatsword",
            Weapon::Halberd => "halberd",
            Weapon::Lance => "lance",
            Weapon::Longsword => "longsword",
            Weapon::Maul => "maul",
            Weapon::Morningstar => "morningstar",
            Weapon::Pike => "pike",
            Weapon::Rapier => "rapier",
            Weapon::Scimitar => "scimitar",
            Weapon::Shortsword => "shortsword",
            Weapon::Trident => "trident",
            Weapon::WarPick => "war_pick",
            Weapon::Warhammer => "warhammer",
            Weapon::Whip => "whip",
            Weapon::Blowgun => "blowgun",
            Weapon::HandCrossbow => "hand_crossbow",
            Weapon::HeavyCrossbow => "heavy_crossbow",
            Weapon::Longbow => "longbow",
            Weapon::Net => "net",
        }
    }

    /// This weapon's row of the table. One weapon a line, in the SRD's column order
    /// (category, melee or ranged, damage, properties, versatile die, range), so it reads
    /// against the printed table.
    #[rustfmt::skip]
    pub fn stats(self) -> WeaponStats {
        match self {
            Weapon::Club => row(Simple, Melee, dmg(1, 4, B), &[Light], None, None),
            Weapon::Dagger => row(Simple, Melee, dmg(1, 4, P), &[Finesse, Light, Thrown], None, r(20, 60)),
            Weapon::Greatclub => row(Simple, Melee, dmg(1, 8, B), &[TwoHanded], None, None),
            Weapon::Handaxe => row(Simple, Melee, dmg(1, 6, S), &[Light, Thrown], None, r(20, 60)),
            Weapon::Javelin => row(Simple, Melee, dmg(1, 6, P), &[Thrown], None, r(30, 120)),
            Weapon::LightHammer => row(Simple, Melee, dmg(1, 4, B), &[Light, Thrown], None, r(20, 60)),
            Weapon::Mace => row(Simple, Melee, dmg(1, 6, B), &[], None, None),
            Weapon::Quarterstaff => row(Simple, Melee, dmg(1, 6, B), &[Versatile], d(1, 8), None),
            Weapon::Sickle => row(Simple, Melee, dmg(1, 4, S), &[Light], None, None),
            Weapon::Spear => row(Simple, Melee, dmg(1, 6, P), &[Thrown, Versatile], d(1, 8), r(20, 60)),
            Weapon::LightCrossbow => row(Simple, Ranged, dmg(1, 8, P), &[Ammunition, Loading, TwoHanded], None, r(80, 320)),
            Weapon::Dart => row(Simple, Ranged, dmg(1, 4, P), &[Finesse, Thrown], None, r(20, 60)),
            Weapon::Shortbow => row(Simple, Ranged, dmg(1, 6, P), &[Ammunition, TwoHanded], None, r(80, 320)),
            Weapon::Sling => row(Simple, Ranged, dmg(1, 4, B), &[Ammunition], None, r(30, 120)),
            Weapon::Battleaxe => row(Martial, Melee, dmg(1, 8, S), &[Versatile], d(1, 10), None),
            Weapon::Flail => row(Martial, Melee, dmg(1, 8, B), &[], None, None),
            Weapon::Glaive => row(Martial, Melee, dmg(1, 10, S), &[Heavy, Reach, TwoHanded], None, None),
            Weapon::Greataxe => row(Martial, Melee, dmg(1, 12, S), &[Heavy, TwoHanded], None, None),
            Weapon::Greatsword => row(Martial, Melee, dmg(2, 6, S), &[Heavy, TwoHanded], None, None),
            Weapon::Halberd => row(Martial, Melee, dmg(1, 10, S), &[Heavy, Reach, TwoHanded], None, None),
            Weapon::Lance => row(Martial, Melee, dmg(1, 12, P), &[Reach, Special], None, None),
            Weapon::Longsword => row(Martial, Melee, dmg(1, 8, S), &[Versatile], d(1, 10), None),
            Weapon::Maul => row(Martial, Melee, dmg(2, 6, B), &[Heavy, TwoHanded], None, None),
            Weapon::Morningstar => row(Martial, Melee, dmg(1, 8, P), &[], None, None),
            Weapon::Pike => row(Martial, Melee, dmg(1, 10, P), &[Heavy, Reach, TwoHanded], None, None),
            Weapon::Rapier => row(Martial, Melee, dmg(1, 8, P), &[Finesse], None, None),
            Weapon::Scimitar => row(Martial, Melee, dmg(1, 6, S), &[Finesse, Light], None, None),
            Weapon::Shortsword => row(Martial, Melee, dmg(1, 6, P), &[Finesse, Light], None, None),
            Weapon::Trident => row(Martial, Melee, dmg(1, 6, P), &[Thrown, Versatile], d(1, 8), r(20, 60)),
            Weapon::WarPick => row(Martial, Melee, dmg(1, 8, P), &[], None, None),
            Weapon::Warhammer => row(Martial, Melee, dmg(1, 8, B), &[Versatile], d(1, 10), None),
            Weapon::Whip => row(Martial, Melee, dmg(1, 4, S), &[Finesse, Reach], None, None),
            Weapon::Blowgun => row(Martial, Ranged, flat(1, P), &[Ammunition, Loading], None, r(25, 100)),
            Weapon::HandCrossbow => row(Martial, Ranged, dmg(1, 6, P), &[Ammunition, Light, Loading], None, r(30, 120)),
            Weapon::HeavyCrossbow => row(Martial, Ranged, dmg(1, 10, P), &[Ammunition, Heavy, Loading, TwoHanded], None, r(100, 400)),
            Weapon::Longbow => row(Martial, Ranged, dmg(1, 8, P), &[Ammunition, Heavy, TwoHanded], None, r(150, 600)),
            Weapon::Net => row(Martial, Ranged, None, &[Special, Thrown], None, r(5, 15)),
        }
    }

    /// Whether the weapon needs both hands, which rules out a shield.
    pub fn is_two_handed(self) -> bool {
        self.stats().has(WeaponProperty::TwoHanded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_the_serde_names() {
        for weapon in Weapon::ALL {
            assert_eq!(serde_json::to_value(weapon).unwrap(), weapon.id());
        }
    }

    #[test]
    fn table_is_self_consistent() {
        for weapon in Weapon::ALL {
            let s = weapon.stats();
            // A versatile die exactly when the property is there.
            assert_eq!(s.versatile.is_some(), s.has(Versatile), "{weapon:?}");
            // A range exactly for ammunition and thrown weapons.
            assert_eq!(
                s.range.is_some(),
                s.has(Ammunition) || s.has(Thrown),
                "{weapon:?}"
            );
            // Ammunition weapons are ranged weapons.
            if s.has(Ammunition) {
                assert_eq!(s.kind, Ranged, "{weapon:?}");
            }
        }
    }
}
