// Benchmark peer only: a load driver for server.mjs (the arena as a Colyseus room).
//
//   node bots.mjs --url ws://127.0.0.1:PORT --count N --duration SECONDS [--ramp SECONDS]
//                 [--seed N]
//
// Connects N bots over --ramp seconds (joinOrCreate "arena", so rooms fill to 10). Every
// 100 ms (first at once) each bot sends `input` {seq: seq+1, thrust, turn, fire} drawn from
// its own SplitMix64 stream seeded --seed + index (thrust: unit < 0.7, turn: next % 3 - 1,
// fire: unit < 0.3, in that order: the same as the Rust bots) and notes the send time; when
// a state patch shows its jet's lastSeq >= a pending seq, latency = now - send time for
// each such seq. Samples count from 500 ms after the ramp once every join has settled;
// then it runs --duration seconds more and prints one line of JSON to stdout:
//   {"connected", "failed", "latency_ms": {"p50", "p99", "max"}, "updates", "inputs"}
// `updates` (state patches received) and `inputs` (inputs sent) count the whole run.

import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";
import { Client } from "@colyseus/sdk";

const { values: args } = parseArgs({
  options: {
    url: { type: "string", default: "ws://127.0.0.1:2567" },
    count: { type: "string", default: "10" },
    duration: { type: "string", default: "10" },
    ramp: { type: "string", default: "5" },
    seed: { type: "string", default: "1" },
  },
});

const COUNT = Number(args.count);
const DURATION_MS = Number(args.duration) * 1000;
const RAMP_MS = Number(args.ramp) * 1000;
const SEED = BigInt(args.seed);
const INPUT_INTERVAL_MS = 100;
// Measuring starts this long after the ramp (as in the Rust bots)...
const RAMP_GRACE_MS = 500;
// ...and once every join has settled, but waits no longer than this for them.
const SETTLE_TIMEOUT_MS = 15_000;
// Unacknowledged seqs kept per bot.
const MAX_PENDING = 64;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// SplitMix64, one stream per bot (seeded with --seed + bot index).
const MASK64 = (1n << 64n) - 1n;
class SplitMix64 {
  constructor(seed) {
    this.state = BigInt.asUintN(64, seed);
  }
  nextU64() {
    this.state = (this.state + 0x9e3779b97f4a7c15n) & MASK64;
    let z = this.state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
    return z ^ (z >> 31n);
  }
  /** Uniform in [0, 1). */
  nextF64() {
    return Number(this.nextU64() >> 11n) * 2 ** -53;
  }
}

let samples = [];
let measuring = false;
let updates = 0;
let inputs = 0;
let failed = 0;
const bots = [];

class Bot {
  constructor(index) {
    this.rng = new SplitMix64(SEED + BigInt(index));
    this.seq = 0;
    this.pending = []; // [seq, sentAt], seq ascending
    this.room = null;
    this.timer = null;
    this.open = false;
  }

  async connect(client) {
    const room = await client.joinOrCreate("arena");
    this.room = room;
    this.open = true;
    room.onMessage("welcome", () => {});
    room.onMessage("match_end", () => {});
    room.onStateChange((state) => this.onState(state));
    room.onLeave(() => this.close());
    room.onError(() => this.close());
    this.sendInput();
    this.timer = setInterval(() => this.sendInput(), INPUT_INTERVAL_MS);
  }

  sendInput() {
    if (!this.open) return;
    const rng = this.rng;
    const message = {
      seq: ++this.seq,
      thrust: rng.nextF64() < 0.7,
      turn: Number(rng.nextU64() % 3n) - 1,
      fire: rng.nextF64() < 0.3,
    };
    this.room.send("input", message);
    inputs += 1;
    this.pending.push([message.seq, performance.now()]);
    if (this.pending.length > MAX_PENDING) this.pending.shift();
  }

  onState(state) {
    updates += 1;
    if (this.pending.length === 0) return;
    const jet = state.jets.get(this.room.sessionId);
    if (jet === undefined) return;
    const acked = jet.lastSeq;
    let n = 0;
    const now = performance.now();
    while (n < this.pending.length && this.pending[n][0] <= acked) {
      if (measuring) samples.push(now - this.pending[n][1]);
      n += 1;
    }
    if (n > 0) this.pending.splice(0, n);
  }

  close() {
    this.open = false;
    clearInterval(this.timer);
  }
}

/** The q quantile (0..=1) of sorted samples: index round((n - 1) q), as the Rust bots. */
function quantile(sorted, q) {
  if (sorted.length === 0) return null;
  return Math.round(sorted[Math.round((sorted.length - 1) * q)] * 1000) / 1000;
}

async function main() {
  const client = new Client(args.url);
  const started = performance.now();
  const attempts = [];
  for (let i = 0; i < COUNT; i++) {
    const due = started + (COUNT > 1 ? (RAMP_MS * i) / COUNT : 0);
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const bot = new Bot(i);
    attempts.push(
      bot.connect(client).then(
        () => bots.push(bot),
        (err) => {
          failed += 1;
          if (failed <= 5) console.error(`bot ${i}: join failed: ${err?.message ?? err}`);
        },
      ),
    );
  }
  const rest = started + RAMP_MS + RAMP_GRACE_MS - performance.now();
  if (rest > 0) await sleep(rest);
  await Promise.race([Promise.allSettled(attempts), sleep(SETTLE_TIMEOUT_MS)]);

  // Measure from here on.
  samples = [];
  measuring = true;
  await sleep(DURATION_MS);
  measuring = false;

  const connected = bots.filter((b) => b.open).length;
  const sorted = samples.sort((a, b) => a - b);
  const rooms = new Set(bots.map((b) => b.room.roomId)).size;
  console.error(
    `bots: ${connected}/${COUNT} connected in ${rooms} rooms, ${sorted.length} latency samples`,
  );
  const report = {
    connected,
    failed: COUNT - connected,
    latency_ms: {
      p50: quantile(sorted, 0.5),
      p99: quantile(sorted, 0.99),
      max: quantile(sorted, 1),
    },
    updates,
    inputs,
  };
  process.stdout.write(JSON.stringify(report) + "\n", () => process.exit(0));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
