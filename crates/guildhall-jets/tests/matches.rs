//! The match cycle: score limit, time limit, winners, intermission and the next match.

mod common;

use common::{face_off, hold, shoot_down, wait_alive, world_with};
use guildhall_jets::{EndReason, JetResult, MatchResult, Phase, StepEvents, World};

/// Steps `n` times, collecting every event.
fn run(world: &mut World, n: u32) -> Vec<StepEvents> {
    (0..n).map(|_| world.step()).collect()
}

fn results(events: &[StepEvents]) -> Vec<&MatchResult> {
    events
        .iter()
        .filter_map(|e| e.match_over.as_ref())
        .collect()
}

#[test]
fn reaching_the_score_limit_ends_the_match() {
    let mut world = world_with(|rules| rules.score_limit = 2);
    let (a, b) = (world.add_jet(), world.add_jet());

    let first = shoot_down(&mut world, a, b);
    assert!(first.match_over.is_none());
    wait_alive(&mut world, b, 100);
    let second = shoot_down(&mut world, a, b);
    let end = world.tick();

    let result = second
        .match_over
        .expect("the second kill reaches the limit");
    assert_eq!(
        result,
        MatchResult {
            number: 1,
            results: vec![
                JetResult {
                    jet_id: a,
                    kills: 2,
                    deaths: 0,
                    winner: true
                },
                JetResult {
                    jet_id: b,
                    kills: 0,
                    deaths: 2,
                    winner: false
                },
            ],
            ended_by: EndReason::ScoreLimit,
            ticks: u32::try_from(end).unwrap(),
            next_match_in_ticks: 150,
        }
    );
    assert_eq!(world.remaining_ticks(), 5400 - u32::try_from(end).unwrap());
    assert_eq!(
        world.phase(),
        Phase::Intermission {
            resumes_at_tick: end + 150
        }
    );
    assert!(world.projectiles().is_empty());
}

#[test]
fn the_intermission_freezes_the_world_then_the_next_match_starts_fresh() {
    let mut world = world_with(|rules| rules.score_limit = 1);
    let (a, b, c) = (world.add_jet(), world.add_jet(), world.add_jet());
    world.place_jet(c, 1800.0, 200.0, 0.0);
    hold(&mut world, c, true, 1, true);
    let over = shoot_down(&mut world, a, b);
    assert!(over.match_over.is_some());
    let end = world.tick();
    let remaining = world.remaining_ticks();

    // Controls are accepted but nothing moves, fires or respawns.
    hold(&mut world, a, true, -1, true);
    let frozen = world.jets().to_vec();
    let events = run(&mut world, 149);
    assert!(events.iter().all(|e| *e == StepEvents::default()));
    assert_eq!(world.jets(), frozen);
    assert!(world.projectiles().is_empty());
    assert_eq!(world.match_number(), 1);
    assert_eq!(world.remaining_ticks(), remaining);
    assert_eq!(
        world.phase(),
        Phase::Intermission {
            resumes_at_tick: end + 150
        }
    );

    let events = world.step();
    assert_eq!(world.tick(), end + 150);
    assert_eq!(events.match_started, Some(2));
    assert_eq!(events.match_over, None);
    assert_eq!(world.phase(), Phase::Playing);
    assert_eq!(world.match_number(), 2);
    assert_eq!(world.remaining_ticks(), 5400);
    for jet in world.jets() {
        assert!(jet.alive);
        assert_eq!((jet.health, jet.score, jet.deaths), (100, 0, 0));
        assert_eq!((jet.vx, jet.vy, jet.cooldown()), (0.0, 0.0, 0));
    }
    assert_ne!(
        world.jet(b).unwrap().x,
        frozen[1].x,
        "everyone respawns somewhere new"
    );

    // Held controls act again from the first tick of play.
    world.step();
    assert_eq!(world.remaining_ticks(), 5399);
    assert!(world.jet(a).unwrap().vx != 0.0 || world.jet(a).unwrap().vy != 0.0);
    assert_eq!(world.projectiles().len(), 2);
}

