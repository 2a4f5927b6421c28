//! Jets and projectiles through `World::step`: ids, spawning, flight and firing.

mod common;

use common::{hold, release, world_with};
use guildhall_jets::{Controls, Phase, Rules, World};

#[track_caller]
fn close(actual: f32, expected: f64) {
    assert!(
        (f64::from(actual) - expected).abs() < 1e-3,
        "{actual} is not {expected}"
    );
}

#[test]
fn a_new_world_is_empty_and_playing_match_1() {
    let world = World::new(Rules::default(), 5);
    assert_eq!(world.tick(), 0);
    assert_eq!(world.match_number(), 1);
    assert_eq!(world.remaining_ticks(), 5400);
    assert_eq!(world.phase(), Phase::Playing);
    assert!(world.jets().is_empty() && world.projectiles().is_empty());
    assert_eq!(world.rules(), &Rules::default());
}

#[test]
#[should_panic(expected = "invalid arena rules")]
fn invalid_rules_are_refused() {
    World::new(
        Rules {
            tick_rate: 0,
            ..Rules::default()
        },
        5,
    );
}

#[test]
fn ids_start_at_1_and_are_never_reused() {
    let mut world = World::new(Rules::default(), 5);
    assert_eq!(world.add_jet(), 1);
    assert_eq!(world.add_jet(), 2);
    assert!(world.remove_jet(2));
    assert!(!world.remove_jet(2));
    assert_eq!(world.add_jet(), 3);
    let ids: Vec<u32> = world.jets().iter().map(|jet| jet.id).collect();
    assert_eq!(ids, [1, 3]);
}

#[test]
fn new_jets_spawn_alive_and_still_inside_the_spawn_area() {
    let mut world = World::new(Rules::default(), 5);
    for _ in 0..50 {
        let id = world.add_jet();
        let jet = world.jet(id).unwrap();
        assert!(jet.alive && jet.health == 100 && jet.score == 0 && jet.deaths == 0);
        assert_eq!((jet.vx, jet.vy, jet.cooldown()), (0.0, 0.0, 0));
        assert!((100.0..=1900.0).contains(&jet.x) && (100.0..=1400.0).contains(&jet.y));
        assert!((0.0..std::f32::consts::TAU).contains(&jet.angle));
    }
}

#[test]
fn unknown_ids_are_refused_without_panicking() {
    let mut world = World::new(Rules::default(), 5);
    let id = world.add_jet();
    for unknown in [0, id + 1, u32::MAX] {
        assert!(!world.set_controls(unknown, Controls::default()));
        assert!(!world.remove_jet(unknown));
        assert!(!world.place_jet(unknown, 1.0, 1.0, 0.0));
        assert!(world.jet(unknown).is_none());
    }
}

#[test]
fn controls_are_held_until_changed() {
    let mut world = world_with(|_| {});
    let id = world.add_jet();
    world.place_jet(id, 1000.0, 750.0, 0.0);
    hold(&mut world, id, true, 0, false);

    world.step();
    let jet = world.jet(id).unwrap();
    close(jet.vx, 14.55);
    close(jet.x, 1000.485);

    // Second tick: (14.55 + 15) × 0.97 = 28.6635.
    world.step();
    let jet = world.jet(id).unwrap();
    close(jet.vx, 28.6635);
    close(jet.x, 1000.485 + 28.6635 / 30.0);

    release(&mut world, id);
    world.step();
    close(world.jet(id).unwrap().vx, 28.6635 * 0.97);
}

#[test]
fn turn_values_beyond_one_act_as_one() {
    let mut a = world_with(|_| {});
    let mut b = world_with(|_| {});
    let (ja, jb) = (a.add_jet(), b.add_jet());
    a.set_controls(
        ja,
        Controls {
            thrust: true,
            turn: i8::MIN,
            fire: true,
        },
    );
    b.set_controls(
        jb,
        Controls {
            thrust: true,
            turn: -1,
            fire: true,
        },
    );
    assert_eq!(a.jet(ja).unwrap().controls().turn, -1);
    for _ in 0..40 {
        a.step();
        b.step();
    }
    assert_eq!(a.state_hash(), b.state_hash());
}

