//! A jet and its per-tick physics: "Game rules", jet steps 1–4 and firing.
//!
//! The world calls [`Jet::apply_controls`] (turn, thrust, fire) for every live jet
//! before it calls [`Jet::fly`] (drag, speed cap, move, walls) for any, as the spec's
//! tick order says. So a shot leaves from where the jet was at the start of the tick,
//! along its new heading, carrying its velocity after thrust but before drag.

use serde::{Deserialize, Serialize};

use crate::rng::{SpawnPoint, wrap_angle};
use crate::rules::{
    DRAG, HIT_DAMAGE, JET_RADIUS, MAX_HEALTH, MAX_SPEED, MUZZLE_OFFSET, PROJECTILE_SPEED, THRUST,
    TURN_RATE,
};

/// A jet's id within its world: 1 for the first jet added, never reused.
pub type JetId = u32;

/// The controls a player holds. They stay in force until the player changes them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Controls {
    /// Accelerate along the heading.
    pub thrust: bool,
    /// -1 turns anticlockwise (the angle decreases), 1 clockwise, 0 not at all. Any
    /// other value counts as its sign.
    pub turn: i8,
    /// Shoot whenever the cooldown allows.
    pub fire: bool,
}

impl Controls {
    /// The same controls with `turn` clamped to `-1..=1`.
    pub fn normalized(self) -> Controls {
        Controls {
            turn: self.turn.clamp(-1, 1),
            ..self
        }
    }
}

/// A jet. Position and velocity are in arena units (per second); the angle is in
/// radians in `[0, 2π)`, 0 along +x, growing clockwise (towards +y, which points down).
///
/// Serializes only the public fields: the state a snapshot shows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Jet {
    /// The jet's id.
    pub id: JetId,
    /// Centre, x. Within `[16, width - 16]` for a jet that has flown.
    pub x: f32,
    /// Centre, y. Within `[16, height - 16]` for a jet that has flown.
    pub y: f32,
    /// Heading in radians.
    pub angle: f32,
    /// Velocity, x.
    pub vx: f32,
    /// Velocity, y.
    pub vy: f32,
    /// 0 to 100; 0 exactly when dead.
    pub health: u8,
    /// False between death and respawn. A dead jet stays where it died, still, and
    /// cannot be hit, steer or fire.
    pub alive: bool,
    /// Kills this match.
    pub score: u32,
    /// Deaths this match.
    pub deaths: u32,
    /// Ticks until the jet may fire again; counts down once per tick of play.
    #[serde(skip)]
    pub(crate) cooldown: u32,
    /// The tick at which a dead jet respawns; `None` while alive.
    #[serde(skip)]
    pub(crate) respawn_at: Option<u64>,
    /// The controls last set, already normalized. Kept through death, respawn and
    /// intermission: a player holding thrust keeps thrusting once play resumes.
    #[serde(skip)]
    pub(crate) controls: Controls,
}

/// A projectile about to be launched: where and how fast.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Shot {
    pub x: f32,
    pub y: f32,
    pub vx: f32,
    pub vy: f32,
}

impl Jet {
    /// A new jet at `at`, alive, still, with full health and nothing scored.
    pub(crate) fn new(id: JetId, at: SpawnPoint) -> Jet {
        let mut jet = Jet {
            id,
            x: 0.0,
            y: 0.0,
            angle: 0.0,
            vx: 0.0,
            vy: 0.0,
            health: 0,
            alive: false,
            score: 0,
            deaths: 0,
            cooldown: 0,
            respawn_at: None,
            controls: Controls::default(),
        };
        jet.respawn(at);
        jet
    }

    /// Ticks until the jet may fire again (0: it fires this tick if `fire` is held).
    pub fn cooldown(&self) -> u32 {
        self.cooldown
    }

    /// For a dead jet, the tick on which it respawns.
    pub fn respawn_at_tick(&self) -> Option<u64> {
        self.respawn_at
    }

