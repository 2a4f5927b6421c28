//! Derived stats against the SRD tables, transcribed a second time here as plain
//! literals keyed by JSON id and evaluated by straightforward code, independently of the
//! crate's tables and formulas. Every armor, shield, class and race is checked for each
//! generated set of ability scores.

use guildhall_characters::{
    Abilities, Armor, Character, Class, Currency, Race, Weapon, derive, max_hp_for,
};
use proptest::prelude::*;
use uuid::Uuid;

/// SRD 5.1 Armor table: id, base AC, category, Strength requirement, stealth disadvantage.
const ARMOR: [(&str, i32, &str, i32, bool); 12] = [
    ("padded", 11, "light", 0, true),
    ("leather", 11, "light", 0, false),
    ("studded_leather", 12, "light", 0, false),
    ("hide", 12, "medium", 0, false),
    ("chain_shirt", 13, "medium", 0, false),
    ("scale_mail", 14, "medium", 0, true),
    ("breastplate", 14, "medium", 0, false),
    ("half_plate", 15, "medium", 0, true),
    ("ring_mail", 14, "heavy", 0, true),
    ("chain_mail", 16, "heavy", 13, true),
    ("splint", 17, "heavy", 15, true),
    ("plate", 18, "heavy", 15, true),
];

/// Race id and base speed.
const SPEED: [(&str, i32); 9] = [
    ("dragonborn", 30),
    ("dwarf", 25),
    ("elf", 30),
    ("gnome", 25),
    ("half_elf", 30),
    ("half_orc", 30),
    ("halfling", 25),
    ("human", 30),
    ("tiefling", 30),
];

/// Class id, hit die, saving throws, armor training ("lmhs": light, medium, heavy,
/// shields), weapon training ("simple", "martial", or listed ids).
type ClassRow = (
    &'static str,
    i32,
    [&'static str; 2],
    &'static str,
    &'static [&'static str],
);

const CLASSES: [ClassRow; 12] = [
    (
        "barbarian",
        12,
        ["str", "con"],
        "lms",
        &["simple", "martial"],
    ),
    (
        "bard",
        8,
        ["dex", "cha"],
        "l",
        &[
            "simple",
            "hand_crossbow",
            "longsword",
            "rapier",
            "shortsword",
        ],
    ),
    ("cleric", 8, ["wis", "cha"], "lms", &["simple"]),
    (
        "druid",
        8,
        ["int", "wis"],
        "lms",
        &[
            "club",
            "dagger",
            "dart",
            "javelin",
            "mace",
            "quarterstaff",
            "scimitar",
            "sickle",
            "sling",
            "spear",
        ],
    ),
    (
        "fighter",
        10,
        ["str", "con"],
        "lmhs",
        &["simple", "martial"],
    ),
    ("monk", 8, ["str", "dex"], "", &["simple", "shortsword"]),
    (
        "paladin",
        10,
        ["wis", "cha"],
        "lmhs",
        &["simple", "martial"],
    ),
    ("ranger", 10, ["str", "dex"], "lms", &["simple", "martial"]),
    (
        "rogue",
        8,
        ["dex", "int"],
        "l",
        &[
            "simple",
            "hand_crossbow",
            "longsword",
            "rapier",
            "shortsword",
        ],
    ),
    (
        "sorcerer",
        6,
        ["con", "cha"],
        "",
        &["dagger", "dart", "sling", "quarterstaff", "light_crossbow"],
    ),
    ("warlock", 8, ["wis", "cha"], "l", &["simple"]),
    (
        "wizard",
        6,
        ["int", "wis"],
        "",
        &["dagger", "dart", "sling", "quarterstaff", "light_crossbow"],
    ),
];

