// Guildhall card tables: the browser client for Briscola chiamata (docs/tables.md).
//
// A plain module, no build step. Flow: a guest session (kept in localStorage) ->
// create a table, join one (`?join=ID`) or watch one (`?watch=ID`, no account) -> a
// table token -> the WebSocket gateway: `join`, then `sync` snapshots (the source of
// truth) and the events in between, applied to the last snapshot. `window.tables` is a
// small hook for tests and the console.

const GUEST_KEY = 'guildhall.tables.guest';
const RECONNECT_DELAYS_MS = [300, 1000, 2000, 4000, 8000];
const LOG_LINES = 80;

// Ranks as printed on the cards: 1 ace, 8 jack (fante), 9 horse (cavallo), 10 king (re).
const RANK_NAMES = {
  1: 'Ace', 2: 'Two', 3: 'Three', 4: 'Four', 5: 'Five', 6: 'Six', 7: 'Seven',
  8: 'Jack', 9: 'Horse', 10: 'King',
};
const RANK_SHORT = { 1: 'A', 8: 'J', 9: 'H', 10: 'K' };
const SUITS = ['coppe', 'denari', 'spade', 'bastoni'];
const SUIT_NAMES = { coppe: 'Coppe', denari: 'Denari', spade: 'Spade', bastoni: 'Bastoni' };
const SUIT_HINTS = { coppe: 'cups', denari: 'coins', spade: 'swords', bastoni: 'clubs' };
const CARD_POINTS = { 1: 11, 3: 10, 10: 4, 9: 3, 8: 2 };
// The auction walks down this list, strongest first; after the two, bids raise the target.
const RANKS_BY_STRENGTH = [1, 3, 10, 9, 8, 7, 6, 5, 4, 2];
const MIN_TARGET = 61;
const MAX_TARGET = 120;
const PHASES = {
  waiting: 'Waiting for players',
  auction: 'Auction',
  calling: 'Calling the partner card',
  playing: 'Playing',
  hand_over: 'Hand over',
  match_over: 'Match over',
};

const $ = (id) => document.getElementById(id);
const ui = {
  status: $('status'),
  role: $('role'),
  tableId: $('table-id'),
  reconnect: $('reconnect'),
  lobby: $('lobby'),
  create: $('create'),
  joinForm: $('join-form'),
  joinCode: $('join-code'),
  watch: $('watch'),
  share: $('share'),
  joinLink: $('join-link'),
  watchLink: $('watch-link'),
  table: $('table'),
  phase: $('phase'),
  turn: $('turn'),
  handNumber: $('hand-number'),
  contract: $('contract'),
  seats: $('seats'),
  trick: $('trick'),
  lastTrick: $('last-trick'),
  controls: $('controls'),
  auction: $('auction'),
  bidRanks: $('bid-ranks'),
  bidTwo: $('bid-two'),
  bidPoints: $('bid-points'),
  bidPass: $('bid-pass'),
  calling: $('calling'),
  callRank: $('call-rank'),
  callSuits: $('call-suits'),
  error: $('error'),
  handBox: $('hand-box'),
  watching: $('watching'),
  hand: $('hand'),
  scores: $('scores'),
  lastHand: $('last-hand'),
  log: $('log'),
};

// ---------------------------------------------------------------- state

const s = {
  status: 'idle',       // idle | auth | connecting | connected | reconnecting | ended | error
  statusText: '',
  statusKind: '',       // '' | warn | error
  session: null,
  guest: null,          // {guest_id, guest_secret, display_name}
  gameId: null,
  role: null,           // player | observer
  seat: null,
  token: null,
  wsUrl: null,
  view: null,           // the last snapshot with the events since applied
  pending: null,        // the one action waiting for its result: {action_id, text, message_type}
  retry: null,          // an action answered game_unavailable, sent again after the next sync
  rankCalled: false,    // this caller restated the partner card's rank
  error: null,          // the last refused action: {code, message}
  unavailable: false,   // told game_unavailable; until the next sync
  connected: false,
  joins: 0,             // connections the gateway accepted, reconnections included
  lastHandTricks: null, // tricks and points by seat of a scored hand: {hand_number, tricks_won, points_taken}
  log: [],
};

let ws = null;
let joinId = null;
let closeReason = null;   // the code of the error the server sent just before closing
let reconnectAttempt = 0;
let reconnectTimer = null;
let tokenRefreshed = false;
const clientId = Math.random().toString(36).slice(2, 10);
let nextAction = 0;
const newActionId = (kind) => `${kind}-${clientId}-${++nextAction}`;

// ---------------------------------------------------------------- words

