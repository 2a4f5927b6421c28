//! Properties of the intent rules that must hold for every character and every sequence
//! of intents, not only the examples we thought of.

use guildhall_characters::{
    Abilities, Armor, Character, Class, Currency, CurrencyDeltas, Derived, Generation, Intent,
    MAX_COINS, NewCharacter, Race, Weapon, apply, create, derive, view,
};
use proptest::prelude::*;
use uuid::Uuid;

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

fn race() -> impl Strategy<Value = Race> {
    prop::sample::select(Race::ALL.to_vec())
}

fn class() -> impl Strategy<Value = Class> {
    prop::sample::select(Class::ALL.to_vec())
}

/// Amounts around the interesting edges: small, limits, and anything at all.
fn coins() -> impl Strategy<Value = i64> {
    prop_oneof![
        3 => Just(0i64),
        3 => -30i64..30,
        1 => prop::sample::select(vec![MAX_COINS, -MAX_COINS, MAX_COINS + 1, i64::MIN, i64::MAX]),
        1 => any::<i64>(),
    ]
}

fn intent() -> impl Strategy<Value = Intent> {
    let deltas = (coins(), coins(), coins(), coins(), coins())
        .prop_map(|(cp, sp, ep, gp, pp)| CurrencyDeltas { cp, sp, ep, gp, pp });
    prop_oneof![
        4 => prop_oneof![-40i32..40, -10_001i32..=10_001, any::<i32>()]
            .prop_map(|delta| Intent::Hitpoints { delta }),
        2 => prop_oneof![-5i32..30, any::<i32>()].prop_map(|amount| Intent::TempHp { amount }),
        2 => proptest::option::of(prop::sample::select(Armor::ALL.to_vec()))
            .prop_map(|armor| Intent::EquipArmor { armor }),
        2 => proptest::option::of(prop::sample::select(Weapon::ALL.to_vec()))
            .prop_map(|weapon| Intent::EquipWeapon { weapon }),
        2 => any::<bool>().prop_map(|equipped| Intent::Shield { equipped }),
        3 => deltas.prop_map(|deltas| Intent::Currency { deltas }),
        2 => Just(Intent::LevelUp),
    ]
}

/// A freshly created character (manual scores 3–18).
fn new_character() -> impl Strategy<Value = Character> {
    (race(), class(), abilities(3..=18), any::<u128>()).prop_map(|(race, class, abilities, id)| {
        let new = NewCharacter {
            name: "Prop".to_owned(),
            race,
            class,
            abilities,
            generation: Generation::Manual,
        };
        create(Uuid::from_u128(id), Uuid::from_u128(!id), new, 1_000).unwrap()
    })
}

/// Any character at all, including states no rule would produce.
fn any_character() -> impl Strategy<Value = Character> {
    let enums = (
        race(),
        class(),
        any::<u8>(),
        abilities(0..=255),
        proptest::option::of(prop::sample::select(Armor::ALL.to_vec())),
        any::<bool>(),
        proptest::option::of(prop::sample::select(Weapon::ALL.to_vec())),
    );
    let numbers = (
        any::<i32>(),
        any::<i32>(),
        any::<i32>(),
        proptest::array::uniform5(any::<i64>()),
        prop_oneof![Just(i64::MAX), any::<i64>()],
        any::<i64>(),
    );
    (enums, numbers).prop_map(
        |(
            (race, class, level, abilities, armor, shield, weapon),
            (max_hp, hp, temp_hp, coins, version, time),
        )| {
            Character {
                id: Uuid::nil(),
                owner: Uuid::nil(),
                name: String::new(),
                race,
                class,
                level,
                abilities,
                max_hp,
                hp,
                temp_hp,
                armor,
                shield,
                weapon,
                currency: Currency {
                    cp: coins[0],
                    sp: coins[1],
                    ep: coins[2],
                    gp: coins[3],
                    pp: coins[4],
                },
                version,
                created_at: time,
                updated_at: time,
            }
        },
    )
}

