//! The JSON contract: what clients send and what they get back.

mod common;

use common::{T0, character, ok};
use guildhall_characters::{
    Armor, Class, CurrencyDeltas, Generation, Intent, NewCharacter, Race, Weapon, view,
};
use serde_json::json;

#[test]
fn intents_from_json() {
    let parse = |v: serde_json::Value| serde_json::from_value::<Intent>(v);
    assert_eq!(
        parse(json!({"intent": "hitpoints", "delta": -7})).unwrap(),
        Intent::Hitpoints { delta: -7 }
    );
    assert_eq!(
        parse(json!({"intent": "equip_armor", "armor": "chain_mail"})).unwrap(),
        Intent::EquipArmor {
            armor: Some(Armor::ChainMail)
        }
    );
    assert_eq!(
        parse(json!({"intent": "equip_armor", "armor": null})).unwrap(),
        Intent::EquipArmor { armor: None }
    );
    assert_eq!(
        parse(json!({"intent": "equip_weapon", "weapon": "hand_crossbow"})).unwrap(),
        Intent::EquipWeapon {
            weapon: Some(Weapon::HandCrossbow)
        }
    );
    assert_eq!(
        parse(json!({"intent": "level_up"})).unwrap(),
        Intent::LevelUp
    );
    assert_eq!(
        parse(json!({"intent": "currency", "deltas": {"gp": -5, "pp": 1}})).unwrap(),
        Intent::Currency {
            deltas: CurrencyDeltas {
                gp: -5,
                pp: 1,
                ..Default::default()
            }
        }
    );

    let message = |v| parse(v).unwrap_err().to_string();
    assert!(message(json!({"intent": "equip_armor"})).contains("missing field `armor`"));
    assert!(
        message(json!({"intent": "equip_armor", "armor": "mithral"}))
            .contains("unknown variant `mithral`")
    );
    assert!(
        message(json!({"intent": "hitpoints", "delta": 1, "hp": 99}))
            .contains("unknown field `hp`")
    );
    assert!(
        message(json!({"intent": "currency", "deltas": {"zp": 1}})).contains("unknown field `zp`")
    );
    assert!(message(json!({"intent": "teleport"})).contains("unknown variant `teleport`"));
    assert!(message(json!({"intent": "level_up", "levels": 3})).contains("unknown field `levels`"));
}

#[test]
fn intents_from_path_and_body() {
    let body = |v: serde_json::Value| match v {
        serde_json::Value::Object(m) => m,
        _ => unreachable!(),
    };
    assert_eq!(
        Intent::from_fields("equip_armor", body(json!({"armor": "plate"}))).unwrap(),
        Intent::EquipArmor {
            armor: Some(Armor::Plate)
        }
    );
    assert_eq!(
        Intent::from_fields("level_up", body(json!({}))).unwrap(),
        Intent::LevelUp
    );
    assert!(
        Intent::from_fields(
            "equip_armor",
            body(json!({"intent": "level_up", "armor": null}))
        )
        .is_err()
    );
    assert!(Intent::from_fields("shield", body(json!({}))).is_err());
}

#[test]
fn intent_names_match_the_json_tags() {
    let all = [
        Intent::Hitpoints { delta: 1 },
        Intent::TempHp { amount: 1 },
        Intent::EquipArmor { armor: None },
        Intent::EquipWeapon { weapon: None },
        Intent::Shield { equipped: false },
        Intent::Currency {
            deltas: CurrencyDeltas::default(),
        },
        Intent::LevelUp,
    ];
    let names: Vec<&str> = all.iter().map(Intent::name).collect();
    assert_eq!(names, Intent::NAMES);
    for intent in &all {
        assert_eq!(
            serde_json::to_value(intent).unwrap()["intent"],
            intent.name()
        );
    }
}

#[test]
fn new_character_json() {
    let new: NewCharacter = serde_json::from_value(json!({
        "name": "Tordek", "race": "half_orc", "class": "barbarian", "generation": "point_buy",
        "abilities": {"str": 15, "dex": 14, "con": 15, "int": 8, "wis": 10, "cha": 8}
    }))
    .unwrap();
    assert_eq!(
        (new.race, new.class, new.generation),
        (Race::HalfOrc, Class::Barbarian, Generation::PointBuy)
    );
    let extra = serde_json::from_value::<NewCharacter>(json!({
        "name": "Tordek", "race": "dwarf", "class": "fighter", "generation": "manual",
        "abilities": {"str": 15, "dex": 14, "con": 15, "int": 8, "wis": 10, "cha": 8}, "level": 20
    }));
    assert!(
        extra
            .unwrap_err()
            .to_string()
            .contains("unknown field `level`")
    );
}

#[test]
fn view_json_shape() {
    let c = ok(
        &character(Race::Human, Class::Fighter, [16, 12, 14, 10, 10, 8]),
        Intent::EquipWeapon {
            weapon: Some(Weapon::WarPick),
        },
    );
    let v = serde_json::to_value(view(&c)).unwrap();
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(
        keys(&v),
        [
            "abilities",
            "armor",
            "class",
            "created_at",
            "currency",
            "derived",
            "hp",
            "id",
            "level",
            "max_hp",
            "name",
            "owner",
            "race",
            "shield",
            "temp_hp",
            "updated_at",
            "version",
            "weapon"
        ]
    );
    assert_eq!(
        keys(&v["derived"]),
        [
            "ability_modifiers",
            "armor_class",
            "armor_proficient",
            "attack",
            "carrying_capacity",
            "initiative",
            "proficiency_bonus",
            "saving_throws",
            "speed",
            "stealth_disadvantage"
        ]
    );
    assert_eq!(
        v["abilities"],
        json!({"str": 16, "dex": 12, "con": 14, "int": 10, "wis": 10, "cha": 8})
    );
    assert_eq!(
        v["currency"],
        json!({"cp": 0, "sp": 0, "ep": 0, "gp": 0, "pp": 0})
    );
    assert_eq!(
        (&v["armor"], &v["weapon"], &v["race"]),
        (&json!(null), &json!("war_pick"), &json!("human"))
    );
    assert_eq!(v["derived"]["attack"]["damage"], "1d8+3");
    assert_eq!(v["derived"]["saving_throws"]["str"], 5);
    assert_eq!(v["created_at"], T0);
}

