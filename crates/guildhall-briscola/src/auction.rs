//! The auction and the call: from the first bid to the partner card.
//!
//! Bidding goes round in play order from the dealer's right, skipping seats that have
//! passed. It ends when one seat is left with the highest bid standing (the caller);
//! if all five pass, the same dealer deals again. A seat left alone before anyone has
//! bid still has to bid or pass: a lone survivor with no bid has nothing to call.

use crate::action::Action;
use crate::bid::{Bid, BidRecord, check_raise, raises};
use crate::card::{Card, Suit, rank_name};
use crate::error::RuleError;
use crate::events::{Event, Phase};
use crate::options::FirstLead;
use crate::seat::{index, next_seat, seats};
use crate::state::{Call, Contract, State};

impl State {
    /// `seat`, whose turn it is in the auction, bids or passes.
    pub(crate) fn bid(
        &mut self,
        seat: u8,
        bid: Bid,
        events: &mut Vec<Event>,
    ) -> Result<(), RuleError> {
        check_raise(self.highest_bid().map(|record| &record.bid), &bid)?;
        self.bids.push(BidRecord { seat, bid });
        if bid == Bid::Pass {
            self.passed[index(seat)] = true;
        }
        events.push(Event::BidMade { seat, bid });

        let still_in = seats().filter(|&s| !self.passed[index(s)]).count();
        let highest = self.highest_bid().copied();
        match (still_in, highest) {
            (0, _) => {
                events.push(Event::Redeal {
                    dealer: self.dealer,
                });
                self.deal(events);
            }
            // The highest bidder never passes while highest (their turn only comes
            // back after someone outbids them), so the last seat in holds the bid.
            (1, Some(highest)) => self.win_auction(highest, events),
            _ => self.turn = Some(self.next_bidder(seat)),
        }
        Ok(())
    }

    /// The first seat after `seat` in play order that has not passed; `seat` itself if
    /// every other seat has.
    fn next_bidder(&self, seat: u8) -> u8 {
        let mut next = next_seat(seat);
        while next != seat && self.passed[index(next)] {
            next = next_seat(next);
        }
        next
    }

    fn win_auction(&mut self, highest: BidRecord, events: &mut Vec<Event>) {
        let BidRecord { seat: caller, bid } = highest;
        self.contract = Some(Contract {
            caller,
            bid,
            called: None,
        });
        self.phase = Phase::Calling;
        self.turn = Some(caller);
        events.push(Event::AuctionWon {
            seat: caller,
            bid,
            target: bid.target().unwrap_or(crate::bid::MIN_TARGET),
        });
        events.push(Event::PhaseChange {
            phase: Phase::Calling,
        });
    }

    /// The caller restates the rank their bid fixed.
    pub(crate) fn call_rank(
        &mut self,
        seat: u8,
        rank: u8,
        events: &mut Vec<Event>,
    ) -> Result<(), RuleError> {
        let fixed = self.contract_rank()?;
        if rank != fixed {
            return Err(RuleError::InvalidAction(format!(
                "your bid fixed the partner card's rank: {}",
                rank_name(fixed)
            )));
        }
        events.push(Event::PartnerRankCalled { seat, rank });
        Ok(())
    }

    /// The caller names the partner card's suit, which becomes trump, and play begins.
    pub(crate) fn call_suit(
        &mut self,
        seat: u8,
        suit: Suit,
        events: &mut Vec<Event>,
    ) -> Result<(), RuleError> {
        let card = Card {
            suit,
            rank: self.contract_rank()?,
        };
        let partner = seats()
            .find(|&s| self.hands[index(s)].contains(&card))
            .ok_or_else(|| RuleError::InvalidAction(format!("nobody holds the {card}")))?;
        let first_lead = match self.options.first_lead {
            FirstLead::AuctionWinner => seat,
            FirstLead::DealerRight => next_seat(self.dealer),
        };
        if let Some(contract) = &mut self.contract {
            contract.called = Some(Call {
                card,
                partner,
                revealed: false,
            });
        }
        self.phase = Phase::Playing;
        self.turn = Some(first_lead);
        events.push(Event::PartnerCalled { seat, card });
        events.push(Event::PhaseChange {
            phase: Phase::Playing,
        });
        Ok(())
    }

    fn contract_rank(&self) -> Result<u8, RuleError> {
        self.contract
            .as_ref()
            .and_then(|contract| contract.bid.named_rank())
            .ok_or_else(|| RuleError::InvalidAction("the auction has not been won".to_owned()))
    }

    /// What the seat whose turn it is may do in the auction or the call.
    pub(crate) fn auction_actions(&self) -> Vec<Action> {
        match self.phase {
            Phase::Auction => raises(self.highest_bid().map(|record| &record.bid))
                .into_iter()
                .map(Action::Bid)
                .collect(),
            Phase::Calling => {
                let Ok(rank) = self.contract_rank() else {
                    return Vec::new();
                };
                std::iter::once(Action::CallPartnerRank { rank })
                    .chain(Suit::ALL.map(|suit| Action::CallPartnerSuit { suit }))
                    .collect()
            }
            _ => Vec::new(),
        }
    }
}