const rankName = (rank) => RANK_NAMES[rank] || String(rank);
const cardName = (card) => `${rankName(card.rank)} of ${SUIT_NAMES[card.suit] || card.suit}`;
const sameCard = (a, b) => !!a && !!b && a.suit === b.suit && a.rank === b.rank;

function bidName(bid) {
  if (!bid || bid.pass) return 'pass';
  if (bid.points != null) return `Two for ${bid.points}`;
  return rankName(bid.rank);
}

function seatName(seat) {
  if (seat == null) return '—';
  const info = s.view && s.view.seats && s.view.seats[seat];
  const mine = s.role === 'player' && seat === s.seat;
  // A table's creator sits without a name; this page knows its own.
  const name = (info && info.display_name) || (mine && s.guest && s.guest.display_name) || `Seat ${seat + 1}`;
  return mine ? `${name} (you)` : name;
}

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => ({
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
})[c]);

// ---------------------------------------------------------------- rules the page needs

// The seat that acts after `seat`: play goes to the right, 0 -> 4 -> 3 -> 2 -> 1.
const nextSeat = (seat) => (seat + 4) % 5;

// Where a bid stands on the auction ladder (ace 0 ... four 8, two 9, two for p: p - 52).
function bidLevel(bid) {
  if (!bid || bid.pass) return -1;
  if (bid.rank === 2) return 9 + (bid.points || MIN_TARGET) - MIN_TARGET;
  return RANKS_BY_STRENGTH.indexOf(bid.rank);
}

function highestLevel(view) {
  return view.highest_bid ? bidLevel(view.highest_bid.bid) : -1;
}

// The cards in hand that may be played now.
function playable(view) {
  const hand = view.hand || [];
  const led = view.trick.length ? view.trick[0].card.suit : null;
  if (!led || !view.options || !view.options.must_follow_suit) return hand;
  const following = hand.filter((c) => c.suit === led);
  return following.length ? following : hand;
}

const myTurn = () => !!s.view && s.role === 'player' && s.view.turn != null && s.view.turn === s.seat;

// A snapshot with every field the page reads, whatever the phase.
function normalize(view) {
  const v = Object.assign({
    phase: 'waiting', turn: null, dealer: 0, hand_number: 0, hand_sizes: [0, 0, 0, 0, 0],
    bids: [], passed: [false, false, false, false, false], highest_bid: null, caller: null,
    target: null, called_card: null, trump: null, partner: null, you_are_partner: false,
    trick: [], last_trick: null, tricks_won: [0, 0, 0, 0, 0], points_taken: [0, 0, 0, 0, 0],
    scores: [0, 0, 0, 0, 0], last_hand: null, winners: [], seats: [], options: {},
  }, view);
  while (v.seats.length < 5) v.seats.push({ taken: false });
  return v;
}

// ---------------------------------------------------------------- status

function setStatus(status, text, kind) {
  s.status = status;
  s.statusText = text;
  s.statusKind = kind || '';
  render();
}

function fail(code, message) {
  setStatus('error', `${code}${message ? ' — ' + message : ''}`, 'error');
}

// ---------------------------------------------------------------- HTTP