#[test]
fn a_shot_moves_on_the_tick_it_is_fired() {
    let mut world = world_with(|_| {});
    let id = world.add_jet();
    world.place_jet(id, 1000.0, 750.0, 0.0);
    hold(&mut world, id, false, 0, true);
    world.step();

    let shots = world.projectiles();
    assert_eq!(shots.len(), 1);
    let shot = &shots[0];
    assert_eq!((shot.id, shot.owner), (1, id));
    close(shot.x, 1020.0 + 700.0 / 30.0);
    close(shot.y, 750.0);
    close(shot.vx, 700.0);
    close(shot.vy, 0.0);
    assert_eq!(shot.ttl(), 35);
    assert_eq!(world.jet(id).unwrap().cooldown(), 8);
}

#[test]
fn holding_fire_shoots_every_8_ticks_at_30_hz() {
    let mut world = world_with(|_| {});
    let id = world.add_jet();
    world.place_jet(id, 100.0, 750.0, 0.0);
    hold(&mut world, id, false, 0, true);
    let mut fired_on = Vec::new();
    let mut seen = 0;
    for _ in 0..30 {
        world.step();
        let newest = world.projectiles().last().map_or(0, |p| p.id);
        if newest != seen {
            fired_on.push(world.tick());
            seen = newest;
        }
    }
    assert_eq!(fired_on, [1, 9, 17, 25]);
    let ids: Vec<u32> = world.projectiles().iter().map(|p| p.id).collect();
    assert_eq!(ids, [1, 2, 3, 4]);
}

#[test]
fn projectiles_live_36_ticks_at_30_hz() {
    let mut world = world_with(|_| {});
    let id = world.add_jet();
    world.place_jet(id, 100.0, 750.0, 0.0);
    hold(&mut world, id, false, 0, true);
    world.step();
    release(&mut world, id);
    for _ in 2..=36 {
        world.step();
    }
    // 36 moves: 120 + 36 × 700 / 30 = 960.
    assert_eq!(world.projectiles().len(), 1);
    close(world.projectiles()[0].x, 960.0);
    assert_eq!(world.projectiles()[0].ttl(), 0);
    world.step();
    assert!(world.projectiles().is_empty());
}

#[test]
fn projectiles_vanish_when_they_leave_the_arena() {
    let mut world = world_with(|_| {});
    let id = world.add_jet();
    world.place_jet(id, 1900.0, 750.0, 0.0);
    hold(&mut world, id, false, 0, true);
    world.step();
    release(&mut world, id);
    // 1943.3, 1966.7, 1990, then 2013.3: out.
    world.step();
    world.step();
    close(world.projectiles()[0].x, 1990.0);
    world.step();
    assert!(world.projectiles().is_empty());
}

#[test]
fn shots_of_one_tick_are_numbered_in_jet_id_order() {
    let mut world = world_with(|_| {});
    let (a, b) = (world.add_jet(), world.add_jet());
    world.place_jet(a, 300.0, 300.0, 0.0);
    world.place_jet(b, 300.0, 1200.0, 0.0);
    hold(&mut world, b, false, 0, true);
    hold(&mut world, a, false, 0, true);
    world.step();
    let owners: Vec<(u32, u32)> = world
        .projectiles()
        .iter()
        .map(|p| (p.id, p.owner))
        .collect();
    assert_eq!(owners, [(1, a), (2, b)]);
}

#[test]
fn jets_stop_at_the_walls() {
    let mut world = world_with(|_| {});
    let id = world.add_jet();
    world.place_jet(id, 1800.0, 750.0, 0.0);
    hold(&mut world, id, true, 0, false);
    for _ in 0..90 {
        world.step();
    }
    let jet = world.jet(id).unwrap();
    assert_eq!((jet.x, jet.vx), (1984.0, 0.0));
    close(jet.y, 750.0);
}
