//! Concrete SRD numbers a studio can check by hand against the SRD 5.1 text.

mod common;

use common::{at_level, character, ok};
use guildhall_characters::{
    Ability, Armor, AttackKind, Class, DamageType, Intent, Race, Weapon, derive,
};

#[test]
fn fighter_con_14_hit_points() {
    // d10: 10 + 2 at 1st level, then 6 + 2 per level.
    let c = character(Race::Human, Class::Fighter, [15, 12, 14, 10, 10, 8]);
    assert_eq!((c.max_hp, c.hp), (12, 12));
    let c = at_level(c, 5);
    assert_eq!((c.level, c.max_hp, c.hp), (5, 44, 44));
}

#[test]
fn wizard_con_8_hit_points() {
    // d6: 6 − 1 at 1st level, then max(1, 4 − 1).
    let c = character(Race::Elf, Class::Wizard, [8, 14, 8, 15, 12, 10]);
    assert_eq!(c.max_hp, 5);
    assert_eq!(at_level(c, 2).max_hp, 8);
}

#[test]
fn proficiency_bonus_by_level() {
    let mut c = character(Race::Human, Class::Rogue, [10, 16, 12, 10, 10, 10]);
    let mut seen = Vec::new();
    for level in [1, 4, 5, 8, 9, 13, 17, 20] {
        c = at_level(c, level);
        seen.push(derive(&c).proficiency_bonus);
    }
    assert_eq!(seen, [2, 2, 3, 3, 4, 5, 6, 6]);
}

#[test]
fn chain_mail_without_the_strength() {
    for dex in [8, 18] {
        let c = character(Race::Human, Class::Fighter, [12, dex, 14, 10, 10, 8]);
        let c = ok(
            &c,
            Intent::EquipArmor {
                armor: Some(Armor::ChainMail),
            },
        );
        let d = derive(&c);
        assert_eq!(d.armor_class, 16, "heavy armor ignores Dex {dex}");
        assert_eq!(d.speed, 20, "Str 12 < 13 costs 10 feet");
        assert!(d.stealth_disadvantage);
    }
    // Str 13 meets the requirement exactly.
    let c = character(Race::Human, Class::Fighter, [13, 10, 14, 10, 10, 8]);
    let c = ok(
        &c,
        Intent::EquipArmor {
            armor: Some(Armor::ChainMail),
        },
    );
    assert_eq!(derive(&c).speed, 30);
}

#[test]
fn dwarves_are_not_slowed_by_heavy_armor() {
    let c = character(Race::Dwarf, Class::Fighter, [10, 10, 14, 10, 10, 8]);
    let c = ok(
        &c,
        Intent::EquipArmor {
            armor: Some(Armor::Plate),
        },
    );
    assert_eq!(derive(&c).speed, 25);
    // A halfling is: 25 − 10.
    let c = character(Race::Halfling, Class::Fighter, [10, 10, 14, 10, 10, 8]);
    let c = ok(
        &c,
        Intent::EquipArmor {
            armor: Some(Armor::Plate),
        },
    );
    assert_eq!(derive(&c).speed, 15);
}

#[test]
fn light_and_medium_armor() {
    let ac = |armor, dex| {
        let c = character(Race::Human, Class::Fighter, [10, dex, 10, 10, 10, 10]);
        derive(&ok(&c, Intent::EquipArmor { armor: Some(armor) })).armor_class
    };
    assert_eq!(ac(Armor::HalfPlate, 18), 17, "15 + Dex capped at 2");
    assert_eq!(ac(Armor::StuddedLeather, 16), 15, "12 + 3");
    assert_eq!(ac(Armor::Leather, 8), 10, "11 − 1: a penalty is not capped");
    assert_eq!(ac(Armor::Hide, 8), 11, "12 − 1");
}

#[test]
fn shield_adds_two() {
    let c = character(Race::Human, Class::Fighter, [10, 14, 10, 10, 10, 10]);
    let c = ok(
        &c,
        Intent::EquipArmor {
            armor: Some(Armor::Leather),
        },
    );
    assert_eq!(derive(&c).armor_class, 13);
    let c = ok(&c, Intent::Shield { equipped: true });
    assert_eq!(derive(&c).armor_class, 15);
    assert!(
        !derive(&c).stealth_disadvantage,
        "a shield does not affect stealth"
    );
}

