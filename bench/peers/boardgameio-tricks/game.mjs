// Benchmark peer only: a minimal trick-taking game shaped like Briscola chiamata
// (crates/guildhall-briscola), simplified, as a boardgame.io game definition. Not part
// of Guildhall.
//
// Five players, the 40-card Italian deck, eight cards each from a seeded shuffle
// (SplitMix64 + Fisher–Yates, the same stream and shuffle as guildhall-rng). Phases:
//   auction  each player in turn bids a rank strictly weaker than the best bid so far,
//            or passes (final). One bidder left: the auction ends. All five pass: redeal.
//   call     the auction winner names a suit: trump.
//   play     eight tricks; any card may be played; the highest trump wins, else the
//            highest card of the suit led; the winner leads the next trick.
// After eight tricks the game ends: the caller (alone) wins with at least 61 card points.
// One hand per game.
//
// boardgame.io idioms: moves (bid, pass, callSuit, play), phases with turn.order,
// turn.maxMoves, phase endIf, game endIf, playerView: PlayerView.STRIP_SECRETS (the
// undealt state lives in G.secret; hands in G.players[id].hand).

import { createRequire } from "node:module";

// boardgame.io 0.50 has no "exports" map, so ESM cannot import its subpath folders
// (boardgame.io/core is a directory with a package.json): load the CommonJS build.
const require = createRequire(import.meta.url);
const { INVALID_MOVE, PlayerView } = require("boardgame.io/core");

export const GAME_NAME = "tricks";
export const NUM_PLAYERS = 5;
export const HAND_SIZE = 8;
export const TRICKS = 8;
export const WIN_POINTS = 61;

export const SUITS = ["coppe", "denari", "spade", "bastoni"];
/** Ranks from strongest to weakest (1 = ace, 8 = jack, 9 = horse, 10 = king). */
export const RANKS_BY_STRENGTH = [1, 3, 10, 9, 8, 7, 6, 5, 4, 2];
const POINTS = { 1: 11, 3: 10, 10: 4, 9: 3, 8: 2 };

/** Higher is stronger: ace 10, three 9, king 8, ..., two 1. */
export function strength(rank) {
  return RANKS_BY_STRENGTH.length - RANKS_BY_STRENGTH.indexOf(rank);
}

export function points(rank) {
  return POINTS[rank] ?? 0;
}

/** The 40 cards in a fixed order: suit by suit, ranks 1..10. */
export function deck() {
  const cards = [];
  for (const suit of SUITS) {
    for (let rank = 1; rank <= 10; rank++) cards.push({ suit, rank });
  }
  return cards;
}

// ---- SplitMix64 (guildhall-rng), its state kept in G as a decimal string -----------------

const MASK64 = (1n << 64n) - 1n;

function splitmix64Next(state) {
  state = (state + 0x9e3779b97f4a7c15n) & MASK64;
  let z = state;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return [state, z ^ (z >> 31n)];
}

/**
 * Fisher–Yates as guildhall-rng's `shuffle`: for i from len-1 down to 1, swap i with
 * floor(next_u64 * (i + 1) / 2^64). Returns the generator's new state.
 */
