//! Bids and what makes one beat another.
//!
//! A bid names the rank of the card the bidder will call; a lower rank (in trick
//! strength) is a bolder bid, because the caller then plays with a weaker partner card.
//! Below the two nothing is lower, so from there on bids raise the point target
//! instead: a plain Two means 61 points, and `{"rank": 2, "points": p}` means `p`. All
//! bids therefore sit on one ladder of [`level`]s:
//!
//! | bid | level |
//! |---|---|
//! | ace, 3, king, horse, jack, 7, 6, 5, 4 | 0 to 8 |
//! | two (for 61) | 9 |
//! | two for `p` points, 62 ≤ `p` ≤ 120 | `p - 52` (10 to 68) |
//!
//! and a bid must stand strictly higher on it than the highest bid so far.

use std::fmt;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use crate::card::{RANKS_BY_STRENGTH, TOTAL_POINTS, is_rank, rank_name, rank_strength};
use crate::error::RuleError;

/// The points a caller needs to win a hand when no higher target was bid.
pub const MIN_TARGET: u8 = 61;
/// The highest point target: all the points in the deck.
pub const MAX_TARGET: u8 = TOTAL_POINTS;

/// One turn of the auction. On the wire: `{"rank": 1..10}`, `{"rank": 2, "points":
/// 61..120}` or `{"pass": true}`; anything else is refused when deserialized.
///
/// A bid must stand strictly higher than the highest so far on this ladder
/// ([`bid_level`](crate::bid_level)):
///
/// | bid | level |
/// |---|---|
/// | ace, 3, king, horse, jack, 7, 6, 5, 4 | 0 to 8 |
/// | two (for 61) | 9 |
/// | two for `p` points, 62 ≤ `p` ≤ 120 | `p - 52` (10 to 68) |
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "UncheckedBid")]
pub enum Bid {
    /// Names the rank of the partner card; `points` raises the target and is only
    /// allowed with rank 2. `{"rank": 2}` and `{"rank": 2, "points": 61}` are the same
    /// bid.
    Rank {
        /// 1 (ace) to 10 (king).
        rank: u8,
        /// The point target, 61 to 120, with a Two only.
        points: Option<u8>,
    },
    /// Leaves the auction for the rest of the deal.
    Pass,
}

impl Bid {
    /// A bid of `rank` without a point target.
    pub fn rank(rank: u8) -> Bid {
        Bid::Rank { rank, points: None }
    }

    /// A Two with a point target.
    pub fn two_for(points: u8) -> Bid {
        Bid::Rank {
            rank: 2,
            points: Some(points),
        }
    }

    /// Checks a bid on its own: a rank in `1..=10`, and points only with a Two and only
    /// in `61..=120`. Passing is always well formed.
    pub fn check(&self) -> Result<(), String> {
        match *self {
            Bid::Pass => Ok(()),
            Bid::Rank { rank, .. } if !is_rank(rank) => {
                Err(format!("rank must be 1 to 10, got {rank}"))
            }
            Bid::Rank {
                rank,
                points: Some(points),
            } => {
                if rank != 2 {
                    Err("points can only be bid with a two".to_owned())
                } else if !(MIN_TARGET..=MAX_TARGET).contains(&points) {
                    Err(format!(
                        "points must be {MIN_TARGET} to {MAX_TARGET}, got {points}"
                    ))
                } else {
                    Ok(())
                }
            }
            Bid::Rank { points: None, .. } => Ok(()),
        }
    }

    /// The points the caller's side needs if this bid wins the auction: its target, or
    /// 61. `None` for a pass.
    pub fn target(&self) -> Option<u8> {
        match *self {
            Bid::Rank { points, .. } => Some(points.unwrap_or(MIN_TARGET)),
            Bid::Pass => None,
        }
    }

    /// The rank named, `None` for a pass.
    pub fn named_rank(&self) -> Option<u8> {
        match *self {
            Bid::Rank { rank, .. } => Some(rank),
            Bid::Pass => None,
        }
    }
}

impl fmt::Display for Bid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Bid::Pass => f.write_str("pass"),
            Bid::Rank {
                rank,
                points: Some(points),
            } => write!(f, "{} for {points}", rank_name(rank)),
            Bid::Rank { rank, points: None } => f.write_str(&rank_name(rank)),
        }
    }
}