class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body, token) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, {
      method, headers, cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (_) {
    throw new ApiError(0, 'network_error', 'the server could not be reached');
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
  if (!response.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(response.status, e.code || `http_${response.status}`, e.message || response.statusText);
  }
  return data;
}

function loadGuest() {
  try {
    const g = JSON.parse(localStorage.getItem(GUEST_KEY) || 'null');
    if (g && typeof g.guest_id === 'string' && typeof g.guest_secret === 'string') return g;
  } catch (_) { /* unreadable: treat as absent */ }
  return null;
}

function saveGuest(guest) {
  try { localStorage.setItem(GUEST_KEY, JSON.stringify(guest)); } catch (_) { /* this page only */ }
}

// A session token: log the stored guest in, or make a new guest.
async function signIn() {
  const stored = loadGuest();
  if (stored) {
    try {
      const data = await api('POST', '/v1/guest/login', { guest_id: stored.guest_id, guest_secret: stored.guest_secret });
      s.guest = stored;
      s.session = data.session_token;
      return;
    } catch (err) {
      if (err.code === 'network_error') throw err;
      console.warn('guest login failed, creating a new guest:', err.code);
    }
  }
  const data = await api('POST', '/v1/guest/init', {});
  s.guest = { guest_id: data.guest_id, guest_secret: data.guest_secret, display_name: data.display_name || null };
  saveGuest(s.guest);
  s.session = data.session_token;
}

// An authenticated call, signing in again once if the session is refused.
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

// ---------------------------------------------------------------- entering a table

const tableCode = (raw) => String(raw || '').trim().toUpperCase();

async function createTable() {
  try {
    setStatus('auth', 'creating a table…');
    const seated = await authed('POST', '/v1/tables', {});
    // A reload comes back to the same seat.
    history.replaceState(null, '', `${location.pathname}?join=${encodeURIComponent(seated.game_id)}`);
    enterAsPlayer(seated);
  } catch (err) {
    fail(err.code || 'client_error', err.message);
  }
}

async function seatToken(gameId) {
  const name = s.guest && s.guest.display_name;
  return authed('POST', `/v1/tables/${encodeURIComponent(gameId)}/join`, name ? { display_name: name } : {});
}

async function joinTable(gameId) {
  try {
    setStatus('auth', `joining table ${gameId}…`);
    if (!s.session) await signIn();
    enterAsPlayer(await seatToken(gameId));
  } catch (err) {
    fail(err.code || 'client_error', err.message);
  }
}

async function watchTable(gameId) {
  try {
    setStatus('auth', `getting a seat in the stands of ${gameId}…`);
    const data = await api('POST', `/v1/tables/${encodeURIComponent(gameId)}/observer-token`, {});
    s.gameId = gameId;
    s.role = 'observer';
    s.seat = null;
    s.token = data.observer_token;
    s.wsUrl = browserWsUrl(data.ws_url);
    enterTable();
  } catch (err) {
    fail(err.code || 'client_error', err.message);
  }
}

function enterAsPlayer(seated) {
  s.gameId = seated.game_id;
  s.role = 'player';
  s.seat = seated.seat;
  s.token = seated.player_token;
  s.wsUrl = browserWsUrl(seated.ws_url);
  enterTable();
}

function enterTable() {
  const base = `${location.origin}${location.pathname}`;
  ui.joinLink.href = ui.joinLink.textContent = `${base}?join=${s.gameId}`;
  ui.watchLink.href = ui.watchLink.textContent = `${base}?watch=${s.gameId}`;
  // Observers have no hand: nothing of one is even on their page.
  if (s.role === 'observer') {
    ui.handBox.remove();
    ui.watching.hidden = false;
  }
  connect();
}

// The server advertises a URL built from its listen address; make it one this page
// can open.
function browserWsUrl(raw) {
  const url = new URL(raw, location.href);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.protocol === 'https:') url.protocol = 'wss:';
  if (location.protocol === 'https:' && url.protocol === 'ws:') url.protocol = 'wss:';
  if (url.hostname === '0.0.0.0' || url.hostname === '[::]' || url.hostname === '::') {
    url.hostname = location.hostname;
  }
  return url.toString();
}

// A fresh table token, when the old one was refused (expired).
async function refreshToken() {
  if (s.role === 'observer') {
    const data = await api('POST', `/v1/tables/${encodeURIComponent(s.gameId)}/observer-token`, {});
    s.token = data.observer_token;
  } else {
    const seated = await seatToken(s.gameId);
    s.token = seated.player_token;
    s.seat = seated.seat;
  }
}

// ---------------------------------------------------------------- WebSocket

function connect() {
  clearTimeout(reconnectTimer);
  reconnectTimer = null;
  closeReason = null;
  ui.reconnect.hidden = true;
  if (!reconnectAttempt) setStatus('connecting', `connecting to table ${s.gameId}…`);
  let socket;
  try {
    socket = new WebSocket(s.wsUrl);
  } catch (err) {
    fail('websocket_error', String(err.message || err));
    return;
  }
  ws = socket;
  socket.onopen = () => {
    joinId = newActionId('join');
    socket.send(JSON.stringify({ message_type: 'join', action_id: joinId, payload: { token: s.token } }));
  };
  socket.onmessage = (ev) => {
    if (socket !== ws || typeof ev.data !== 'string') return;
    let msg;
    try { msg = JSON.parse(ev.data); } catch (_) { return; }
    onMessage(msg);
    render();
  };
  socket.onclose = (ev) => {
    if (socket !== ws) return;
    ws = null;
    s.connected = false;
    onClosed(ev.code);
  };
}