    /// The controls in force, with `turn` normalized.
    pub fn controls(&self) -> Controls {
        self.controls
    }

    /// Back in play at `at`: full health, zero velocity and cooldown. Score and deaths
    /// are the match's business and stay.
    pub(crate) fn respawn(&mut self, at: SpawnPoint) {
        self.x = at.x;
        self.y = at.y;
        self.angle = at.angle;
        self.vx = 0.0;
        self.vy = 0.0;
        self.health = MAX_HEALTH;
        self.alive = true;
        self.cooldown = 0;
        self.respawn_at = None;
    }

    /// Steps 1 and 2 (turn, thrust), then firing: returns the shot if the jet fires
    /// this tick, with the cooldown restarted at `cooldown_ticks`.
    pub(crate) fn apply_controls(&mut self, dt: f32, cooldown_ticks: u32) -> Option<Shot> {
        let controls = self.controls;
        self.angle = wrap_angle(self.angle + f32::from(controls.turn) * TURN_RATE * dt);
        let (sin, cos) = self.angle.sin_cos();
        if controls.thrust {
            self.vx += cos * THRUST * dt;
            self.vy += sin * THRUST * dt;
        }
        // Counting down before the check makes the gap between two shots exactly
        // `cooldown_ticks` ticks.
        self.cooldown = self.cooldown.saturating_sub(1);
        if !controls.fire || self.cooldown > 0 {
            return None;
        }
        self.cooldown = cooldown_ticks;
        Some(Shot {
            x: self.x + cos * MUZZLE_OFFSET,
            y: self.y + sin * MUZZLE_OFFSET,
            vx: cos * PROJECTILE_SPEED + self.vx,
            vy: sin * PROJECTILE_SPEED + self.vy,
        })
    }

    /// Steps 3 and 4: drag, speed cap, move, and the walls of a `width` × `height`
    /// arena.
    pub(crate) fn fly(&mut self, dt: f32, width: f32, height: f32) {
        self.vx -= self.vx * DRAG * dt;
        self.vy -= self.vy * DRAG * dt;
        let speed = (self.vx * self.vx + self.vy * self.vy).sqrt();
        if speed > MAX_SPEED {
            let scale = MAX_SPEED / speed;
            self.vx *= scale;
            self.vy *= scale;
        }
        self.x += self.vx * dt;
        self.y += self.vy * dt;
        (self.x, self.vx) = clamp_axis(self.x, self.vx, width);
        (self.y, self.vy) = clamp_axis(self.y, self.vy, height);
    }

    /// One hit: 20 health less. Returns whether that killed the jet, in which case it
    /// is now dead (still, `deaths + 1`) until tick `respawn_at`.
    pub(crate) fn take_hit(&mut self, respawn_at: u64) -> bool {
        self.health = self.health.saturating_sub(HIT_DAMAGE);
        if self.health > 0 {
            return false;
        }
        self.alive = false;
        self.vx = 0.0;
        self.vy = 0.0;
        self.deaths = self.deaths.saturating_add(1);
        self.respawn_at = Some(respawn_at);
        true
    }
}

/// Keeps a centre coordinate within `[16, extent - 16]`; at a wall, a velocity pointing
/// into it becomes 0 while one pointing away is kept.
fn clamp_axis(position: f32, velocity: f32, extent: f32) -> (f32, f32) {
    let (low, high) = (JET_RADIUS, extent - JET_RADIUS);
    if position <= low {
        (low, if velocity < 0.0 { 0.0 } else { velocity })
    } else if position >= high {
        (high, if velocity > 0.0 { 0.0 } else { velocity })
    } else {
        (position, velocity)
    }
}

#[cfg(test)]
mod tests {
    use std::f32::consts::{FRAC_PI_2, PI};

    use super::*;

    const DT: f32 = 1.0 / 30.0;

    fn jet_at(x: f32, y: f32, angle: f32) -> Jet {
        Jet::new(7, SpawnPoint { x, y, angle })
    }

