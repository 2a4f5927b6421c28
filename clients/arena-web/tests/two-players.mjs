// Two browsers play the arena against a running Guildhall server.
//
//   node tests/two-players.mjs http://127.0.0.1:PORT
//
// Two Chromium contexts (two guests) open /play/arena, press Play, meet in one lobby,
// then each flies and the other must see it move. Prints one JSON line and exits 0, or
// prints why and exits 1. A screenshot of page A goes to /tmp/arena-a.png.
import { chromium } from 'playwright-core';

const SCREENSHOT = '/tmp/arena-a.png';
const MATCH_TIMEOUT_MS = 30_000;
const TOTAL_TIMEOUT_MS = 120_000;
const MIN_DISTANCE = 20;

const base = (process.argv[2] || '').replace(/\/+$/, '');
if (!/^https?:\/\//.test(base)) {
  console.error('usage: node tests/two-players.mjs http://127.0.0.1:PORT');
  process.exit(2);
}

class Failure extends Error {}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const state = (page) => page.evaluate(() => window.arena.state());

async function waitFor(what, timeoutMs, check) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await check();
    if (last && last.ok) return last;
    if (Date.now() > deadline) {
      throw new Failure(`timed out after ${timeoutMs / 1000} s waiting for ${what}; last seen: ${JSON.stringify(last && last.seen)}`);
    }
    await sleep(200);
  }
}

function jet(st, id) {
  return st.jets.find((j) => j.id === id);
}

function brief(st) {
  return {
    status: st.status,
    statusText: st.statusText,
    error: st.error,
    lobbyId: st.lobbyId,
    jetId: st.jetId,
    tick: st.tick,
    jets: st.jets.map((j) => ({ id: j.id, x: j.x, y: j.y, alive: j.alive })),
  };
}

// `mover` holds thrust with a real key; `observer` must see its jet travel.
async function flyAndWatch(mover, observer, moverJet, key) {
  await waitFor(`page ${observer.label} to see jet ${moverJet} alive`, 10_000, async () => {
    const st = await state(observer.page);
    const j = jet(st, moverJet);
    return { ok: !!j && j.alive, seen: brief(st) };
  });
  const before = jet(await state(observer.page), moverJet);
  // Thrust while turning: a jet that happens to face a wall slides off it instead of
  // pressing into it (which would, rightly, not move it at all).
  const turnKey = key === 'w' ? 'd' : 'ArrowRight';
  await mover.page.keyboard.down(key);
  await mover.page.keyboard.down(turnKey);
  const heldDuring = (await state(mover.page)).controls;
  // The path the observer sees, sampled as the jet flies.
  let distance = 0;
  let last = before;
  for (let i = 0; i < 15; i++) {
    await sleep(100);
    const now = jet(await state(observer.page), moverJet);
    if (now && last) distance += Math.hypot(now.x - last.x, now.y - last.y);
    last = now || last;
  }
  await mover.page.keyboard.up(turnKey);
  await mover.page.keyboard.up(key);
  await sleep(400); // the snapshot after the release reaches the observer
  const after = jet(await state(observer.page), moverJet);
  if (!heldDuring.thrust) {
    throw new Failure(`page ${mover.label}: holding ${key} did not set thrust (controls ${JSON.stringify(heldDuring)})`);
  }
  if (!after) throw new Failure(`page ${observer.label} lost jet ${moverJet}`);
  if (!(distance > MIN_DISTANCE)) {
    throw new Failure(
      `page ${observer.label} saw jet ${moverJet} move only ${distance.toFixed(1)} units while page ${mover.label} held ${key} ` +
        `(before ${JSON.stringify(before)}, after ${JSON.stringify(after)})`,
    );
  }
  return {
    key,
    distance: Math.round(distance * 10) / 10,
    from: [Math.round(before.x), Math.round(before.y)],
    to: [Math.round(after.x), Math.round(after.y)],
  };
}

// Pixels of the canvas that differ from the background (its top-left corner is the border,
// so the background is sampled a little inside).
function countDrawn(page) {
  return page.evaluate(() => {
    const canvas = document.getElementById('arena');
    const ctx = canvas.getContext('2d');
    const { width, height } = canvas;
    const data = ctx.getImageData(0, 0, width, height).data;
    const bg = [0x0b, 0x10, 0x20];
    let drawn = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (Math.abs(data[i] - bg[0]) + Math.abs(data[i + 1] - bg[1]) + Math.abs(data[i + 2] - bg[2]) > 60) drawn++;
    }
    return { width, height, drawn };
  });
}

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

