//! The crate's errors: why an action was refused ([`RuleError`], whose codes are the
//! platform's `invalid_*` codes) and why a table could not be set up ([`SetupError`]).

use thiserror::Error;

/// Why [`Game::apply`](crate::Game::apply) refused an action. A refused action changes
/// nothing. [`RuleError::code`] is the code of the platform's error catalogue; the
/// message is for people.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum RuleError {
    /// Someone acted who may not act now: not their turn, they have already passed, or
    /// the seat is not 0 to 4.
    #[error("it is not your turn")]
    InvalidTurn,
    /// A bid that is malformed or does not beat the highest bid.
    #[error("invalid bid: {0}")]
    InvalidBid(String),
    /// A card that is not in the player's hand, not a card at all, or not playable now.
    #[error("invalid card: {0}")]
    InvalidCard(String),
    /// An action the current phase does not take, or one whose content is wrong for
    /// reasons other than a bid or a card.
    #[error("invalid action: {0}")]
    InvalidAction(String),
}

impl RuleError {
    /// The platform error code: `invalid_turn`, `invalid_bid`, `invalid_card` or
    /// `invalid_action`.
    pub fn code(&self) -> &'static str {
        match self {
            RuleError::InvalidTurn => "invalid_turn",
            RuleError::InvalidBid(_) => "invalid_bid",
            RuleError::InvalidCard(_) => "invalid_card",
            RuleError::InvalidAction(_) => "invalid_action",
        }
    }
}

/// Why a game could not be created or loaded.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum SetupError {
    /// [`TableOptions::validate`](crate::TableOptions::validate) refused the options.
    #[error("invalid table options: {0}")]
    InvalidOptions(String),
    /// [`Game::with_deal`](crate::Game::with_deal) was given hands that are not the 40
    /// cards, eight to each seat.
    #[error("invalid deal: {0}")]
    InvalidDeal(String),
    /// A stored game breaks the invariants of the state: it was not written by this
    /// crate, or was damaged.
    #[error("corrupt game state: {0}")]
    CorruptState(String),
}
