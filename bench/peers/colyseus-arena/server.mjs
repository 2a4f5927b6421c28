// Benchmark peer only: Guildhall's jet arena (docs/protocol/arena.md, "Game rules") as a
// Colyseus room, written the way the Colyseus docs suggest. Not part of Guildhall.
//
//   node server.mjs [--port 2567] [--tick-rate 30] [--host 127.0.0.1] [--seed N]
//                   [--score-limit 10] [--time-limit 180]
//
// Prints one line of JSON to stdout once listening: {"ready": true, "port": N, "pid": P}.
// Everything else (Colyseus logs, errors) goes to stderr.

import { parseArgs } from "node:util";
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import { defineServer, defineRoom, Room } from "@colyseus/core";
import { WebSocketTransport } from "@colyseus/ws-transport";
import { schema, t } from "@colyseus/schema";

const { values: args } = parseArgs({
  options: {
    port: { type: "string", default: "2567" },
    host: { type: "string", default: "127.0.0.1" },
    "tick-rate": { type: "string", default: "30" },
    seed: { type: "string" },
    "score-limit": { type: "string", default: "10" },
    "time-limit": { type: "string", default: "180" },
  },
});

const TICK_RATE = Number(args["tick-rate"]);
if (!(TICK_RATE > 0)) throw new Error(`bad --tick-rate ${args["tick-rate"]}`);

// ---- Game constants (docs/protocol/arena.md, "Game rules") ----------------------------

const WIDTH = 2000;
const HEIGHT = 1500;
const JET_RADIUS = 16;
const JET_HEALTH = 100;
const TURN_RATE = 3.5; // rad/s
const THRUST = 450; // units/s²
const DRAG = 0.9; // 1/s
const MAX_SPEED = 350;
const MUZZLE = 20;
const PROJECTILE_SPEED = 700;
const PROJECTILE_DAMAGE = 20;
const HIT_RADIUS = 16;
const SPAWN_MARGIN = 100;
const INTERMISSION_SECONDS = 5;

// ---- State (synchronised with @colyseus/schema, no decorators) ---------------------------

const Jet = schema(
  {
    id: t.uint32(),
    x: t.float32(),
    y: t.float32(),
    angle: t.float32(),
    vx: t.float32(),
    vy: t.float32(),
    health: t.uint8().default(JET_HEALTH),
    alive: t.boolean().default(true),
    score: t.uint16().default(0),
    deaths: t.uint16().default(0),
    lastSeq: t.uint32().default(0),
  },
  "Jet",
);

const Projectile = schema(
  {
    id: t.uint32(),
    owner: t.uint32(),
    x: t.float32(),
    y: t.float32(),
    vx: t.float32(),
    vy: t.float32(),
  },
  "Projectile",
);

const ArenaState = schema(
  {
    tick: t.uint32().default(0),
    match: t.uint32().default(1),
    remainingTicks: t.uint32().default(0),
    // > 0 between matches: ticks until the next match starts.
    intermissionTicks: t.uint32().default(0),
    jets: t.map(Jet), // keyed by the client's sessionId
    projectiles: t.map(Projectile), // keyed by String(projectile id)
  },
  "ArenaState",
);

// ---- SplitMix64 spawn stream ------------------------------------------------------------

const MASK64 = (1n << 64n) - 1n;

class SplitMix64 {
  constructor(seed) {
    this.state = BigInt.asUintN(64, BigInt(seed));
  }
  nextU64() {
    this.state = (this.state + 0x9e3779b97f4a7c15n) & MASK64;
    let z = this.state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
    return z ^ (z >> 31n);
  }
  /** Uniform in [0, 1): `next_u64() >> 11` as f64 × 2⁻⁵³. */
  nextF64() {
    return Number(this.nextU64() >> 11n) * 2 ** -53;
  }
}

const TAU = 2 * Math.PI;
/** Angles are kept in [0, 2π). */
function wrapAngle(angle) {
  const wrapped = ((angle % TAU) + TAU) % TAU;
  return wrapped >= TAU ? 0 : wrapped;
}

// ---- The room ---------------------------------------------------------------------------

export class ArenaRoom extends Room {
  maxClients = 10;

  messages = {
    // {seq, thrust, turn, fire}: the controls held now. Only the latest one counts; the
    // simulation applies it on the next tick.
    input: (client, message) => {
      const sim = this.sims.get(client.sessionId);
      if (sim === undefined || message === null || typeof message !== "object") return;
      const seq = Number(message.seq);
      if (!Number.isInteger(seq) || seq < 0 || seq <= sim.input.seq) return;
      const turn = Number(message.turn);
      sim.input = {
        seq,
        thrust: message.thrust === true,
        turn: turn > 0 ? 1 : turn < 0 ? -1 : 0,
        fire: message.fire === true,
      };
    },
  };