impl Serialize for Bid {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            Bid::Pass => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("pass", &true)?;
                map.end()
            }
            Bid::Rank { rank, points } => {
                let mut map = serializer.serialize_map(Some(1 + usize::from(points.is_some())))?;
                map.serialize_entry("rank", &rank)?;
                if let Some(points) = points {
                    map.serialize_entry("points", &points)?;
                }
                map.end()
            }
        }
    }
}

/// The wire form of a bid before its shape is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UncheckedBid {
    rank: Option<u8>,
    points: Option<u8>,
    pass: Option<bool>,
}

impl TryFrom<UncheckedBid> for Bid {
    type Error = String;

    fn try_from(raw: UncheckedBid) -> Result<Self, Self::Error> {
        let bid = match raw {
            UncheckedBid {
                pass: Some(true),
                rank: None,
                points: None,
            } => Bid::Pass,
            UncheckedBid {
                pass: None,
                rank: Some(rank),
                points,
            } => Bid::Rank { rank, points },
            _ => {
                return Err(
                    r#"a bid is {"rank": 1..10}, {"rank": 2, "points": 61..120} or {"pass": true}"#
                        .to_owned(),
                );
            }
        };
        bid.check()?;
        Ok(bid)
    }
}

/// A bid and who made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BidRecord {
    /// The bidder.
    pub seat: u8,
    /// What they bid.
    pub bid: Bid,
}

/// Where a well-formed, non-pass bid stands on the auction ladder (see the module
/// docs); `None` for a pass or a malformed bid.
pub fn level(bid: &Bid) -> Option<u8> {
    bid.check().ok()?;
    match *bid {
        Bid::Pass => None,
        Bid::Rank { rank: 2, points } => Some(9 + points.unwrap_or(MIN_TARGET) - MIN_TARGET),
        Bid::Rank { rank, .. } => Some(9 - rank_strength(rank)?),
    }
}

/// Checks that `bid` may follow `highest` (the highest bid so far, if any). Passing is
/// always allowed.
pub(crate) fn check_raise(highest: Option<&Bid>, bid: &Bid) -> Result<(), RuleError> {
    bid.check().map_err(RuleError::InvalidBid)?;
    let (Some(highest), Some(new)) = (highest, level(bid)) else {
        return Ok(());
    };
    match level(highest) {
        Some(old) if new <= old => Err(RuleError::InvalidBid(format!(
            "{bid} does not beat {highest}: name a lower rank, or after a two a higher target"
        ))),
        _ => Ok(()),
    }
}

/// Every bid that beats `highest`, weakest first and each level once (a plain Two
/// rather than a Two for 61), followed by the pass.
pub(crate) fn raises(highest: Option<&Bid>) -> Vec<Bid> {
    let floor = highest.and_then(level);
    let beats = |bid: &Bid| match (floor, level(bid)) {
        (Some(old), Some(new)) => new > old,
        _ => true,
    };
    let ranks = RANKS_BY_STRENGTH.iter().map(|&rank| Bid::rank(rank));
    let targets = (MIN_TARGET + 1..=MAX_TARGET).map(Bid::two_for);
    ranks
        .chain(targets)
        .filter(beats)
        .chain(std::iter::once(Bid::Pass))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ladder_runs_from_the_ace_to_two_for_120() {
        let levels: Vec<u8> = raises(None).iter().filter_map(level).collect();
        assert_eq!(levels, (0..=68).collect::<Vec<u8>>());
        assert_eq!(level(&Bid::two_for(61)), level(&Bid::rank(2)));
        assert_eq!(level(&Bid::two_for(121)), None);
        assert_eq!(
            level(&Bid::Rank {
                rank: 5,
                points: Some(70)
            }),
            None
        );
    }

    #[test]
    fn nothing_beats_two_for_120() {
        assert_eq!(raises(Some(&Bid::two_for(120))), [Bid::Pass]);
        assert_eq!(
            raises(Some(&Bid::rank(4))),
            std::iter::once(Bid::rank(2))
                .chain((62..=120).map(Bid::two_for))
                .chain([Bid::Pass])
                .collect::<Vec<_>>()
        );
    }
}
