//! Seats and the direction of play.
//!
//! Seats are numbered 0 to 4 clockwise around the table, as a client draws them. Play,
//! the auction and the deal all go counter-clockwise, to each player's right, so the
//! seat after `s` is `(s + 4) % 5`: 0 → 4 → 3 → 2 → 1 → 0. [`next_seat`] is the only
//! place that knows this.

/// Players at a table.
pub const SEATS: u8 = 5;

/// The seat that plays after `seat`: the one to its right, `(seat + 4) % 5`. The
/// dealer's right, who opens the auction, is `next_seat(dealer)`, and the deal passes
/// to `next_seat(dealer)` after each hand.
pub fn next_seat(seat: u8) -> u8 {
    (seat % SEATS + SEATS - 1) % SEATS
}

/// Every seat, 0 to 4.
pub(crate) fn seats() -> impl Iterator<Item = u8> {
    0..SEATS
}

/// `seat` as an index into the per-seat arrays of the state.
pub(crate) fn index(seat: u8) -> usize {
    usize::from(seat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn play_goes_to_the_right() {
        let order: Vec<u8> = std::iter::successors(Some(0), |&s| Some(next_seat(s)))
            .take(6)
            .collect();
        assert_eq!(order, [0, 4, 3, 2, 1, 0]);
    }
}