/// The field-by-field reading the routes fall back on: `version` (a positive integer)
/// taken out of the body, the rest through [`Intent::from_fields`].
fn by_fields(name: &str, body: &str) -> Option<(i64, Intent)> {
    let mut fields: serde_json::Map<String, serde_json::Value> = serde_json::from_str(body).ok()?;
    let version = fields.remove("version")?.as_i64().filter(|v| *v >= 1)?;
    Intent::from_fields(name, fields).ok().map(|i| (version, i))
}

#[test]
fn the_direct_reading_of_a_body_agrees_with_the_field_by_field_one() {
    // Each body with whether the direct reading may take it.
    let mut bodies: Vec<(&str, String, bool)> = Vec::new();
    let versions = [
        "1",
        "7",
        "9223372036854775807",
        "0",
        "-3",
        "1.5",
        "\"2\"",
        "null",
        "1e3",
    ];
    let fields: [(&str, &[&str]); 7] = [
        (
            "hitpoints",
            &[
                r#""delta": -7"#,
                r#""delta": 2147483648"#,
                r#""delta": "x""#,
                "",
            ],
        ),
        (
            "temp_hp",
            &[r#""amount": 5"#, r#""amount": -1"#, r#""amount": 1.0"#],
        ),
        (
            "equip_armor",
            &[
                r#""armor": "plate""#,
                r#""armor": null"#,
                r#""armor": "mithral""#,
                "",
            ],
        ),
        (
            "equip_weapon",
            &[
                r#""weapon": "longsword""#,
                r#""weapon": null"#,
                r#""weapon": 3"#,
            ],
        ),
        (
            "shield",
            &[r#""equipped": true"#, r#""equipped": "yes""#, ""],
        ),
        (
            "currency",
            &[
                r#""deltas": {"gp": -5, "cp": 9}"#,
                r#""deltas": {"zp": 1}"#,
                r#""deltas": {}"#,
            ],
        ),
        ("level_up", &[""]),
    ];
    for (name, options) in fields {
        for field in options {
            for version in versions {
                let sep = if field.is_empty() { "" } else { ", " };
                let body = format!(r#"{{"version": {version}{sep}{field}}}"#);
                bodies.push((name, body, true));
                let body = format!(r#"{{ {field}{sep}"version":{version} }}"#);
                bodies.push((name, body, true));
                // An extra field, the tag, a repeated key: never read directly.
                let body = format!(r#"{{"version": {version}{sep}{field}, "levels": 3}}"#);
                bodies.push((name, body, false));
                let body = format!(r#"{{"version": {version}{sep}{field}, "intent": "{name}"}}"#);
                bodies.push((name, body, false));
                let body = format!(r#"{{"version": 1, "version": {version}{sep}{field}}}"#);
                bodies.push((name, body, false));
            }
            bodies.push((name, format!("{{{field}}}"), false));
        }
        bodies.push((name, "[]".into(), false));
        bodies.push((name, "null".into(), false));
    }
    bodies.push(("teleport", r#"{"version": 1}"#.into(), false));
    let mut direct = 0;
    for (name, body, may) in &bodies {
        let fast = Intent::versioned_from_json(name, body);
        let slow = by_fields(name, body);
        assert!(*may || fast.is_none(), "read directly: {name}: {body}");
        if fast.is_some() {
            direct += 1;
            assert_eq!(fast, slow, "{name}: {body}");
        }
    }
    // Every well-formed body of each intent is read directly, in either key order.
    for (name, body) in [
        ("hitpoints", r#"{"version": 3, "delta": -7}"#),
        ("temp_hp", r#"{"amount": 5, "version": 1}"#),
        ("equip_armor", r#"{"version": 2, "armor": null}"#),
        ("equip_weapon", r#"{"version": 2, "weapon": "longsword"}"#),
        ("shield", r#"{"version": 4, "equipped": true}"#),
        ("currency", r#"{"version": 5, "deltas": {"gp": -5}}"#),
        ("level_up", r#"{"version": 6}"#),
    ] {
        let fast = Intent::versioned_from_json(name, body);
        assert!(fast.is_some(), "{name}: {body}");
        assert_eq!(fast, by_fields(name, body));
    }
    assert!(direct > 50, "only {direct} bodies were read directly");
    // Never directly: the slow reading's errors must be the ones clients see.
    for (name, body) in [
        ("hitpoints", r#"{"version": 0, "delta": -7}"#),
        ("hitpoints", r#"{"delta": -7}"#),
        ("hitpoints", r#"{"version": 1, "delta": -7, "hp": 3}"#),
        ("hitpoints", r#"{"version": 1, "delta": -7, "delta": -8}"#),
        ("equip_armor", r#"{"version": 1}"#),
        ("level_up", r#"{"version": 1, "levels": 3}"#),
    ] {
        assert_eq!(
            Intent::versioned_from_json(name, body),
            None,
            "{name}: {body}"
        );
    }
}
