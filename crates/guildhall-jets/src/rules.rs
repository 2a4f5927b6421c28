//! The numbers of the game: the constants fixed by `docs/protocol/arena.md` ("Game
//! rules") and the per-lobby [`Rules`] a deployment may tune.
//!
//! Durations in the spec are in seconds; the simulation counts ticks. Every conversion
//! goes through [`Rules::ticks`], which rounds to the nearest tick (halves away from
//! zero), so `0.25 s` at 30 Hz is 8 ticks and `1.2 s` is 36.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Radius of a jet: its centre stays at least this far from every wall.
pub const JET_RADIUS: f32 = 16.0;
/// Health of a freshly spawned jet.
pub const MAX_HEALTH: u8 = 100;
/// Turning speed in radians per second while `turn` is held.
pub const TURN_RATE: f32 = 3.5;
/// Acceleration in units per second² while `thrust` is held.
pub const THRUST: f32 = 450.0;
/// Fraction of the velocity lost per second to drag.
pub const DRAG: f32 = 0.9;
/// Top speed of a jet in units per second, applied after drag.
pub const MAX_SPEED: f32 = 350.0;
/// How far ahead of a jet's centre its projectiles appear.
pub const MUZZLE_OFFSET: f32 = 20.0;
/// Projectile speed relative to the jet that fired it, in units per second.
pub const PROJECTILE_SPEED: f32 = 700.0;
/// A projectile hits a jet whose centre is within this distance (inclusive).
pub const HIT_RADIUS: f32 = 16.0;
/// Health a jet loses per hit: five hits kill.
pub const HIT_DAMAGE: u8 = 20;
/// Time between two shots of the same jet.
pub const FIRE_COOLDOWN_SECS: f64 = 0.25;
/// Time a projectile flies before it vanishes.
pub const PROJECTILE_LIFETIME_SECS: f64 = 1.2;
/// Time a dead jet waits before it respawns.
pub const RESPAWN_SECS: f64 = 2.0;
/// Spawn points keep this far from every wall.
pub const SPAWN_MARGIN: f32 = 100.0;

/// Default [`Rules::tick_rate`].
pub const DEFAULT_TICK_RATE: u32 = 30;
/// Default [`Rules::width`].
pub const DEFAULT_WIDTH: f32 = 2000.0;
/// Default [`Rules::height`].
pub const DEFAULT_HEIGHT: f32 = 1500.0;
/// Default [`Rules::score_limit`].
pub const DEFAULT_SCORE_LIMIT: u32 = 10;
/// Default [`Rules::time_limit_secs`].
pub const DEFAULT_TIME_LIMIT_SECS: u32 = 180;
/// Default [`Rules::intermission_secs`].
pub const DEFAULT_INTERMISSION_SECS: u32 = 5;

/// What a deployment may tune per lobby. Everything else in the game is a constant of
/// this module. Loaded from config (missing fields take their defaults), checked once
/// with [`Rules::validate`] before any [`World`](crate::World) is built.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Rules {
    /// Simulation steps per second; `dt = 1 / tick_rate`. At least 1.
    pub tick_rate: u32,
    /// Arena width in units (x runs from 0 to `width`, left to right). At least 200.
    pub width: f32,
    /// Arena height in units (y runs from 0 to `height`, top to bottom). At least 200.
    pub height: f32,
    /// A match ends as soon as one jet's score reaches this. At least 1.
    pub score_limit: u32,
    /// A match ends after this many seconds of play. At least one tick.
    pub time_limit_secs: u32,
    /// Frozen pause between two matches. Zero starts the next match at once.
    pub intermission_secs: u32,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            tick_rate: DEFAULT_TICK_RATE,
            width: DEFAULT_WIDTH,
            height: DEFAULT_HEIGHT,
            score_limit: DEFAULT_SCORE_LIMIT,
            time_limit_secs: DEFAULT_TIME_LIMIT_SECS,
            intermission_secs: DEFAULT_INTERMISSION_SECS,
        }
    }
}

impl Rules {
    /// Seconds per tick.
    pub fn dt(&self) -> f32 {
        1.0 / self.tick_rate as f32
    }

    /// `secs` in ticks, rounded to the nearest tick (halves away from zero). Negative or
    /// NaN durations are 0 ticks; durations beyond `u32::MAX` ticks saturate.
    pub fn ticks(&self, secs: f64) -> u32 {
        // `as` saturates and maps NaN to 0, which is what we want here.
        (secs * f64::from(self.tick_rate)).round() as u32
    }

    /// Ticks between two shots of one jet: `round(0.25 × tick_rate)`.
    pub fn fire_cooldown_ticks(&self) -> u32 {
        self.ticks(FIRE_COOLDOWN_SECS)
    }

    /// Ticks a projectile lives: `round(1.2 × tick_rate)`.
    pub fn projectile_lifetime_ticks(&self) -> u32 {
        self.ticks(PROJECTILE_LIFETIME_SECS)
    }

    /// Ticks a dead jet waits before respawning: `round(2 × tick_rate)`.
    pub fn respawn_ticks(&self) -> u32 {
        self.ticks(RESPAWN_SECS)
    }

