//! How ability scores may be generated at creation.
//!
//! SRD 5.1 has no character-creation chapter, so the methods come from where the same
//! numbers are published: the standard array (15, 14, 13, 12, 10, 8) and the 27-point
//! buy with its cost table are the 2014 Player's Handbook's "Variant: Customizing Ability
//! Scores" (p. 13), repeated unchanged in SRD 5.2 "Creating a Character → Step 3: Ability
//! Scores". Rolling 4d6 and dropping the lowest die gives 3–18, which is all "manual" can
//! check: the service cannot see the dice.

use serde::{Deserialize, Serialize};

use crate::IntentError;
use crate::ability::Abilities;

/// How the scores of a new character were generated; decides which scores are legal.
/// JSON: `"manual"`, `"standard_array"` or `"point_buy"`; a creation that names none is
/// `manual`, the widest (every standard array and point buy is also 3–18).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Generation {
    /// Rolled (or chosen) at the table: each score 3–18, the range of 4d6 drop lowest.
    #[default]
    Manual,
    /// The SRD standard array, [`STANDARD_ARRAY`], assigned in any order.
    StandardArray,
    /// The SRD point buy: each score 8–15, costing at most [`POINT_BUY_BUDGET`] points
    /// by [`point_buy_cost`].
    PointBuy,
}

/// The lowest score "manual" generation accepts (three ones on 4d6 drop lowest).
pub const MANUAL_MIN: u8 = 3;
/// The highest score "manual" generation accepts (three sixes).
pub const MANUAL_MAX: u8 = 18;
/// The standard array; a standard-array character has exactly these six scores.
pub const STANDARD_ARRAY: [u8; 6] = [15, 14, 13, 12, 10, 8];
/// Points available in a point buy. Spending fewer is allowed: the SRD gives a budget,
/// not a quota.
pub const POINT_BUY_BUDGET: u32 = 27;
/// The lowest score a point buy can give.
pub const POINT_BUY_MIN: u8 = 8;
/// The highest score a point buy can give.
pub const POINT_BUY_MAX: u8 = 15;

/// What one score costs in a point buy, or `None` outside 8–15. The cost doubles above
/// 13 (14 costs 7, 15 costs 9), which is what keeps point-buy characters from maxing a
/// single ability.
pub fn point_buy_cost(score: u8) -> Option<u32> {
    match score {
        8 => Some(0),
        9 => Some(1),
        10 => Some(2),
        11 => Some(3),
        12 => Some(4),
        13 => Some(5),
        14 => Some(7),
        15 => Some(9),
        _ => None,
    }
}

/// Checks that `abilities` could have come from `generation`.
pub fn validate_generation(
    abilities: &Abilities,
    generation: Generation,
) -> Result<(), IntentError> {
    match generation {
        Generation::Manual => check_range(abilities, generation, MANUAL_MIN, MANUAL_MAX),
        Generation::StandardArray => {
            let mut scores: Vec<u8> = abilities.iter().map(|(_, s)| s).collect();
            scores.sort_unstable_by(|a, b| b.cmp(a));
            if scores == STANDARD_ARRAY {
                Ok(())
            } else {
                Err(IntentError::NotStandardArray { scores: *abilities })
            }
        }
        Generation::PointBuy => {
            check_range(abilities, generation, POINT_BUY_MIN, POINT_BUY_MAX)?;
            // In range, so every score has a cost; `unwrap_or` is never taken.
            let cost: u32 = abilities
                .iter()
                .map(|(_, s)| point_buy_cost(s).unwrap_or(u32::MAX / 8))
                .sum();
            if cost > POINT_BUY_BUDGET {
                Err(IntentError::PointBuyOverBudget {
                    cost,
                    budget: POINT_BUY_BUDGET,
                })
            } else {
                Ok(())
            }
        }
    }
}

fn check_range(
    abilities: &Abilities,
    generation: Generation,
    min: u8,
    max: u8,
) -> Result<(), IntentError> {
    for (ability, score) in abilities.iter() {
        if !(min..=max).contains(&score) {
            return Err(IntentError::AbilityOutOfRange {
                ability,
                score,
                generation,
                min,
                max,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ability::Ability;

    fn scores(s: [u8; 6]) -> Abilities {
        Abilities {
            strength: s[0],
            dexterity: s[1],
            constitution: s[2],
            intelligence: s[3],
            wisdom: s[4],
            charisma: s[5],
        }
    }

    #[test]
    fn point_buy_costs_match_the_srd_table() {
        let costs: Vec<Option<u32>> = (7..=16).map(point_buy_cost).collect();
        let expected = [
            None,
            Some(0),
            Some(1),
            Some(2),
            Some(3),
            Some(4),
            Some(5),
            Some(7),
            Some(9),
            None,
        ];
        assert_eq!(costs, expected);
    }

    #[test]
    fn point_buy_budget_is_a_maximum() {
        // 15, 15, 15 = 27 points exactly; 8s are free.
        assert_eq!(
            validate_generation(&scores([15, 15, 15, 8, 8, 8]), Generation::PointBuy),
            Ok(())
        );
        // 15, 15, 14, 9 = 26.
        assert_eq!(
            validate_generation(&scores([15, 15, 14, 9, 8, 8]), Generation::PointBuy),
            Ok(())
        );
        // 15, 15, 15, 9 = 28.
        assert_eq!(
            validate_generation(&scores([15, 15, 15, 9, 8, 8]), Generation::PointBuy),
            Err(IntentError::PointBuyOverBudget {
                cost: 28,
                budget: 27
            })
        );
        // In budget but out of range.
        assert!(matches!(
            validate_generation(&scores([16, 8, 8, 8, 8, 8]), Generation::PointBuy),
            Err(IntentError::AbilityOutOfRange {
                ability: Ability::Strength,
                score: 16,
                ..
            })
        ));
        assert!(matches!(
            validate_generation(&scores([10, 10, 10, 10, 10, 7]), Generation::PointBuy),
            Err(IntentError::AbilityOutOfRange {
                ability: Ability::Charisma,
                score: 7,
                ..
            })
        ));
    }

    #[test]
    fn standard_array_is_any_permutation_and_nothing_else() {
        for s in [
            [15, 14, 13, 12, 10, 8],
            [8, 10, 12, 13, 14, 15],
            [13, 8, 15, 10, 14, 12],
        ] {
            assert_eq!(
                validate_generation(&scores(s), Generation::StandardArray),
                Ok(()),
                "{s:?}"
            );
        }
        // Same sum, one swapped value; a repeated value; all six shifted.
        for s in [
            [15, 14, 13, 11, 11, 8],
            [15, 15, 13, 12, 10, 8],
            [16, 15, 14, 13, 11, 9],
        ] {
            assert!(
                matches!(
                    validate_generation(&scores(s), Generation::StandardArray),
                    Err(IntentError::NotStandardArray { .. })
                ),
                "{s:?}"
            );
        }
    }

    #[test]
    fn manual_accepts_3_to_18() {
        assert_eq!(
            validate_generation(&scores([3, 18, 10, 10, 10, 10]), Generation::Manual),
            Ok(())
        );
        for bad in [
            [2, 10, 10, 10, 10, 10],
            [10, 10, 10, 10, 10, 19],
            [0, 10, 10, 10, 10, 10],
        ] {
            assert!(
                matches!(
                    validate_generation(&scores(bad), Generation::Manual),
                    Err(IntentError::AbilityOutOfRange {
                        min: 3,
                        max: 18,
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
    }
}
