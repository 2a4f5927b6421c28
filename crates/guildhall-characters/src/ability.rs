//! The six abilities and their modifiers.
//!
//! Source: SRD 5.1, "Using Ability Scores → Ability Scores and Modifiers" (a score of
//! 10 or 11 is +0; every two points above or below moves the modifier by one; scores
//! run from 1 to 30).

use serde::{Deserialize, Serialize};

/// One of the six abilities. Serialized as its three-letter abbreviation (`"str"`,
/// `"dex"`, ...), the same keys as in [`Abilities`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Ability {
    /// Strength: melee attacks, carrying capacity, heavy armor.
    #[serde(rename = "str")]
    Strength,
    /// Dexterity: ranged and finesse attacks, armor class, initiative.
    #[serde(rename = "dex")]
    Dexterity,
    /// Constitution: hit points.
    #[serde(rename = "con")]
    Constitution,
    /// Intelligence.
    #[serde(rename = "int")]
    Intelligence,
    /// Wisdom: the monk's Unarmored Defense.
    #[serde(rename = "wis")]
    Wisdom,
    /// Charisma.
    #[serde(rename = "cha")]
    Charisma,
}

impl Ability {
    /// All six, in the SRD's order.
    pub const ALL: [Ability; 6] = [
        Ability::Strength,
        Ability::Dexterity,
        Ability::Constitution,
        Ability::Intelligence,
        Ability::Wisdom,
        Ability::Charisma,
    ];

    /// The full English name, lowercase ("strength"), for messages.
    pub fn name(self) -> &'static str {
        match self {
            Ability::Strength => "strength",
            Ability::Dexterity => "dexterity",
            Ability::Constitution => "constitution",
            Ability::Intelligence => "intelligence",
            Ability::Wisdom => "wisdom",
            Ability::Charisma => "charisma",
        }
    }
}

/// The lowest ability score a character may have.
pub const MIN_SCORE: u8 = 1;
/// The highest ability score a character may have (the SRD's absolute maximum).
pub const MAX_SCORE: u8 = 30;

/// The six ability scores. JSON: `{"str": 15, "dex": 14, "con": 13, "int": 12, "wis": 10,
/// "cha": 8}`; every key is required and no other key is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Abilities {
    /// Strength score.
    #[serde(rename = "str")]
    pub strength: u8,
    /// Dexterity score.
    #[serde(rename = "dex")]
    pub dexterity: u8,
    /// Constitution score.
    #[serde(rename = "con")]
    pub constitution: u8,
    /// Intelligence score.
    #[serde(rename = "int")]
    pub intelligence: u8,
    /// Wisdom score.
    #[serde(rename = "wis")]
    pub wisdom: u8,
    /// Charisma score.
    #[serde(rename = "cha")]
    pub charisma: u8,
}

impl Abilities {
    /// The score of one ability.
    pub fn score(&self, ability: Ability) -> u8 {
        match ability {
            Ability::Strength => self.strength,
            Ability::Dexterity => self.dexterity,
            Ability::Constitution => self.constitution,
            Ability::Intelligence => self.intelligence,
            Ability::Wisdom => self.wisdom,
            Ability::Charisma => self.charisma,
        }
    }

    /// The modifier of one ability; see [`modifier`].
    pub fn modifier(&self, ability: Ability) -> i32 {
        modifier(self.score(ability))
    }

    /// The six modifiers.
    pub fn modifiers(&self) -> AbilityBonuses {
        AbilityBonuses::from_fn(|a| self.modifier(a))
    }

    /// The scores in [`Ability::ALL`] order, paired with their ability.
    pub fn iter(&self) -> impl Iterator<Item = (Ability, u8)> + '_ {
        Ability::ALL.into_iter().map(|a| (a, self.score(a)))
    }
}

/// A number per ability: the modifiers, or the saving-throw bonuses. Same JSON keys as
/// [`Abilities`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbilityBonuses {
    /// Strength.
    #[serde(rename = "str")]
    pub strength: i32,
    /// Dexterity.
    #[serde(rename = "dex")]
    pub dexterity: i32,
    /// Constitution.
    #[serde(rename = "con")]
    pub constitution: i32,
    /// Intelligence.
    #[serde(rename = "int")]
    pub intelligence: i32,
    /// Wisdom.
    #[serde(rename = "wis")]
    pub wisdom: i32,
    /// Charisma.
    #[serde(rename = "cha")]
    pub charisma: i32,
}

impl AbilityBonuses {
    /// Builds the six values by calling `f` once per ability.
    pub fn from_fn(mut f: impl FnMut(Ability) -> i32) -> AbilityBonuses {
        AbilityBonuses {
            strength: f(Ability::Strength),
            dexterity: f(Ability::Dexterity),
            constitution: f(Ability::Constitution),
            intelligence: f(Ability::Intelligence),
            wisdom: f(Ability::Wisdom),
            charisma: f(Ability::Charisma),
        }
    }

    /// The value for one ability.
    pub fn get(&self, ability: Ability) -> i32 {
        match ability {
            Ability::Strength => self.strength,
            Ability::Dexterity => self.dexterity,
            Ability::Constitution => self.constitution,
            Ability::Intelligence => self.intelligence,
            Ability::Wisdom => self.wisdom,
            Ability::Charisma => self.charisma,
        }
    }
}

/// The modifier of an ability score: `floor((score - 10) / 2)`, so 10–11 is +0, 8–9 is
/// −1, 1 is −5 and 30 is +10. Euclidean division rounds toward negative infinity, which
/// plain integer division would not do for odd scores below 10.
pub fn modifier(score: u8) -> i32 {
    (i32::from(score) - 10).div_euclid(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modifiers_follow_the_srd_table() {
        let table = [
            (1, -5),
            (2, -4),
            (3, -4),
            (8, -1),
            (9, -1),
            (10, 0),
            (11, 0),
            (12, 1),
            (15, 2),
            (18, 4),
            (20, 5),
            (29, 9),
            (30, 10),
        ];
        for (score, expected) in table {
            assert_eq!(modifier(score), expected, "score {score}");
        }
    }
}