  onCreate(options) {
    this.tickRate = Number(options.tickRate) || 30;
    this.dt = 1 / this.tickRate;
    this.fireCooldownTicks = Math.round(0.25 * this.tickRate);
    this.projectileTtlTicks = Math.round(1.2 * this.tickRate);
    this.respawnTicks = Math.round(2 * this.tickRate);
    this.scoreLimit = Number(options.scoreLimit ?? 10);
    this.timeLimitTicks = Math.round(Number(options.timeLimit ?? 180) * this.tickRate);
    this.intermissionLength = Math.round(INTERMISSION_SECONDS * this.tickRate);

    const seed =
      options.seed !== undefined ? BigInt(options.seed) : randomBytes(8).readBigUInt64LE();
    this.rng = new SplitMix64(seed);

    this.nextJetId = 1;
    this.nextProjectileId = 1;
    // Server-only simulation data, by sessionId; `order` holds the same records in jet id
    // order (ids only grow, so joining appends).
    this.sims = new Map();
    this.order = [];
    // Server-only projectile data, in projectile id order (insertion order).
    this.shots = new Map();

    this.state = new ArenaState();
    this.state.remainingTicks = this.timeLimitTicks;

    this.setFixedTimestep(() => this.step(), this.tickRate);
    // Send the state every tick (set after the timestep so each patch follows a step).
    this.patchRate = 1000 / this.tickRate;
  }

  onJoin(client) {
    const jet = new Jet();
    jet.id = this.nextJetId++;
    const sim = {
      sessionId: client.sessionId,
      jet,
      input: { seq: 0, thrust: false, turn: 0, fire: false },
      cooldown: 0,
      respawnAt: 0,
    };
    this.spawn(sim);
    this.sims.set(client.sessionId, sim);
    this.order.push(sim);
    this.state.jets.set(client.sessionId, jet);
    client.send("welcome", {
      jetId: jet.id,
      tickRate: this.tickRate,
      arena: { width: WIDTH, height: HEIGHT },
      match: {
        number: this.state.match,
        scoreLimit: this.scoreLimit,
        timeLimitTicks: this.timeLimitTicks,
      },
    });
  }

  onLeave(client) {
    const sim = this.sims.get(client.sessionId);
    if (sim === undefined) return;
    this.sims.delete(client.sessionId);
    this.order.splice(this.order.indexOf(sim), 1);
    this.state.jets.delete(client.sessionId);
  }

  /** Full health, zero velocity and cooldown, at a point from the lobby's random stream. */
  spawn(sim) {
    const jet = sim.jet;
    jet.x = SPAWN_MARGIN + this.rng.nextF64() * (WIDTH - 2 * SPAWN_MARGIN);
    jet.y = SPAWN_MARGIN + this.rng.nextF64() * (HEIGHT - 2 * SPAWN_MARGIN);
    jet.angle = this.rng.nextF64() * TAU;
    jet.vx = 0;
    jet.vy = 0;
    jet.health = JET_HEALTH;
    jet.alive = true;
    sim.cooldown = 0;
  }