const players = [];
let code = 0;
let result = null;
try {
  for (const label of ['A', 'B']) {
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    const page = await context.newPage();
    const player = { label, context, page, problems: [] };
    page.on('pageerror', (err) => player.problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => { if (msg.type() === 'error') player.problems.push(`console: ${msg.text()}`); });
    page.on('response', (res) => { if (res.status() >= 400) player.problems.push(`HTTP ${res.status()} for ${res.request().method()} ${res.url()}`); });
    const response = await page.goto(`${base}/play/arena`);
    if (!response || !response.ok()) throw new Failure(`GET /play/arena on page ${label} answered ${response && response.status()}`);
    await page.waitForFunction(() => window.arena && typeof window.arena.state === 'function', null, { timeout: 5000 });
    players.push(player);
  }
  const [a, b] = players;

  await a.page.click('#play');
  await b.page.click('#play');

  const met = await waitFor('both pages to be playing in the same lobby', MATCH_TIMEOUT_MS, async () => {
    const [sa, sb] = await Promise.all([state(a.page), state(b.page)]);
    for (const [p, st] of [[a, sa], [b, sb]]) {
      if (st.status === 'error') throw new Failure(`page ${p.label}: ${st.statusText}`);
    }
    const ok = sa.status === 'playing' && sb.status === 'playing' && !!sa.lobbyId && sa.lobbyId === sb.lobbyId &&
      sa.jetId != null && sb.jetId != null && sa.jetId !== sb.jetId &&
      !!jet(sa, sb.jetId) && !!jet(sb, sa.jetId);
    return { ok, sa, sb, seen: { A: brief(sa), B: brief(sb) } };
  });
  const lobby = met.sa.lobbyId;
  const jetA = met.sa.jetId;
  const jetB = met.sb.jetId;

  const aSeenByB = await flyAndWatch(a, b, jetA, 'ArrowUp');
  const bSeenByA = await flyAndWatch(b, a, jetB, 'w');

  // The debug hook drives inputs too: turning changes the angle the other page sees.
  const angleBefore = jet(await state(b.page), jetA).angle;
  await a.page.evaluate(() => window.arena.press('ArrowRight', true));
  await sleep(600);
  await a.page.evaluate(() => window.arena.press('ArrowRight', false));
  await sleep(300);
  const angleAfter = jet(await state(b.page), jetA).angle;
  const turned = Math.abs(Math.atan2(Math.sin(angleAfter - angleBefore), Math.cos(angleAfter - angleBefore)));
  if (!(turned > 0.5)) throw new Failure(`page B saw jet ${jetA} turn only ${turned.toFixed(2)} rad after arena.press('ArrowRight')`);

  // A dropped socket comes back with the rejoin token, as the same jet.
  await b.page.evaluate(() => window.arena.drop());
  await waitFor('page B to rejoin after a dropped socket', 10_000, async () => {
    const st = await state(b.page);
    if (st.status === 'error') throw new Failure(`page B after drop: ${st.statusText}`);
    return { ok: st.status === 'playing' && st.connected && st.jetId === jetB && st.lobbyId === lobby, seen: brief(st) };
  });
  const tickAfterRejoin = (await state(b.page)).tick;
  await sleep(500);
  const rejoined = await state(b.page);
  if (!(rejoined.tick > tickAfterRejoin)) throw new Failure('page B gets no snapshots after rejoining');
  const bMovesAgain = await flyAndWatch(b, a, jetB, 'ArrowUp');

  await sleep(300); // let a few frames render
  const canvasA = await countDrawn(a.page);
  const canvasB = await countDrawn(b.page);
  for (const [label, c] of [['A', canvasA], ['B', canvasB]]) {
    if (c.drawn < 200) throw new Failure(`page ${label}'s canvas (${c.width}x${c.height}) has only ${c.drawn} non-background pixels`);
  }
  const scoresA = await a.page.locator('#scores li[data-jet]').count();
  if (scoresA !== 2) throw new Failure(`page A's scoreboard lists ${scoresA} jets, expected 2`);

  for (const p of players) {
    if (p.problems.length) throw new Failure(`page ${p.label} reported: ${p.problems.join(' | ')}`);
  }

  const final = await state(a.page);
  result = {
    ok: true,
    lobby,
    jets: { A: jetA, B: jetB },
    tick: final.tick,
    remaining_secs: final.match ? Math.round(final.match.remaining_ticks / final.tickRate) : null,
    moved: { A_seen_by_B: aSeenByB, B_seen_by_A: bSeenByA, B_after_rejoin_seen_by_A: bMovesAgain },
    turned_rad: Math.round(turned * 100) / 100,
    canvas_pixels_drawn: { A: canvasA.drawn, B: canvasB.drawn },
    scoreboard_rows: scoresA,
    status: { A: final.statusText, B: rejoined.statusText },
    screenshot: SCREENSHOT,
  };
} catch (err) {
  code = 1;
  if (err instanceof Failure) console.error(`FAIL: ${err.message}`);
  else console.error('FAIL:', err);
  for (const p of players) {
    try { console.error(`page ${p.label} state: ${JSON.stringify(brief(await state(p.page)))}`); } catch (_) { /* page gone */ }
    if (p.problems.length) console.error(`page ${p.label} problems: ${p.problems.join(' | ')}`);
  }
} finally {
  if (players[0]) {
    try {
      await players[0].page.screenshot({ path: SCREENSHOT });
      console.log(`screenshot of page A: ${SCREENSHOT}`);
    } catch (err) {
      console.error(`could not take the screenshot: ${err.message}`);
    }
  }
  for (const p of players) {
    try { await p.page.evaluate(() => window.arena.leave()); } catch (_) { /* best effort */ }
  }
  await sleep(300);
  await browser.close();
  clearTimeout(killer);
}
if (result) console.log(JSON.stringify(result));
process.exit(code);
