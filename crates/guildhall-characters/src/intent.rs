//! Intents: what a client asks to happen, and the rules that decide the new state.
//!
//! Clients never send state, only intents; [`apply`] checks the intent against the
//! current state and returns the next state with `version + 1`, or refuses with a reason
//! and changes nothing. The rules, and the choices made where the SRD is silent, are
//! documented on [`apply`], where the service's developers will read them.

use serde::{Deserialize, Deserializer, Serialize};

use crate::armor::Armor;
use crate::character::{Character, MAX_LEVEL};
use crate::currency::CurrencyDeltas;
use crate::derive::max_hp_for;
use crate::error::IntentError;
use crate::weapon::Weapon;

/// The largest hit point change one intent may ask for, either way.
pub const MAX_HP_CHANGE: i32 = 10_000;
/// The most temporary hit points one grant may give.
pub const MAX_TEMP_HP: i32 = 10_000;

/// A change a client asks for. JSON is internally tagged by `intent`, with the fields
/// beside it, e.g. `{"intent": "hitpoints", "delta": -7}`, `{"intent": "equip_armor",
/// "armor": null}`, `{"intent": "currency", "deltas": {"gp": -5}}`, `{"intent":
/// "level_up"}`. Unknown intents, unknown fields and unknown ids are serde errors; for
/// routes that carry the intent name in the path, see [`Intent::from_fields`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "IntentWire", into = "IntentWire")]
pub enum Intent {
    /// Damage (negative) or healing (positive).
    Hitpoints {
        /// The change, non-zero, at most [`MAX_HP_CHANGE`] either way.
        delta: i32,
    },
    /// A grant of temporary hit points.
    TempHp {
        /// How many, `0..=`[`MAX_TEMP_HP`].
        amount: i32,
    },
    /// Put on armor, or take it off with `null`. The field is required, so a forgotten
    /// field does not undress anyone.
    EquipArmor {
        /// The armor, or `null` for none.
        armor: Option<Armor>,
    },
    /// Wield a weapon, or put it away with `null`. Required like `armor`.
    EquipWeapon {
        /// The weapon, or `null` for none.
        weapon: Option<Weapon>,
    },
    /// Take up or put away a shield.
    Shield {
        /// Whether a shield is carried afterwards.
        equipped: bool,
    },
    /// Gain or spend coins, all denominations at once or none.
    Currency {
        /// Signed change per denomination.
        deltas: CurrencyDeltas,
    },
    /// Gain a level.
    LevelUp,
}

/// The JSON form of [`Intent`]. It differs only in `LevelUp {}`: serde ignores unknown
/// fields next to the tag of a unit variant even with `deny_unknown_fields`, and an
/// empty struct variant does not, so `{"intent": "level_up", "levels": 3}` is refused
/// instead of levelling up once. The public enum keeps the plain `Intent::LevelUp`.
#[derive(Serialize, Deserialize)]
#[serde(tag = "intent", rename_all = "snake_case", deny_unknown_fields)]
enum IntentWire {
    Hitpoints {
        delta: i32,
    },
    TempHp {
        amount: i32,
    },
    EquipArmor {
        #[serde(deserialize_with = "required_option")]
        armor: Option<Armor>,
    },
    EquipWeapon {
        #[serde(deserialize_with = "required_option")]
        weapon: Option<Weapon>,
    },
    Shield {
        equipped: bool,
    },
    Currency {
        deltas: CurrencyDeltas,
    },
    LevelUp {},
}

impl From<IntentWire> for Intent {
    fn from(wire: IntentWire) -> Intent {
        match wire {
            IntentWire::Hitpoints { delta } => Intent::Hitpoints { delta },
            IntentWire::TempHp { amount } => Intent::TempHp { amount },
            IntentWire::EquipArmor { armor } => Intent::EquipArmor { armor },
            IntentWire::EquipWeapon { weapon } => Intent::EquipWeapon { weapon },
            IntentWire::Shield { equipped } => Intent::Shield { equipped },
            IntentWire::Currency { deltas } => Intent::Currency { deltas },
            IntentWire::LevelUp {} => Intent::LevelUp,
        }
    }
}

impl From<Intent> for IntentWire {
    fn from(intent: Intent) -> IntentWire {
        match intent {
            Intent::Hitpoints { delta } => IntentWire::Hitpoints { delta },
            Intent::TempHp { amount } => IntentWire::TempHp { amount },
            Intent::EquipArmor { armor } => IntentWire::EquipArmor { armor },
            Intent::EquipWeapon { weapon } => IntentWire::EquipWeapon { weapon },
            Intent::Shield { equipped } => IntentWire::Shield { equipped },
            Intent::Currency { deltas } => IntentWire::Currency { deltas },
            Intent::LevelUp => IntentWire::LevelUp {},
        }
    }
}

