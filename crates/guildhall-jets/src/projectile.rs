//! Projectiles: straight flight, a limited life, and the hit test.
//!
//! Life is counted in moves: a projectile made with a lifetime of `n` ticks moves on
//! each of the next `n` ticks (starting with the tick that fired it), so it is in
//! exactly `n` snapshots, and vanishes on the tick after its last move. It vanishes
//! sooner when a move takes it out of the arena or into a jet.

use serde::Serialize;

use crate::jet::{Jet, JetId};
use crate::rules::HIT_RADIUS;

/// A projectile in flight.
///
/// Serializes only the public fields: the state a snapshot shows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Projectile {
    /// Unique within the world, increasing in firing order: the order hits are resolved
    /// in.
    pub id: u32,
    /// The jet that fired it. It may have left the world since, in which case a kill
    /// scores for nobody.
    pub owner: JetId,
    /// Position, x.
    pub x: f32,
    /// Position, y.
    pub y: f32,
    /// Velocity, x, in units per second.
    pub vx: f32,
    /// Velocity, y, in units per second.
    pub vy: f32,
    /// Moves left.
    #[serde(skip)]
    pub(crate) ttl: u32,
}

impl Projectile {
    /// How many more ticks the projectile will move (0: it vanishes next tick).
    pub fn ttl(&self) -> u32 {
        self.ttl
    }

    /// One tick of flight. Returns false if the projectile is gone: its life was over,
    /// or the move took it out of the `width` × `height` arena (its border counts as
    /// inside).
    pub(crate) fn advance(&mut self, dt: f32, width: f32, height: f32) -> bool {
        if self.ttl == 0 {
            return false;
        }
        self.ttl -= 1;
        self.x += self.vx * dt;
        self.y += self.vy * dt;
        (0.0..=width).contains(&self.x) && (0.0..=height).contains(&self.y)
    }

    /// Whether the projectile, where it is now, hits `jet`: a live jet other than its
    /// owner whose centre is within 16 units.
    pub(crate) fn hits(&self, jet: &Jet) -> bool {
        let (dx, dy) = (jet.x - self.x, jet.y - self.y);
        jet.alive && jet.id != self.owner && dx * dx + dy * dy <= HIT_RADIUS * HIT_RADIUS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn projectile(x: f32, y: f32, vx: f32, vy: f32, ttl: u32) -> Projectile {
        Projectile {
            id: 1,
            owner: 1,
            x,
            y,
            vx,
            vy,
            ttl,
        }
    }

    #[test]
    fn lives_for_its_lifetime_in_moves() {
        let mut p = projectile(100.0, 100.0, 30.0, 0.0, 3);
        assert!(p.advance(1.0 / 30.0, 2000.0, 1500.0));
        assert!(p.advance(1.0 / 30.0, 2000.0, 1500.0));
        assert!(p.advance(1.0 / 30.0, 2000.0, 1500.0));
        assert_eq!((p.x, p.ttl()), (103.0, 0));
        assert!(!p.advance(1.0 / 30.0, 2000.0, 1500.0));
        assert_eq!(p.x, 103.0, "an expired projectile does not move again");
    }

    #[test]
    fn vanishes_when_it_leaves_the_arena() {
        let mut p = projectile(1990.0, 750.0, 300.0, 0.0, 36);
        assert!(p.advance(1.0 / 30.0, 2000.0, 1500.0)); // x = 2000: on the border
        assert!(!p.advance(1.0 / 30.0, 2000.0, 1500.0)); // x = 2010
        let mut p = projectile(5.0, 5.0, 0.0, -300.0, 36);
        assert!(!p.advance(1.0 / 30.0, 2000.0, 1500.0));
    }

    #[test]
    fn hits_live_jets_within_16_but_never_its_owner() {
        use crate::rng::SpawnPoint;
        let p = projectile(500.0, 500.0, 0.0, 0.0, 1);
        let at = |x, y| SpawnPoint { x, y, angle: 0.0 };
        assert!(p.hits(&Jet::new(2, at(516.0, 500.0))));
        assert!(!p.hits(&Jet::new(2, at(516.1, 500.0))));
        assert!(!p.hits(&Jet::new(1, at(500.0, 500.0))), "owner");
        let mut dead = Jet::new(2, at(500.0, 500.0));
        dead.alive = false;
        assert!(!p.hits(&dead));
    }
}