function onClosed(code) {
  const reason = closeReason;
  if (code === 4409 || reason === 'duplicate_connection_handled') {
    setStatus('ended', 'this seat was opened in another window', 'warn');
    ui.reconnect.hidden = false;
    return;
  }
  if (code === 4404 || reason === 'game_not_found') {
    fail('game_not_found', `table ${s.gameId} is gone`);
    return;
  }
  if (code === 4401 || reason === 'unauthorized') {
    if (tokenRefreshed) {
      fail('unauthorized', 'the table token was refused');
      return;
    }
    tokenRefreshed = true;
    setStatus('reconnecting', 'reconnecting… (renewing the table token)', 'warn');
    refreshToken().then(connect, (err) => fail(err.code || 'client_error', err.message));
    return;
  }
  const delay = RECONNECT_DELAYS_MS[Math.min(reconnectAttempt, RECONNECT_DELAYS_MS.length - 1)];
  reconnectAttempt += 1;
  const why = reason === 'game_unavailable' ? 'the table is restarting' : `attempt ${reconnectAttempt}`;
  setStatus('reconnecting', `reconnecting… (${why})`, 'warn');
  reconnectTimer = setTimeout(connect, delay);
}

function sendRaw(text) {
  if (!ws || ws.readyState !== WebSocket.OPEN || !s.connected) return false;
  ws.send(text);
  return true;
}

// Sends an action; one at a time. Kept until its result, and sent again (same id,
// applied at most once) after a reconnect.
function act(messageType, payload) {
  if (s.pending || !s.connected) return false;
  const actionId = newActionId('a');
  const text = JSON.stringify({ message_type: messageType, action_id: actionId, payload });
  s.pending = { action_id: actionId, message_type: messageType, text };
  s.error = null;
  sendRaw(text);
  render();
  return true;
}

// A fresh snapshot. (The gateway keeps ids starting `sync-` for its own requests.)
const syncIds = new Set();
function requestSync() {
  const actionId = newActionId('resync');
  syncIds.add(actionId);
  sendRaw(JSON.stringify({ message_type: 'sync', action_id: actionId, payload: {} }));
}

function onMessage(msg) {
  const type = msg.message_type;
  const p = msg.payload || {};
  switch (type) {
    case 'action.result': return onResult(msg.action_id, p);
    case 'sync': return onSync(p);
    case 'game_unavailable':
      s.unavailable = true;
      return;
    case 'hand.update':
      if (s.view && p.seat === s.seat && Array.isArray(p.hand)) {
        s.view.hand = p.hand;
        s.view.hand_sizes[p.seat] = p.hand.length;
      }
      return;
    default:
      if (s.view) applyEvent(s.view, type, p);
  }
}

function onResult(actionId, p) {
  const ok = p.status === 'ok';
  if (actionId && actionId === joinId) {
    if (!ok) {
      closeReason = p.code;
      return;
    }
    s.connected = true;
    s.joins += 1;
    reconnectAttempt = 0;
    tokenRefreshed = false;
    setStatus('connected', 'connected');
    // An action sent before the connection dropped: its result is still owed.
    if (s.pending) sendRaw(s.pending.text);
    return;
  }
  if (actionId && syncIds.delete(actionId)) {
    if (!ok) s.error = { code: p.code, message: `sync: ${p.message || ''}` };
    return;
  }
  if (s.pending && actionId === s.pending.action_id) {
    const sent = s.pending;
    s.pending = null;
    if (ok) {
      s.error = null;
      if (sent.message_type === 'call-partner-rank') s.rankCalled = true;
      return;
    }
    s.error = { code: p.code, message: p.message };
    if (p.code === 'game_unavailable') {
      s.unavailable = true;
      s.retry = sent;
    }
    if (p.recovery === 'sync') requestSync();
    return;
  }
  // The server's reason for closing the connection, or a stray result.
  if (!ok && !actionId) closeReason = p.code;
}

function onSync(view) {
  const previous = s.view;
  s.view = normalize(view);
  if (view.role) s.role = view.role;
  if (view.seat != null) s.seat = view.seat;
  if (s.unavailable) log('the table is back');
  s.unavailable = false;
  if (s.view.phase !== 'calling' || (previous && previous.hand_number !== s.view.hand_number)) s.rankCalled = false;
  if (s.retry && !s.pending) {
    s.pending = s.retry;
    s.retry = null;
    sendRaw(s.pending.text);
  }
}

