//! The world: every jet and projectile of one lobby, the random stream, and the match
//! cycle, advanced one tick at a time by [`World::step`].
//!
//! A step during play follows the spec's tick order exactly: apply the controls of
//! every live jet in id order (turn, thrust, fire), move every live jet, move the
//! projectiles and resolve their hits in projectile id order, advance respawn timers,
//! then check for the end of the match. During an intermission a step only counts the
//! tick, and the step that reaches the end of the intermission starts the next match.
//!
//! Ticks are numbered by the steps that produced them: [`World::tick`] is 0 for a new
//! world and `n` after `n` steps. A jet killed on tick `k` is dead in ticks
//! `k..k + respawn_ticks` and alive again on tick `k + respawn_ticks`.

use crate::events::{EndReason, JetResult, Kill, MatchResult, Phase, StepEvents};
use crate::hash::Fnv1a;
use crate::jet::{Controls, Jet, JetId};
use crate::projectile::Projectile;
use crate::rng::{SplitMix64, spawn_point, wrap_angle};
use crate::rules::Rules;

/// One lobby's game. Owns all of its state; nothing in it reads a clock or does I/O,
/// so the same seed and the same calls always produce the same worlds.
#[derive(Clone, Debug, PartialEq)]
pub struct World {
    /// Fixed at creation.
    rules: Rules,
    /// Spawn points, in the order jets (re)spawn.
    rng: SplitMix64,
    /// Steps taken so far.
    tick: u64,
    /// The current (or, during an intermission, just finished) match, from 1.
    match_number: u32,
    /// Ticks of play left before the time limit. Counts down once per tick of play and
    /// stays where it was while the world is frozen.
    remaining_ticks: u32,
    /// Playing, or frozen until a given tick between two matches.
    phase: Phase,
    /// Sorted by id, which is the order jets were added in.
    jets: Vec<Jet>,
    /// Sorted by id, which is the order they were fired in.
    projectiles: Vec<Projectile>,
    /// Ids are never reused, so a departed jet's projectiles cannot score for a
    /// newcomer.
    next_jet_id: JetId,
    next_projectile_id: u32,
}

impl World {
    /// An empty world at tick 0, playing match 1, its random stream seeded with `seed`.
    ///
    /// # Panics
    ///
    /// If `rules` fail [`Rules::validate`]: check them where they are loaded.
    pub fn new(rules: Rules, seed: u64) -> Self {
        if let Err(error) = rules.validate() {
            panic!("invalid arena rules: {error}");
        }
        World {
            remaining_ticks: rules.time_limit_ticks(),
            rules,
            rng: SplitMix64::new(seed),
            tick: 0,
            match_number: 1,
            phase: Phase::Playing,
            jets: Vec::new(),
            projectiles: Vec::new(),
            next_jet_id: 1,
            next_projectile_id: 1,
        }
    }

    /// Adds a jet, alive at a spawn point drawn from the random stream, with no
    /// controls held, and returns its id (1 for the first, then increasing). A jet
    /// that joins mid-match starts on 0; one that joins during an intermission is
    /// placed and then respawns with everyone when the next match starts.
    pub fn add_jet(&mut self) -> JetId {
        let id = self.next_jet_id;
        // 2^32 joins in one lobby would take centuries; wrapping only avoids a panic.
        self.next_jet_id = self.next_jet_id.wrapping_add(1);
        let at = spawn_point(&mut self.rng, &self.rules);
        self.jets.push(Jet::new(id, at));
        id
    }

    /// Removes a jet. Its projectiles keep flying and can still hit, but a kill they
    /// make scores for nobody. Returns false if there is no such jet.
    pub fn remove_jet(&mut self, id: JetId) -> bool {
        match self.index_of(id) {
            Some(index) => {
                self.jets.remove(index);
                true
            }
            None => false,
        }
    }

    /// Sets the controls a jet holds from the next step on, until changed. A `turn`
    /// outside `-1..=1` counts as its sign. Accepted while the jet is dead or the world
    /// is frozen, and applied once it is back in play. Returns false if there is no
    /// such jet.
    pub fn set_controls(&mut self, id: JetId, controls: Controls) -> bool {
        match self.jet_mut(id) {
            Some(jet) => {
                jet.controls = controls.normalized();
                true
            }
            None => false,
        }
    }