    /// Ticks of play in a match that nobody wins early.
    pub fn time_limit_ticks(&self) -> u32 {
        self.ticks(f64::from(self.time_limit_secs))
    }

    /// Ticks between the end of a match and the start of the next.
    pub fn intermission_ticks(&self) -> u32 {
        self.ticks(f64::from(self.intermission_secs))
    }

    /// Checks the rules can run a game: a positive tick rate, an arena large enough for
    /// the spawn margin, and limits that a match can actually reach.
    pub fn validate(&self) -> Result<(), InvalidRules> {
        let min_side = 2.0 * SPAWN_MARGIN;
        if self.tick_rate == 0 {
            return Err(InvalidRules::ZeroTickRate);
        }
        // `(min_side..).contains` is false for NaN; infinity is refused separately.
        let playable = |side: f32| side.is_finite() && (min_side..).contains(&side);
        if !(playable(self.width) && playable(self.height)) {
            return Err(InvalidRules::ArenaSize {
                width: self.width,
                height: self.height,
            });
        }
        if self.score_limit == 0 {
            return Err(InvalidRules::ZeroScoreLimit);
        }
        if self.time_limit_ticks() == 0 {
            return Err(InvalidRules::ZeroTimeLimit);
        }
        Ok(())
    }
}

/// Why [`Rules::validate`] refused a set of rules.
#[derive(Clone, Debug, PartialEq)]
pub enum InvalidRules {
    /// `tick_rate` is 0, so a tick would last forever.
    ZeroTickRate,
    /// The arena is not a finite rectangle of at least 200 × 200, the room spawn points
    /// need.
    ArenaSize {
        /// The width given.
        width: f32,
        /// The height given.
        height: f32,
    },
    /// `score_limit` is 0: every match would end before it starts.
    ZeroScoreLimit,
    /// `time_limit_secs` is 0: every match would end on its first tick.
    ZeroTimeLimit,
}

impl fmt::Display for InvalidRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidRules::ZeroTickRate => write!(f, "tick_rate must be at least 1"),
            InvalidRules::ArenaSize { width, height } => write!(
                f,
                "the arena must be at least 200 x 200 and finite, got {width} x {height}"
            ),
            InvalidRules::ZeroScoreLimit => write!(f, "score_limit must be at least 1"),
            InvalidRules::ZeroTimeLimit => write!(f, "time_limit_secs must be at least 1"),
        }
    }
}

impl std::error::Error for InvalidRules {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_spec() {
        let rules = Rules::default();
        assert_eq!(rules.tick_rate, 30);
        assert_eq!((rules.width, rules.height), (2000.0, 1500.0));
        assert_eq!(rules.score_limit, 10);
        assert_eq!(rules.time_limit_secs, 180);
        assert_eq!(rules.intermission_secs, 5);
        assert_eq!(rules.validate(), Ok(()));
    }

    #[test]
    fn durations_round_to_the_nearest_tick() {
        let rules = Rules::default();
        assert_eq!(rules.fire_cooldown_ticks(), 8); // 7.5 rounds up
        assert_eq!(rules.projectile_lifetime_ticks(), 36);
        assert_eq!(rules.respawn_ticks(), 60);
        assert_eq!(rules.time_limit_ticks(), 5400);
        assert_eq!(rules.intermission_ticks(), 150);

        let slow = Rules {
            tick_rate: 10,
            ..Rules::default()
        };
        assert_eq!(slow.fire_cooldown_ticks(), 3); // 2.5 rounds up
        assert_eq!(slow.projectile_lifetime_ticks(), 12);
        assert_eq!(slow.respawn_ticks(), 20);

        assert_eq!(rules.ticks(-1.0), 0);
        assert_eq!(rules.ticks(f64::NAN), 0);
        assert_eq!(rules.ticks(f64::INFINITY), u32::MAX);
    }

    #[test]
    fn validate_refuses_unplayable_rules() {
        let base = Rules::default();
        let check = |rules: Rules| rules.validate();
        assert_eq!(
            check(Rules {
                tick_rate: 0,
                ..base.clone()
            }),
            Err(InvalidRules::ZeroTickRate)
        );
        for (width, height) in [(199.0, 1500.0), (2000.0, f32::NAN), (f32::INFINITY, 500.0)] {
            assert!(matches!(
                check(Rules {
                    width,
                    height,
                    ..base.clone()
                }),
                Err(InvalidRules::ArenaSize { .. })
            ));
        }
        assert_eq!(
            check(Rules {
                score_limit: 0,
                ..base.clone()
            }),
            Err(InvalidRules::ZeroScoreLimit)
        );
        assert_eq!(
            check(Rules {
                time_limit_secs: 0,
                ..base.clone()
            }),
            Err(InvalidRules::ZeroTimeLimit)
        );
        assert_eq!(
            check(Rules {
                intermission_secs: 0,
                width: 200.0,
                height: 200.0,
                tick_rate: 1,
                ..base
            }),
            Ok(())
        );
    }
}