function shuffle(items, state) {
  for (let i = items.length - 1; i >= 1; i--) {
    let x;
    [state, x] = splitmix64Next(state);
    const j = Number((x * BigInt(i + 1)) >> 64n);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return state;
}

// ---- Rules helpers -------------------------------------------------------------------------

/** Index in `trick` of the winning card: highest trump, else highest of the suit led. */
export function trickWinner(trick, trump) {
  let best = 0;
  for (let i = 1; i < trick.length; i++) {
    const a = trick[i].card;
    const b = trick[best].card;
    if (a.suit === b.suit) {
      if (strength(a.rank) > strength(b.rank)) best = i;
    } else if (a.suit === trump) {
      best = i; // b is not a trump (else the suits would match)
    }
  }
  return best;
}

/** Shuffles with the table's stream and deals eight cards to each player. */
function deal(G) {
  const cards = deck();
  G.secret.rng = shuffle(cards, BigInt(G.secret.rng)).toString();
  for (let p = 0; p < NUM_PLAYERS; p++) {
    G.players[String(p)] = { hand: cards.slice(p * HAND_SIZE, (p + 1) * HAND_SIZE) };
  }
  G.deals += 1;
  G.auction = newAuction();
}

function newAuction() {
  return { best: null, bidder: null, passed: Array(NUM_PLAYERS).fill(false) };
}

/** The position after `pos` that has not passed (possibly `pos` itself). */
function nextInAuction(G, pos) {
  for (let k = 1; k <= NUM_PLAYERS; k++) {
    const p = (pos + k) % NUM_PLAYERS;
    if (!G.auction.passed[p]) return p;
  }
  return undefined; // everyone passed: the phase's endIf has already ended it
}

// One move per turn in every phase; each phase brings its own order.
const oneMove = { minMoves: 1, maxMoves: 1 };

export const TricksGame = {
  name: GAME_NAME,
  minPlayers: NUM_PLAYERS,
  maxPlayers: NUM_PLAYERS,

  // setupData: { seed } (a u64 as number or string). Without it the seed comes from the
  // match's own boardgame.io random stream.
  setup: ({ random }, setupData) => {
    const seed =
      setupData?.seed !== undefined
        ? BigInt(setupData.seed)
        : BigInt(Math.floor(random.Number() * 2 ** 53));
    return {
      secret: { rng: BigInt.asUintN(64, seed).toString() },
      players: {},
      deals: 0,
      auction: newAuction(), // the auction phase's onBegin deals and opens it again

      caller: null,
      trump: null,
      leader: 0,
      trick: [],
      tricksPlayed: 0,
      lastTrick: null,
      points: Array(NUM_PLAYERS).fill(0),
    };
  },

  playerView: PlayerView.STRIP_SECRETS,

  phases: {
    auction: {
      start: true,
      next: "call",
      // Every (re)deal starts here: a new shuffle from the table's stream.
      onBegin: ({ G }) => {
        deal(G);
      },
      // A passed-out deal is thrown in. (boardgame.io checks endIf again between
      // entering the next phase and its onBegin, so the passes must be gone by then.)
      onEnd: ({ G }) => {
        if (G.auction.passed.every(Boolean)) G.auction = newAuction();
      },
      turn: {
        ...oneMove,
        order: {
          first: () => 0,
          next: ({ G, ctx }) => nextInAuction(G, ctx.playOrderPos),
        },
      },
      moves: {
        bid: ({ G, playerID }, rank) => {
          if (!RANKS_BY_STRENGTH.includes(rank)) return INVALID_MOVE;
          const a = G.auction;
          if (a.best !== null && strength(rank) >= strength(a.best)) return INVALID_MOVE;
          a.best = rank;
          a.bidder = playerID;
        },
        pass: ({ G, playerID }) => {
          G.auction.passed[Number(playerID)] = true;
        },
      },
      endIf: ({ G }) => {
        const passes = G.auction.passed.filter(Boolean).length;
        if (passes === NUM_PLAYERS) return { next: "auction" }; // redeal
        if (passes === NUM_PLAYERS - 1 && G.auction.best !== null) return { next: "call" };
      },
    },

    call: {
      next: "play",
      onBegin: ({ G }) => {
        G.caller = G.auction.bidder;
      },
      turn: {
        ...oneMove,
        order: {
          first: ({ G }) => Number(G.caller),
          next: ({ G }) => Number(G.caller),
        },
      },
      moves: {
        callSuit: ({ G }, suit) => {
          if (!SUITS.includes(suit)) return INVALID_MOVE;
          G.trump = suit;
        },
      },
      endIf: ({ G }) => G.trump !== null,
    },

    play: {
      onBegin: ({ G }) => {
        G.leader = 0; // the auction's opener leads the first trick
      },
      turn: {
        ...oneMove,
        order: {
          first: ({ G }) => G.leader,
          // A finished trick is cleared by the move that completed it: its winner leads.
          next: ({ G, ctx }) =>
            G.trick.length === 0 ? G.leader : (ctx.playOrderPos + 1) % NUM_PLAYERS,
        },
      },
      moves: {
        play: ({ G, playerID }, card) => {
          const hand = G.players[playerID]?.hand;
          if (hand === undefined || card === null || typeof card !== "object") {
            return INVALID_MOVE;
          }
          const i = hand.findIndex((c) => c.suit === card.suit && c.rank === card.rank);
          if (i < 0) return INVALID_MOVE;
          const [played] = hand.splice(i, 1);
          G.trick.push({ player: playerID, card: played });
          if (G.trick.length === NUM_PLAYERS) {
            const winner = G.trick[trickWinner(G.trick, G.trump)].player;
            const taken = G.trick.reduce((sum, t) => sum + points(t.card.rank), 0);
            G.points[Number(winner)] += taken;
            G.lastTrick = { winner, points: taken, cards: G.trick };
            G.trick = [];
            G.leader = Number(winner);
            G.tricksPlayed += 1;
          }
        },
      },
    },
  },

  endIf: ({ G }) => {
    if (G.tricksPlayed < TRICKS) return undefined;
    const callerPoints = G.points[Number(G.caller)];
    return {
      caller: G.caller,
      trump: G.trump,
      bid: G.auction.best,
      callerPoints,
      callerWins: callerPoints >= WIN_POINTS,
      points: G.points,
    };
  },
};