/// Point-buy costs, transcribed again (2014 PHB p. 13 / SRD 5.2).
fn cost(score: u8) -> Option<u32> {
    [0, 1, 2, 3, 4, 5, 7, 9]
        .get(usize::from(score.checked_sub(8)?))
        .copied()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn intents_keep_every_invariant(start in new_character(), intents in prop::collection::vec(intent(), 0..60)) {
        let mut c = start;
        let mut applied = 0i64;
        for (i, intent) in intents.iter().enumerate() {
            let now = 2_000 + i as i64;
            let before = c.clone();
            match apply(&c, intent, now) {
                Ok(next) => {
                    applied += 1;
                    prop_assert_eq!(next.version, before.version + 1, "{:?}", intent);
                    prop_assert_eq!(next.updated_at, now);
                    prop_assert_eq!((next.id, next.owner, next.created_at), (before.id, before.owner, before.created_at));
                    prop_assert!((0..=next.max_hp).contains(&next.hp), "{:?} -> {:?}", intent, next);
                    for n in [next.currency.cp, next.currency.sp, next.currency.ep, next.currency.gp, next.currency.pp] {
                        prop_assert!((0..=MAX_COINS).contains(&n), "{:?} -> {:?}", intent, next.currency);
                    }
                    prop_assert_eq!(next.validate(), Ok(()), "{:?}", intent);
                    c = next;
                }
                Err(e) => {
                    // Refused: the caller keeps the old state, which is untouched.
                    prop_assert_eq!(&c, &before, "{:?} refused with {} but changed the state", intent, e);
                    prop_assert!(!e.to_string().is_empty());
                }
            }
        }
        prop_assert_eq!(c.version, 1 + applied);
    }

    #[test]
    fn damage_takes_temporary_hit_points_first(start in new_character(), temp in 0i32..30, damage in 1i32..60) {
        let c = apply(&start, &Intent::TempHp { amount: temp }, 1).unwrap();
        let hit = apply(&c, &Intent::Hitpoints { delta: -damage }, 2).unwrap();
        prop_assert_eq!(hit.temp_hp, (temp - damage).max(0));
        prop_assert_eq!(hit.hp, (c.hp - (damage - temp).max(0)).max(0));
    }

    #[test]
    fn nothing_panics_on_any_state(c in any_character(), intent in intent(), now in any::<i64>()) {
        let _ = apply(&c, &intent, now);
        let _ = derive(&c);
        let _ = c.validate();
        prop_assert!(serde_json::to_string(&view(&c)).is_ok());
    }

    #[test]
    fn views_round_trip_through_json(start in new_character(), intents in prop::collection::vec(intent(), 0..20)) {
        let mut c = start;
        for intent in &intents {
            if let Ok(next) = apply(&c, intent, 5_000) {
                c = next;
            }
        }
        let text = serde_json::to_string(&view(&c)).unwrap();
        let back: Character = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(&back, &c);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let derived: Derived = serde_json::from_value(value["derived"].clone()).unwrap();
        prop_assert_eq!(derived, derive(&c));
    }

    #[test]
    fn intents_round_trip_through_json(intent in intent()) {
        let text = serde_json::to_string(&intent).unwrap();
        prop_assert_eq!(serde_json::from_str::<Intent>(&text).unwrap(), intent);
    }

    #[test]
    fn creation_accepts_exactly_the_legal_scores(
        s in prop_oneof![
            proptest::array::uniform6(1u8..=20),
            proptest::array::uniform6(8u8..=15),
            Just(vec![15u8, 14, 13, 12, 10, 8]).prop_shuffle().prop_map(|v| [v[0], v[1], v[2], v[3], v[4], v[5]]),
        ],
        generation in prop::sample::select(vec![Generation::Manual, Generation::StandardArray, Generation::PointBuy]),
    ) {
        let legal = match generation {
            Generation::Manual => s.iter().all(|&x| (3..=18).contains(&x)),
            Generation::StandardArray => {
                let mut sorted = s;
                sorted.sort_unstable();
                sorted == [8, 10, 12, 13, 14, 15]
            }
            Generation::PointBuy => s.iter().map(|&x| cost(x)).sum::<Option<u32>>().is_some_and(|total| total <= 27),
        };
        let new = NewCharacter {
            name: "Prop".to_owned(),
            race: Race::Human,
            class: Class::Fighter,
            abilities: Abilities {
                strength: s[0], dexterity: s[1], constitution: s[2],
                intelligence: s[3], wisdom: s[4], charisma: s[5],
            },
            generation,
        };
        let created = create(Uuid::nil(), Uuid::nil(), new, 0);
        prop_assert_eq!(created.is_ok(), legal, "{:?} {:?} -> {:?}", generation, s, created);
        if let Ok(c) = created {
            prop_assert_eq!(c.validate(), Ok(()));
        }
    }
}