// One event, applied to the snapshot as the rules would (the next sync overrides).
function applyEvent(v, type, p) {
  switch (type) {
    case 'player.join':
      v.seats[p.seat] = { taken: true, display_name: p.display_name, connected: true };
      log(`${seatName(p.seat)} sat down`);
      break;
    case 'player.leave':
      if (v.seats[p.seat]) v.seats[p.seat].connected = false;
      log(`${seatName(p.seat)} left`);
      break;
    case 'player.reconnect':
      if (v.seats[p.seat]) v.seats[p.seat].connected = true;
      log(`${seatName(p.seat)} is back`);
      break;
    case 'hand.dealt':
      v.dealer = p.dealer;
      v.hand_number = p.hand_number;
      v.bids = [];
      v.passed = [false, false, false, false, false];
      v.highest_bid = null;
      v.caller = v.target = v.called_card = v.trump = v.partner = null;
      v.you_are_partner = false;
      v.trick = [];
      v.last_trick = null;
      v.tricks_won = [0, 0, 0, 0, 0];
      v.points_taken = [0, 0, 0, 0, 0];
      v.turn = nextSeat(p.dealer);
      s.rankCalled = false;
      log(`hand ${p.hand_number} dealt by ${seatName(p.dealer)}`);
      break;
    case 'hand.redeal':
      log('everyone passed: the cards are dealt again');
      break;
    case 'bid.made': {
      v.bids.push({ seat: p.seat, bid: p.bid });
      if (p.bid.pass) v.passed[p.seat] = true;
      else v.highest_bid = { seat: p.seat, bid: p.bid };
      let next = nextSeat(p.seat);
      while (next !== p.seat && v.passed[next]) next = nextSeat(next);
      v.turn = next;
      log(p.bid.pass ? `${seatName(p.seat)} passed` : `${seatName(p.seat)} bid ${bidName(p.bid)}`);
      break;
    }
    case 'auction.won':
      v.caller = p.seat;
      v.target = p.target;
      v.turn = p.seat;
      log(`${seatName(p.seat)} won the auction with ${bidName(p.bid)} (target ${p.target})`);
      break;
    case 'partner.rank_called':
      if (p.seat === s.seat) s.rankCalled = true;
      log(`${seatName(p.seat)} calls the ${rankName(p.rank)}…`);
      break;
    case 'partner.called':
      v.called_card = p.card;
      v.trump = p.card.suit;
      log(`${seatName(p.seat)} called the ${cardName(p.card)}: ${SUIT_NAMES[p.card.suit]} are trump`);
      break;
    case 'trick.played':
      v.trick.push({ seat: p.seat, card: p.card });
      if (v.hand_sizes[p.seat] > 0) v.hand_sizes[p.seat] -= 1;
      v.turn = nextSeat(p.seat);
      log(`${seatName(p.seat)} played the ${cardName(p.card)}`);
      break;
    case 'partner.revealed':
      v.partner = p.seat;
      log(p.alone ? `${seatName(p.seat)} called their own card: alone against four` : `${seatName(p.seat)} is the partner`);
      break;
    case 'trick.won':
      v.trick = [];
      v.last_trick = { cards: p.trick, winner: p.seat, points: p.points };
      v.tricks_won[p.seat] += 1;
      v.points_taken[p.seat] += p.points;
      v.turn = p.seat;
      log(`${seatName(p.seat)} took the trick (${p.points} points)`);
      break;
    case 'score.update': {
      const r = p.result;
      v.scores = p.scores;
      v.last_hand = r;
      v.turn = null;
      s.lastHandTricks = { hand_number: r.hand_number, tricks_won: v.tricks_won.slice(), points_taken: v.points_taken.slice() };
      log(`hand ${r.hand_number}: caller side ${r.caller_points}, defenders ${r.defender_points} — ` +
        `${r.caller_won ? 'the caller wins' : 'the caller loses'}${r.cappotto ? ' (cappotto)' : ''}`);
      break;
    }
    case 'phase.change':
      v.phase = p.phase;
      if (p.phase !== 'calling') s.rankCalled = false;
      break;
    case 'match.over':
      v.scores = p.scores;
      v.winners = p.winners;
      v.turn = null;
      log(`match over: ${p.winners.map(seatName).join(', ')} won`);
      break;
    default:
      break;
  }
}

function log(text) {
  s.log.push(text);
  if (s.log.length > LOG_LINES) s.log.splice(0, s.log.length - LOG_LINES);
}

// ---------------------------------------------------------------- rendering

function cardHtml(card, tag, attrs) {
  const points = CARD_POINTS[card.rank] || 0;
  const short = RANK_SHORT[card.rank] || String(card.rank);
  return `<${tag} class="card ${card.suit}" data-card data-suit="${card.suit}" data-rank="${card.rank}" ` +
    `title="${escapeHtml(cardName(card))} (${SUIT_HINTS[card.suit]}) · ${points} points" ${attrs || ''}>` +
    `<span class="r">${short}</span><span class="s">${escapeHtml(SUIT_NAMES[card.suit])}</span></${tag}>`;
}

function playedHtml(played, winner) {
  return `<div class="played${played.seat === winner ? ' winner' : ''}" data-testid="trick-card" data-seat="${played.seat}">` +
    `${cardHtml(played.card, 'div')}<span class="who">${escapeHtml(seatName(played.seat))}</span></div>`;
}