    fn hold(jet: &mut Jet, thrust: bool, turn: i8, fire: bool) {
        jet.controls = Controls { thrust, turn, fire }.normalized();
    }

    #[track_caller]
    fn close(actual: f32, expected: f64) {
        assert!(
            (f64::from(actual) - expected).abs() < 1e-4,
            "{actual} is not {expected}"
        );
    }

    #[test]
    fn turning_is_3_5_radians_per_second_clockwise() {
        let mut jet = jet_at(1000.0, 750.0, 0.0);
        hold(&mut jet, false, 1, false);
        jet.apply_controls(DT, 8);
        close(jet.angle, 3.5 / 30.0);

        let mut jet = jet_at(1000.0, 750.0, 0.0);
        hold(&mut jet, false, -1, false);
        jet.apply_controls(DT, 8);
        close(jet.angle, std::f64::consts::TAU - 3.5 / 30.0);
    }

    #[test]
    fn thrust_then_drag_then_move() {
        // Still at angle 0: v = 450 / 30 = 15, drag leaves 15 × 0.97 = 14.55, and the
        // jet moves 14.55 / 30 = 0.485.
        let mut jet = jet_at(1000.0, 750.0, 0.0);
        hold(&mut jet, true, 0, false);
        jet.apply_controls(DT, 8);
        close(jet.vx, 15.0);
        jet.fly(DT, 2000.0, 1500.0);
        close(jet.vx, 14.55);
        close(jet.vy, 0.0);
        close(jet.x, 1000.485);
        close(jet.y, 750.0);

        // Turning and thrusting: thrust goes along the new heading, below the x axis
        // because y grows downwards.
        let mut jet = jet_at(1000.0, 750.0, 0.0);
        hold(&mut jet, true, 1, false);
        jet.apply_controls(DT, 8);
        close(jet.vx, 14.898_032);
        close(jet.vy, 1.746_033);
        jet.fly(DT, 2000.0, 1500.0);
        close(jet.vx, 14.451_091);
        close(jet.vy, 1.693_652);
        close(jet.x, 1000.481703);
        close(jet.y, 750.056455);

        // Straight down.
        let mut jet = jet_at(1000.0, 750.0, FRAC_PI_2);
        hold(&mut jet, true, 0, false);
        jet.apply_controls(DT, 8);
        jet.fly(DT, 2000.0, 1500.0);
        close(jet.vx, 0.0);
        close(jet.vy, 14.55);
        close(jet.y, 750.485);
    }

    #[test]
    fn drag_takes_3_percent_per_tick_at_30_hz() {
        let mut jet = jet_at(1000.0, 750.0, 0.0);
        (jet.vx, jet.vy) = (300.0, -100.0);
        jet.apply_controls(DT, 8);
        jet.fly(DT, 2000.0, 1500.0);
        close(jet.vx, 291.0);
        close(jet.vy, -97.0);
        close(jet.x, 1009.7);
        close(jet.y, 746.766667);
    }

    #[test]
    fn speed_is_capped_at_350_after_drag() {
        // 500 after drag is 485, scaled down to 350: (388, 291) becomes (280, 210).
        let mut jet = jet_at(1000.0, 750.0, 0.0);
        (jet.vx, jet.vy) = (400.0, 300.0);
        jet.fly(DT, 2000.0, 1500.0);
        close(jet.vx, 280.0);
        close(jet.vy, 210.0);
        close(jet.x, 1000.0 + 280.0 / 30.0);
        close(jet.y, 757.0);

        // Thrust alone would reach 485 (where 15 per tick in equals 3% out); the cap
        // holds it at 350.
        let mut jet = jet_at(100.0, 750.0, 0.0);
        hold(&mut jet, true, 0, false);
        for _ in 0..60 {
            jet.apply_controls(DT, 8);
            jet.fly(DT, 2000.0, 1500.0);
        }
        close(jet.vx, 350.0);
        close(jet.vy, 0.0);
    }