    /// Advances the world by one tick and reports what happened.
    pub fn step(&mut self) -> StepEvents {
        self.tick += 1;
        let mut events = StepEvents::default();
        match self.phase {
            Phase::Intermission { resumes_at_tick } => {
                if self.tick >= resumes_at_tick {
                    self.start_next_match();
                    events.match_started = Some(self.match_number);
                }
            }
            Phase::Playing => {
                self.apply_controls();
                self.move_jets();
                self.move_projectiles(&mut events.kills);
                self.respawn_due_jets();
                events.match_over = self.check_match_end();
                if events.match_over.is_some() && self.rules.intermission_ticks() == 0 {
                    self.start_next_match();
                    events.match_started = Some(self.match_number);
                }
            }
        }
        events
    }

    /// Steps taken since the world was made.
    pub fn tick(&self) -> u64 {
        self.tick
    }

    /// The match being played, or during an intermission the one that just ended.
    pub fn match_number(&self) -> u32 {
        self.match_number
    }

    /// Ticks of play left before the time limit ends the match. Frozen during an
    /// intermission.
    pub fn remaining_ticks(&self) -> u32 {
        self.remaining_ticks
    }

    /// Playing or between matches.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Every jet, in id order.
    pub fn jets(&self) -> &[Jet] {
        &self.jets
    }

    /// The jet with this id, if it is in the world.
    pub fn jet(&self, id: JetId) -> Option<&Jet> {
        self.index_of(id).map(|index| &self.jets[index])
    }

    /// Every projectile in flight, in id order.
    pub fn projectiles(&self) -> &[Projectile] {
        &self.projectiles
    }

    /// The rules the world was made with.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// A 64-bit FNV-1a hash of the whole state: every field of every jet (controls,
    /// cooldown and respawn tick included) and projectile, the clocks, the phase, the
    /// random stream and the id counters. Equal worlds have equal hashes; use it to
    /// check a replay or two runs against each other.
    pub fn state_hash(&self) -> u64 {
        let mut h = Fnv1a::new();
        let rules = &self.rules;
        h.u32(rules.tick_rate);
        h.f32(rules.width);
        h.f32(rules.height);
        h.u32(rules.score_limit);
        h.u32(rules.time_limit_secs);
        h.u32(rules.intermission_secs);
        h.u64(self.rng.state());
        h.u64(self.tick);
        h.u32(self.match_number);
        h.u32(self.remaining_ticks);
        match self.phase {
            Phase::Playing => h.u32(0),
            Phase::Intermission { resumes_at_tick } => {
                h.u32(1);
                h.u64(resumes_at_tick);
            }
        }
        h.u32(self.next_jet_id);
        h.u32(self.next_projectile_id);
        h.u64(self.jets.len() as u64);
        for jet in &self.jets {
            h.u32(jet.id);
            for value in [jet.x, jet.y, jet.angle, jet.vx, jet.vy] {
                h.f32(value);
            }
            h.bytes(&[jet.health]);
            h.bool(jet.alive);
            h.u32(jet.score);
            h.u32(jet.deaths);
            h.u32(jet.cooldown);
            h.u64(jet.respawn_at.map_or(u64::MAX, |tick| tick));
            h.bool(jet.controls.thrust);
            h.bytes(&jet.controls.turn.to_le_bytes());
            h.bool(jet.controls.fire);
        }
        h.u64(self.projectiles.len() as u64);
        for p in &self.projectiles {
            h.u32(p.id);
            h.u32(p.owner);
            for value in [p.x, p.y, p.vx, p.vy] {
                h.f32(value);
            }
            h.u32(p.ttl);
        }
        h.finish()
    }

    /// Test hook: puts a jet at `(x, y)` facing `angle`, at rest. Does not revive a
    /// dead jet or check the walls. Returns false if there is no such jet.
    #[doc(hidden)]
    pub fn place_jet(&mut self, id: JetId, x: f32, y: f32, angle: f32) -> bool {
        match self.jet_mut(id) {
            Some(jet) => {
                (jet.x, jet.y, jet.angle) = (x, y, wrap_angle(angle));
                (jet.vx, jet.vy) = (0.0, 0.0);
                true
            }
            None => false,
        }
    }

    fn index_of(&self, id: JetId) -> Option<usize> {
        self.jets.binary_search_by_key(&id, |jet| jet.id).ok()
    }

    fn jet_mut(&mut self, id: JetId) -> Option<&mut Jet> {
        let index = self.index_of(id)?;
        Some(&mut self.jets[index])
    }