// innerHTML only when it changed, so hover and focus survive unrelated updates.
function setHtml(el, html) {
  if (el._html !== html) {
    el.innerHTML = html;
    el._html = html;
  }
}

function statusLine() {
  if (s.status !== 'connected') return [s.statusText, s.statusKind];
  if (s.unavailable) return ['reconnecting… (the table is restarting)', 'warn'];
  const v = s.view;
  if (!v) return ['connected, waiting for the table…', ''];
  if (v.phase === 'waiting') {
    const free = v.seats.filter((x) => !x.taken).length;
    return [`waiting for ${free} more player${free === 1 ? '' : 's'} — share the join link`, ''];
  }
  if (v.phase === 'match_over') return ['the match is over', ''];
  if (s.pending) return ['sending…', ''];
  if (myTurn()) {
    const what = { auction: 'bid or pass', calling: 'call the partner card', playing: 'play a card' }[v.phase] || 'act';
    return [`your turn: ${what}`, 'warn'];
  }
  return [v.turn != null ? `waiting for ${seatName(v.turn)}` : PHASES[v.phase] || v.phase, ''];
}

function render() {
  const [text, kind] = statusLine();
  ui.status.textContent = text;
  ui.status.className = kind;
  ui.lobby.hidden = !!s.gameId || s.status === 'auth';
  ui.share.hidden = !s.gameId;
  ui.table.hidden = !s.view;
  if (s.gameId) {
    ui.tableId.hidden = false;
    ui.tableId.textContent = `table ${s.gameId}`;
    ui.tableId.dataset.gameId = s.gameId;
    ui.role.hidden = false;
    ui.role.textContent = s.role === 'observer' ? 'watching' : `seat ${s.seat + 1}`;
  }
  const v = s.view;
  if (!v) return;

  ui.phase.textContent = PHASES[v.phase] || v.phase;
  ui.turn.textContent = v.turn != null ? seatName(v.turn) : '—';
  ui.handNumber.textContent = v.hand_number || '—';
  renderContract(v);
  renderSeats(v);
  setHtml(ui.trick, v.trick.length ? v.trick.map((p) => playedHtml(p)).join('') : '<span class="empty">no card on the table</span>');
  const last = v.last_trick;
  setHtml(ui.lastTrick, last
    ? last.cards.map((p) => playedHtml(p, last.winner)).join('') +
      `<span class="empty" data-testid="last-trick-winner">${escapeHtml(seatName(last.winner))} took ${last.points} points</span>`
    : '<span class="empty">none yet</span>');
  renderControls(v);
  ui.error.textContent = s.error ? `${s.error.code}: ${s.error.message || ''}` : '';
  renderHand(v);
  renderScores(v);
  renderLastHand(v);
  setHtml(ui.log, s.log.map((line) => `<li>${escapeHtml(line)}</li>`).join(''));
  ui.log.scrollTop = ui.log.scrollHeight;
}

function renderContract(v) {
  const parts = [];
  if (v.caller != null && v.highest_bid) {
    parts.push(`Caller: <b>${escapeHtml(seatName(v.caller))}</b> with ${escapeHtml(bidName(v.highest_bid.bid))} (target ${v.target})`);
  }
  if (v.called_card) parts.push(`Partner card: <b data-testid="called-card">${escapeHtml(cardName(v.called_card))}</b>`);
  if (v.trump) parts.push(`Trump: <b>${escapeHtml(SUIT_NAMES[v.trump])}</b>`);
  if (v.partner != null) parts.push(`Partner: <b>${escapeHtml(seatName(v.partner))}</b>`);
  else if (v.you_are_partner) parts.push('<b>You hold the called card: you are the secret partner</b>');
  setHtml(ui.contract, parts.join(' · '));
}

function renderSeats(v) {
  let html = '';
  for (let i = 0; i < 5; i++) {
    const info = v.seats[i] || { taken: false };
    const tags = [];
    if (v.phase !== 'waiting' && v.dealer === i) tags.push('dealer');
    if (v.caller === i) tags.push('caller');
    if (v.partner === i && v.partner !== v.caller) tags.push('partner');
    if (v.phase === 'auction') {
      if (v.passed[i]) tags.push('passed');
      else if (v.highest_bid && v.highest_bid.seat === i) tags.push(`bid ${bidName(v.highest_bid.bid)}`);
    }
    const classes = ['seat'];
    if (v.turn === i) classes.push('turn');
    if (s.seat === i && s.role === 'player') classes.push('me');
    const away = info.taken && info.connected === false;
    html += `<div class="${classes.join(' ')}" data-testid="seat-${i}">` +
      `<div class="name">${info.taken ? `<span class="dot${away ? ' away' : ''}" title="${away ? 'away' : 'here'}"></span>` : ''}` +
      `${info.taken ? escapeHtml(seatName(i)) : '<span class="empty">empty seat</span>'}</div>` +
      `<div class="tags">${escapeHtml(tags.join(' · '))}</div>` +
      `<dl><dt>cards</dt><dd data-testid="seat-${i}-cards">${v.hand_sizes[i]}</dd>` +
      `<dt>tricks</dt><dd data-testid="seat-${i}-tricks">${v.tricks_won[i]}</dd>` +
      `<dt>points</dt><dd data-testid="seat-${i}-points">${v.points_taken[i]}</dd></dl></div>`;
  }
  setHtml(ui.seats, html);
}

