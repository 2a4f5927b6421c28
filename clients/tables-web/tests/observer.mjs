// A hand of Briscola chiamata: one browser player, four bots and a browser observer,
// against a running Guildhall server.
//
//   node tests/observer.mjs http://127.0.0.1:PORT
//
// The player's page (headless Chromium) creates a table; its watch link opens an
// observer page; four bots written here (guest over HTTP, a seat, a WebSocket) fill the
// table and play legal moves on their turns; the player plays by clicking through the
// auction, the call and eight tricks until the hand is scored. Then: both pages show the
// tricks and the scores, the player's page got its hand, and the observer's page never
// showed a card of a hand nor received a frame holding one. Prints one JSON line and
// exits 0, or prints why and exits 1. Screenshots go to /tmp/tables-player.png and
// /tmp/tables-observer.png.
import { chromium } from 'playwright-core';
import WebSocket from 'ws';

const SCREENSHOTS = { player: '/tmp/tables-player.png', observer: '/tmp/tables-observer.png' };
// Generous: CI runs this beside the rest of the suite on two cores.
const HAND_TIMEOUT_MS = 90_000;
const STEP_TIMEOUT_MS = 20_000;
const TOTAL_TIMEOUT_MS = 150_000;

const base = (process.argv[2] || '').replace(/\/+$/, '');
if (!/^https?:\/\//.test(base)) {
  console.error('usage: node tests/observer.mjs http://127.0.0.1:PORT');
  process.exit(2);
}

class Failure extends Error {}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what, timeoutMs, check) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await check();
    if (last && last.ok) return last;
    if (Date.now() > deadline) {
      throw new Failure(`timed out after ${timeoutMs / 1000} s waiting for ${what}; last seen: ${JSON.stringify(last && last.seen)}`);
    }
    await sleep(100);
  }
}

// Whether a decoded message holds a `hand` field anywhere.
function holdsHand(value) {
  if (Array.isArray(value)) return value.some(holdsHand);
  if (value && typeof value === 'object') {
    return Object.prototype.hasOwnProperty.call(value, 'hand') || Object.values(value).some(holdsHand);
  }
  return false;
}