/// SRD 5.1 Weapons table: id, category, melee?, damage ("" for none), versatile die (""
/// for none), properties as a string of letters: f finesse, h heavy, 2 two-handed,
/// r reach.
const WEAPONS: [(&str, &str, bool, &str, &str, &str); 37] = [
    ("club", "simple", true, "1d4", "", ""),
    ("dagger", "simple", true, "1d4", "", "f"),
    ("greatclub", "simple", true, "1d8", "", "2"),
    ("handaxe", "simple", true, "1d6", "", ""),
    ("javelin", "simple", true, "1d6", "", ""),
    ("light_hammer", "simple", true, "1d4", "", ""),
    ("mace", "simple", true, "1d6", "", ""),
    ("quarterstaff", "simple", true, "1d6", "1d8", ""),
    ("sickle", "simple", true, "1d4", "", ""),
    ("spear", "simple", true, "1d6", "1d8", ""),
    ("light_crossbow", "simple", false, "1d8", "", "2"),
    ("dart", "simple", false, "1d4", "", "f"),
    ("shortbow", "simple", false, "1d6", "", "2"),
    ("sling", "simple", false, "1d4", "", ""),
    ("battleaxe", "martial", true, "1d8", "1d10", ""),
    ("flail", "martial", true, "1d8", "", ""),
    ("glaive", "martial", true, "1d10", "", "h2r"),
    ("greataxe", "martial", true, "1d12", "", "h2"),
    ("greatsword", "martial", true, "2d6", "", "h2"),
    ("halberd", "martial", true, "1d10", "", "h2r"),
    ("lance", "martial", true, "1d12", "", "r"),
    ("longsword", "martial", true, "1d8", "1d10", ""),
    ("maul", "martial", true, "2d6", "", "h2"),
    ("morningstar", "martial", true, "1d8", "", ""),
    ("pike", "martial", true, "1d10", "", "h2r"),
    ("rapier", "martial", true, "1d8", "", "f"),
    ("scimitar", "martial", true, "1d6", "", "f"),
    ("shortsword", "martial", true, "1d6", "", "f"),
    ("trident", "martial", true, "1d6", "1d8", ""),
    ("war_pick", "martial", true, "1d8", "", ""),
    ("warhammer", "martial", true, "1d8", "1d10", ""),
    ("whip", "martial", true, "1d4", "", "fr"),
    ("blowgun", "martial", false, "1", "", ""),
    ("hand_crossbow", "martial", false, "1d6", "", ""),
    ("heavy_crossbow", "martial", false, "1d10", "", "h2"),
    ("longbow", "martial", false, "1d8", "", "h2"),
    ("net", "martial", false, "", "", ""),
];

/// Proficiency bonus by level, from the class tables.
const PROFICIENCY: [i32; 20] = [2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6];

fn id<T: serde::Serialize>(x: T) -> String {
    serde_json::to_value(x)
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}

fn md(score: u8) -> i32 {
    ((f64::from(score) - 10.0) / 2.0).floor() as i32
}

fn class_row(class: Class) -> ClassRow {
    let cid = id(class);
    *CLASSES.iter().find(|row| row.0 == cid).unwrap()
}

fn armor_row(armor: Armor) -> (&'static str, i32, &'static str, i32, bool) {
    let aid = id(armor);
    *ARMOR.iter().find(|row| row.0 == aid).unwrap()
}

fn expected_ac(class: Class, a: &Abilities, armor: Option<Armor>, shield: bool) -> i32 {
    let dex = md(a.dexterity);
    let body = match armor.map(armor_row) {
        Some((_, base, "light", _, _)) => base + dex,
        Some((_, base, "medium", _, _)) => base + dex.min(2),
        Some((_, base, _, _, _)) => base,
        None => {
            let mut best = 10 + dex;
            if id(class) == "barbarian" {
                best = best.max(10 + dex + md(a.constitution));
            }
            if id(class) == "monk" && !shield {
                best = best.max(10 + dex + md(a.wisdom));
            }
            best
        }
    };
    body + if shield { 2 } else { 0 }
}

fn expected_speed(race: Race, a: &Abilities, armor: Option<Armor>) -> i32 {
    let rid = id(race);
    let base = SPEED.iter().find(|row| row.0 == rid).unwrap().1;
    let need = armor.map_or(0, |x| armor_row(x).3);
    if i32::from(a.strength) < need && rid != "dwarf" {
        base - 10
    } else {
        base
    }
}

fn expected_armor_training(class: Class, armor: Option<Armor>, shield: bool) -> bool {
    let training = class_row(class).3;
    let armor_ok = armor.is_none_or(|x| training.contains(&armor_row(x).2[..1]));
    armor_ok && (!shield || training.contains('s'))
}

fn built(race: Race, class: Class, level: u8, abilities: Abilities) -> Character {
    let max_hp = max_hp_for(class, level, abilities.constitution);
    Character {
        id: Uuid::nil(),
        owner: Uuid::nil(),
        name: "Table".to_owned(),
        race,
        class,
        level,
        abilities,
        max_hp,
        hp: max_hp,
        temp_hp: 0,
        armor: None,
        shield: false,
        weapon: None,
        currency: Currency::default(),
        version: 1,
        created_at: 0,
        updated_at: 0,
    }
}

fn abilities(range: std::ops::RangeInclusive<u8>) -> impl Strategy<Value = Abilities> {
    proptest::array::uniform6(range).prop_map(|s| Abilities {
        strength: s[0],
        dexterity: s[1],
        constitution: s[2],
        intelligence: s[3],
        wisdom: s[4],
        charisma: s[5],
    })
}

fn with_signed(dice: &str, m: i32) -> String {
    match m {
        0 => dice.to_owned(),
        m if m > 0 => format!("{dice}+{m}"),
        m => format!("{dice}{m}"),
    }
}