function renderControls(v) {
  const mine = myTurn() && s.connected && !s.unavailable;
  const busy = !!s.pending;
  const auction = mine && v.phase === 'auction';
  const calling = mine && v.phase === 'calling';
  ui.controls.hidden = !(auction || calling);
  ui.auction.hidden = !auction;
  ui.calling.hidden = !calling;
  if (auction) {
    const floor = highestLevel(v);
    for (const button of ui.bidRanks.querySelectorAll('button')) {
      button.disabled = busy || bidLevel({ rank: Number(button.dataset.rank) }) <= floor;
    }
    const minPoints = Math.max(MIN_TARGET, floor + 53);
    ui.bidPoints.min = String(minPoints);
    if (Number(ui.bidPoints.value) < minPoints) ui.bidPoints.value = String(minPoints);
    const canRaise = minPoints <= MAX_TARGET;
    ui.bidPoints.disabled = busy || !canRaise;
    ui.bidTwo.querySelector('button').disabled = busy || !canRaise;
    ui.bidPass.disabled = busy;
  }
  if (calling) {
    const rank = v.highest_bid ? v.highest_bid.bid.rank : null;
    ui.callRank.textContent = rank ? rankName(rank) : '?';
    ui.callRank.dataset.rank = rank || '';
    ui.callRank.disabled = busy || s.rankCalled || !rank;
    for (const button of ui.callSuits.querySelectorAll('button')) {
      button.disabled = busy || !s.rankCalled;
      button.textContent = rank ? `${rankName(rank)} of ${SUIT_NAMES[button.dataset.suit]}` : SUIT_NAMES[button.dataset.suit];
    }
  }
}

function renderHand(v) {
  if (s.role !== 'player') return;
  const hand = v.hand || [];
  ui.handBox.hidden = !hand.length && v.phase === 'waiting';
  const canPlay = myTurn() && v.phase === 'playing' && !s.pending && s.connected && !s.unavailable;
  const legal = canPlay ? playable(v) : [];
  setHtml(ui.hand, hand.length
    ? hand.map((c) => cardHtml(c, 'button', `type="button" data-testid="hand-card"${legal.some((l) => sameCard(l, c)) ? '' : ' disabled'}`)).join('')
    : '<span class="empty">no cards</span>');
}

function renderScores(v) {
  let html = '<table><tr><th>seat</th><th class="n">points</th></tr>';
  for (let i = 0; i < 5; i++) {
    const star = v.winners.includes(i) ? ' ★' : '';
    html += `<tr class="${s.seat === i && s.role === 'player' ? 'me' : ''}"><td>${escapeHtml(seatName(i))}${star}</td>` +
      `<td class="n" data-testid="score-${i}">${v.scores[i]}</td></tr>`;
  }
  setHtml(ui.scores, `${html}</table>`);
}

function renderLastHand(v) {
  const r = v.last_hand;
  ui.lastHand.hidden = !r;
  if (!r) return;
  const tricks = s.lastHandTricks && s.lastHandTricks.hand_number === r.hand_number ? s.lastHandTricks : null;
  const partner = r.alone ? 'alone' : `with ${escapeHtml(seatName(r.partner))}`;
  let html = `<h2>Hand ${r.hand_number}</h2>` +
    `<p>${escapeHtml(seatName(r.caller))} bid ${escapeHtml(bidName(r.bid))} and called the ${escapeHtml(cardName(r.called_card))}, ${partner}.</p>` +
    `<p>Caller side <b data-testid="last-hand-caller-points">${r.caller_points}</b> · defenders ` +
    `<b data-testid="last-hand-defender-points">${r.defender_points}</b> (target ${r.target}): ` +
    `<span class="${r.caller_won ? 'won' : 'lost'}" data-testid="last-hand-outcome">${r.caller_won ? 'made it' : 'missed it'}</span>` +
    `${r.cappotto ? ' · cappotto!' : ''}</p>` +
    `<table><tr><th>seat</th>${tricks ? '<th class="n">tricks</th><th class="n">points</th>' : ''}<th class="n">±</th></tr>`;
  for (let i = 0; i < 5; i++) {
    const delta = r.match_points[i];
    html += `<tr><td>${escapeHtml(seatName(i))}</td>` +
      (tricks ? `<td class="n" data-testid="last-hand-tricks-${i}">${tricks.tricks_won[i]}</td><td class="n">${tricks.points_taken[i]}</td>` : '') +
      `<td class="n ${delta > 0 ? 'won' : 'lost'}" data-testid="last-hand-delta-${i}">${delta > 0 ? '+' : ''}${delta}</td></tr>`;
  }
  setHtml(ui.lastHand, `${html}</table>`);
}

