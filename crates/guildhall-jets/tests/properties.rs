//! Properties that hold for every seed and every sequence of calls: determinism, the
//! invariants of the state, and no panics.

use std::f32::consts::TAU;

use guildhall_jets::{Controls, MAX_SPEED, Phase, Rules, World};
use proptest::prelude::*;

/// A small arena and short matches, so random play produces hits, kills, respawns and
/// match ends within a few hundred ticks.
fn small_rules() -> Rules {
    Rules {
        width: 400.0,
        height: 300.0,
        score_limit: 3,
        time_limit_secs: 4,
        intermission_secs: 1,
        ..Rules::default()
    }
}

/// Controls that steer `id` towards the nearest other live jet and fire when roughly on
/// target: a crude bot that makes random games end in kills.
fn chase(world: &World, id: u32) -> Controls {
    let me = world.jet(id).unwrap();
    let target = world
        .jets()
        .iter()
        .filter(|other| other.id != id && other.alive)
        .min_by(|p, q| {
            let d = |j: &guildhall_jets::Jet| (j.x - me.x).hypot(j.y - me.y);
            d(p).total_cmp(&d(q))
        });
    let Some(target) = target else {
        return Controls::default();
    };
    let (dx, dy) = (target.x - me.x, target.y - me.y);
    let off = (dy.atan2(dx) - me.angle + 3.0 * std::f32::consts::PI).rem_euclid(TAU)
        - std::f32::consts::PI;
    Controls {
        thrust: dx.hypot(dy) > 120.0,
        turn: if off > 0.05 {
            1
        } else if off < -0.05 {
            -1
        } else {
            0
        },
        fire: off.abs() < 0.3,
    }
}

/// One call a lobby might make between steps.
#[derive(Clone, Debug)]
enum Call {
    Add,
    /// Removes the n-th jet (modulo the count), or an unknown id if there is none.
    Remove(usize),
    /// Sets controls on the n-th jet, or on an arbitrary (probably unknown) id.
    Controls(usize, Controls),
    ControlsUnknown(u32, Controls),
    /// Every jet chases its nearest enemy.
    Chase,
    Steps(u8),
}

fn controls() -> impl Strategy<Value = Controls> {
    (any::<bool>(), any::<i8>(), any::<bool>()).prop_map(|(thrust, turn, fire)| Controls {
        thrust,
        turn,
        fire,
    })
}

fn call() -> impl Strategy<Value = Call> {
    prop_oneof![
        2 => Just(Call::Add),
        1 => any::<usize>().prop_map(Call::Remove),
        6 => (any::<usize>(), controls()).prop_map(|(n, c)| Call::Controls(n, c)),
        1 => (any::<u32>(), controls()).prop_map(|(id, c)| Call::ControlsUnknown(id, c)),
        3 => Just(Call::Chase),
        6 => (1u8..20).prop_map(Call::Steps),
    ]
}

/// Plays `calls` on `world`, checking the invariants after every step; returns the
/// state hash after each step.
fn play(world: &mut World, calls: &[Call]) -> Vec<u64> {
    let mut hashes = Vec::new();
    for call in calls {
        let ids: Vec<u32> = world.jets().iter().map(|jet| jet.id).collect();
        let nth = |n: usize| ids.get(n % ids.len().max(1)).copied().unwrap_or(u32::MAX);
        match call {
            Call::Add => {
                let id = world.add_jet();
                assert!(ids.iter().all(|&old| old < id));
            }
            Call::Remove(n) => {
                assert_eq!(world.remove_jet(nth(*n)), !ids.is_empty());
            }
            Call::Controls(n, controls) => {
                assert_eq!(world.set_controls(nth(*n), *controls), !ids.is_empty());
            }
            Call::ControlsUnknown(id, controls) => {
                assert_eq!(world.set_controls(*id, *controls), ids.contains(id));
            }
            Call::Chase => {
                for &id in &ids {
                    let controls = chase(world, id);
                    assert!(world.set_controls(id, controls));
                }
            }
            Call::Steps(n) => {
                for _ in 0..*n {
                    let before = world.phase();
                    let events = world.step();
                    check_invariants(world);
                    if events.match_over.is_some() {
                        assert_eq!(before, Phase::Playing);
                        assert!(world.projectiles().is_empty());
                    }
                    hashes.push(world.state_hash());
                }
            }
        }
    }
    hashes
}