/// Like the default for `Option` fields, but a missing field is an error instead of
/// `None`: `null` must be written out.
fn required_option<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer)
}

impl Intent {
    /// Every intent name, as used in JSON and by [`Intent::name`].
    pub const NAMES: [&'static str; 7] = [
        "hitpoints",
        "temp_hp",
        "equip_armor",
        "equip_weapon",
        "shield",
        "currency",
        "level_up",
    ];

    /// The intent's name, e.g. `"equip_armor"`; the JSON tag, and a bounded label for
    /// metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Intent::Hitpoints { .. } => "hitpoints",
            Intent::TempHp { .. } => "temp_hp",
            Intent::EquipArmor { .. } => "equip_armor",
            Intent::EquipWeapon { .. } => "equip_weapon",
            Intent::Shield { .. } => "shield",
            Intent::Currency { .. } => "currency",
            Intent::LevelUp => "level_up",
        }
    }

    /// Builds the intent `name` from its fields alone, for routes where the name is in
    /// the path (`POST /characters/{id}/equip-armor` with body `{"armor": "plate"}`):
    /// `Intent::from_fields("equip_armor", body)`. The same checks as deserializing
    /// [`Intent`]: unknown names, unknown fields, missing fields and unknown ids fail
    /// with serde's message. The fields may not contain `intent` themselves.
    pub fn from_fields(
        name: &str,
        mut fields: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Intent, serde_json::Error> {
        if fields.contains_key("intent") {
            return Err(serde::de::Error::custom("unknown field `intent`"));
        }
        fields.insert(
            "intent".to_owned(),
            serde_json::Value::String(name.to_owned()),
        );
        serde_json::from_value(serde_json::Value::Object(fields))
    }

    /// A route's whole body, `{"version": N, ...fields}`, read straight into the version
    /// and the intent `name`, without a JSON tree between. Only a body that is exactly
    /// right is read this way: `None` for anything else (no version or one below 1, an
    /// unknown, missing, repeated or ill-typed field, an unknown name), and the caller
    /// then reads it field by field, as [`Intent::from_fields`] does, for the precise
    /// error. Whatever this accepts, that reading accepts too, with the same result
    /// (a test holds the two together).
    pub fn versioned_from_json(name: &str, json: &str) -> Option<(i64, Intent)> {
        fn read<'a, T: Deserialize<'a>>(json: &'a str) -> Option<T> {
            serde_json::from_str(json).ok()
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Hitpoints {
            version: i64,
            delta: i32,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct TempHp {
            version: i64,
            amount: i32,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct EquipArmor {
            version: i64,
            #[serde(deserialize_with = "required_option")]
            armor: Option<Armor>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct EquipWeapon {
            version: i64,
            #[serde(deserialize_with = "required_option")]
            weapon: Option<Weapon>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Shield {
            version: i64,
            equipped: bool,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Currency {
            version: i64,
            deltas: CurrencyDeltas,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct LevelUp {
            version: i64,
        }
        let (version, intent) = match name {
            "hitpoints" => {
                read(json).map(|b: Hitpoints| (b.version, Intent::Hitpoints { delta: b.delta }))
            }
            "temp_hp" => {
                read(json).map(|b: TempHp| (b.version, Intent::TempHp { amount: b.amount }))
            }
            "equip_armor" => {
                read(json).map(|b: EquipArmor| (b.version, Intent::EquipArmor { armor: b.armor }))
            }
            "equip_weapon" => read(json)
                .map(|b: EquipWeapon| (b.version, Intent::EquipWeapon { weapon: b.weapon })),
            "shield" => read(json).map(|b: Shield| {
                (
                    b.version,
                    Intent::Shield {
                        equipped: b.equipped,
                    },
                )
            }),
            "currency" => {
                read(json).map(|b: Currency| (b.version, Intent::Currency { deltas: b.deltas }))
            }
            "level_up" => read(json).map(|b: LevelUp| (b.version, Intent::LevelUp)),
            _ => None,
        }?;
        (version >= 1).then_some((version, intent))
    }
}

/// The state after `intent`, with `version` one higher and `updated_at = now`; or why the
/// intent is not allowed, in which case nothing changed (`current` is borrowed, never
/// modified). The caller checks the expected version before calling and stores the
/// result.
///
/// The rules, and the choices made where the SRD is silent:
///
/// * **Hit points** (SRD 5.1 "Combat → Damage and Healing"): damage comes off temporary
///   hit points first and the rest off `hp`, which stops at 0 (dying and death saves are
///   the game's business, not this crate's); healing raises `hp` up to `max_hp` and never
///   restores temporary hit points. A change of 0 is refused: it is neither damage nor
///   healing, and is far more likely a client bug than an intent. Changes beyond
///   ±[`MAX_HP_CHANGE`] are refused as absurd. Damage at 0 hp or healing at full hp are
///   legal and change nothing but the version: they are events in play.
/// * **Temporary hit points** ("Temporary Hit Points"): they do not stack; a new grant
///   replaces the old one only if larger. `0..=`[`MAX_TEMP_HP`].
/// * **Equipment**: any armor and weapon may be equipped, trained or not; the SRD lets
///   anyone wear armor and swing a sword, and puts the price in the derived stats (no
///   proficiency bonus; in untrained armor, `armor_proficient: false` and disadvantage).
///   A two-handed weapon and a shield exclude each other, and equipping one while
///   holding the other is refused rather than silently dropping the other: a client
///   should never lose equipment it did not ask to remove. Re-equipping what is already
///   equipped is allowed, and is a new version like any applied intent.
/// * **Currency**: see [`Currency::apply`](crate::Currency::apply). All denominations
///   change or none; none may go below 0 or above [`MAX_COINS`](crate::MAX_COINS); no
///   change-making; a change with no non-zero amount is refused.
/// * **Level up**: up to 20, with the maximum rising by the level's fixed hit points
///   and current hit points rising by the same amount.
pub fn apply(current: &Character, intent: &Intent, now: i64) -> Result<Character, IntentError> {
    let mut next = current.clone();
    match intent {
        Intent::Hitpoints { delta } => change_hitpoints(&mut next, *delta)?,
        Intent::TempHp { amount } => {
            if !(0..=MAX_TEMP_HP).contains(amount) {
                return Err(IntentError::TempHpOutOfRange {
                    amount: *amount,
                    max: MAX_TEMP_HP,
                });
            }
            next.temp_hp = next.temp_hp.max(*amount);
        }
        Intent::EquipArmor { armor } => next.armor = *armor,
        Intent::EquipWeapon { weapon } => {
            if let Some(w) = weapon
                && w.is_two_handed()
                && current.shield
            {
                return Err(IntentError::TwoHandedWeaponWithShield { weapon: *w });
            }
            next.weapon = *weapon;
        }
        Intent::Shield { equipped } => {
            if let Some(w) = current.weapon
                && *equipped
                && w.is_two_handed()
            {
                return Err(IntentError::ShieldWithTwoHandedWeapon { weapon: w });
            }
            next.shield = *equipped;
        }
        Intent::Currency { deltas } => next.currency = current.currency.apply(deltas)?,
        Intent::LevelUp => level_up(&mut next)?,
    }
    next.version = current
        .version
        .checked_add(1)
        .ok_or(IntentError::VersionExhausted)?;
    next.updated_at = now;
    Ok(next)
}

fn change_hitpoints(c: &mut Character, delta: i32) -> Result<(), IntentError> {
    if delta == 0 {
        return Err(IntentError::ZeroHitpointChange);
    }
    if delta.unsigned_abs() > MAX_HP_CHANGE.unsigned_abs() {
        return Err(IntentError::HitpointChangeTooLarge {
            delta,
            max: MAX_HP_CHANGE,
        });
    }
    // Bounds are recomputed rather than trusted: a stored state could be out of range,
    // and `clamp` would panic on a negative maximum.
    let max = c.max_hp.max(0);
    if delta < 0 {
        let damage = -delta; // |delta| ≤ MAX_HP_CHANGE, so no overflow.
        let temp = c.temp_hp.max(0);
        let absorbed = damage.min(temp);
        c.temp_hp = temp - absorbed;
        c.hp = c.hp.saturating_sub(damage - absorbed).max(0).min(max);
    } else {
        c.hp = c.hp.saturating_add(delta).min(max).max(0);
    }
    Ok(())
}

/// One level more; the maximum rises by what the new level adds, and so do current hit
/// points. The SRD speaks only of the maximum; raising the current total by the same
/// gain keeps a wounded character exactly as wounded, and a healthy one at full.
fn level_up(c: &mut Character) -> Result<(), IntentError> {
    if c.level >= MAX_LEVEL {
        return Err(IntentError::MaxLevel { max: MAX_LEVEL });
    }
    let constitution = c.abilities.constitution;
    let before = max_hp_for(c.class, c.level, constitution);
    c.level += 1;
    let after = max_hp_for(c.class, c.level, constitution);
    let gain = after - before;
    c.max_hp = after;
    c.hp = c.hp.saturating_add(gain).min(after).max(0);
    Ok(())
}