// ---------------------------------------------------------------- controls

for (const rank of RANKS_BY_STRENGTH) {
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = rankName(rank);
  button.dataset.rank = String(rank);
  button.setAttribute('data-testid', `bid-rank-${rank}`);
  button.addEventListener('click', () => act('bid', { rank }));
  ui.bidRanks.append(button);
}

for (const suit of SUITS) {
  const button = document.createElement('button');
  button.type = 'button';
  button.dataset.suit = suit;
  button.setAttribute('data-testid', `call-suit-${suit}`);
  button.title = `${SUIT_NAMES[suit]} (${SUIT_HINTS[suit]}) become trump`;
  button.addEventListener('click', () => act('call-partner-suit', { suit }));
  ui.callSuits.append(button);
}

ui.bidTwo.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const points = Number(ui.bidPoints.value);
  if (!Number.isInteger(points) || points < Number(ui.bidPoints.min) || points > MAX_TARGET) {
    s.error = { code: 'invalid_bid', message: `the target must be ${ui.bidPoints.min} to ${MAX_TARGET}` };
    render();
    return;
  }
  act('bid', { rank: 2, points });
});
ui.bidPass.addEventListener('click', () => act('bid', { pass: true }));
ui.callRank.addEventListener('click', () => {
  const rank = Number(ui.callRank.dataset.rank);
  if (rank) act('call-partner-rank', { rank });
});
ui.hand.addEventListener('click', (ev) => {
  const button = ev.target.closest('button[data-card]');
  if (!button || button.disabled) return;
  act('play', { card: { suit: button.dataset.suit, rank: Number(button.dataset.rank) } });
});

ui.create.addEventListener('click', createTable);
ui.joinForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const code = tableCode(ui.joinCode.value);
  if (code) location.search = `?join=${encodeURIComponent(code)}`;
});
ui.watch.addEventListener('click', () => {
  const code = tableCode(ui.joinCode.value);
  if (code) location.search = `?watch=${encodeURIComponent(code)}`;
});
ui.reconnect.addEventListener('click', () => {
  reconnectAttempt = 0;
  connect();
});
for (const button of document.querySelectorAll('[data-copy]')) {
  button.addEventListener('click', async () => {
    const link = $(button.dataset.copy).href;
    try {
      await navigator.clipboard.writeText(link);
      button.textContent = 'Copied';
    } catch (_) {
      window.prompt('Copy this link', link);
    }
  });
}

// ---------------------------------------------------------------- test hook

window.tables = {
  state: () => ({
    status: s.status,
    statusText: ui.status.textContent,
    role: s.role,
    seat: s.seat,
    gameId: s.gameId,
    connected: s.connected,
    joins: s.joins,
    unavailable: s.unavailable,
    pending: s.pending ? s.pending.message_type : null,
    rankCalled: s.rankCalled,
    error: s.error,
    view: s.view ? JSON.parse(JSON.stringify(s.view)) : null,
    log: s.log.slice(-10),
  }),
  // Drops the socket as a network failure would, to exercise reconnecting.
  drop: () => { if (ws) ws.close(4000, 'test drop'); },
  // Asks for a fresh snapshot, as the page does after a `desync`.
  sync: requestSync,
};

// ---------------------------------------------------------------- start

const params = new URLSearchParams(location.search);
const join = tableCode(params.get('join'));
const watch = tableCode(params.get('watch'));
if (watch) {
  watchTable(watch);
} else if (join) {
  joinTable(join);
} else {
  setStatus('auth', 'signing in…');
  signIn().then(
    () => setStatus('idle', `signed in as ${(s.guest && s.guest.display_name) || 'a guest'} — create a table, or join one`),
    (err) => fail(err.code || 'client_error', err.message),
  );
}
