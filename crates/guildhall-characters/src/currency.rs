//! Coins: five denominations, changed together or not at all.
//!
//! Source: SRD 5.1, "Equipment → Coins" (copper, silver, electrum, gold and platinum
//! pieces; 10 cp = 1 sp, 5 sp = 1 ep, 2 ep = 1 gp, 10 gp = 1 pp). The exchange rates are
//! deliberately *not* applied: a purse holds coins, not a balance, and breaking a gold
//! piece into silver is something that happens at a money changer, not implicitly when a
//! client asks to spend 5 sp. So each denomination is checked on its own.

use serde::{Deserialize, Serialize};

use crate::IntentError;

/// The most coins of one denomination a character may hold: 10^12, far beyond play
/// (the whole SRD treasure tables do not come close) and far below `i64` overflow, so
/// sums of two in-range values can never overflow.
pub const MAX_COINS: i64 = 1_000_000_000_000;

/// A kind of coin. JSON: `"cp"`, `"sp"`, `"ep"`, `"gp"`, `"pp"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Denomination {
    /// Copper pieces.
    Cp,
    /// Silver pieces.
    Sp,
    /// Electrum pieces.
    Ep,
    /// Gold pieces.
    Gp,
    /// Platinum pieces.
    Pp,
}

impl Denomination {
    /// All five, smallest first.
    pub const ALL: [Denomination; 5] = [
        Denomination::Cp,
        Denomination::Sp,
        Denomination::Ep,
        Denomination::Gp,
        Denomination::Pp,
    ];

    /// The JSON id, e.g. `"gp"`.
    pub fn id(self) -> &'static str {
        match self {
            Denomination::Cp => "cp",
            Denomination::Sp => "sp",
            Denomination::Ep => "ep",
            Denomination::Gp => "gp",
            Denomination::Pp => "pp",
        }
    }
}

/// A character's coins. JSON: `{"cp": 0, "sp": 0, "ep": 0, "gp": 0, "pp": 0}`. Every
/// count is in `0..=MAX_COINS` for a valid character.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Currency {
    /// Copper pieces.
    pub cp: i64,
    /// Silver pieces.
    pub sp: i64,
    /// Electrum pieces.
    pub ep: i64,
    /// Gold pieces.
    pub gp: i64,
    /// Platinum pieces.
    pub pp: i64,
}

impl Currency {
    /// The count of one denomination.
    pub fn get(&self, denomination: Denomination) -> i64 {
        match denomination {
            Denomination::Cp => self.cp,
            Denomination::Sp => self.sp,
            Denomination::Ep => self.ep,
            Denomination::Gp => self.gp,
            Denomination::Pp => self.pp,
        }
    }

    fn slot(&mut self, denomination: Denomination) -> &mut i64 {
        match denomination {
            Denomination::Cp => &mut self.cp,
            Denomination::Sp => &mut self.sp,
            Denomination::Ep => &mut self.ep,
            Denomination::Gp => &mut self.gp,
            Denomination::Pp => &mut self.pp,
        }
    }

    /// The purse after `deltas`, or why it cannot happen. All-or-nothing: on error
    /// nothing is returned but the reason, so no denomination changes.
    pub fn apply(&self, deltas: &CurrencyDeltas) -> Result<Currency, IntentError> {
        if Denomination::ALL.iter().all(|&d| deltas.get(d) == 0) {
            return Err(IntentError::EmptyCurrencyChange);
        }
        let mut next = *self;
        for denomination in Denomination::ALL {
            let delta = deltas.get(denomination);
            if delta.checked_abs().is_none_or(|m| m > MAX_COINS) {
                return Err(IntentError::CurrencyDeltaTooLarge {
                    denomination,
                    delta,
                    max: MAX_COINS,
                });
            }
            let have = self.get(denomination);
            // `have` is not trusted to be in range (it came from storage), hence checked.
            let after = have.checked_add(delta);
            match after {
                Some(n) if n < 0 => {
                    return Err(IntentError::InsufficientCoins {
                        denomination,
                        have,
                        need: delta.saturating_neg(),
                    });
                }
                Some(n) if n <= MAX_COINS => *next.slot(denomination) = n,
                _ => {
                    return Err(IntentError::TooManyCoins {
                        denomination,
                        max: MAX_COINS,
                    });
                }
            }
        }
        Ok(next)
    }
}

/// Signed changes per denomination, e.g. `{"gp": -5, "sp": 30}`. Missing denominations
/// do not change; unknown keys are rejected when deserializing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CurrencyDeltas {
    /// Change in copper pieces.
    pub cp: i64,
    /// Change in silver pieces.
    pub sp: i64,
    /// Change in electrum pieces.
    pub ep: i64,
    /// Change in gold pieces.
    pub gp: i64,
    /// Change in platinum pieces.
    pub pp: i64,
}

impl CurrencyDeltas {
    /// The change of one denomination.
    pub fn get(&self, denomination: Denomination) -> i64 {
        match denomination {
            Denomination::Cp => self.cp,
            Denomination::Sp => self.sp,
            Denomination::Ep => self.ep,
            Denomination::Gp => self.gp,
            Denomination::Pp => self.pp,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_gold_piece_does_not_pay_five_silver() {
        let purse = Currency {
            gp: 1,
            ..Currency::default()
        };
        let spend = CurrencyDeltas {
            sp: -5,
            ..CurrencyDeltas::default()
        };
        assert_eq!(
            purse.apply(&spend),
            Err(IntentError::InsufficientCoins {
                denomination: Denomination::Sp,
                have: 0,
                need: 5
            })
        );
    }

    #[test]
    fn all_or_nothing() {
        let purse = Currency {
            gp: 10,
            sp: 2,
            ..Currency::default()
        };
        // The gold would be fine; the silver is not, so the gold does not move either.
        let deltas = CurrencyDeltas {
            gp: -5,
            sp: -3,
            ..CurrencyDeltas::default()
        };
        assert!(purse.apply(&deltas).is_err());
        let ok = CurrencyDeltas {
            gp: -5,
            sp: -2,
            pp: 1,
            ..CurrencyDeltas::default()
        };
        assert_eq!(
            purse.apply(&ok),
            Ok(Currency {
                gp: 5,
                sp: 0,
                pp: 1,
                ..Currency::default()
            })
        );
    }

    #[test]
    fn limits() {
        let purse = Currency {
            cp: MAX_COINS,
            ..Currency::default()
        };
        let one = CurrencyDeltas {
            cp: 1,
            ..CurrencyDeltas::default()
        };
        assert!(matches!(
            purse.apply(&one),
            Err(IntentError::TooManyCoins { .. })
        ));
        for huge in [i64::MIN, i64::MAX, MAX_COINS + 1, -MAX_COINS - 1] {
            let d = CurrencyDeltas {
                pp: huge,
                ..CurrencyDeltas::default()
            };
            assert!(
                matches!(
                    Currency::default().apply(&d),
                    Err(IntentError::CurrencyDeltaTooLarge { .. })
                ),
                "{huge}"
            );
        }
        assert_eq!(
            Currency::default().apply(&CurrencyDeltas::default()),
            Err(IntentError::EmptyCurrencyChange)
        );
    }

    #[test]
    fn unknown_denomination_is_a_serde_error() {
        let err = serde_json::from_str::<CurrencyDeltas>(r#"{"gp": 1, "zp": 2}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `zp`"), "{err}");
    }
}
