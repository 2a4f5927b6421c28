// Benchmark peer only: a load driver for server.mjs (game.mjs on the boardgame.io server).
//
//   node bots.mjs --url http://127.0.0.1:PORT --tables N --duration SECONDS
//                 [--warmup 2] [--seed 1] [--move-timeout 10] [--think-ms 0]
//
// Each of N tables creates a match through the Lobby API (numPlayers 5, setupData {seed}),
// joins five players through it, and runs one boardgame.io Client per player with the
// SocketIO transport (its own socket.io connection; playerID and credentials from the
// join). Whenever a bot's state says it is its turn it moves (bid/pass at random, call a
// random suit, play a random card from its hand): at once, or after about --think-ms (0.5x to 1.5x). When the game is over the table
// stops its clients and starts a new match, until the run ends.
//
// Latency: from the `client.moves.X(...)` call to the first state update from the server
// in which that move is applied. boardgame.io applies a move to the local state at once
// (optimistically, without running the turn order), so "applied" means the server's
// state: its ctx.turn is past the turn the move was made in (every turn here is one move)
// or the game is over.
//
// The first --warmup seconds are not measured; then it measures for --duration seconds
// and prints one line of JSON to stdout:
//   {"tables", "actions", "actions_per_sec", "latency_ms": {"p50", "p99", "max"},
//    "games_finished", "errors"}
// actions: moves sent and applied inside the window; games_finished: games whose end a
// bot saw inside the window; errors: failed lobby calls and moves not applied within
// --move-timeout seconds (their table is restarted), over the whole run. A summary goes
// to stderr.

import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";
import { createRequire } from "node:module";

process.env.NODE_ENV ??= "production";
// Keep stdout for the one JSON line: boardgame.io logs with console.log.
console.log = console.error;

const { values: args } = parseArgs({
  options: {
    url: { type: "string", default: "http://127.0.0.1:8000" },
    tables: { type: "string", default: "10" },
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    seed: { type: "string", default: "1" },
    "move-timeout": { type: "string", default: "10" },
    "think-ms": { type: "string", default: "0" },
  },
});

// boardgame.io 0.50 has no "exports" map, so ESM cannot import its subpath folders.
const require = createRequire(import.meta.url);
const { Client, LobbyClient } = require("boardgame.io/client");
const { SocketIO } = require("boardgame.io/multiplayer");
const { TricksGame, GAME_NAME, NUM_PLAYERS, RANKS_BY_STRENGTH, SUITS, strength } =
  await import("./game.mjs");

const URL = args.url;
const TABLES = Number(args.tables);
const DURATION_MS = Number(args.duration) * 1000;
const WARMUP_MS = Number(args.warmup) * 1000;
const SEED = BigInt(args.seed);
const MOVE_TIMEOUT_MS = Number(args["move-timeout"]) * 1000;
const THINK_MS = Number(args["think-ms"]);
const BID_PROBABILITY = 0.5;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// SplitMix64, one stream per bot (as the Guildhall bots).
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
  unit() {
    return Number(this.nextU64() >> 11n) * 2 ** -53;
  }
  /** Uniform in 0..n. */
  below(n) {
    return Math.floor(this.unit() * n);
  }
}

// ---- Measurement ---------------------------------------------------------------------------

const runStart = performance.now();
const windowStart = runStart + WARMUP_MS;
const windowEnd = windowStart + DURATION_MS;
let stopping = false;
const samples = [];
let gamesFinished = 0;
let gamesFinishedTotal = 0;
let movesTotal = 0;
let errors = 0;
let matchesCreated = 0;

function error(message) {
  errors += 1;
  if (errors <= 10) console.error(`bots: ${message}`);
}

const lobby = new LobbyClient({ server: URL });
const tables = [];

// ---- A bot: one boardgame.io client ---------------------------------------------------------

class Bot {
  constructor(table, playerID, credentials, rng) {
    this.table = table;
    this.playerID = playerID;
    this.rng = rng;
    // Think times: drawn from half to one and a half times --think-ms (as the Guildhall
    // bots), from their own stream so the moves a seed gives stay the same.
    this.thinkRng = new SplitMix64(rng.state ^ 0x7468696e6b000000n);
    this.pending = null; // {sentAt, turn}: the move in flight
    this.actedTurn = -1;
    this.scheduled = false;
    this.sawGameOver = false;
    this.stopped = false;
    this.client = Client({
      game: TricksGame,
      numPlayers: NUM_PLAYERS,
      multiplayer: SocketIO({ server: URL, socketOpts: { transports: ["websocket"] } }),
      matchID: table.matchID,
      playerID,
      credentials,
      debug: false,
    });
    this.client.subscribe((state) => this.onState(state));
    this.client.start();
  }

  onState(state) {
    if (state === null || this.stopped) return;
    const { ctx } = state;
    const over = ctx.gameover !== undefined;
    const pending = this.pending;
    if (pending !== null && (ctx.turn > pending.turn || over)) {
      const now = performance.now();
      this.pending = null;
      movesTotal += 1;
      if (pending.sentAt >= windowStart && now < windowEnd) samples.push(now - pending.sentAt);
      this.table.progress(now);
    }
    if (over) {
      if (!this.sawGameOver) {
        this.sawGameOver = true;
        this.table.botSawGameOver();
      }
      return;
    }
    if (
      this.pending === null &&
      !this.scheduled &&
      ctx.currentPlayer === this.playerID &&
      ctx.turn !== this.actedTurn
    ) {
      // Move outside the client's dispatch (this callback runs inside it).
      this.scheduled = true;
      const act = () => {
        this.scheduled = false;
        this.act();
      };
      if (THINK_MS > 0) setTimeout(act, THINK_MS * (0.5 + this.thinkRng.unit()));
      else setImmediate(act);
    }
  }