    /// Turn, thrust and fire for every live jet, in id order.
    fn apply_controls(&mut self) {
        let dt = self.rules.dt();
        let cooldown = self.rules.fire_cooldown_ticks();
        let lifetime = self.rules.projectile_lifetime_ticks();
        for jet in self.jets.iter_mut().filter(|jet| jet.alive) {
            if let Some(shot) = jet.apply_controls(dt, cooldown) {
                self.projectiles.push(Projectile {
                    id: self.next_projectile_id,
                    owner: jet.id,
                    x: shot.x,
                    y: shot.y,
                    vx: shot.vx,
                    vy: shot.vy,
                    ttl: lifetime,
                });
                // Wraps after 2^32 shots, months of a full lobby; only avoids a panic.
                self.next_projectile_id = self.next_projectile_id.wrapping_add(1);
            }
        }
    }

    /// Drag, speed cap, move and walls for every live jet.
    fn move_jets(&mut self) {
        let (dt, width, height) = (self.rules.dt(), self.rules.width, self.rules.height);
        for jet in self.jets.iter_mut().filter(|jet| jet.alive) {
            jet.fly(dt, width, height);
        }
    }

    /// Moves each projectile in id order and resolves its hit, if any, against the jets
    /// as they are at that moment: a jet killed by an earlier projectile of this tick
    /// is no longer a target.
    fn move_projectiles(&mut self, kills: &mut Vec<Kill>) {
        let (dt, width, height) = (self.rules.dt(), self.rules.width, self.rules.height);
        let respawn_at = self.tick + u64::from(self.rules.respawn_ticks());
        let jets = &mut self.jets;
        self.projectiles.retain_mut(|projectile| {
            if !projectile.advance(dt, width, height) {
                return false;
            }
            // `jets` is in id order, so the first match is the lowest id.
            let Some(victim) = jets.iter_mut().find(|jet| projectile.hits(jet)) else {
                return true;
            };
            if victim.take_hit(respawn_at) {
                let victim = victim.id;
                if let Some(killer) = jets.iter_mut().find(|jet| jet.id == projectile.owner) {
                    killer.score = killer.score.saturating_add(1);
                }
                kills.push(Kill {
                    killer: projectile.owner,
                    victim,
                });
            }
            false
        });
    }

    /// Respawns, in id order, every dead jet whose time has come.
    fn respawn_due_jets(&mut self) {
        for jet in &mut self.jets {
            if !jet.alive && jet.respawn_at.is_some_and(|at| at <= self.tick) {
                jet.respawn(spawn_point(&mut self.rng, &self.rules));
            }
        }
    }

    /// Counts down the clock; if the match is over, freezes the world and returns the
    /// result.
    fn check_match_end(&mut self) -> Option<MatchResult> {
        self.remaining_ticks = self.remaining_ticks.saturating_sub(1);
        let limit = self.rules.score_limit;
        let ended_by = if self.jets.iter().any(|jet| jet.score >= limit) {
            EndReason::ScoreLimit
        } else if self.remaining_ticks == 0 {
            EndReason::TimeLimit
        } else {
            return None;
        };
        let best = self.jets.iter().map(|jet| jet.score).max();
        let results = self
            .jets
            .iter()
            .map(|jet| JetResult {
                jet_id: jet.id,
                kills: jet.score,
                deaths: jet.deaths,
                winner: Some(jet.score) == best,
            })
            .collect();
        let intermission = self.rules.intermission_ticks();
        self.projectiles.clear();
        self.phase = Phase::Intermission {
            resumes_at_tick: self.tick + u64::from(intermission),
        };
        Some(MatchResult {
            number: self.match_number,
            results,
            ended_by,
            ticks: self.rules.time_limit_ticks() - self.remaining_ticks,
            next_match_in_ticks: intermission,
        })
    }

    /// The next match: a fresh clock, scores and deaths reset, every jet respawned in
    /// id order at a new spawn point.
    fn start_next_match(&mut self) {
        self.match_number = self.match_number.saturating_add(1);
        self.remaining_ticks = self.rules.time_limit_ticks();
        self.phase = Phase::Playing;
        self.projectiles.clear();
        for jet in &mut self.jets {
            jet.score = 0;
            jet.deaths = 0;
            jet.respawn(spawn_point(&mut self.rng, &self.rules));
        }
    }
}