#[test]
fn the_time_limit_ends_a_scoreless_match_in_a_draw() {
    let mut world = world_with(|rules| rules.time_limit_secs = 1);
    let ids = [world.add_jet(), world.add_jet(), world.add_jet()];
    let events = run(&mut world, 29);
    assert!(results(&events).is_empty());
    assert_eq!(world.remaining_ticks(), 1);

    let result = world.step().match_over.unwrap();
    assert_eq!(result.ended_by, EndReason::TimeLimit);
    assert_eq!(result.ticks, 30);
    assert_eq!(world.remaining_ticks(), 0);
    let winners: Vec<u32> = result
        .results
        .iter()
        .filter(|r| r.winner)
        .map(|r| r.jet_id)
        .collect();
    assert_eq!(winners, ids, "ties all win, 0 to 0 included");
}

#[test]
fn on_time_every_jet_with_the_top_score_wins() {
    let mut world = world_with(|rules| rules.time_limit_secs = 2);
    let (a, b, c) = (world.add_jet(), world.add_jet(), world.add_jet());
    world.place_jet(c, 1800.0, 200.0, 0.0);
    face_off(&mut world, a, b);
    hold(&mut world, a, false, 0, true);
    hold(&mut world, b, false, 0, true);
    let events = run(&mut world, 60);
    let over = results(&events);
    assert_eq!(over.len(), 1);
    assert_eq!(world.tick(), 60);
    assert!(events[59].match_over.is_some());
    assert_eq!(
        over[0].results,
        [
            JetResult {
                jet_id: a,
                kills: 1,
                deaths: 1,
                winner: true
            },
            JetResult {
                jet_id: b,
                kills: 1,
                deaths: 1,
                winner: true
            },
            JetResult {
                jet_id: c,
                kills: 0,
                deaths: 0,
                winner: false
            },
        ]
    );
}

#[test]
fn an_empty_world_still_runs_out_of_time() {
    let mut world = world_with(|rules| rules.time_limit_secs = 1);
    let events = run(&mut world, 30);
    let over = results(&events);
    assert_eq!(over.len(), 1);
    assert!(over[0].results.is_empty());
    assert_eq!(over[0].ended_by, EndReason::TimeLimit);
}

#[test]
fn a_lone_jet_flies_through_matches() {
    let mut world = world_with(|rules| {
        rules.time_limit_secs = 2;
        rules.intermission_secs = 1;
    });
    let id = world.add_jet();
    hold(&mut world, id, true, 1, true);
    let events = run(&mut world, 200);
    // Match 1 ends on 60, match 2 starts on 90 and ends on 150, match 3 starts on 180.
    let ended: Vec<u32> = results(&events).iter().map(|r| r.number).collect();
    assert_eq!(ended, [1, 2]);
    let started: Vec<u32> = events.iter().filter_map(|e| e.match_started).collect();
    assert_eq!(started, [2, 3]);
    assert!(events[59].match_over.is_some() && events[149].match_over.is_some());
    assert_eq!(
        (events[89].match_started, events[179].match_started),
        (Some(2), Some(3))
    );
    assert_eq!(world.match_number(), 3);
    assert!(results(&events).iter().all(|r| r.results[0].winner));
}

#[test]
fn match_over_is_reported_once_per_match() {
    let mut world = world_with(|rules| {
        rules.time_limit_secs = 1;
        rules.intermission_secs = 2;
    });
    world.add_jet();
    let events = run(&mut world, 1000);
    // Each cycle is 30 ticks of play and 60 of intermission: ends on 30, 120, ..., 990.
    let ended: Vec<u32> = results(&events).iter().map(|r| r.number).collect();
    assert_eq!(ended, (1..=11).collect::<Vec<_>>());
}

#[test]
fn with_no_intermission_the_next_match_starts_on_the_same_tick() {
    let mut world = world_with(|rules| {
        rules.time_limit_secs = 1;
        rules.intermission_secs = 0;
    });
    world.add_jet();
    let events = run(&mut world, 30);
    let last = &events[29];
    assert_eq!(last.match_over.as_ref().map(|r| r.number), Some(1));
    assert_eq!(last.match_over.as_ref().unwrap().next_match_in_ticks, 0);
    assert_eq!(last.match_started, Some(2));
    assert_eq!(world.phase(), Phase::Playing);
    assert_eq!(world.remaining_ticks(), 30);
}

#[test]
fn jets_that_leave_are_not_in_the_results() {
    let mut world = world_with(|rules| rules.time_limit_secs = 1);
    let (a, b) = (world.add_jet(), world.add_jet());
    world.remove_jet(a);
    let events = run(&mut world, 30);
    let over = results(&events);
    let ids: Vec<u32> = over[0].results.iter().map(|r| r.jet_id).collect();
    assert_eq!(ids, [b]);
}