proptest! {
    #[test]
    fn armor_class_speed_and_stealth_follow_the_tables(a in abilities(1..=30), level in 1u8..=20) {
        let armors = std::iter::once(None).chain(Armor::ALL.into_iter().map(Some));
        for armor in armors {
            for shield in [false, true] {
                for class in Class::ALL {
                    for race in Race::ALL {
                        let mut c = built(race, class, level, a);
                        c.armor = armor;
                        c.shield = shield;
                        let d = derive(&c);
                        let what = format!("{armor:?} shield={shield} {class:?} {race:?} {a:?}");
                        prop_assert_eq!(d.armor_class, expected_ac(class, &a, armor, shield), "{}", what);
                        prop_assert_eq!(d.speed, expected_speed(race, &a, armor), "{}", what);
                        prop_assert_eq!(d.stealth_disadvantage, armor.is_some_and(|x| armor_row(x).4), "{}", what);
                        prop_assert_eq!(d.armor_proficient, expected_armor_training(class, armor, shield), "{}", what);
                    }
                }
            }
        }
    }

    #[test]
    fn hit_points_saves_and_bonuses_follow_the_tables(a in abilities(1..=30), level in 1u8..=20) {
        for class in Class::ALL {
            let (_, die, saves, _, _) = class_row(class);
            let fixed = match die { 6 => 4, 8 => 5, 10 => 6, _ => 7 };
            let con = md(a.constitution);
            let expected_hp = (die + con).max(1) + (i32::from(level) - 1) * (fixed + con).max(1);
            let c = built(Race::Human, class, level, a);
            prop_assert_eq!(c.max_hp, expected_hp, "{:?} {}", class, level);
            let d = derive(&c);
            let pb = PROFICIENCY[usize::from(level) - 1];
            prop_assert_eq!(d.proficiency_bonus, pb);
            let json = serde_json::to_value(&d).unwrap();
            for (key, score) in [("str", a.strength), ("dex", a.dexterity), ("con", a.constitution),
                                 ("int", a.intelligence), ("wis", a.wisdom), ("cha", a.charisma)] {
                let bonus = md(score) + if saves.contains(&key) { pb } else { 0 };
                prop_assert_eq!(&json["saving_throws"][key], &serde_json::json!(bonus), "{:?} {}", class, key);
                prop_assert_eq!(&json["ability_modifiers"][key], &serde_json::json!(md(score)));
            }
            prop_assert_eq!(d.initiative, md(a.dexterity));
            prop_assert_eq!(d.carrying_capacity, i32::from(a.strength) * 15);
        }
    }

    #[test]
    fn attacks_follow_the_tables(a in abilities(1..=30), level in 1u8..=20, shield in any::<bool>()) {
        prop_assert_eq!(WEAPONS.len(), Weapon::ALL.len());
        for weapon in Weapon::ALL {
            let wid = id(weapon);
            let &(_, category, melee, dice, versatile, props) = WEAPONS.iter().find(|w| w.0 == wid).unwrap();
            for class in Class::ALL {
                for race in [Race::Human, Race::Halfling] {
                    let mut c = built(race, class, level, a);
                    c.weapon = Some(weapon);
                    c.shield = shield && !props.contains('2');
                    let attack = derive(&c).attack;
                    let training = class_row(class).4;
                    let proficient = training.contains(&category) || training.contains(&wid.as_str());
                    let (str_mod, dex_mod) = (md(a.strength), md(a.dexterity));
                    let m = if props.contains('f') { str_mod.max(dex_mod) } else if melee { str_mod } else { dex_mod };
                    let pb = PROFICIENCY[usize::from(level) - 1];
                    let what = format!("{wid} {class:?} {race:?} {a:?}");
                    prop_assert_eq!(attack.proficient, proficient, "{}", &what);
                    prop_assert_eq!(attack.attack_bonus, m + if proficient { pb } else { 0 }, "{}", &what);
                    let damage = match dice {
                        "" => None,
                        "1" => Some((1 + m).max(0).to_string()),
                        d => Some(with_signed(d, m)),
                    };
                    prop_assert_eq!(attack.damage, damage, "{}", &what);
                    let two_handed = (!versatile.is_empty() && !c.shield).then(|| with_signed(versatile, m));
                    prop_assert_eq!(attack.two_handed_damage, two_handed, "{}", &what);
                    let small = id(race) == "halfling";
                    let untrained = !expected_armor_training(class, None, c.shield);
                    prop_assert_eq!(attack.disadvantage, (small && props.contains('h')) || untrained, "{}", &what);
                    prop_assert_eq!(attack.reach, melee.then_some(if props.contains('r') { 10 } else { 5 }), "{}", &what);
                    prop_assert_eq!(weapon.is_two_handed(), props.contains('2'), "{}", &what);
                }
            }
        }
    }
}