  /** One fixed simulation tick. */
  step() {
    const state = this.state;
    state.tick += 1;

    // The latest input of every jet counts as applied this tick.
    for (const sim of this.order) {
      if (sim.jet.lastSeq !== sim.input.seq) sim.jet.lastSeq = sim.input.seq;
    }

    if (state.intermissionTicks > 0) {
      state.intermissionTicks -= 1;
      if (state.intermissionTicks === 0) this.startMatch();
      return;
    }

    const dt = this.dt;

    // 1. Apply inputs (turn, thrust, fire) for every live jet, in id order.
    for (const sim of this.order) {
      const jet = sim.jet;
      if (!jet.alive) continue;
      const { thrust, turn, fire } = sim.input;
      const angle = turn === 0 ? jet.angle : wrapAngle(jet.angle + turn * TURN_RATE * dt);
      const cos = Math.cos(angle);
      const sin = Math.sin(angle);
      let vx = jet.vx;
      let vy = jet.vy;
      if (thrust) {
        vx += cos * THRUST * dt;
        vy += sin * THRUST * dt;
      }
      if (sim.cooldown > 0) sim.cooldown -= 1;
      if (fire && sim.cooldown === 0) {
        this.addProjectile(
          jet.id,
          jet.x + cos * MUZZLE,
          jet.y + sin * MUZZLE,
          cos * PROJECTILE_SPEED + vx,
          sin * PROJECTILE_SPEED + vy,
        );
        sim.cooldown = this.fireCooldownTicks;
      }
      if (turn !== 0) jet.angle = angle;
      jet.vx = vx;
      jet.vy = vy;
    }

    // 2. Move jets: drag, speed cap, integrate, walls.
    const minX = JET_RADIUS;
    const maxX = WIDTH - JET_RADIUS;
    const minY = JET_RADIUS;
    const maxY = HEIGHT - JET_RADIUS;
    for (const sim of this.order) {
      const jet = sim.jet;
      if (!jet.alive) continue;
      let vx = jet.vx - jet.vx * DRAG * dt;
      let vy = jet.vy - jet.vy * DRAG * dt;
      const speed = Math.hypot(vx, vy);
      if (speed > MAX_SPEED) {
        vx *= MAX_SPEED / speed;
        vy *= MAX_SPEED / speed;
      }
      let x = jet.x + vx * dt;
      let y = jet.y + vy * dt;
      if (x < minX) {
        x = minX;
        if (vx < 0) vx = 0;
      } else if (x > maxX) {
        x = maxX;
        if (vx > 0) vx = 0;
      }
      if (y < minY) {
        y = minY;
        if (vy < 0) vy = 0;
      } else if (y > maxY) {
        y = maxY;
        if (vy > 0) vy = 0;
      }
      jet.x = x;
      jet.y = y;
      jet.vx = vx;
      jet.vy = vy;
    }

    // 3. Move projectiles and resolve hits, in projectile id order.
    for (const [key, shot] of this.shots) {
      const p = shot.projectile;
      const x = p.x + p.vx * dt;
      const y = p.y + p.vy * dt;
      if (x < 0 || x > WIDTH || y < 0 || y > HEIGHT) {
        this.removeProjectile(key);
        continue;
      }
      p.x = x;
      p.y = y;
      let hit = null;
      for (const sim of this.order) {
        const jet = sim.jet;
        if (!jet.alive || jet.id === p.owner) continue;
        const dx = jet.x - x;
        const dy = jet.y - y;
        if (dx * dx + dy * dy <= HIT_RADIUS * HIT_RADIUS) {
          hit = sim;
          break;
        }
      }
      if (hit !== null) {
        this.removeProjectile(key);
        this.damage(hit, p.owner);
        continue;
      }
      shot.ttl -= 1;
      if (shot.ttl <= 0) this.removeProjectile(key);
    }

    // 4. Respawn timers.
    for (const sim of this.order) {
      if (!sim.jet.alive && state.tick >= sim.respawnAt) this.spawn(sim);
    }

    // 5. Match end.
    state.remainingTicks -= 1;
    let top = 0;
    for (const sim of this.order) top = Math.max(top, sim.jet.score);
    if (top >= this.scoreLimit || state.remainingTicks <= 0) this.endMatch(top);
  }

  addProjectile(owner, x, y, vx, vy) {
    const projectile = new Projectile();
    projectile.id = this.nextProjectileId++;
    projectile.owner = owner;
    projectile.x = x;
    projectile.y = y;
    projectile.vx = vx;
    projectile.vy = vy;
    const key = String(projectile.id);
    this.shots.set(key, { projectile, ttl: this.projectileTtlTicks });
    this.state.projectiles.set(key, projectile);
  }

  removeProjectile(key) {
    this.shots.delete(key);
    this.state.projectiles.delete(key);
  }

  damage(sim, ownerId) {
    const jet = sim.jet;
    jet.health = Math.max(0, jet.health - PROJECTILE_DAMAGE);
    if (jet.health > 0) return;
    jet.alive = false;
    jet.vx = 0;
    jet.vy = 0;
    jet.deaths += 1;
    sim.respawnAt = this.state.tick + this.respawnTicks;
    const owner = this.order.find((s) => s.jet.id === ownerId);
    if (owner !== undefined) owner.jet.score += 1;
  }

  endMatch(top) {
    const state = this.state;
    this.broadcast("match_end", {
      number: state.match,
      results: this.order.map(({ jet }) => ({
        jetId: jet.id,
        kills: jet.score,
        deaths: jet.deaths,
        winner: jet.score === top,
      })),
      nextMatchInTicks: this.intermissionLength,
    });
    state.intermissionTicks = this.intermissionLength;
    this.shots.clear();
    state.projectiles.clear();
  }

  startMatch() {
    const state = this.state;
    state.match += 1;
    state.remainingTicks = this.timeLimitTicks;
    for (const sim of this.order) {
      sim.jet.score = 0;
      sim.jet.deaths = 0;
      this.spawn(sim);
    }
  }
}

// ---- The server -------------------------------------------------------------------------

async function main() {
  const toStderr = (...xs) => console.error(...xs);
  const server = defineServer({
    greet: false,
    logger: { debug() {}, trace() {}, info: toStderr, warn: toStderr, error: toStderr },
    transport: new WebSocketTransport(),
    rooms: {
      arena: defineRoom(ArenaRoom, {
        tickRate: TICK_RATE,
        scoreLimit: Number(args["score-limit"]),
        timeLimit: Number(args["time-limit"]),
        ...(args.seed !== undefined ? { seed: args.seed } : {}),
      }),
    },
  });
  await server.listen(Number(args.port), args.host);
  const { port } = server.transport.server.address();
  process.stdout.write(JSON.stringify({ ready: true, port, pid: process.pid }) + "\n");
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main();