#[test]
fn monk_unarmored_defense() {
    let c = character(Race::Human, Class::Monk, [10, 16, 10, 10, 14, 10]);
    assert_eq!(derive(&c).armor_class, 15, "10 + 3 + 2");
    // With Wis 16 the shield makes the difference: Unarmored Defense is lost.
    let c = character(Race::Human, Class::Monk, [10, 16, 10, 10, 16, 10]);
    assert_eq!(derive(&c).armor_class, 16, "10 + 3 + 3");
    let shielded = ok(&c, Intent::Shield { equipped: true });
    assert_eq!(derive(&shielded).armor_class, 15, "10 + 3, + 2 shield");
    let armored = ok(
        &c,
        Intent::EquipArmor {
            armor: Some(Armor::Leather),
        },
    );
    assert_eq!(derive(&armored).armor_class, 14, "11 + 3, no Wisdom");
}

#[test]
fn barbarian_unarmored_defense() {
    let c = character(Race::HalfOrc, Class::Barbarian, [16, 14, 16, 8, 10, 10]);
    let c = ok(&c, Intent::Shield { equipped: true });
    assert_eq!(derive(&c).armor_class, 17, "10 + 2 + 3 + 2 shield");
    // Con 8 would make it worse than plain unarmored; the better one counts.
    let c = character(Race::HalfOrc, Class::Barbarian, [16, 14, 8, 8, 10, 10]);
    assert_eq!(derive(&c).armor_class, 12);
    // Anyone else unarmored: 10 + Dex.
    let c = character(Race::Human, Class::Wizard, [8, 14, 16, 15, 16, 10]);
    assert_eq!(derive(&c).armor_class, 12);
}

#[test]
fn fighter_saving_throws() {
    let c = character(Race::Human, Class::Fighter, [16, 14, 14, 10, 12, 8]);
    let s = derive(&c).saving_throws;
    // Str +3 and Con +2 get the +2 proficiency bonus; the rest are the modifiers.
    let got = [
        s.strength,
        s.dexterity,
        s.constitution,
        s.intelligence,
        s.wisdom,
        s.charisma,
    ];
    assert_eq!(got, [5, 2, 4, 0, 1, -1]);
}

#[test]
fn rapier_uses_dex_when_better() {
    let c = character(Race::Elf, Class::Rogue, [10, 16, 12, 10, 10, 10]);
    let c = ok(
        &c,
        Intent::EquipWeapon {
            weapon: Some(Weapon::Rapier),
        },
    );
    let a = derive(&c).attack;
    assert_eq!(a.ability, Ability::Dexterity);
    assert!(a.proficient);
    assert_eq!(a.attack_bonus, 5);
    assert_eq!(a.damage.as_deref(), Some("1d8+3"));
    assert_eq!(a.damage_type, Some(DamageType::Piercing));
    assert_eq!(a.kind, AttackKind::Melee);
    assert_eq!(a.reach, Some(5));
}

#[test]
fn longbow_without_proficiency() {
    let wizard = character(Race::Elf, Class::Wizard, [10, 14, 12, 15, 10, 10]);
    let wizard = ok(
        &wizard,
        Intent::EquipWeapon {
            weapon: Some(Weapon::Longbow),
        },
    );
    let a = derive(&wizard).attack;
    assert!(!a.proficient);
    assert_eq!(a.attack_bonus, 2, "Dex +2 only");
    assert_eq!(a.damage.as_deref(), Some("1d8+2"));
    assert_eq!(a.range.map(|r| (r.normal, r.long)), Some((150, 600)));
    // A ranger is proficient: +2 + 2.
    let ranger = character(Race::Elf, Class::Ranger, [10, 14, 12, 15, 10, 10]);
    let ranger = ok(
        &ranger,
        Intent::EquipWeapon {
            weapon: Some(Weapon::Longbow),
        },
    );
    assert_eq!(derive(&ranger).attack.attack_bonus, 4);
}