fn check_invariants(world: &World) {
    let rules = world.rules();
    let ids: Vec<u32> = world.jets().iter().map(|jet| jet.id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "jets in id order");
    for jet in world.jets() {
        assert!((16.0..=rules.width - 16.0).contains(&jet.x), "{jet:?}");
        assert!((16.0..=rules.height - 16.0).contains(&jet.y), "{jet:?}");
        assert!((0.0..TAU).contains(&jet.angle), "{jet:?}");
        assert!(jet.vx.hypot(jet.vy) <= MAX_SPEED * 1.0001, "{jet:?}");
        assert_eq!(jet.alive, jet.health > 0, "{jet:?}");
        assert_eq!(jet.health % 20, 0, "{jet:?}");
        assert!(jet.health <= 100, "{jet:?}");
        if world.phase() == Phase::Playing {
            assert!(
                jet.score < rules.score_limit,
                "reaching the limit ends the match"
            );
        }
        assert_eq!(jet.alive, jet.respawn_at_tick().is_none(), "{jet:?}");
        assert!((-1..=1).contains(&jet.controls().turn));
    }
    let ids: Vec<u32> = world.projectiles().iter().map(|p| p.id).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "projectiles in id order"
    );
    for p in world.projectiles() {
        assert!((0.0..=rules.width).contains(&p.x) && (0.0..=rules.height).contains(&p.y));
        assert!(p.ttl() < rules.projectile_lifetime_ticks());
    }
    if let Phase::Intermission { resumes_at_tick } = world.phase() {
        assert!(resumes_at_tick > world.tick());
        assert!(world.projectiles().is_empty());
    }
}

proptest! {
    #[test]
    fn same_seed_and_calls_give_the_same_worlds(
        seed in any::<u64>(),
        calls in prop::collection::vec(call(), 0..60),
    ) {
        let mut first = World::new(small_rules(), seed);
        let mut second = World::new(small_rules(), seed);
        let hashes = play(&mut first, &calls);
        prop_assert_eq!(hashes, play(&mut second, &calls));
        prop_assert_eq!(first.state_hash(), second.state_hash());
        prop_assert_eq!(first, second);
    }

    #[test]
    fn different_seeds_give_different_spawn_points(a in any::<u64>(), b in any::<u64>()) {
        prop_assume!(a != b);
        let (mut first, mut second) = (World::new(Rules::default(), a), World::new(Rules::default(), b));
        let (ja, jb) = (first.add_jet(), second.add_jet());
        let (pa, pb) = (first.jet(ja).unwrap(), second.jet(jb).unwrap());
        prop_assert_ne!((pa.x, pa.y, pa.angle), (pb.x, pb.y, pb.angle));
        prop_assert_ne!(first.state_hash(), second.state_hash());
    }

    #[test]
    fn controls_of_any_value_keep_the_invariants(
        seed in any::<u64>(),
        script in prop::collection::vec(prop::collection::vec(controls(), 4), 1..300),
    ) {
        let mut world = World::new(small_rules(), seed);
        let ids: Vec<u32> = (0..4).map(|_| world.add_jet()).collect();
        for tick_controls in &script {
            for (&id, &controls) in ids.iter().zip(tick_controls) {
                prop_assert!(world.set_controls(id, controls));
            }
            world.step();
            check_invariants(&world);
        }
    }
}

#[test]
fn the_hash_sees_every_change() {
    let mut world = World::new(Rules::default(), 9);
    let id = world.add_jet();
    let mut seen = vec![world.state_hash()];
    let mut record = |world: &World| {
        let hash = world.state_hash();
        assert!(!seen.contains(&hash), "hash unchanged");
        seen.push(hash);
    };
    world.set_controls(
        id,
        Controls {
            thrust: false,
            turn: 0,
            fire: true,
        },
    );
    record(&world);
    world.step();
    record(&world);
    world.set_controls(id, Controls::default());
    record(&world);
    world.step();
    record(&world);
    world.add_jet();
    record(&world);
    world.remove_jet(id);
    record(&world);
}

#[test]
fn a_dogfight_replays_to_the_same_hash() {
    // A fixed seed and three bots: kills, respawns and match ends, twice over.
    let dogfight = |seed: u64| {
        let mut world = World::new(small_rules(), seed);
        let ids: Vec<u32> = (0..3).map(|_| world.add_jet()).collect();
        let (mut kills, mut matches) = (0, 0);
        for _ in 0..1200 {
            for &id in &ids {
                let controls = chase(&world, id);
                world.set_controls(id, controls);
            }
            let events = world.step();
            check_invariants(&world);
            kills += events.kills.len();
            matches += usize::from(events.match_over.is_some());
        }
        (world.state_hash(), kills, matches)
    };
    let first = dogfight(2024);
    assert_eq!(first, dogfight(2024));
    assert_ne!(first.0, dogfight(2025).0);
    assert!(
        first.1 > 3 && first.2 > 1,
        "kills and match ends: {first:?}"
    );
}
