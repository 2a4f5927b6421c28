//! Helpers shared by the integration tests: placing jets for a duel and shooting one
//! down.

#![allow(dead_code)] // each test binary uses its own subset

use std::f32::consts::PI;

use guildhall_jets::{Controls, JetId, Rules, StepEvents, World};

/// A default-rules world with the given changes applied, seed 1.
pub fn world_with(change: impl FnOnce(&mut Rules)) -> World {
    let mut rules = Rules::default();
    change(&mut rules);
    World::new(rules, 1)
}

pub fn hold(world: &mut World, id: JetId, thrust: bool, turn: i8, fire: bool) {
    assert!(world.set_controls(id, Controls { thrust, turn, fire }));
}

pub fn release(world: &mut World, id: JetId) {
    hold(world, id, false, 0, false);
}

/// Shooter at (500, 750) facing right, target at (600, 750) facing left: a shot leaves
/// the muzzle at x = 520 and, at 700 / 30 units per tick, is at 590 (10 from the
/// target's centre) after its third move.
pub fn face_off(world: &mut World, shooter: JetId, target: JetId) {
    assert!(world.place_jet(shooter, 500.0, 750.0, 0.0));
    assert!(world.place_jet(target, 600.0, 750.0, PI));
}

/// Steps until `id` is alive, at most `limit` steps.
pub fn wait_alive(world: &mut World, id: JetId, limit: u32) {
    for _ in 0..limit {
        if world.jet(id).unwrap().alive {
            return;
        }
        world.step();
    }
    assert!(world.jet(id).unwrap().alive, "jet {id} did not respawn");
}

/// Lines up `shooter` and `victim` and holds fire until the victim dies. Returns the
/// events of the killing step, with the shooter's controls released.
pub fn shoot_down(world: &mut World, shooter: JetId, victim: JetId) -> StepEvents {
    face_off(world, shooter, victim);
    hold(world, shooter, false, 0, true);
    for _ in 0..100 {
        let events = world.step();
        if events.kills.iter().any(|kill| kill.victim == victim) {
            release(world, shooter);
            return events;
        }
    }
    panic!("jet {victim} survived 100 ticks of fire");
}