    #[test]
    fn walls_clamp_the_centre_and_stop_motion_into_them() {
        // Left wall: 20 - 291 / 30 = 10.3, clamped to 16; vx into the wall is zeroed,
        // vy (along it) is kept.
        let mut jet = jet_at(20.0, 750.0, PI);
        (jet.vx, jet.vy) = (-300.0, 60.0);
        jet.fly(DT, 2000.0, 1500.0);
        assert_eq!((jet.x, jet.vx), (16.0, 0.0));
        close(jet.vy, 58.2);
        close(jet.y, 751.94);

        // Bottom-right corner at the speed cap: both components stop.
        let mut jet = jet_at(1990.0, 1490.0, 0.0);
        (jet.vx, jet.vy) = (300.0, 300.0);
        jet.fly(DT, 2000.0, 1500.0);
        assert_eq!((jet.x, jet.y, jet.vx, jet.vy), (1984.0, 1484.0, 0.0, 0.0));

        // Top wall, moving away from it: velocity kept.
        let mut jet = jet_at(1000.0, 16.0, 0.0);
        (jet.vx, jet.vy) = (0.0, 100.0);
        jet.fly(DT, 2000.0, 1500.0);
        close(jet.vy, 97.0);
        close(jet.y, 16.0 + 97.0 / 30.0);
    }

    #[test]
    fn shots_leave_the_muzzle_with_the_jets_velocity_added() {
        let mut jet = jet_at(1000.0, 750.0, 0.0);
        hold(&mut jet, true, 0, true);
        let shot = jet.apply_controls(DT, 8).unwrap();
        // Position from before the move, velocity after thrust (15) but before drag.
        assert_eq!(
            shot,
            Shot {
                x: 1020.0,
                y: 750.0,
                vx: 715.0,
                vy: 0.0
            }
        );
        assert_eq!(jet.cooldown(), 8);

        let mut jet = jet_at(1000.0, 750.0, FRAC_PI_2);
        hold(&mut jet, false, 0, true);
        let shot = jet.apply_controls(DT, 8).unwrap();
        close(shot.x, 1000.0);
        close(shot.y, 770.0);
        close(shot.vx, 0.0);
        close(shot.vy, 700.0);
    }

    #[test]
    fn holding_fire_shoots_once_per_cooldown() {
        let mut jet = jet_at(1000.0, 750.0, 0.0);
        hold(&mut jet, false, 0, true);
        let fired: Vec<usize> = (0..30)
            .filter(|_| jet.apply_controls(DT, 8).is_some())
            .collect();
        assert_eq!(fired, [0, 8, 16, 24]);

        // With no cooldown at all (1 Hz rounds 0.25 s to 0 ticks), every tick fires.
        let mut jet = jet_at(1000.0, 750.0, 0.0);
        hold(&mut jet, false, 0, true);
        assert!((0..5).all(|_| jet.apply_controls(1.0, 0).is_some()));
    }

    #[test]
    fn five_hits_kill() {
        let mut jet = jet_at(1000.0, 750.0, 0.0);
        jet.vx = 100.0;
        for health in [80, 60, 40, 20] {
            assert!(!jet.take_hit(99));
            assert_eq!(jet.health, health);
        }
        assert!(jet.take_hit(99));
        assert_eq!((jet.health, jet.alive, jet.deaths), (0, false, 1));
        assert_eq!((jet.vx, jet.respawn_at_tick()), (0.0, Some(99)));
    }

    #[test]
    fn turn_values_beyond_one_count_as_their_sign() {
        for (turn, expected) in [(i8::MIN, -1), (-2, -1), (0, 0), (5, 1), (i8::MAX, 1)] {
            let controls = Controls {
                turn,
                ..Controls::default()
            };
            assert_eq!(controls.normalized().turn, expected);
        }
    }
}
