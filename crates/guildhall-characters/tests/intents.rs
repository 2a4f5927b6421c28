//! Creation and intents, by example.

mod common;

use common::{T0, at_level, character, ok, scores};
use guildhall_characters::{
    Armor, Class, CurrencyDeltas, Denomination, Generation, Intent, IntentError, NewCharacter,
    Race, Weapon, apply, create,
};
use uuid::Uuid;

fn fighter() -> guildhall_characters::Character {
    character(Race::Human, Class::Fighter, [16, 12, 14, 10, 10, 8])
}

fn refused(c: &guildhall_characters::Character, intent: Intent) -> IntentError {
    match apply(c, &intent, T0 + 1) {
        Ok(next) => panic!("{intent:?} was applied: {next:?}"),
        Err(e) => e,
    }
}

fn new_character(generation: Generation, s: [u8; 6]) -> NewCharacter {
    NewCharacter {
        name: "Mialee".to_owned(),
        race: Race::Elf,
        class: Class::Wizard,
        abilities: scores(s),
        generation,
    }
}

#[test]
fn create_starts_at_level_1_with_nothing() {
    let c = create(
        Uuid::from_u128(7),
        Uuid::from_u128(8),
        new_character(Generation::StandardArray, [8, 14, 13, 15, 12, 10]),
        T0,
    )
    .unwrap();
    assert_eq!((c.level, c.max_hp, c.hp, c.temp_hp), (1, 7, 7, 0));
    assert_eq!((c.armor, c.shield, c.weapon), (None, false, None));
    assert_eq!(c.currency, Default::default());
    assert_eq!((c.version, c.created_at, c.updated_at), (1, T0, T0));
    assert_eq!((c.id, c.owner), (Uuid::from_u128(7), Uuid::from_u128(8)));
    assert_eq!(c.validate(), Ok(()));
}

#[test]
fn point_buy_budget() {
    let make = |s| {
        create(
            Uuid::nil(),
            Uuid::nil(),
            new_character(Generation::PointBuy, s),
            T0,
        )
    };
    // 9 + 9 + 9 = 27.
    assert!(make([8, 15, 8, 15, 15, 8]).is_ok());
    // 9 + 9 + 9 + 1 = 28.
    let err = make([9, 15, 8, 15, 15, 8]).unwrap_err();
    assert_eq!(
        err,
        IntentError::PointBuyOverBudget {
            cost: 28,
            budget: 27
        }
    );
    assert_eq!(
        err.to_string(),
        "the point buy costs 28 points, more than the 27 available"
    );
}

#[test]
fn standard_array() {
    let make = |s| {
        create(
            Uuid::nil(),
            Uuid::nil(),
            new_character(Generation::StandardArray, s),
            T0,
        )
    };
    assert!(make([12, 13, 8, 15, 10, 14]).is_ok());
    assert!(matches!(
        make([12, 13, 8, 15, 11, 14]),
        Err(IntentError::NotStandardArray { .. })
    ));
}

#[test]
fn damage_comes_off_temporary_hit_points_first() {
    let c = at_level(fighter(), 2); // Con 14: 12 + 8
    let c = ok(&c, Intent::TempHp { amount: 5 });
    assert_eq!((c.hp, c.temp_hp), (20, 5));
    let c = ok(&c, Intent::Hitpoints { delta: -10 });
    assert_eq!((c.hp, c.temp_hp), (15, 0));
}

#[test]
fn hit_points_stay_between_0_and_max() {
    let c = fighter(); // Con 14: 12 hp
    let down = ok(&c, Intent::Hitpoints { delta: -100 });
    assert_eq!(down.hp, 0);
    let down_again = ok(&down, Intent::Hitpoints { delta: -5 });
    assert_eq!(down_again.hp, 0, "legal, still 0");
    let healed = ok(&down, Intent::Hitpoints { delta: 10_000 });
    assert_eq!(
        (healed.hp, healed.temp_hp),
        (12, 0),
        "healing stops at max, no temp"
    );
}