#[test]
fn melee_uses_strength_even_when_dex_is_higher() {
    let c = character(Race::Human, Class::Fighter, [8, 16, 12, 10, 10, 10]);
    let c = ok(
        &c,
        Intent::EquipWeapon {
            weapon: Some(Weapon::Longsword),
        },
    );
    let a = derive(&c).attack;
    assert_eq!((a.ability, a.attack_bonus), (Ability::Strength, 1));
    assert_eq!(a.damage.as_deref(), Some("1d8-1"));
    assert_eq!(
        a.two_handed_damage.as_deref(),
        Some("1d10-1"),
        "versatile, no shield"
    );
    let c = ok(&c, Intent::Shield { equipped: true });
    assert_eq!(
        derive(&c).attack.two_handed_damage,
        None,
        "the shield takes a hand"
    );
}

#[test]
fn unarmed_strike() {
    let c = character(Race::Human, Class::Wizard, [16, 10, 10, 15, 10, 10]);
    let a = derive(&c).attack;
    assert_eq!(a.weapon, None);
    assert!(a.proficient);
    assert_eq!(a.attack_bonus, 5, "Str +3, proficiency +2");
    assert_eq!(a.damage.as_deref(), Some("4"), "1 + Str");
    assert_eq!(a.damage_type, Some(DamageType::Bludgeoning));
    let weak = character(Race::Human, Class::Wizard, [3, 10, 10, 15, 10, 10]);
    assert_eq!(
        derive(&weak).attack.damage.as_deref(),
        Some("0"),
        "1 − 4, not negative"
    );
}

#[test]
fn small_races_struggle_with_heavy_weapons() {
    for (race, expected) in [
        (Race::Halfling, true),
        (Race::Gnome, true),
        (Race::Human, false),
    ] {
        let c = character(race, Class::Fighter, [16, 10, 14, 10, 10, 8]);
        let c = ok(
            &c,
            Intent::EquipWeapon {
                weapon: Some(Weapon::Greatsword),
            },
        );
        let a = derive(&c).attack;
        assert_eq!(a.disadvantage, expected, "{race:?}");
        assert_eq!(a.damage.as_deref(), Some("2d6+3"));
    }
}

#[test]
fn armor_without_training() {
    let c = character(Race::Human, Class::Wizard, [15, 10, 10, 15, 10, 10]);
    assert!(derive(&c).armor_proficient);
    // Allowed, but the SRD's penalties show.
    let c = ok(
        &c,
        Intent::EquipArmor {
            armor: Some(Armor::Plate),
        },
    );
    let d = derive(&c);
    assert_eq!(d.armor_class, 18);
    assert!(!d.armor_proficient);
    assert!(d.attack.disadvantage);
    // A cleric is trained in medium armor and shields, not heavy armor.
    let cleric = character(Race::Human, Class::Cleric, [14, 10, 10, 10, 15, 10]);
    let cleric = ok(
        &cleric,
        Intent::EquipArmor {
            armor: Some(Armor::HalfPlate),
        },
    );
    let cleric = ok(&cleric, Intent::Shield { equipped: true });
    assert!(derive(&cleric).armor_proficient);
    let cleric = ok(
        &cleric,
        Intent::EquipArmor {
            armor: Some(Armor::Splint),
        },
    );
    assert!(!derive(&cleric).armor_proficient);
}

#[test]
fn initiative_and_carrying_capacity() {
    let c = character(Race::Human, Class::Fighter, [15, 7, 10, 10, 10, 10]);
    let d = derive(&c);
    assert_eq!(d.initiative, -2);
    assert_eq!(d.carrying_capacity, 225);
    assert_eq!(d.ability_modifiers.strength, 2);
}

#[test]
fn the_net_deals_no_damage() {
    let c = character(Race::Human, Class::Fighter, [10, 14, 10, 10, 10, 10]);
    let c = ok(
        &c,
        Intent::EquipWeapon {
            weapon: Some(Weapon::Net),
        },
    );
    let a = derive(&c).attack;
    assert_eq!((a.damage, a.damage_type), (None, None));
    assert_eq!(a.attack_bonus, 4);
}

#[test]
fn racial_base_speeds() {
    let speeds: Vec<i32> = Race::ALL
        .into_iter()
        .map(|race| derive(&character(race, Class::Fighter, [10; 6])).speed)
        .collect();
    // dragonborn, dwarf, elf, gnome, half_elf, half_orc, halfling, human, tiefling
    assert_eq!(speeds, [30, 25, 30, 25, 30, 30, 25, 30, 30]);
}
