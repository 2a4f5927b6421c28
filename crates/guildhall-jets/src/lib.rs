//! The jet arena game as a pure simulation: the "Game rules" of
//! `docs/protocol/arena.md`, with no I/O, no async and no clock. The lobby task owns
//! one [`World`] per lobby and drives it:
//!
//! * [`World::add_jet`] / [`World::remove_jet`] as players join and leave;
//! * [`World::set_controls`] when an `input` message arrives (controls are held until
//!   changed);
//! * [`World::step`] once per tick, turning the returned [`StepEvents`] (kills, the
//!   [`MatchResult`] of a finished match, the start of the next) into messages and
//!   match history, and [`World::jets`] / [`World::projectiles`] into snapshots.
//!
//! The same [`Rules`], seed and sequence of calls always give the same worlds, bit for
//! bit, on a given build and platform; [`World::state_hash`] checks that cheaply. (The
//! trigonometry is the platform's `f32::sin_cos`, so a replay recorded on one CPU
//! architecture or libm is only guaranteed to check on the same one.)
//!
//! What stays with the lobby: users and names, input sequence numbers (`last_seq`), the
//! lobby's seed, deciding when to close an empty lobby, and storing results.
//!
//! ```
//! use guildhall_jets::{Controls, Phase, Rules, World};
//!
//! let mut world = World::new(Rules::default(), 42);
//! let red = world.add_jet();
//! let blue = world.add_jet();
//! world.set_controls(red, Controls { thrust: true, turn: 1, fire: true });
//!
//! let events = world.step();
//! assert!(events.kills.is_empty());
//! assert_eq!(world.tick(), 1);
//! assert_eq!(world.remaining_ticks(), 180 * 30 - 1);
//! assert_eq!(world.phase(), Phase::Playing);
//! assert_eq!(world.projectiles()[0].owner, red);
//! assert_eq!(world.jet(blue).unwrap().health, 100);
//! ```

mod events;
mod hash;
mod jet;
mod projectile;
mod rng;
mod rules;
mod world;

pub use events::{EndReason, JetResult, Kill, MatchResult, Phase, StepEvents};
pub use jet::{Controls, Jet, JetId};
pub use projectile::Projectile;
pub use rng::{SpawnPoint, SplitMix64, spawn_point};
pub use rules::{
    DEFAULT_HEIGHT, DEFAULT_INTERMISSION_SECS, DEFAULT_SCORE_LIMIT, DEFAULT_TICK_RATE,
    DEFAULT_TIME_LIMIT_SECS, DEFAULT_WIDTH, DRAG, FIRE_COOLDOWN_SECS, HIT_DAMAGE, HIT_RADIUS,
    InvalidRules, JET_RADIUS, MAX_HEALTH, MAX_SPEED, MUZZLE_OFFSET, PROJECTILE_LIFETIME_SECS,
    PROJECTILE_SPEED, RESPAWN_SECS, Rules, SPAWN_MARGIN, THRUST, TURN_RATE,
};
pub use world::World;
