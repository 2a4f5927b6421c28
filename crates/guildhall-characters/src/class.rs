//! The twelve SRD classes: hit die and proficiencies.
//!
//! Source: SRD 5.1, "Classes", each class's "Class Features → Hit Points" and
//! "Proficiencies" (Armor, Weapons, Saving Throws). Class features beyond those (rage,
//! Martial Arts, fighting styles, spellcasting...) are not modelled, with one exception
//! the derived armor class needs: Unarmored Defense, which lives in `derive`.

use serde::{Deserialize, Serialize};

use crate::ability::Ability;
use crate::armor::{Armor, ArmorCategory};
use crate::weapon::{Weapon, WeaponCategory};

/// A character class. JSON ids are snake_case (`"fighter"`, `"warlock"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// d12; Str and Con saves; light and medium armor, shields; simple and martial weapons.
    Barbarian,
    /// d8; Dex and Cha saves; light armor; simple weapons plus four martial ones.
    Bard,
    /// d8; Wis and Cha saves; light and medium armor, shields; simple weapons.
    Cleric,
    /// d8; Int and Wis saves; light and medium armor, shields; ten listed weapons.
    Druid,
    /// d10; Str and Con saves; all armor, shields; simple and martial weapons.
    Fighter,
    /// d8; Str and Dex saves; no armor; simple weapons and shortswords.
    Monk,
    /// d10; Wis and Cha saves; all armor, shields; simple and martial weapons.
    Paladin,
    /// d10; Str and Dex saves; light and medium armor, shields; simple and martial weapons.
    Ranger,
    /// d8; Dex and Int saves; light armor; simple weapons plus four martial ones.
    Rogue,
    /// d6; Con and Cha saves; no armor; five listed weapons.
    Sorcerer,
    /// d8; Wis and Cha saves; light armor; simple weapons.
    Warlock,
    /// d6; Int and Wis saves; no armor; five listed weapons.
    Wizard,
}

/// Which armor a class is trained in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ArmorTraining {
    /// Light armor.
    pub light: bool,
    /// Medium armor.
    pub medium: bool,
    /// Heavy armor.
    pub heavy: bool,
    /// Shields.
    pub shields: bool,
}

/// Which weapons a class is trained in: whole categories, plus named weapons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct WeaponTraining {
    /// Every simple weapon.
    pub simple: bool,
    /// Every martial weapon.
    pub martial: bool,
    /// Individual weapons outside those categories' grants.
    pub specific: &'static [Weapon],
}

const NO_ARMOR: ArmorTraining = ArmorTraining {
    light: false,
    medium: false,
    heavy: false,
    shields: false,
};
const LIGHT_ONLY: ArmorTraining = ArmorTraining {
    light: true,
    ..NO_ARMOR
};
const LIGHT_MEDIUM_SHIELDS: ArmorTraining = ArmorTraining {
    light: true,
    medium: true,
    heavy: false,
    shields: true,
};
const ALL_ARMOR: ArmorTraining = ArmorTraining {
    light: true,
    medium: true,
    heavy: true,
    shields: true,
};

const SIMPLE_AND_MARTIAL: WeaponTraining = WeaponTraining {
    simple: true,
    martial: true,
    specific: &[],
};
const SIMPLE: WeaponTraining = WeaponTraining {
    simple: true,
    martial: false,
    specific: &[],
};
/// Bards and rogues.
const SIMPLE_PLUS_FOUR: WeaponTraining = WeaponTraining {
    simple: true,
    martial: false,
    specific: &[
        Weapon::HandCrossbow,
        Weapon::Longsword,
        Weapon::Rapier,
        Weapon::Shortsword,
    ],
};
/// Sorcerers and wizards.
const ARCANE: WeaponTraining = WeaponTraining {
    simple: false,
    martial: false,
    specific: &[
        Weapon::Dagger,
        Weapon::Dart,
        Weapon::Sling,
        Weapon::Quarterstaff,
        Weapon::LightCrossbow,
    ],
};
const DRUID_WEAPONS: WeaponTraining = WeaponTraining {
    simple: false,
    martial: false,
    specific: &[
        Weapon::Club,
        Weapon::Dagger,
        Weapon::Dart,
        Weapon::Javelin,
        Weapon::Mace,
        Weapon::Quarterstaff,
        Weapon::Scimitar,
        Weapon::Sickle,
        Weapon::Sling,
        Weapon::Spear,
    ],
};
const MONK_WEAPONS: WeaponTraining = WeaponTraining {
    simple: true,
    martial: false,
    specific: &[Weapon::Shortsword],
};

impl Class {
    /// All twelve, in JSON-id order.
    pub const ALL: [Class; 12] = [
        Class::Barbarian,
        Class::Bard,
        Class::Cleric,
        Class::Druid,
        Class::Fighter,
        Class::Monk,
        Class::Paladin,
        Class::Ranger,
        Class::Rogue,
        Class::Sorcerer,
        Class::Warlock,
        Class::Wizard,
    ];

