//! The lobby's random stream and the spawn points drawn from it.
//!
//! SplitMix64 (`guildhall-rng`) because the spec names it: a client or a
//! replay tool in any language can reproduce the spawn points from the seed with a
//! dozen lines. Only spawns draw from it, in the order they happen, so the stream's
//! position is part of the game state.

use std::f32::consts::TAU;

use crate::rules::{Rules, SPAWN_MARGIN};

pub use guildhall_rng::SplitMix64;

/// Where and facing which way a jet (re)spawns.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpawnPoint {
    /// Uniform in `[100, width - 100]`.
    pub x: f32,
    /// Uniform in `[100, height - 100]`.
    pub y: f32,
    /// Uniform in `[0, 2π)`.
    pub angle: f32,
}

/// Draws a spawn point: three values from the stream, for x, y and angle in that order,
/// scaled in `f64` and only then rounded to `f32`.
pub fn spawn_point(rng: &mut SplitMix64, rules: &Rules) -> SpawnPoint {
    let margin = f64::from(SPAWN_MARGIN);
    let x = margin + rng.next_unit() * (f64::from(rules.width) - 2.0 * margin);
    let y = margin + rng.next_unit() * (f64::from(rules.height) - 2.0 * margin);
    let angle = rng.next_unit() * std::f64::consts::TAU;
    SpawnPoint {
        x: x as f32,
        y: y as f32,
        angle: wrap_angle(angle as f32),
    }
}

/// `angle` brought into `[0, 2π)`. Angles are kept wrapped so that their `f32`
/// precision does not decay as a jet circles; directions are unchanged.
pub(crate) fn wrap_angle(angle: f32) -> f32 {
    let wrapped = angle.rem_euclid(TAU);
    // rem_euclid of a tiny negative angle rounds up to exactly TAU, and rounding an
    // f64 angle just below 2π to f32 can land on TAU too.
    if wrapped >= TAU { 0.0 } else { wrapped }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spawn_points_stay_in_their_ranges() {
        let rules = Rules::default();
        let mut rng = SplitMix64::new(7);
        for _ in 0..10_000 {
            let p = spawn_point(&mut rng, &rules);
            assert!((100.0..=1900.0).contains(&p.x), "{p:?}");
            assert!((100.0..=1400.0).contains(&p.y), "{p:?}");
            assert!((0.0..TAU).contains(&p.angle), "{p:?}");
        }
    }

    #[test]
    fn angles_wrap_into_one_turn() {
        assert_eq!(wrap_angle(0.0), 0.0);
        assert!((wrap_angle(-0.5) - (TAU - 0.5)).abs() < 1e-6);
        assert!((wrap_angle(TAU + 0.5) - 0.5).abs() < 1e-6);
        assert_eq!(wrap_angle(-1e-9), 0.0);
        assert_eq!(wrap_angle(TAU), 0.0);
    }
}
