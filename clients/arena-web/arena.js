// Guildhall arena: the browser client (docs/protocol/arena.md).
//
// Plain script, no build step. Flow: guest login (or init) -> matchmaking ticket ->
// long-poll until assigned -> WebSocket join -> snapshots, drawn interpolated on a canvas.
// `window.arena` is a small hook for tests and the console.
(() => {
  'use strict';

  const MODE = 'arena-ffa';
  const GUEST_KEY = 'guildhall.arena.guest';
  const POLL_WAIT_SECS = 10;
  const REJOIN_DELAYS_MS = [300, 1000, 2000, 3500, 5000]; // within the 15 s reconnect window
  const REQUEUE_DELAYS_MS = [1000, 3000, 6000]; // the assigned lobby closed before we got in
  const PING_EVERY_MS = 2000;
  const SNAPSHOT_BUFFER = 12;
  const INTERP_DELAY_TICKS = 1.5; // render this far behind the newest tick we expect
  const BACKGROUND = '#0b1020';
  const PALETTE = ['#4cc9f0', '#f72585', '#90be6d', '#f8961e', '#b388eb', '#f9c74f', '#43aa8b', '#ff8fab'];
  const JET_RADIUS = 16;

  const $ = (id) => document.getElementById(id);
  const ui = {
    play: $('play'),
    status: $('status'),
    clock: $('clock'),
    canvas: $('arena'),
    scores: $('scores'),
    results: $('results'),
  };
  const ctx = ui.canvas.getContext('2d');

  // ---------------------------------------------------------------- state

  const s = {
    status: 'idle',        // idle | auth | queued | connecting | playing | reconnecting | ended | error
    statusText: '',
    error: null,           // {code, message}
    guestId: null,
    session: null,         // session token
    ticketId: null,
    lobbyId: null,
    wsUrl: null,
    rejoinToken: null,
    jetId: null,
    tickRate: 30,
    arena: { width: 2000, height: 1500 },
    matchInfo: null,
    names: new Map(),      // jet id -> pilot name, from `roster` messages
    snapshots: [],         // newest last: {tick, match, jets, projectiles, at}
    clockOffset: null,     // server tick - local tick estimate
    results: null,
    resultsUntil: 0,
    rtt: null,
    run: 0,                // bumps whenever a play attempt starts or is abandoned
  };

  let ws = null;
  let wsIntended = false;  // we closed it ourselves
  let wsEnded = null;      // the server's reason ({code, message} or {lobby_closed})
  let rejoinAttempt = 0;
  let welcomed = false;    // the current connection got its welcome
  let requeueAttempt = 0;
  let pingTimer = null;
  let resultsTimer = null;

  function setStatus(status, text, isError) {
    s.status = status;
    s.statusText = text;
    ui.status.textContent = text;
    ui.status.classList.toggle('error', !!isError);
    ui.status.title = text;
    updateButton();
  }

  function fail(code, message) {
    s.error = { code, message };
    setStatus('error', `error: ${code}${message ? ' — ' + message : ''}`, true);
  }

  function updateButton() {
    const b = ui.play;
    b.disabled = false;
    b.classList.remove('leave');
    switch (s.status) {
      case 'auth':
        b.textContent = 'Play';
        b.disabled = true;
        break;
      case 'queued':
        b.textContent = 'Cancel';
        b.classList.add('leave');
        break;
      case 'connecting':
      case 'playing':
      case 'reconnecting':
        b.textContent = 'Leave';
        b.classList.add('leave');
        break;
      default:
        b.textContent = 'Play';
    }
  }

  // ---------------------------------------------------------------- HTTP

  class ApiError extends Error {
    constructor(status, code, message, details) {
      super(message || code);
      this.status = status;
      this.code = code;
      this.details = details;
    }
  }

  async function api(method, path, body, token) {
    const headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch (err) {
      throw new ApiError(0, 'network_error', 'the server could not be reached');
    }
    let data = null;
    const text = await response.text();
    if (text) {
      try { data = JSON.parse(text); } catch (_) { data = null; }
    }
    if (!response.ok) {
      const e = (data && data.error) || {};
      throw new ApiError(response.status, e.code || `http_${response.status}`, e.message || response.statusText, e.details);
    }
    return { status: response.status, data };
  }

  function loadGuest() {
    try {
      const g = JSON.parse(localStorage.getItem(GUEST_KEY) || 'null');
      if (g && typeof g.guest_id === 'string' && typeof g.guest_secret === 'string') return g;
    } catch (_) { /* unreadable: treat as absent */ }
    return null;
  }

  function saveGuest(guestId, guestSecret) {
    try {
      localStorage.setItem(GUEST_KEY, JSON.stringify({ guest_id: guestId, guest_secret: guestSecret }));
    } catch (_) { /* storage disabled: the guest lives for this page only */ }
  }

  // A session token: log the stored guest in, or make a new guest.
  async function signIn() {
    const stored = loadGuest();
    if (stored) {
      try {
        const { data } = await api('POST', '/v1/guest/login', stored);
        s.guestId = stored.guest_id;
        s.session = data.session_token;
        return;
      } catch (err) {
        if (err.code === 'network_error') throw err;
        // The guest is gone or its secret is wrong: start over with a new one.
        console.warn('guest login failed, creating a new guest:', err.code);
      }
    }
    const { data } = await api('POST', '/v1/guest/init', {});
    saveGuest(data.guest_id, data.guest_secret);
    s.guestId = data.guest_id;
    s.session = data.session_token;
  }

  // Calls an authenticated endpoint, signing in again once if the session is refused.
  async function authed(method, path, body) {
    if (!s.session) await signIn();
    try {
      return await api(method, path, body, s.session);
    } catch (err) {
      if (err.status !== 401) throw err;
      s.session = null;
      await signIn();
      return api(method, path, body, s.session);
    }
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // ---------------------------------------------------------------- matchmaking

  async function play(requeue) {
    if (!requeue) requeueAttempt = 0;
    const run = ++s.run;
    s.error = null;
    hideResults();
    resetGame();
    try {
      setStatus('auth', 'signing in…');
      if (!s.session) await signIn();
      if (run !== s.run) return;

      let ticket;
      try {
        ({ data: ticket } = await authed('POST', '/v1/matchmaking/tickets', { mode: MODE }));
      } catch (err) {
        if (err.code !== 'ticket_exists' || !err.details || !err.details.ticket_id) throw err;
        // Our earlier ticket is still queued (another tab, or a reload): wait on it.
        ticket = { ticket_id: err.details.ticket_id, status: 'queued' };
      }
      s.ticketId = ticket.ticket_id;
      const queuedAt = Date.now();
      let trouble = null; // the last polling failure, while retrying
      const showQueued = () => {
        if (run !== s.run) return;
        const secs = Math.round((Date.now() - queuedAt) / 1000);
        if (trouble) setStatus('queued', `queued (${secs} s) — connection trouble (${trouble}), retrying…`, true);
        else setStatus('queued', `queued for ${MODE} (${secs} s) — waiting for another player`);
      };
      const queueTimer = setInterval(showQueued, 1000);
      try {
        let failures = 0;
        while (run === s.run) {
          if (ticket.status === 'assigned' && ticket.assignment) break;
          if (ticket.status === 'cancelled' || ticket.status === 'expired') {
            s.ticketId = null;
            setStatus('idle', `ticket ${ticket.status} — press Play to queue again`);
            return;
          }
          showQueued();
          try {
            ({ data: ticket } = await authed('GET', `/v1/matchmaking/tickets/${encodeURIComponent(s.ticketId)}?wait=${POLL_WAIT_SECS}`));
            failures = 0;
            trouble = null;
          } catch (err) {
            if (err.code !== 'network_error' && !(err.status >= 500) && err.status !== 429) throw err;
            if (++failures > 5) throw err;
            trouble = err.code;
            showQueued();
            await sleep(1000 * failures);
          }
        }
      } finally {
        clearInterval(queueTimer);
      }
      if (run !== s.run) return;
      s.ticketId = null;
      const a = ticket.assignment;
      s.lobbyId = a.lobby_id;
      s.wsUrl = browserWsUrl(a.ws_url);
      rejoinAttempt = 0;
      connect(a.join_token);
    } catch (err) {
      if (run !== s.run) return;
      s.ticketId = null;
      fail(err.code || 'client_error', err.message);
    }
  }

  // Forget the last lobby (a new play attempt, or the game is over).
  function resetGame() {
    s.lobbyId = null;
    s.jetId = null;
    s.rejoinToken = null;
    s.snapshots = [];
    s.clockOffset = null;
    s.results = null;
    lastScoresHtml = '';
    ui.scores.innerHTML = '';
    ui.clock.textContent = '';
  }

  function cancelQueue() {
    const id = s.ticketId;
    s.run++;
    s.ticketId = null;
    setStatus('idle', 'cancelled — press Play to queue again');
    if (id && s.session) {
      api('DELETE', `/v1/matchmaking/tickets/${encodeURIComponent(id)}`, undefined, s.session).catch(() => {});
    }
  }

  // The server advertises an absolute URL built from its listen address; make it one
  // this page can actually open.
  function browserWsUrl(raw) {
    const url = new URL(raw, location.href);
    if (url.protocol === 'http:') url.protocol = 'ws:';
    if (url.protocol === 'https:') url.protocol = 'wss:';
    // A page on https may not open ws:// (mixed content).
    if (location.protocol === 'https:' && url.protocol === 'ws:') url.protocol = 'wss:';
    // A wildcard listen address is not somewhere a browser can connect to.
    if (url.hostname === '0.0.0.0' || url.hostname === '[::]' || url.hostname === '::') {
      url.hostname = location.hostname;
    }
    return url.toString();
  }

  // ---------------------------------------------------------------- WebSocket

  function connect(token) {
    const run = s.run;
    wsIntended = false;
    wsEnded = null;
    welcomed = false;
    const rejoining = rejoinAttempt > 0;
    if (!rejoining) setStatus('connecting', `joining lobby ${s.lobbyId}…`);
    let socket;
    try {
      socket = new WebSocket(s.wsUrl);
    } catch (err) {
      fail('websocket_error', String(err.message || err));
      return;
    }
    ws = socket;
    socket.onopen = () => {
      socket.send(JSON.stringify({ type: 'join', token }));
    };
    socket.onmessage = (ev) => {
      if (socket !== ws || typeof ev.data !== 'string') return;
      let msg;
      try { msg = JSON.parse(ev.data); } catch (_) { return; }
      onMessage(msg);
    };
    socket.onclose = (ev) => {
      if (socket !== ws) return;
      ws = null;
      stopPing();
      if (run !== s.run || wsIntended) return;
      onSocketClosed(ev);
    };
    socket.onerror = () => { /* onclose follows */ };
  }

  function send(msg) {
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify(msg));
      return true;
    }
    return false;
  }

  function onMessage(msg) {
    switch (msg.type) {
      case 'welcome':
        s.lobbyId = msg.lobby_id;
        s.jetId = msg.jet_id;
        s.tickRate = msg.tick_rate || 30;
        if (msg.arena) s.arena = { width: msg.arena.width, height: msg.arena.height };
        s.matchInfo = msg.match || null;
        s.rejoinToken = msg.rejoin_token;
        rejoinAttempt = 0;
        requeueAttempt = 0;
        welcomed = true;
        s.snapshots = [];
        s.clockOffset = null;
        resize();
        setStatus('playing', `in lobby ${s.lobbyId} — you are jet ${s.jetId}`);
        // A new connection numbers its inputs afresh; tell it what we hold now.
        input.seq = 0;
        input.lastSent = null;
        input.lastSentAt = 0;
        sendControls(true);
        startPing();
        break;
      case 'roster':
        s.names = new Map((msg.players || []).map((p) => [p.jet_id, p.name]));
        break;
      case 'snapshot':
        onSnapshot(msg);
        break;
      case 'match_end':
        showResults(msg);
        break;
      case 'pong':
        if (typeof msg.t === 'number') s.rtt = Math.max(0, performance.now() - msg.t);
        break;
      case 'error':
        wsEnded = { code: msg.code, message: msg.message };
        break;
      case 'lobby_closed':
        wsEnded = { code: 'lobby_closed', message: msg.reason };
        break;
      default:
        break;
    }
  }

  function onSocketClosed(ev) {
    const ended = wsEnded;
    // Dropped without a word (network, proxy, server restart), or cut off for reading
    // slowly (a background tab): our seat is kept for a while, so try to come back.
    const retryable = !ended || ended.code === 'slow_consumer';
    if (retryable && s.rejoinToken && rejoinAttempt < REJOIN_DELAYS_MS.length) {
      const delay = REJOIN_DELAYS_MS[rejoinAttempt];
      rejoinAttempt += 1;
      const run = s.run;
      setStatus('reconnecting', `connection lost (${ev.code}); rejoining (${rejoinAttempt}/${REJOIN_DELAYS_MS.length})…`, true);
      setTimeout(() => { if (run === s.run) connect(s.rejoinToken); }, delay);
      return;
    }
    // The lobby we were sent to closed before we got in (its last players left just
    // then): that is the matchmaker's news being stale, so queue again.
    if (ended && ended.code === 'lobby_closed' && !welcomed && rejoinAttempt === 0 &&
        requeueAttempt < REQUEUE_DELAYS_MS.length) {
      const delay = REQUEUE_DELAYS_MS[requeueAttempt];
      requeueAttempt += 1;
      const run = s.run;
      setStatus('queued', `lobby ${s.lobbyId} had closed; queueing again (${requeueAttempt}/${REQUEUE_DELAYS_MS.length})…`);
      setTimeout(() => { if (run === s.run) play(true); }, delay);
      return;
    }
    requeueAttempt = 0;
    s.rejoinToken = null;
    s.snapshots = [];
    if (ended) {
      if (ended.code === 'lobby_closed') {
        setStatus('ended', `lobby closed: ${ended.message || ''} — press Play for a new match`, true);
        s.error = ended;
      } else {
        fail(ended.code, ended.message);
      }
    } else {
      fail('disconnected', `the connection closed (${ev.code}) and could not be resumed`);
    }
  }

  function leave() {
    s.run++;
    wsIntended = true;
    send({ type: 'leave' });
    if (ws) {
      const socket = ws;
      setTimeout(() => { try { socket.close(1000, 'left'); } catch (_) { /* closed */ } }, 200);
    }
    ws = null;
    stopPing();
    s.rejoinToken = null;
    s.snapshots = [];
    hideResults();
    setStatus('idle', 'left the lobby — press Play for a new match');
  }

  function startPing() {
    stopPing();
    pingTimer = setInterval(() => send({ type: 'ping', t: performance.now() }), PING_EVERY_MS);
  }

  function stopPing() {
    if (pingTimer) clearInterval(pingTimer);
    pingTimer = null;
  }

  // ---------------------------------------------------------------- snapshots & time

  const localTick = (now) => (now * s.tickRate) / 1000;

  function onSnapshot(msg) {
    const now = performance.now();
    const jets = msg.jets || [];
    // Snapshots carry only motion and score; names come from the roster.
    for (const j of jets) j.name = s.names.get(j.id) || `Pilot ${j.id}`;
    const snap = {
      tick: msg.tick,
      match: msg.match || null,
      jets,
      projectiles: msg.projectiles || [],
      at: now,
    };
    const last = s.snapshots[s.snapshots.length - 1];
    if (last && snap.tick <= last.tick) {
      // A new match or a rejoin may restart numbering; anything else is stale.
      if (snap.tick < last.tick - s.tickRate) { s.snapshots = []; s.clockOffset = null; } else return;
    }
    s.snapshots.push(snap);
    if (s.snapshots.length > SNAPSHOT_BUFFER) s.snapshots.shift();

    // Server-tick clock: follow the earliest-arriving snapshots (least delayed), drift
    // slowly towards later ones so a lasting increase in latency is absorbed.
    const sample = snap.tick - localTick(now);
    if (s.clockOffset === null || sample > s.clockOffset || sample < s.clockOffset - 4) {
      s.clockOffset = sample;
    } else {
      s.clockOffset += (sample - s.clockOffset) * 0.02;
    }
    updateScores(snap);
    updateClock(snap);
  }

  function lerp(a, b, t) { return a + (b - a) * t; }

  function lerpAngle(a, b, t) {
    let d = (b - a) % (Math.PI * 2);
    if (d > Math.PI) d -= Math.PI * 2;
    if (d < -Math.PI) d += Math.PI * 2;
    return a + d * t;
  }

  // The world as it was at the render tick, interpolated between the two snapshots
  // around it.
  function view(now) {
    const snaps = s.snapshots;
    if (!snaps.length) return null;
    const newest = snaps[snaps.length - 1];
    if (snaps.length === 1 || s.clockOffset === null) return { jets: newest.jets, projectiles: newest.projectiles };
    const target = localTick(now) + s.clockOffset - INTERP_DELAY_TICKS;
    let a = snaps[snaps.length - 2];
    let b = newest;
    if (target >= newest.tick) {
      return { jets: newest.jets, projectiles: newest.projectiles };
    }
    for (let i = snaps.length - 1; i > 0; i--) {
      if (snaps[i - 1].tick <= target) { a = snaps[i - 1]; b = snaps[i]; break; }
      if (i === 1) { return { jets: snaps[0].jets, projectiles: snaps[0].projectiles }; }
    }
    const t = Math.min(1, Math.max(0, (target - a.tick) / (b.tick - a.tick)));
    const before = new Map(a.jets.map((j) => [j.id, j]));
    const jets = b.jets.map((jb) => {
      const ja = before.get(jb.id);
      // No interpolation across a death, a respawn or a jump (teleport).
      if (!ja || ja.alive !== jb.alive || Math.hypot(jb.x - ja.x, jb.y - ja.y) > 120) return jb;
      return Object.assign({}, jb, {
        x: lerp(ja.x, jb.x, t),
        y: lerp(ja.y, jb.y, t),
        angle: lerpAngle(ja.angle, jb.angle, t),
        health: t < 0.5 ? ja.health : jb.health,
      });
    });
    const shotsBefore = new Map(a.projectiles.map((p) => [p.id, p]));
    const projectiles = [];
    for (const pb of b.projectiles) {
      const pa = shotsBefore.get(pb.id);
      if (pa) projectiles.push({ id: pb.id, owner: pb.owner, x: lerp(pa.x, pb.x, t), y: lerp(pa.y, pb.y, t) });
      else if (t >= 0.5) projectiles.push(pb);
    }
    for (const pa of a.projectiles) {
      if (t < 0.5 && !b.projectiles.some((p) => p.id === pa.id)) projectiles.push(pa);
    }
    return { jets, projectiles };
  }

  // ---------------------------------------------------------------- HUD

  const colorOf = (id) => PALETTE[(id - 1 + PALETTE.length * 64) % PALETTE.length];

  const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);

  let lastScoresHtml = '';
  function updateScores(snap) {
    const jets = snap.jets.slice().sort((x, y) => (y.score - x.score) || (x.deaths - y.deaths) || (x.id - y.id));
    let html = '<li class="head"><span></span><span>pilot</span><span class="n">score</span><span class="n">deaths</span></li>';
    for (const j of jets) {
      const me = j.id === s.jetId;
      html += `<li class="${me ? 'me' : ''}" data-jet="${j.id}"><span class="sw" style="background:${colorOf(j.id)}"></span>`
        + `<span>${escapeHtml(j.name)}${me ? ' (you)' : ''}</span>`
        + `<span class="n">${j.score}</span><span class="n">${j.deaths}</span></li>`;
    }
    if (html !== lastScoresHtml) {
      ui.scores.innerHTML = html;
      lastScoresHtml = html;
    }
  }

  function updateClock(snap) {
    if (!snap.match) return;
    const secs = Math.ceil(snap.match.remaining_ticks / s.tickRate);
    const text = `${Math.floor(secs / 60)}:${String(secs % 60).padStart(2, '0')}`;
    if (ui.clock.textContent !== text) ui.clock.textContent = text;
  }

  function showResults(msg) {
    const names = new Map();
    const newest = s.snapshots[s.snapshots.length - 1];
    if (newest) for (const j of newest.jets) names.set(j.id, j.name);
    const rows = (msg.results || []).slice().sort((x, y) => (y.kills - x.kills) || (x.deaths - y.deaths));
    const mine = rows.find((r) => r.jet_id === s.jetId);
    const winners = rows.filter((r) => r.winner);
    let title = 'Match over';
    if (mine && mine.winner) title = winners.length > 1 ? 'Tied for the win' : 'You win!';
    else if (winners.length === 1) title = `${escapeHtml(names.get(winners[0].jet_id) || `Jet ${winners[0].jet_id}`)} wins`;
    let html = `<h2>${title}</h2><table><tr><th>pilot</th><th>kills</th><th>deaths</th><th></th></tr>`;
    for (const r of rows) {
      const name = names.get(r.jet_id) || `Jet ${r.jet_id}`;
      html += `<tr class="${r.winner ? 'winner' : ''}"><td>${escapeHtml(name)}${r.jet_id === s.jetId ? ' (you)' : ''}</td>`
        + `<td>${r.kills}</td><td>${r.deaths}</td><td>${r.winner ? '★' : ''}</td></tr>`;
    }
    const next = Math.round((msg.next_match_in_ticks || 0) / s.tickRate);
    html += `</table><p>Match ${msg.number} finished. Next match in ${next} s.</p>`;
    ui.results.innerHTML = html;
    ui.results.hidden = false;
    s.results = msg;
    const showFor = Math.max(3000, (msg.next_match_in_ticks || 0) / s.tickRate * 1000);
    s.resultsUntil = performance.now() + showFor;
    if (resultsTimer) clearTimeout(resultsTimer);
    resultsTimer = setTimeout(hideResults, showFor);
  }

  function hideResults() {
    if (resultsTimer) clearTimeout(resultsTimer);
    resultsTimer = null;
    ui.results.hidden = true;
  }

  // ---------------------------------------------------------------- drawing

  let scale = 1;
  let dpr = 1;

  function resize() {
    const main = ui.canvas.parentElement;
    const availW = Math.max(100, main.clientWidth - 8);
    const availH = Math.max(100, main.clientHeight - 8);
    scale = Math.min(availW / s.arena.width, availH / s.arena.height);
    dpr = window.devicePixelRatio || 1;
    const cssW = Math.floor(s.arena.width * scale);
    const cssH = Math.floor(s.arena.height * scale);
    ui.canvas.style.width = `${cssW}px`;
    ui.canvas.style.height = `${cssH}px`;
    ui.canvas.width = Math.floor(cssW * dpr);
    ui.canvas.height = Math.floor(cssH * dpr);
  }

  function drawBackground() {
    const { width, height } = s.arena;
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, width, height);
    ctx.strokeStyle = 'rgba(120, 140, 190, 0.12)';
    ctx.lineWidth = 1 / scale;
    ctx.beginPath();
    for (let x = 100; x < width; x += 100) { ctx.moveTo(x, 0); ctx.lineTo(x, height); }
    for (let y = 100; y < height; y += 100) { ctx.moveTo(0, y); ctx.lineTo(width, y); }
    ctx.stroke();
    ctx.strokeStyle = '#3a4670';
    ctx.lineWidth = 4;
    ctx.strokeRect(2, 2, width - 4, height - 4);
  }

  function drawJet(j) {
    const me = j.id === s.jetId;
    const color = colorOf(j.id);
    ctx.save();
    ctx.translate(j.x, j.y);
    if (me) {
      ctx.beginPath();
      ctx.arc(0, 0, JET_RADIUS + 9, 0, Math.PI * 2);
      ctx.strokeStyle = 'rgba(255, 209, 102, 0.55)';
      ctx.lineWidth = 3;
      ctx.stroke();
    }
    ctx.rotate(j.angle);
    if (me && input.thrust) {
      ctx.beginPath();
      ctx.moveTo(-10, -6);
      ctx.lineTo(-22 - Math.random() * 8, 0);
      ctx.lineTo(-10, 6);
      ctx.closePath();
      ctx.fillStyle = '#ff9f1c';
      ctx.fill();
    }
    ctx.beginPath();
    ctx.moveTo(22, 0);
    ctx.lineTo(-13, -13);
    ctx.lineTo(-7, 0);
    ctx.lineTo(-13, 13);
    ctx.closePath();
    ctx.fillStyle = color;
    ctx.fill();
    ctx.lineWidth = me ? 3 : 1.5;
    ctx.strokeStyle = me ? '#ffffff' : 'rgba(0, 0, 0, 0.6)';
    ctx.stroke();
    ctx.restore();

    // Name above, health bar below; both kept inside the arena when the jet is at a wall.
    const { width, height } = s.arena;
    const barW = 48;
    const fontPx = Math.round(Math.max(14, 12 / scale));
    const health = Math.max(0, Math.min(100, j.health)) / 100;
    const nearTop = j.y - JET_RADIUS - 8 - fontPx < 4;
    const nearBottom = j.y + JET_RADIUS + 18 > height - 4;
    let nameY = j.y - JET_RADIUS - 8;          // text baseline (bottom)
    let barY = j.y + JET_RADIUS + 10;
    if (nearTop) { barY = j.y + JET_RADIUS + 8; nameY = barY + 12 + fontPx; }
    else if (nearBottom) { barY = j.y - JET_RADIUS - 16; nameY = barY - 6; }
    const bx = Math.min(Math.max(j.x - barW / 2, 6), width - barW - 6);
    ctx.fillStyle = 'rgba(0, 0, 0, 0.6)';
    ctx.fillRect(bx - 2, barY - 2, barW + 4, 10);
    ctx.fillStyle = health > 0.5 ? '#52d273' : health > 0.25 ? '#f8c146' : '#ff5c5c';
    ctx.fillRect(bx, barY, barW * health, 6);
    ctx.font = `${me ? 'bold ' : ''}${fontPx}px system-ui, sans-serif`;
    const label = j.name + (me ? ' (you)' : '');
    const half = ctx.measureText(label).width / 2;
    const nameX = Math.min(Math.max(j.x, half + 6), width - half - 6);
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    ctx.fillStyle = me ? '#ffd166' : '#d8deee';
    ctx.fillText(label, nameX, nameY);
  }

  function drawCenterText(text, sub) {
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillStyle = '#d8deee';
    ctx.font = `600 ${Math.round(60)}px system-ui, sans-serif`;
    ctx.fillText(text, s.arena.width / 2, s.arena.height / 2 - 30);
    if (sub) {
      ctx.fillStyle = '#8891ab';
      ctx.font = `${Math.round(34)}px system-ui, sans-serif`;
      ctx.fillText(sub, s.arena.width / 2, s.arena.height / 2 + 40);
    }
  }

  function frame(now) {
    ctx.setTransform(scale * dpr, 0, 0, scale * dpr, 0, 0);
    drawBackground();
    const v = view(now);
    if (v) {
      for (const p of v.projectiles) {
        ctx.beginPath();
        ctx.arc(p.x, p.y, 7, 0, Math.PI * 2);
        ctx.fillStyle = colorOf(p.owner);
        ctx.fill();
        ctx.beginPath();
        ctx.arc(p.x, p.y, 3.5, 0, Math.PI * 2);
        ctx.fillStyle = '#ffffff';
        ctx.fill();
      }
      for (const j of v.jets) if (j.alive && j.id !== s.jetId) drawJet(j);
      const me = v.jets.find((j) => j.id === s.jetId);
      if (me && me.alive) drawJet(me);
      if (me && !me.alive && s.status === 'playing') drawCenterText('Shot down', 'respawning…');
    } else if (s.status === 'queued') {
      drawCenterText('Waiting for players', 'a match starts when a second pilot queues');
    } else if (s.status === 'idle' || s.status === 'error' || s.status === 'ended') {
      drawCenterText('Guildhall arena', 'press Play');
    }
    requestAnimationFrame(frame);
  }

  // ---------------------------------------------------------------- input

  const input = {
    up: false, left: false, right: false, fire: false,
    get thrust() { return this.up; },
    seq: 0,
    lastSent: null,
    lastSentAt: 0,
    timer: null,
  };

  // Key (event.code, event.key or a plain name) -> control.
  const KEYMAP = {
    ArrowUp: 'up', KeyW: 'up', w: 'up', W: 'up', up: 'up', thrust: 'up',
    ArrowLeft: 'left', KeyA: 'left', a: 'left', A: 'left', left: 'left',
    ArrowRight: 'right', KeyD: 'right', d: 'right', D: 'right', right: 'right',
    Space: 'fire', ' ': 'fire', Spacebar: 'fire', fire: 'fire',
  };

  function controls() {
    return {
      thrust: input.up,
      turn: (input.right ? 1 : 0) - (input.left ? 1 : 0),
      fire: input.fire,
    };
  }

  function sameControls(a, b) {
    return !!a && !!b && a.thrust === b.thrust && a.turn === b.turn && a.fire === b.fire;
  }

  // Sends the held controls when they changed, at most once per tick.
  function sendControls(force) {
    if (!ws || s.status !== 'playing') return;
    const c = controls();
    if (!force && sameControls(c, input.lastSent)) return;
    const tickMs = 1000 / s.tickRate;
    const wait = input.lastSentAt + tickMs - performance.now();
    if (wait > 0 && !force) {
      if (!input.timer) {
        input.timer = setTimeout(() => { input.timer = null; sendControls(false); }, wait);
      }
      return;
    }
    input.seq += 1;
    if (send({ type: 'input', seq: input.seq, thrust: c.thrust, turn: c.turn, fire: c.fire })) {
      input.lastSent = c;
      input.lastSentAt = performance.now();
    }
  }

  function press(key, down) {
    const control = KEYMAP[key];
    if (!control) return false;
    const value = down !== false;
    if (input[control] !== value) {
      input[control] = value;
      sendControls(false);
    }
    return true;
  }

  function releaseAll() {
    input.up = input.left = input.right = input.fire = false;
    sendControls(false);
  }

  function onKey(ev, down) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const control = KEYMAP[ev.code] || KEYMAP[ev.key];
    if (!control) return;
    // In a game, keep arrows from scrolling and Space from pressing a focused button.
    if (s.status === 'playing' || s.status === 'connecting' || s.status === 'reconnecting') ev.preventDefault();
    press(ev.code in KEYMAP ? ev.code : ev.key, down);
  }

  window.addEventListener('keydown', (ev) => onKey(ev, true));
  window.addEventListener('keyup', (ev) => onKey(ev, false));
  window.addEventListener('blur', releaseAll);
  window.addEventListener('resize', resize);

  ui.play.addEventListener('click', () => {
    ui.play.blur(); // Space is fire, not "click the focused button"
    switch (s.status) {
      case 'queued': cancelQueue(); break;
      case 'connecting':
      case 'playing':
      case 'reconnecting': leave(); break;
      case 'auth': break;
      default: play();
    }
  });

  window.addEventListener('pagehide', () => {
    // A queued ticket would otherwise match us into a lobby nobody joins.
    if (s.ticketId && s.session) {
      try {
        fetch(`/v1/matchmaking/tickets/${encodeURIComponent(s.ticketId)}`, {
          method: 'DELETE', keepalive: true, headers: { authorization: `Bearer ${s.session}` },
        });
      } catch (_) { /* best effort */ }
    }
  });

  // ---------------------------------------------------------------- test hook

  window.arena = {
    state: () => {
      const newest = s.snapshots[s.snapshots.length - 1];
      return {
        status: s.status,
        statusText: s.statusText,
        error: s.error,
        guestId: s.guestId,
        ticketId: s.ticketId,
        lobbyId: s.lobbyId,
        jetId: s.jetId,
        tickRate: s.tickRate,
        arena: Object.assign({}, s.arena),
        tick: newest ? newest.tick : null,
        match: newest && newest.match ? Object.assign({}, newest.match) : null,
        jets: newest ? newest.jets.map((j) => Object.assign({}, j)) : [],
        projectiles: newest ? newest.projectiles.length : 0,
        controls: controls(),
        seq: input.seq,
        results: s.results,
        rtt: s.rtt,
        connected: !!ws && ws.readyState === WebSocket.OPEN,
      };
    },
    press,
    play: () => { if (s.status !== 'queued' && s.status !== 'playing') ui.play.click(); },
    // Leave the lobby, or cancel the ticket while queued.
    leave: () => {
      if (s.status === 'queued') cancelQueue();
      else if (ws || s.status === 'reconnecting') leave();
    },
    // Drop the socket as a network failure would, to exercise rejoin.
    drop: () => { if (ws) ws.close(4000, 'test drop'); },
  };

  resize();
  setStatus('idle', 'Press Play to find a match.');
  requestAnimationFrame(frame);
})();
