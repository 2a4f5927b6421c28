//! Why a creation or an intent was refused, and why a stored character is not valid.

use crate::ability::{Abilities, Ability};
use crate::currency::Denomination;
use crate::generation::Generation;
use crate::weapon::Weapon;

/// Why [`create`](crate::create) or [`apply`](crate::apply) refused. Every variant is a
/// request the rules do not allow (the service answers `422 invalid_intent`); the
/// message is written for the player and names the offending value and the limit.
///
/// New variants may be added as rules are added, so matches need a wildcard arm.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IntentError {
    /// An ability score outside what the generation method can produce.
    #[error(
        "{} {score} is not possible with {} generation: each score must be {min} to {max}",
        .ability.name(),
        generation_name(*.generation)
    )]
    AbilityOutOfRange {
        /// The first ability out of range.
        ability: Ability,
        /// Its score.
        score: u8,
        /// The method claimed.
        generation: Generation,
        /// Lowest allowed.
        min: u8,
        /// Highest allowed.
        max: u8,
    },
    /// Standard-array generation with scores that are not 15, 14, 13, 12, 10, 8.
    #[error("the scores are not the standard array: use 15, 14, 13, 12, 10 and 8, once each")]
    NotStandardArray {
        /// The scores given.
        scores: Abilities,
    },
    /// A point buy that spends more than the budget.
    #[error("the point buy costs {cost} points, more than the {budget} available")]
    PointBuyOverBudget {
        /// What the scores cost.
        cost: u32,
        /// The budget.
        budget: u32,
    },
    /// A hit point change of 0.
    #[error("a hit point change of 0 is neither damage nor healing")]
    ZeroHitpointChange,
    /// A hit point change beyond the sanity limit.
    #[error("a hit point change of {delta} is too large: at most {max} either way")]
    HitpointChangeTooLarge {
        /// The change asked for.
        delta: i32,
        /// The limit.
        max: i32,
    },
    /// Temporary hit points outside `0..=max`.
    #[error("temporary hit points must be 0 to {max}, not {amount}")]
    TempHpOutOfRange {
        /// The amount asked for.
        amount: i32,
        /// The limit.
        max: i32,
    },
    /// Equipping a shield while wielding a two-handed weapon.
    #[error("the {} needs both hands: unequip it before taking up a shield", .weapon.id())]
    ShieldWithTwoHandedWeapon {
        /// The weapon in hand.
        weapon: Weapon,
    },
    /// Equipping a two-handed weapon while carrying a shield.
    #[error("the {} needs both hands: put the shield away before wielding it", .weapon.id())]
    TwoHandedWeaponWithShield {
        /// The weapon asked for.
        weapon: Weapon,
    },
    /// A currency change with no non-zero amount.
    #[error("the currency change is empty: give at least one non-zero amount")]
    EmptyCurrencyChange,
    /// A currency change larger than anyone can hold.
    #[error("a change of {delta} {} is too large: at most {max} either way", .denomination.id())]
    CurrencyDeltaTooLarge {
        /// The denomination.
        denomination: Denomination,
        /// The change asked for.
        delta: i64,
        /// The limit.
        max: i64,
    },
    /// Spending coins the character does not have (in that denomination).
    #[error(
        "not enough {}: {have} held, {need} needed (coins are not exchanged automatically)",
        .denomination.id()
    )]
    InsufficientCoins {
        /// The denomination short.
        denomination: Denomination,
        /// How many are held.
        have: i64,
        /// How many the change takes.
        need: i64,
    },
    /// Receiving more coins than the per-denomination limit.
    #[error("too many {}: a character can hold at most {max}", .denomination.id())]
    TooManyCoins {
        /// The denomination over the limit.
        denomination: Denomination,
        /// The limit.
        max: i64,
    },
    /// Levelling up at the highest level.
    #[error("the character is already level {max}, the highest level")]
    MaxLevel {
        /// The highest level.
        max: u8,
    },
    /// The version counter cannot go higher. Unreachable in practice (2^63 updates).
    #[error("the character has reached the last version number")]
    VersionExhausted,
}

fn generation_name(generation: Generation) -> &'static str {
    match generation {
        Generation::Manual => "manual",
        Generation::StandardArray => "standard array",
        Generation::PointBuy => "point buy",
    }
}

/// A stored character that breaks an invariant the rules maintain; see
/// [`Character::validate`](crate::Character::validate). It means corrupt or hand-edited
/// data, not a player mistake: the service should treat it as an internal error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid character state: {reason}")]
pub struct InvalidCharacter {
    /// Which invariant, and the values.
    pub reason: String,
}