  act() {
    if (this.stopped || stopping || this.pending !== null) return;
    const state = this.client.getState();
    if (state === null) return;
    const { G, ctx } = state;
    if (ctx.gameover !== undefined || ctx.currentPlayer !== this.playerID) return;
    if (ctx.turn === this.actedTurn) return;
    const rng = this.rng;
    let move;
    let moveArgs = [];
    switch (ctx.phase) {
      case "auction": {
        const best = G.auction.best;
        const legal = RANKS_BY_STRENGTH.filter((r) => best === null || strength(r) < strength(best));
        if (legal.length > 0 && rng.unit() < BID_PROBABILITY) {
          move = "bid";
          moveArgs = [legal[rng.below(legal.length)]];
        } else {
          move = "pass";
        }
        break;
      }
      case "call":
        move = "callSuit";
        moveArgs = [SUITS[rng.below(SUITS.length)]];
        break;
      case "play": {
        const hand = G.players[this.playerID].hand;
        move = "play";
        moveArgs = [hand[rng.below(hand.length)]];
        break;
      }
      default:
        return;
    }
    this.actedTurn = ctx.turn;
    this.pending = { sentAt: performance.now(), turn: ctx.turn };
    this.client.moves[move](...moveArgs);
  }

  stop() {
    this.stopped = true;
    this.client.stop();
  }
}

// ---- A table: one match at a time ------------------------------------------------------------

class Table {
  constructor(index) {
    this.index = index;
    this.games = 0;
    this.bots = [];
    this.matchID = null;
    this.closed = true;
    this.lastProgress = performance.now();
    this.gameOverSeen = 0;
  }

  async startMatch() {
    while (!stopping) {
      try {
        const seed = (SEED << 32n) + (BigInt(this.index) << 16n) + BigInt(this.games);
        const { matchID } = await lobby.createMatch(GAME_NAME, {
          numPlayers: NUM_PLAYERS,
          setupData: { seed: seed.toString() },
        });
        const joins = await Promise.all(
          Array.from({ length: NUM_PLAYERS }, (_, p) =>
            lobby.joinMatch(GAME_NAME, matchID, {
              playerID: String(p),
              playerName: `t${this.index}p${p}`,
            }),
          ),
        );
        if (stopping) return;
        matchesCreated += 1;
        this.matchID = matchID;
        this.closed = false;
        this.gameOverSeen = 0;
        this.lastProgress = performance.now();
        this.bots = joins.map(
          ({ playerID, playerCredentials }, p) =>
            new Bot(
              this,
              playerID,
              playerCredentials,
              new SplitMix64(seed * 8n + BigInt(p)),
            ),
        );
        return;
      } catch (err) {
        error(`table ${this.index}: lobby: ${err?.message ?? err}`);
        await sleep(1000);
      }
    }
  }

  progress(now) {
    this.lastProgress = now;
  }

  /** Every bot has seen the end (so the last mover has its sample): next match. */
  botSawGameOver() {
    this.gameOverSeen += 1;
    if (this.gameOverSeen === 1) {
      gamesFinishedTotal += 1;
      const now = performance.now();
      if (now >= windowStart && now < windowEnd) gamesFinished += 1;
    }
    // Not from inside the client's dispatch.
    if (this.gameOverSeen === NUM_PLAYERS) setImmediate(() => this.restart());
  }

  restart() {
    if (this.closed) return; // already between matches
    this.close();
    this.games += 1;
    if (!stopping) this.startMatch();
  }

  close() {
    this.closed = true;
    for (const bot of this.bots) bot.stop();
    this.bots = [];
  }

  /** A move in flight for too long: count it and start over with a new match. */
  checkStuck(now) {
    if (this.closed) return;
    const stuck = this.bots.some(
      (b) => b.pending !== null && now - b.pending.sentAt > MOVE_TIMEOUT_MS,
    );
    if (stuck) {
      error(`table ${this.index}: a move was not applied within ${MOVE_TIMEOUT_MS} ms`);
      this.restart();
    }
  }
}

/** The q quantile (0..=1) of sorted samples: index round((n - 1) q), as the Rust bots. */
function quantile(sorted, q) {
  if (sorted.length === 0) return null;
  return Math.round(sorted[Math.round((sorted.length - 1) * q)] * 1000) / 1000;
}

async function main() {
  for (let i = 0; i < TABLES; i++) tables.push(new Table(i));
  const started = Promise.all(tables.map((t) => t.startMatch()));
  started.then(() =>
    console.error(
      `bots: ${TABLES} tables started in ${Math.round(performance.now() - runStart)} ms`,
    ),
  );
  const watchdog = setInterval(() => {
    const now = performance.now();
    for (const t of tables) t.checkStuck(now);
  }, 1000);

  await sleep(windowEnd - performance.now());
  stopping = true;
  clearInterval(watchdog);

  const sorted = samples.sort((a, b) => a - b);
  const seconds = DURATION_MS / 1000;
  console.error(
    `bots: ${matchesCreated} matches created, ${gamesFinishedTotal} games finished, ` +
      `${movesTotal} moves applied in the whole run, ${sorted.length} in the window`,
  );
  const report = {
    tables: TABLES,
    actions: sorted.length,
    actions_per_sec: Math.round((sorted.length / seconds) * 10) / 10,
    latency_ms: {
      p50: quantile(sorted, 0.5),
      p99: quantile(sorted, 0.99),
      max: quantile(sorted, 1),
    },
    games_finished: gamesFinished,
    errors,
  };
  for (const t of tables) t.close();
  process.stdout.write(JSON.stringify(report) + "\n", () => process.exit(0));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
