//! Damage: dice, fixed amounts, types, and how a modifier is written onto them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The kinds of damage weapons deal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DamageType {
    /// Clubs, hammers, fists.
    Bludgeoning,
    /// Points.
    Piercing,
    /// Edges.
    Slashing,
}

/// `count`d`sides`, e.g. 2d6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dice {
    /// How many dice.
    pub count: u8,
    /// Sides per die.
    pub sides: u8,
}

impl fmt::Display for Dice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}d{}", self.count, self.sides)
    }
}

/// What a hit deals before modifiers: dice, or a fixed amount (the blowgun's 1, the
/// unarmed strike's 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DamageRoll {
    /// Rolled dice.
    Dice(Dice),
    /// A fixed number.
    Flat(i32),
}

impl DamageRoll {
    /// The roll with an ability modifier added, as a client shows it: `"1d8+3"`, `"2d6"`,
    /// `"1d4-1"`. A fixed amount is added up instead (`"4"` for 1 + 3), and never goes
    /// below 0: a hit does not heal.
    pub fn with_modifier(self, modifier: i32) -> String {
        match self {
            DamageRoll::Dice(dice) => match modifier {
                0 => dice.to_string(),
                m if m > 0 => format!("{dice}+{m}"),
                m => format!("{dice}{m}"),
            },
            DamageRoll::Flat(n) => n.saturating_add(modifier).max(0).to_string(),
        }
    }
}

/// A weapon's damage: the roll and its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WeaponDamage {
    /// Dice or fixed amount.
    pub roll: DamageRoll,
    /// Bludgeoning, piercing or slashing.
    pub damage_type: DamageType,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damage_strings() {
        let d8 = DamageRoll::Dice(Dice { count: 1, sides: 8 });
        assert_eq!(d8.with_modifier(3), "1d8+3");
        assert_eq!(d8.with_modifier(0), "1d8");
        assert_eq!(d8.with_modifier(-1), "1d8-1");
        assert_eq!(
            DamageRoll::Dice(Dice { count: 2, sides: 6 }).with_modifier(5),
            "2d6+5"
        );
        assert_eq!(DamageRoll::Flat(1).with_modifier(3), "4");
        assert_eq!(DamageRoll::Flat(1).with_modifier(-4), "0");
    }
}
