//! What the table's creator chooses: the variants the rules allow and the length of
//! the match.

use serde::{Deserialize, Serialize};

use crate::error::SetupError;

/// Default [`TableOptions::target_score`].
pub const DEFAULT_TARGET_SCORE: i32 = 11;

/// Who leads the first trick of a hand.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FirstLead {
    /// The caller, who won the auction.
    AuctionWinner,
    /// The dealer's right, who also opened the auction.
    #[default]
    DealerRight,
}

/// A table's options. Missing fields take their defaults when deserialized; check them
/// once with [`TableOptions::validate`] where they come in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TableOptions {
    /// When on, a player holding the suit led must play it. Off by default: in
    /// Briscola any card may be played at any time.
    pub must_follow_suit: bool,
    /// Who leads the first trick. Default: the dealer's right.
    pub first_lead: FirstLead,
    /// The match ends after the hand that brings any seat's match points to this or
    /// more. At least 1; default 11.
    pub target_score: i32,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            must_follow_suit: false,
            first_lead: FirstLead::DealerRight,
            target_score: DEFAULT_TARGET_SCORE,
        }
    }
}

impl TableOptions {
    /// Checks that a match with these options can be played: the target is at least 1
    /// (a target of 0 or less would end the match before anyone scored).
    pub fn validate(&self) -> Result<(), SetupError> {
        if self.target_score < 1 {
            return Err(SetupError::InvalidOptions(format!(
                "target_score must be at least 1, got {}",
                self.target_score
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_validation() {
        let options = TableOptions::default();
        assert!(!options.must_follow_suit);
        assert_eq!(options.first_lead, FirstLead::DealerRight);
        assert_eq!(options.target_score, 11);
        assert_eq!(options.validate(), Ok(()));
        let zero = TableOptions {
            target_score: 0,
            ..options
        };
        assert!(zero.validate().is_err());
    }
}