#[test]
fn hit_point_changes_must_mean_something() {
    let c = fighter();
    assert_eq!(
        refused(&c, Intent::Hitpoints { delta: 0 }),
        IntentError::ZeroHitpointChange
    );
    for delta in [10_001, -10_001, i32::MIN, i32::MAX] {
        assert!(matches!(
            refused(&c, Intent::Hitpoints { delta }),
            IntentError::HitpointChangeTooLarge { .. }
        ));
    }
    ok(&c, Intent::Hitpoints { delta: -10_000 });
}

#[test]
fn temporary_hit_points_do_not_stack() {
    let c = ok(&fighter(), Intent::TempHp { amount: 8 });
    assert_eq!(ok(&c, Intent::TempHp { amount: 5 }).temp_hp, 8);
    assert_eq!(ok(&c, Intent::TempHp { amount: 12 }).temp_hp, 12);
    for amount in [-1, 10_001] {
        assert!(matches!(
            refused(&c, Intent::TempHp { amount }),
            IntentError::TempHpOutOfRange { .. }
        ));
    }
}

#[test]
fn two_handed_weapon_and_shield_exclude_each_other() {
    let c = fighter();
    let with_shield = ok(&c, Intent::Shield { equipped: true });
    let err = refused(
        &with_shield,
        Intent::EquipWeapon {
            weapon: Some(Weapon::Greatsword),
        },
    );
    assert_eq!(
        err,
        IntentError::TwoHandedWeaponWithShield {
            weapon: Weapon::Greatsword
        }
    );
    assert!(
        err.to_string().contains("greatsword needs both hands"),
        "{err}"
    );

    let with_greatsword = ok(
        &c,
        Intent::EquipWeapon {
            weapon: Some(Weapon::Greatsword),
        },
    );
    let err = refused(&with_greatsword, Intent::Shield { equipped: true });
    assert_eq!(
        err,
        IntentError::ShieldWithTwoHandedWeapon {
            weapon: Weapon::Greatsword
        }
    );

    // Versatile and one-handed weapons go with a shield; putting the shield down is fine.
    let sword_and_board = ok(
        &with_shield,
        Intent::EquipWeapon {
            weapon: Some(Weapon::Longsword),
        },
    );
    assert!(sword_and_board.shield);
    ok(&with_greatsword, Intent::Shield { equipped: false });
}

#[test]
fn coins_are_not_changed_implicitly() {
    let c = ok(
        &fighter(),
        Intent::Currency {
            deltas: CurrencyDeltas {
                gp: 1,
                ..Default::default()
            },
        },
    );
    let err = refused(
        &c,
        Intent::Currency {
            deltas: CurrencyDeltas {
                sp: -5,
                ..Default::default()
            },
        },
    );
    assert_eq!(
        err,
        IntentError::InsufficientCoins {
            denomination: Denomination::Sp,
            have: 0,
            need: 5
        }
    );
    assert_eq!(
        err.to_string(),
        "not enough sp: 0 held, 5 needed (coins are not exchanged automatically)"
    );
    let paid = ok(
        &c,
        Intent::Currency {
            deltas: CurrencyDeltas {
                gp: -1,
                sp: 5,
                ..Default::default()
            },
        },
    );
    assert_eq!((paid.currency.gp, paid.currency.sp), (0, 5));
}

#[test]
fn level_up() {
    let c = fighter(); // Con 14: 12 max
    let wounded = ok(&c, Intent::Hitpoints { delta: -5 });
    let up = ok(&wounded, Intent::LevelUp);
    assert_eq!(
        (up.level, up.max_hp, up.hp),
        (2, 20, 15),
        "both rise by 6 + 2"
    );
    let top = at_level(c, 20);
    assert_eq!(
        refused(&top, Intent::LevelUp),
        IntentError::MaxLevel { max: 20 }
    );
}

#[test]
fn every_applied_intent_bumps_the_version_and_time() {
    let c = fighter();
    let next = apply(
        &c,
        &Intent::EquipArmor {
            armor: Some(Armor::Plate),
        },
        T0 + 60,
    )
    .unwrap();
    assert_eq!(
        (next.version, next.updated_at, next.created_at),
        (2, T0 + 60, T0)
    );
    // Re-equipping the same armor is allowed and still a new version.
    let again = apply(
        &next,
        &Intent::EquipArmor {
            armor: Some(Armor::Plate),
        },
        T0 + 61,
    )
    .unwrap();
    assert_eq!(again.version, 3);
}
