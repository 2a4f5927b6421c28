//! The play of the hand: cards to tricks, tricks to the winner, the last trick to the
//! score; and reordering a hand, which any seat may do at any time it holds cards.

use crate::action::Action;
use crate::card::Card;
use crate::error::RuleError;
use crate::events::{Event, Phase};
use crate::scoring::score;
use crate::seat::{index, next_seat, seats};
use crate::state::{State, TRICKS_PER_HAND};
use crate::trick::{CompletedTrick, PlayedCard, may_play, trick_points, trick_winner};

impl State {
    /// `seat`, whose turn it is, plays `card`.
    pub(crate) fn play(
        &mut self,
        seat: u8,
        card: Card,
        events: &mut Vec<Event>,
    ) -> Result<(), RuleError> {
        let hand = &self.hands[index(seat)];
        let Some(position) = hand.iter().position(|held| *held == card) else {
            return Err(RuleError::InvalidCard(format!(
                "the {card} is not in your hand"
            )));
        };
        if !may_play(hand, &self.trick, &card, self.options.must_follow_suit) {
            let led = self.trick.first().map(|p| p.card.suit);
            return Err(RuleError::InvalidCard(format!(
                "you hold {}, so you must follow suit",
                led.map_or("the suit led", |suit| suit.name())
            )));
        }
        let Some(call) = self.call().copied() else {
            return Err(RuleError::InvalidAction(
                "no card has been called".to_owned(),
            ));
        };

        self.hands[index(seat)].remove(position);
        self.trick.push(PlayedCard { seat, card });
        events.push(Event::TrickPlayed { seat, card });
        events.push(Event::HandUpdate { seat });
        if card == call.card {
            if let Some(called) = self.contract.as_mut().and_then(|c| c.called.as_mut()) {
                called.revealed = true;
            }
            let alone = self.contract.is_some_and(|c| c.caller == seat);
            events.push(Event::PartnerRevealed { seat, alone });
        }

        if self.trick.len() == 5 {
            self.finish_trick(call.card, events);
        } else {
            self.turn = Some(next_seat(seat));
        }
        Ok(())
    }

    fn finish_trick(&mut self, called: Card, events: &mut Vec<Event>) {
        let cards = std::mem::take(&mut self.trick);
        // A full trick is never empty, so there is always a winner.
        let winner = trick_winner(&cards, called.suit).unwrap_or_default();
        let points = trick_points(&cards);
        events.push(Event::TrickWon {
            seat: winner,
            points,
            trick: cards.clone(),
        });
        self.tricks.push(CompletedTrick {
            cards,
            winner,
            points,
        });
        if self.tricks.len() == TRICKS_PER_HAND {
            self.finish_hand(events);
        } else {
            self.turn = Some(winner);
        }
    }

    fn finish_hand(&mut self, events: &mut Vec<Event>) {
        let Some(contract) = self.contract else {
            return;
        };
        let Some(call) = contract.called else {
            return;
        };
        let caller_points = self
            .tricks
            .iter()
            .filter(|t| t.winner == contract.caller || t.winner == call.partner)
            .map(|t| t.points)
            .sum();
        let result = score(
            self.hand_number,
            self.dealer,
            contract.caller,
            call.partner,
            contract.bid,
            call.card,
            caller_points,
        );
        for seat in seats() {
            let i = index(seat);
            self.scores[i] = self.scores[i].saturating_add(result.match_points[i]);
        }
        self.last_hand = Some(result.clone());
        self.turn = None;
        events.push(Event::HandScored {
            result,
            scores: self.scores,
        });

        let best = self.scores.iter().copied().max().unwrap_or_default();
        if best >= self.options.target_score {
            self.phase = Phase::MatchOver;
            self.winners = seats().filter(|&s| self.scores[index(s)] == best).collect();
            events.push(Event::PhaseChange {
                phase: Phase::MatchOver,
            });
            events.push(Event::MatchOver {
                scores: self.scores,
                winners: self.winners.clone(),
            });
        } else {
            self.phase = Phase::HandOver;
            events.push(Event::PhaseChange {
                phase: Phase::HandOver,
            });
        }
    }

    /// Deals the hand after a scored one, the deal passing to the right.
    pub(crate) fn deal_next_hand(&mut self, events: &mut Vec<Event>) -> Result<(), RuleError> {
        if self.phase != Phase::HandOver {
            return Err(RuleError::InvalidAction(format!(
                "the next hand is dealt after a hand is scored, not during the {} phase",
                self.phase.name()
            )));
        }
        self.dealer = next_seat(self.dealer);
        self.hand_number = self.hand_number.saturating_add(1);
        self.deal(events);
        Ok(())
    }

    /// `seat` rearranges its hand.
    pub(crate) fn reorder(
        &mut self,
        seat: u8,
        order: Vec<Card>,
        events: &mut Vec<Event>,
    ) -> Result<(), RuleError> {
        if !matches!(self.phase, Phase::Auction | Phase::Calling | Phase::Playing) {
            return Err(RuleError::InvalidAction(
                "there is no hand to reorder".to_owned(),
            ));
        }
        let hand = &self.hands[index(seat)];
        let mut sorted = order.clone();
        sorted.sort_unstable();
        sorted.dedup();
        let permutation = order.len() == hand.len()
            && sorted.len() == order.len()
            && order.iter().all(|card| hand.contains(card));
        if !permutation {
            return Err(RuleError::InvalidAction(
                "the new order must hold exactly the cards in your hand".to_owned(),
            ));
        }
        self.hands[index(seat)] = order;
        events.push(Event::HandUpdate { seat });
        Ok(())
    }

    /// The cards the seat whose turn it is may play.
    pub(crate) fn play_actions(&self, seat: u8) -> Vec<Action> {
        if self.phase != Phase::Playing {
            return Vec::new();
        }
        let hand = &self.hands[index(seat)];
        hand.iter()
            .filter(|card| may_play(hand, &self.trick, card, self.options.must_follow_suit))
            .map(|&card| Action::Play { card })
            .collect()
    }
}