    /// The JSON id, e.g. `"sorcerer"`.
    pub fn id(self) -> &'static str {
        match self {
            Class::Barbarian => "barbarian",
            Class::Bard => "bard",
            Class::Cleric => "cleric",
            Class::Druid => "druid",
            Class::Fighter => "fighter",
            Class::Monk => "monk",
            Class::Paladin => "paladin",
            Class::Ranger => "ranger",
            Class::Rogue => "rogue",
            Class::Sorcerer => "sorcerer",
            Class::Warlock => "warlock",
            Class::Wizard => "wizard",
        }
    }

    /// Sides of the hit die: 6, 8, 10 or 12.
    pub fn hit_die(self) -> u8 {
        match self {
            Class::Sorcerer | Class::Wizard => 6,
            Class::Bard
            | Class::Cleric
            | Class::Druid
            | Class::Monk
            | Class::Rogue
            | Class::Warlock => 8,
            Class::Fighter | Class::Paladin | Class::Ranger => 10,
            Class::Barbarian => 12,
        }
    }

    /// The two saving throws the class is proficient in.
    pub fn saving_throws(self) -> [Ability; 2] {
        use Ability::*;
        match self {
            Class::Barbarian | Class::Fighter => [Strength, Constitution],
            Class::Bard => [Dexterity, Charisma],
            Class::Cleric | Class::Paladin | Class::Warlock => [Wisdom, Charisma],
            Class::Druid | Class::Wizard => [Intelligence, Wisdom],
            Class::Monk | Class::Ranger => [Strength, Dexterity],
            Class::Rogue => [Dexterity, Intelligence],
            Class::Sorcerer => [Constitution, Charisma],
        }
    }

    /// Whether the class is proficient in `ability`'s saving throw.
    pub fn has_save_proficiency(self, ability: Ability) -> bool {
        self.saving_throws().contains(&ability)
    }

    /// The armor the class is trained in. The SRD adds that druids "will not wear armor
    /// or use shields made of metal"; that is a matter of character, not of training, so
    /// it is not enforced here.
    pub fn armor_training(self) -> ArmorTraining {
        match self {
            Class::Fighter | Class::Paladin => ALL_ARMOR,
            Class::Barbarian | Class::Cleric | Class::Druid | Class::Ranger => LIGHT_MEDIUM_SHIELDS,
            Class::Bard | Class::Rogue | Class::Warlock => LIGHT_ONLY,
            Class::Monk | Class::Sorcerer | Class::Wizard => NO_ARMOR,
        }
    }

    /// The weapons the class is trained in.
    pub fn weapon_training(self) -> WeaponTraining {
        match self {
            Class::Barbarian | Class::Fighter | Class::Paladin | Class::Ranger => {
                SIMPLE_AND_MARTIAL
            }
            Class::Cleric | Class::Warlock => SIMPLE,
            Class::Bard | Class::Rogue => SIMPLE_PLUS_FOUR,
            Class::Druid => DRUID_WEAPONS,
            Class::Monk => MONK_WEAPONS,
            Class::Sorcerer | Class::Wizard => ARCANE,
        }
    }

    /// Whether the class is proficient with `armor`.
    pub fn is_proficient_with_armor(self, armor: Armor) -> bool {
        let t = self.armor_training();
        match armor.stats().category {
            ArmorCategory::Light => t.light,
            ArmorCategory::Medium => t.medium,
            ArmorCategory::Heavy => t.heavy,
        }
    }

    /// Whether the class is proficient with shields.
    pub fn is_proficient_with_shields(self) -> bool {
        self.armor_training().shields
    }

    /// Whether the class adds its proficiency bonus to attacks with `weapon`.
    pub fn is_proficient_with_weapon(self, weapon: Weapon) -> bool {
        let t = self.weapon_training();
        let by_category = match weapon.stats().category {
            WeaponCategory::Simple => t.simple,
            WeaponCategory::Martial => t.martial,
        };
        by_category || t.specific.contains(&weapon)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_the_serde_names() {
        for class in Class::ALL {
            assert_eq!(serde_json::to_value(class).unwrap(), class.id());
        }
    }

    #[test]
    fn hit_dice_total_matches_the_srd() {
        // 2 × d6, 6 × d8, 3 × d10, 1 × d12.
        let mut counts = [0; 13];
        for class in Class::ALL {
            counts[usize::from(class.hit_die())] += 1;
        }
        assert_eq!((counts[6], counts[8], counts[10], counts[12]), (2, 6, 3, 1));
    }

    #[test]
    fn every_class_has_two_different_saves() {
        for class in Class::ALL {
            let [a, b] = class.saving_throws();
            assert_ne!(a, b, "{class:?}");
        }
    }

    #[test]
    fn specific_weapons_are_not_already_granted_by_category() {
        // A listed weapon the category already covers would hide a transcription error.
        for class in Class::ALL {
            let t = class.weapon_training();
            for w in t.specific {
                let covered = match w.stats().category {
                    WeaponCategory::Simple => t.simple,
                    WeaponCategory::Martial => t.martial,
                };
                assert!(!covered, "{class:?} lists {w:?} twice");
            }
        }
    }
}
