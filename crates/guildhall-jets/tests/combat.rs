//! Hits, kills and respawns, scripted with jets placed by hand.

mod common;

use std::f32::consts::PI;

use common::{face_off, hold, release, shoot_down, world_with};
use guildhall_jets::{Kill, World};

fn three_jets() -> (World, u32, u32, u32) {
    let mut world = world_with(|_| {});
    let (a, b, c) = (world.add_jet(), world.add_jet(), world.add_jet());
    // Out of everyone's way unless a test moves it.
    world.place_jet(c, 1800.0, 200.0, 0.0);
    (world, a, b, c)
}

#[test]
fn five_hits_kill_and_the_shooter_scores() {
    let (mut world, a, b, _) = three_jets();
    face_off(&mut world, a, b);
    hold(&mut world, a, false, 0, true);

    // Shots leave on ticks 1, 9, 17, 25, 33 and hit on their third move.
    let mut hit_on = Vec::new();
    let mut health = 100;
    for _ in 0..34 {
        let events = world.step();
        assert!(events.kills.is_empty());
        let now = world.jet(b).unwrap().health;
        if now != health {
            hit_on.push(world.tick());
            health = now;
        }
    }
    assert_eq!(hit_on, [3, 11, 19, 27]);
    assert_eq!(health, 20);

    let events = world.step();
    assert_eq!(world.tick(), 35);
    assert_eq!(
        events.kills,
        [Kill {
            killer: a,
            victim: b
        }]
    );
    let victim = world.jet(b).unwrap();
    assert_eq!(
        (victim.alive, victim.health, victim.deaths, victim.score),
        (false, 0, 1, 0)
    );
    assert_eq!(
        (victim.x, victim.y),
        (600.0, 750.0),
        "the wreck stays where it fell"
    );
    assert_eq!(victim.respawn_at_tick(), Some(95));
    let shooter = world.jet(a).unwrap();
    assert_eq!((shooter.score, shooter.deaths), (1, 0));
}

#[test]
fn the_dead_respawn_exactly_two_seconds_later() {
    let (mut world, a, b, _) = three_jets();
    shoot_down(&mut world, a, b);
    let died_on = world.tick();
    for _ in 1..60 {
        world.step();
        assert!(
            !world.jet(b).unwrap().alive,
            "alive again on tick {}",
            world.tick()
        );
    }
    world.step();
    assert_eq!(world.tick(), died_on + 60);
    let jet = world.jet(b).unwrap();
    assert!(jet.alive);
    assert_eq!(
        (jet.health, jet.vx, jet.vy, jet.cooldown()),
        (100, 0.0, 0.0, 0)
    );
    assert_eq!(jet.respawn_at_tick(), None);
    assert!((100.0..=1900.0).contains(&jet.x) && (100.0..=1400.0).contains(&jet.y));
    assert_ne!((jet.x, jet.y), (600.0, 750.0));
    assert_eq!(jet.deaths, 1, "respawning keeps the match's tally");
}

#[test]
fn dead_jets_neither_fly_nor_shoot_nor_get_hit() {
    let (mut world, a, b, _) = three_jets();
    shoot_down(&mut world, a, b);
    hold(&mut world, b, true, 1, true);
    hold(&mut world, a, false, 0, true);
    for _ in 0..20 {
        world.step();
    }
    let wreck = world.jet(b).unwrap();
    assert_eq!((wreck.x, wreck.y, wreck.angle), (600.0, 750.0, PI));
    assert!(world.projectiles().iter().all(|p| p.owner == a));
    // A's shots fly through the wreck.
    assert!(world.projectiles().iter().any(|p| p.x > 700.0));
    assert_eq!(world.jet(b).unwrap().deaths, 1);
}

#[test]
fn a_projectile_passes_through_its_owner() {
    let (mut world, a, _, _) = three_jets();
    world.place_jet(a, 1000.0, 750.0, 0.0);
    hold(&mut world, a, false, 0, true);
    world.step();
    release(&mut world, a);
    // Next tick the shot is at 1066.7: put its owner there.
    world.place_jet(a, 1066.0, 750.0, 0.0);
    world.step();
    assert_eq!(world.projectiles().len(), 1);
    assert_eq!(world.jet(a).unwrap().health, 100);
}

#[test]
fn of_two_jets_in_reach_the_lowest_id_is_hit() {
    let (mut world, a, b, c) = three_jets();
    face_off(&mut world, a, b);
    world.place_jet(b, 590.0, 760.0, 0.0);
    world.place_jet(c, 590.0, 740.0, 0.0);
    hold(&mut world, a, false, 0, true);
    for _ in 0..3 {
        world.step();
    }
    assert_eq!(world.jet(b).unwrap().health, 80);
    assert_eq!(world.jet(c).unwrap().health, 100);
    assert!(world.projectiles().is_empty());
}

#[test]
fn the_first_projectile_kills_and_the_next_flies_on() {
    // A (id 1) and C (id 3) fire at B (id 2) from both sides; their shots reach B on
    // the same ticks. A's shot has the lower id, so it lands the fifth hit.
    let (mut world, a, b, c) = three_jets();
    face_off(&mut world, a, b);
    world.place_jet(c, 700.0, 750.0, PI);
    hold(&mut world, a, false, 0, true);
    hold(&mut world, c, false, 0, true);
    for _ in 0..17 {
        world.step();
    }
    release(&mut world, a);
    release(&mut world, c);
    world.step();
    let events = world.step();
    assert_eq!(world.tick(), 19);
    assert_eq!(
        events.kills,
        [Kill {
            killer: a,
            victim: b
        }]
    );
    assert_eq!(
        (world.jet(a).unwrap().score, world.jet(c).unwrap().score),
        (1, 0)
    );

    // C's shot flies on through the wreck (at 610 now) and reaches A on tick 24, when
    // it is at 493.3.
    assert_eq!(world.projectiles().len(), 1);
    for _ in 0..4 {
        world.step();
    }
    assert_eq!(world.jet(a).unwrap().health, 100);
    world.step();
    assert_eq!(world.jet(a).unwrap().health, 80);
    assert!(world.projectiles().is_empty());
}

#[test]
fn shots_of_a_departed_jet_still_hit_but_score_for_nobody() {
    let (mut world, a, b, _) = three_jets();
    face_off(&mut world, a, b);
    hold(&mut world, a, false, 0, true);
    for _ in 0..33 {
        world.step(); // the fifth shot leaves on tick 33
    }
    assert!(world.remove_jet(a));
    assert_eq!(world.projectiles().len(), 1);
    world.step();
    let events = world.step();
    assert_eq!(
        events.kills,
        [Kill {
            killer: a,
            victim: b
        }]
    );
    assert_eq!(world.jet(b).unwrap().deaths, 1);
    assert!(world.jets().iter().all(|jet| jet.score == 0));
}

#[test]
fn a_mutual_kill_counts_for_both() {
    let (mut world, a, b, _) = three_jets();
    face_off(&mut world, a, b);
    hold(&mut world, a, false, 0, true);
    hold(&mut world, b, false, 0, true);
    let mut kills = Vec::new();
    for _ in 0..35 {
        kills.extend(world.step().kills);
    }
    assert_eq!(
        kills,
        [
            Kill {
                killer: a,
                victim: b
            },
            Kill {
                killer: b,
                victim: a
            }
        ]
    );
    for id in [a, b] {
        let jet = world.jet(id).unwrap();
        assert_eq!((jet.alive, jet.score, jet.deaths), (false, 1, 1));
    }
}
