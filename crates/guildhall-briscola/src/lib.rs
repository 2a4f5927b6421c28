//! Briscola chiamata for five players as pure rules: the deal, the auction, the call of
//! the partner card, eight tricks, the score and the match, with role-aware views. No
//! I/O, no async, no clock. The tables worker owns one [`Game`] per table, feeds it
//! player actions with [`Game::apply`], broadcasts the returned [`Event`]s, sends each
//! player their [`Game::player_view`] and observers the [`Game::observer_view`], and
//! persists the game: it round-trips through serde, and the same actions applied to a
//! saved game reach the same state (the worker saves snapshots and replays the actions
//! logged since).
//!
//! # The rules
//!
//! **Cards.** The 40-card Italian deck: suits coppe, denari, spade and bastoni; ranks 1
//! to 10, where 1 is the ace, 8 the jack (fante), 9 the horse (cavallo) and 10 the
//! king (re). Card points: ace 11, three 10, king 4, horse 3, jack 2, the rest 0; 120
//! in the deck. Within a suit, A > 3 > K > horse > J > 7 > 6 > 5 > 4 > 2.
//!
//! **Seats and direction.** Seats 0 to 4 are numbered clockwise; everything goes
//! counter-clockwise, to the right: the seat after `s` is `(s + 4) % 5`
//! ([`next_seat`]). The dealer's right, `next_seat(dealer)`, gets the first packet of
//! eight cards, opens the auction and (by default) leads the first trick. The first
//! hand is dealt by seat 0 and the deal passes to the right after every scored hand.
//!
//! **Auction.** From the dealer's right, each seat in turn bids or passes; a pass is
//! final for the deal. A bid names a rank strictly lower in trick strength than the
//! highest bid so far (ace, then 3, king, ... down to 2). Once someone has bid a two,
//! bids raise a point target instead, from 62 to 120, each above the last (a plain
//! two is a target of 61). [`Bid`] shows the whole ladder. When
//! all but one have passed and a bid stands, that seat is the caller. A seat left
//! alone before anyone has bid must still bid or pass. If all five pass, the **same
//! dealer** deals again from a fresh shuffle ([`Event::Redeal`]); a passed-out deal is
//! not a hand and scores nothing.
//!
//! **Call.** The caller may restate the rank (`call-partner-rank`, optional, must be
//! the winning bid's rank) and must name a suit (`call-partner-suit`). That card is the
//! partner card and its suit is briscola (trump) for the hand. Whoever holds it is the
//! secret partner, revealed only when the card is played. Calling a card in one's own
//! hand is allowed: the caller then plays alone against four.
//!
//! **Play.** Eight tricks of five cards. Any card may be played (unless the table
//! option [`TableOptions::must_follow_suit`] is on: then a player holding the suit led
//! must play it). The highest trump wins the trick, else the highest card of the suit
//! led; the winner leads the next. [`TableOptions::first_lead`] chooses who leads the
//! first trick: the dealer's right (default) or the caller.
//!
//! **Score.** The caller's side (caller and partner, or the caller alone) wins the hand
//! with at least its target in card points: 61, or the target bid. Match points:
//! caller +2, partner +1, each opponent −1; alone, caller +4 and each opponent −1.
//! Doubled for a cappotto (one side took all 120 card points); every sign flipped when
//! the caller's side loses. Match points always sum to zero. After a hand the worker
//! calls [`Game::deal_next_hand`]; when any seat reaches
//! [`TableOptions::target_score`] (default 11) the match is over and the seats with the
//! most match points win.
//!
//! # Example
//!
//! ```
//! use guildhall_briscola::{Action, Bid, Event, Game, Phase, Suit, TableOptions};
//!
//! let mut game = Game::new(TableOptions::default(), 42);
//! assert_eq!((game.dealer(), game.turn()), (0, Some(4)));
//!
//! // Seat 4 bids the three; the others pass.
//! game.apply(4, Action::Bid(Bid::rank(3))).unwrap();
//! for seat in [3, 2, 1] {
//!     game.apply(seat, Action::Bid(Bid::Pass)).unwrap();
//! }
//! let events = game.apply(0, Action::Bid(Bid::Pass)).unwrap();
//! assert!(events.contains(&Event::PhaseChange { phase: Phase::Calling }));
//!
//! // Seat 4 calls the three of spade: spade is trump.
//! game.apply(4, Action::CallPartnerSuit { suit: Suit::Spade }).unwrap();
//! assert_eq!(game.phase(), Phase::Playing);
//! let view = game.observer_view();
//! assert_eq!(view.trump, Some(Suit::Spade));
//! assert_eq!(view.partner, None); // secret until the three of spade is played
//!
//! // Errors leave the game as it was.
//! let before = game.clone();
//! let error = game.apply(2, Action::Bid(Bid::Pass)).unwrap_err();
//! assert_eq!(error.code(), "invalid_action");
//! assert_eq!(game, before);
//! ```

mod action;
mod auction;
mod bid;
mod card;
mod error;
mod events;
mod game;
mod options;
mod play;
mod rng;
mod scoring;
mod seat;
mod state;
mod trick;
mod view;

pub use action::Action;
pub use bid::{Bid, BidRecord, MAX_TARGET, MIN_TARGET, level as bid_level};
pub use card::{
    ACE, Card, HORSE, JACK, KING, RANKS_BY_STRENGTH, Suit, TOTAL_POINTS, deck, rank_name,
    rank_points, rank_strength,
};
pub use error::{RuleError, SetupError};
pub use events::{Event, Phase};
pub use game::Game;
pub use options::{DEFAULT_TARGET_SCORE, FirstLead, TableOptions};
pub use rng::SplitMix64;
pub use scoring::{HandResult, match_points};
pub use seat::{SEATS, next_seat};
pub use state::{HAND_SIZE, TRICKS_PER_HAND};
pub use trick::{CompletedTrick, PlayedCard, trick_points, trick_winner};
pub use view::View;