async function http(method, path, body, token) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${base}${path}`, { method, headers, body: JSON.stringify(body || {}) });
  const text = await response.text();
  let data = null;
  try { data = JSON.parse(text); } catch (_) { data = text; }
  if (!response.ok) throw new Failure(`${method} ${path} answered ${response.status}: ${text}`);
  return data;
}

// ---------------------------------------------------------------- bots

// A seat played from Node: it keeps the latest snapshot (asking for a fresh one after
// every event) and acts when the snapshot says it is its turn.
class Bot {
  constructor(name) {
    this.name = name;
    this.seat = null;
    this.view = null;
    this.pending = null;
    this.syncing = null;
    this.dirty = false;
    this.rankCalled = false;
    this.next = 0;
    this.errors = [];
    this.actions = 0;
    this.closed = null;
    this.prefix = `${name.replace(/\s/g, '')}-${Math.random().toString(36).slice(2, 8)}`;
  }

  async sit(gameId) {
    const guest = await http('POST', '/v1/guest/init', { display_name: this.name });
    const seated = await http('POST', `/v1/tables/${gameId}/join`, { display_name: this.name }, guest.session_token);
    this.seat = seated.seat;
    await this.connect(seated.ws_url, seated.player_token);
  }

  connect(url, token) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      this.ws = ws;
      const joinId = this.id();
      ws.on('open', () => ws.send(JSON.stringify({ message_type: 'join', action_id: joinId, payload: { token } })));
      ws.on('error', (err) => reject(new Failure(`${this.name}: ${err.message}`)));
      ws.on('close', (code) => { this.closed = code; });
      ws.on('message', (data) => {
        const msg = JSON.parse(String(data));
        if (msg.message_type === 'action.result' && msg.action_id === joinId) {
          if (msg.payload.status === 'ok') resolve();
          else reject(new Failure(`${this.name} could not join: ${JSON.stringify(msg.payload)}`));
          return;
        }
        this.onMessage(msg);
      });
    });
  }

  id() {
    this.next += 1;
    return `${this.prefix}-${this.next}`;
  }

  send(messageType, actionId, payload) {
    this.ws.send(JSON.stringify({ message_type: messageType, action_id: actionId, payload }));
  }

  onMessage(msg) {
    const p = msg.payload || {};
    switch (msg.message_type) {
      case 'sync':
        this.view = p;
        if (msg.action_id && msg.action_id === this.syncing) this.syncing = null;
        break;
      case 'action.result':
        if (this.pending && msg.action_id === this.pending.id) {
          const sent = this.pending;
          this.pending = null;
          if (p.status === 'ok') {
            this.actions += 1;
            if (sent.type === 'call-partner-rank') this.rankCalled = true;
          } else {
            this.errors.push(`${sent.type} ${JSON.stringify(sent.payload)}: ${p.code} ${p.message}`);
            this.dirty = true; // resync before trying again
          }
        }
        break;
      case 'hand.dealt':
        this.rankCalled = false;
        this.dirty = true;
        break;
      default:
        this.dirty = true;
    }
    this.pump();
  }

  // Asks for a snapshot when events made ours stale; acts on a fresh one.
  pump() {
    if (this.syncing) return;
    if (this.dirty) {
      this.dirty = false;
      this.syncing = this.id();
      this.send('sync', this.syncing, {});
      return;
    }
    if (!this.pending) this.decide();
  }

  act(type, payload) {
    this.pending = { id: this.id(), type, payload };
    this.send(type, this.pending.id, payload);
  }

  decide() {
    const v = this.view;
    if (!v || v.turn !== this.seat || this.errors.length > 10) return;
    switch (v.phase) {
      case 'auction': {
        // Pass, unless that would end the deal with everyone passed.
        const othersPassed = v.passed.every((passed, seat) => passed || seat === this.seat);
        if (!v.highest_bid && othersPassed) this.act('bid', { rank: 1 });
        else this.act('bid', { pass: true });
        break;
      }
      case 'calling':
        if (!this.rankCalled) this.act('call-partner-rank', { rank: v.highest_bid.bid.rank });
        else this.act('call-partner-suit', { suit: 'coppe' });
        break;
      case 'playing': {
        const hand = v.hand || [];
        const led = v.trick.length ? v.trick[0].card.suit : null;
        const following = led && v.options.must_follow_suit ? hand.filter((c) => c.suit === led) : [];
        const card = (following.length ? following : hand)[0];
        if (card) this.act('play', { card });
        break;
      }
      default:
        break;
    }
  }

  close() {
    try { this.ws.close(1000, 'done'); } catch (_) { /* closed */ }
  }
}

// ---------------------------------------------------------------- pages

const killer = setTimeout(() => {
  console.error(`FAIL: the whole test took longer than ${TOTAL_TIMEOUT_MS / 1000} s`);
  process.exit(1);
}, TOTAL_TIMEOUT_MS);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});

// A page in its own context (its own guest), with everything it received recorded.
async function openPage(label) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const p = { label, context, page, problems: [], frames: 0, types: {}, handFrames: [], fullHands: 0, resyncs: 0 };
  page.on('pageerror', (err) => p.problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => { if (msg.type() === 'error') p.problems.push(`console: ${msg.text()}`); });
  page.on('response', (res) => { if (res.status() >= 400) p.problems.push(`HTTP ${res.status()} for ${res.request().method()} ${res.url()}`); });
  page.on('websocket', (socket) => {
    socket.on('framereceived', ({ payload }) => {
      let msg;
      try { msg = JSON.parse(String(payload)); } catch (_) { return; }
      p.frames += 1;
      p.types[msg.message_type] = (p.types[msg.message_type] || 0) + 1;
      if (msg.message_type === 'sync' && String(msg.action_id).startsWith('resync-')) p.resyncs += 1;
      if (msg.message_type === 'hand.update' || holdsHand(msg)) {
        p.handFrames.push(String(payload).slice(0, 300));
        const hand = (msg.payload && msg.payload.hand) || [];
        if (hand.length === 8) p.fullHands += 1;
      }
    });
  });
  return p;
}

const state = (page) => page.evaluate(() => window.tables.state());

async function ready(p, url) {
  const response = await p.page.goto(url);
  if (!response || !response.ok()) throw new Failure(`GET ${url} on the ${p.label} page answered ${response && response.status()}`);
  await p.page.waitForFunction(() => window.tables && typeof window.tables.state === 'function', null, { timeout: STEP_TIMEOUT_MS });
}

function brief(st) {
  if (!st) return null;
  const v = st.view;
  return {
    status: st.status,
    statusText: st.statusText,
    seat: st.seat,
    pending: st.pending,
    error: st.error,
    phase: v && v.phase,
    turn: v && v.turn,
    hand_number: v && v.hand_number,
    hand: v && v.hand ? v.hand.length : null,
    trick: v && v.trick.length,
    tricks_won: v && v.tricks_won,
    log: st.log,
  };
}

// What the page shows: numbers read off the DOM by data-testid.
function shown(page) {
  return page.evaluate(() => {
    const text = (id) => {
      const el = document.querySelector(`[data-testid="${id}"]`);
      return el ? el.textContent.trim() : null;
    };
    const numbers = (prefix) => [0, 1, 2, 3, 4].map((i) => {
      const t = text(`${prefix}${i}`);
      return t === null ? null : Number(t);
    });
    const visible = (selector) => [...document.querySelectorAll(selector)].some((el) => el.offsetParent !== null);
    const lastHand = document.querySelector('[data-testid="last-hand"]');
    return {
      phase: text('phase'),
      tricks: [0, 1, 2, 3, 4].map((i) => Number(text(`seat-${i}-tricks`))),
      scores: numbers('score-'),
      lastHandShown: !!lastHand && !lastHand.hidden,
      callerPoints: Number(text('last-hand-caller-points')),
      defenderPoints: Number(text('last-hand-defender-points')),
      lastHandTricks: numbers('last-hand-tricks-'),
      lastHandDeltas: numbers('last-hand-delta-'),
      handElements: document.querySelectorAll('[data-testid="hand"], [data-testid="hand-card"], #hand-box').length,
      handCards: document.querySelectorAll('[data-testid="hand-card"]').length,
      cards: document.querySelectorAll('[data-card]').length,
      trickCards: document.querySelectorAll('[data-testid="trick"] [data-card]').length,
      controlsVisible: visible('[data-testid="controls"]') || visible('[data-testid="auction"] button') || visible('[data-testid="calling"] button'),
      joinLink: text('join-link'),
      watchLink: text('watch-link'),
      gameId: (document.querySelector('[data-testid="table-id"]') || {}).dataset?.gameId || null,
    };
  });
}

const sum = (xs) => xs.reduce((a, b) => a + b, 0);

// The observer's page may never show a hand or action controls.
async function checkObserver(observer, when) {
  const o = await shown(observer.page);
  if (o.handElements !== 0) throw new Failure(`the observer page has a hand element (${when})`);
  if (o.controlsVisible) throw new Failure(`the observer page shows action controls (${when})`);
  if (observer.handFrames.length) throw new Failure(`the observer page received a hand (${when}): ${observer.handFrames[0]}`);
  return o;
}

const bots = [];
const pages = [];
let code = 0;
let result = null;
try {
  const player = await openPage('player');
  pages.push(player);
  await ready(player, `${base}/play/tables`);
  await waitFor('the player page to sign in', STEP_TIMEOUT_MS, async () => {
    const st = await state(player.page);
    if (st.status === 'error') throw new Failure(`player page: ${st.statusText}`);
    return { ok: st.status === 'idle', seen: brief(st) };
  });
  await player.page.click('[data-testid="create-table"]');
  const created = await waitFor('the player page to create a table and connect', STEP_TIMEOUT_MS, async () => {
    const st = await state(player.page);
    if (st.status === 'error') throw new Failure(`player page: ${st.statusText}`);
    const dom = await shown(player.page);
    return { ok: st.connected && !!st.view && !!dom.gameId, dom, st, seen: brief(st) };
  });
  const gameId = created.dom.gameId;
  if (!/^[A-Z0-9]{6}$/.test(gameId)) throw new Failure(`the page shows table id ${JSON.stringify(gameId)}`);
  if (!created.dom.joinLink.endsWith(`?join=${gameId}`) || !created.dom.watchLink.endsWith(`?watch=${gameId}`)) {
    throw new Failure(`the share links are ${created.dom.joinLink} and ${created.dom.watchLink}`);
  }
  if (created.st.seat !== 0 || created.st.view.phase !== 'waiting') {
    throw new Failure(`the creator should wait at seat 0: ${JSON.stringify(brief(created.st))}`);
  }
  // A reload would come back to the same seat.
  if (!player.page.url().endsWith(`?join=${gameId}`)) throw new Failure(`the page URL is ${player.page.url()}`);

  // The observer comes in through the watch link, before the deal, so it is there when
  // the hands go out.
  const observer = await openPage('observer');
  pages.push(observer);
  await ready(observer, created.dom.watchLink);
  await waitFor('the observer page to connect', STEP_TIMEOUT_MS, async () => {
    const st = await state(observer.page);
    if (st.status === 'error') throw new Failure(`observer page: ${st.statusText}`);
    return { ok: st.connected && !!st.view && st.role === 'observer', seen: brief(st) };
  });

  for (let i = 1; i <= 4; i++) {
    const bot = new Bot(`Bot ${i}`);
    bots.push(bot);
    await bot.sit(gameId);
  }

  // Hand one: the player page's cards are dealt and shown; the observer's page holds
  // no card at all during the auction (nothing has been played yet).
  const dealt = await waitFor('the deal on both pages', STEP_TIMEOUT_MS, async () => {
    const [sp, so] = await Promise.all([state(player.page), state(observer.page)]);
    const [dp, dob] = await Promise.all([shown(player.page), checkObserver(observer, 'at the deal')]);
    const ok = sp.view.phase === 'auction' && so.view && so.view.phase === 'auction' && dp.handCards === 8;
    return { ok, dp, dob, seen: { player: brief(sp), observer: brief(so), handCards: dp.handCards } };
  });
  if (dealt.dob.cards !== 0) throw new Failure(`the observer page shows ${dealt.dob.cards} cards during the auction`);

  // The player: pass when someone else keeps the auction going, else bid the first
  // rank on offer; call the partner card (rank, then suit); play the first legal card.
  const clicks = { bid: 0, pass: 0, call: 0, play: 0 };
  let dropped = false;
  let tricksCompared = false;
  const deadline = Date.now() + HAND_TIMEOUT_MS;
  let st;
  for (;;) {
    st = await state(player.page);
    if (Date.now() > deadline) {
      throw new Failure(`the hand did not end within ${HAND_TIMEOUT_MS / 1000} s; player page: ${JSON.stringify(brief(st))}; ` +
        `bots: ${JSON.stringify(bots.map((b) => ({ seat: b.seat, pending: b.pending, syncing: !!b.syncing, turn: b.view && b.view.turn, errors: b.errors, closed: b.closed })))}`);
    }
    if (st.status === 'error') throw new Failure(`player page: ${st.statusText}`);
    if (st.error) throw new Failure(`the player page's action was refused: ${JSON.stringify(st.error)}`);
    for (const bot of bots) {
      if (bot.errors.length) throw new Failure(`${bot.name} (seat ${bot.seat}) was refused: ${bot.errors.join('; ')}`);
      if (bot.closed !== null) throw new Failure(`${bot.name}'s connection closed (${bot.closed})`);
    }
    await checkObserver(observer, `phase ${st.view && st.view.phase}`);
    const v = st.view;
    if (v.last_hand && v.last_hand.hand_number === 1) break;

    const total = sum(v.tricks_won);
    // The observer follows the play: once four tricks are taken, it shows them too.
    if (!tricksCompared && total >= 4 && v.phase === 'playing') {
      const mine = (await shown(player.page)).tricks;
      await waitFor('the observer page to show the tricks taken', STEP_TIMEOUT_MS, async () => {
        const theirs = (await checkObserver(observer, 'mid-hand')).tricks;
        return { ok: sum(theirs) >= sum(mine), seen: { player: mine, observer: theirs } };
      });
      tricksCompared = true;
    }
    // A dropped connection comes back with the same token, mid-hand.
    if (!dropped && total >= 2 && !st.pending) {
      dropped = true;
      const joins = st.joins;
      await player.page.evaluate(() => window.tables.drop());
      await waitFor('the player page to reconnect after a dropped socket', STEP_TIMEOUT_MS, async () => {
        const again = await state(player.page);
        if (again.status === 'error') throw new Failure(`player page after the drop: ${again.statusText}`);
        return { ok: again.connected && again.joins > joins && again.seat === 0, seen: brief(again) };
      });
      // And asks for a snapshot of its own, as after a `desync`.
      await player.page.evaluate(() => window.tables.sync());
      await waitFor('the player page to get the snapshot it asked for', STEP_TIMEOUT_MS, async () => ({ ok: player.resyncs > 0 }));
      continue;
    }

    const mineToAct = st.connected && !st.pending && v.turn === st.seat;
    if (mineToAct && v.phase === 'auction') {
      const othersPassed = v.passed.every((passed, seat) => passed || seat === st.seat);
      if (!v.highest_bid && othersPassed) {
        await player.page.locator('[data-testid^="bid-rank-"]:not([disabled])').first().click({ timeout: STEP_TIMEOUT_MS });
        clicks.bid += 1;
      } else {
        await player.page.click('[data-testid="bid-pass"]', { timeout: STEP_TIMEOUT_MS });
        clicks.pass += 1;
      }
    } else if (mineToAct && v.phase === 'calling') {
      if (!st.rankCalled) await player.page.click('[data-testid="call-rank"]', { timeout: STEP_TIMEOUT_MS });
      else await player.page.locator('[data-testid^="call-suit-"]:not([disabled])').first().click({ timeout: STEP_TIMEOUT_MS });
      clicks.call += 1;
    } else if (mineToAct && v.phase === 'playing') {
      try {
        await player.page.locator('[data-testid="hand-card"]:not([disabled])').first().click({ timeout: STEP_TIMEOUT_MS });
        clicks.play += 1;
      } catch (err) {
        // The state read above can be taken between two messages of one burst (a trick
        // won, then the hand's end): if the page has moved on, the card is not ours to play.
        const now = (await state(player.page)).view;
        if (now.phase === 'playing' && now.turn === st.seat && !now.last_hand) throw err;
      }
    }
    await sleep(50);
  }
  if (!tricksCompared) throw new Failure('the hand ended before the observer page was compared mid-hand');
  if (clicks.play !== 8) throw new Failure(`the player clicked ${clicks.play} cards in a hand of eight tricks`);

  // Both pages show the scored hand: its tricks, its card points and the match points.
  const ends = {};
  for (const p of [player, observer]) {
    ends[p.label] = (await waitFor(`the ${p.label} page to show the scored hand`, STEP_TIMEOUT_MS, async () => {
      const dom = await shown(p.page);
      const ok = dom.lastHandShown && dom.callerPoints + dom.defenderPoints === 120 &&
        sum(dom.lastHandTricks) === 8 && dom.scores.every(Number.isInteger) && sum(dom.scores) === 0 &&
        dom.scores.some((x) => x !== 0);
      return { ok, dom, seen: dom };
    })).dom;
  }
  if (JSON.stringify(ends.player.scores) !== JSON.stringify(ends.observer.scores)) {
    throw new Failure(`the pages disagree on the scores: ${ends.player.scores} vs ${ends.observer.scores}`);
  }
  if (JSON.stringify(ends.player.lastHandTricks) !== JSON.stringify(ends.observer.lastHandTricks)) {
    throw new Failure(`the pages disagree on the tricks: ${ends.player.lastHandTricks} vs ${ends.observer.lastHandTricks}`);
  }
  if (JSON.stringify(ends.player.scores) !== JSON.stringify(ends.player.lastHandDeltas)) {
    throw new Failure(`after one hand the scores ${ends.player.scores} should be that hand's ${ends.player.lastHandDeltas}`);
  }
  await checkObserver(observer, 'after the hand');

  // Hand two is dealt by seat 4 and opened by seat 3: this time the player can pass,
  // and the bot at seat 4, left last, takes the contract; both pages see it.
  await waitFor('the player\'s turn in the auction of hand two', STEP_TIMEOUT_MS, async () => {
    const again = await state(player.page);
    const v = again.view;
    return { ok: v.hand_number === 2 && v.phase === 'auction' && v.turn === 0 && !again.pending, seen: brief(again) };
  });
  await player.page.click('[data-testid="bid-pass"]', { timeout: STEP_TIMEOUT_MS });
  clicks.pass += 1;
  for (const p of [player, observer]) {
    await waitFor(`the ${p.label} page to show seat 4 as the caller of hand two`, STEP_TIMEOUT_MS, async () => {
      const again = await state(p.page);
      const tags = await p.page.textContent('[data-testid="seat-4"] .tags');
      return { ok: again.view.hand_number === 2 && again.view.caller === 4 && /caller/.test(tags), seen: brief(again) };
    });
  }
  await checkObserver(observer, 'in hand two');

  // The player's page did get its hand; the observer's got plenty, but never a hand.
  if (!player.fullHands) throw new Failure(`the player page never received its eight cards (frames: ${JSON.stringify(player.types)})`);
  if (!observer.types.sync || !observer.types['trick.played'] || !observer.types['score.update']) {
    throw new Failure(`the observer page missed the play (frames: ${JSON.stringify(observer.types)})`);
  }
  if (observer.types['hand.update'] || observer.handFrames.length) throw new Failure('the observer page received a hand');
  for (const p of pages) {
    if (p.problems.length) throw new Failure(`the ${p.label} page reported: ${p.problems.join(' | ')}`);
  }

  const final = await state(player.page);
  result = {
    ok: true,
    game_id: gameId,
    clicks,
    bot_actions: bots.map((b) => b.actions),
    last_hand: {
      caller: final.view.last_hand.caller,
      caller_points: ends.player.callerPoints,
      defender_points: ends.player.defenderPoints,
      tricks: ends.player.lastHandTricks,
    },
    scores: ends.player.scores,
    frames: { player: player.frames, observer: observer.frames },
    player_hands_received: player.fullHands,
    observer_frames_with_a_hand: observer.handFrames.length,
    reconnected_mid_hand: dropped,
    screenshots: SCREENSHOTS,
  };
} catch (err) {
  code = 1;
  if (err instanceof Failure) console.error(`FAIL: ${err.message}`);
  else console.error('FAIL:', err);
  for (const p of pages) {
    try { console.error(`${p.label} page state: ${JSON.stringify(brief(await state(p.page)))}`); } catch (_) { /* page gone */ }
    if (p.problems.length) console.error(`${p.label} page problems: ${p.problems.join(' | ')}`);
    console.error(`${p.label} page frames: ${JSON.stringify(p.types)}`);
  }
  for (const b of bots) {
    console.error(`${b.name}: seat ${b.seat}, actions ${b.actions}, errors ${JSON.stringify(b.errors)}, closed ${b.closed}`);
  }
} finally {
  for (const p of pages) {
    try {
      await p.page.screenshot({ path: SCREENSHOTS[p.label], fullPage: true });
    } catch (err) {
      console.error(`could not take the ${p.label} screenshot: ${err.message}`);
    }
  }
  for (const b of bots) b.close();
  await browser.close();
  clearTimeout(killer);
}
if (result) console.log(JSON.stringify(result));
process.exit(code);
