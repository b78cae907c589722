// Strata demo page. Live mode: go live as a host (WHIP), join a live as a guest (publish, and
// watch the other hosts), watch a live's hosts in tiles (WHEP, one slot per tile, labelled from
// the session's event stream). Call mode (?mode=call): an N:N call, where every participant
// publishes and watches everyone but themselves through N-1 slots.
// Plain browser JS, no build step. The page talks to its own origin, or to ?server=<url> (the
// server allows CORS). Tests drive it through window.strataDemo and data attributes:
// data-state on #publish, #watch and each .player; data-slot, data-mid, data-host, data-state
// and data-frames on each .tile.
'use strict';

const ICE_GATHER_CAP_MS = 1000;
const WHEP_MAX_ATTEMPTS = 10;
const STATS_INTERVAL_MS = 1000;
const LIVES_INTERVAL_MS = 3000;
const MAX_AUTO_SLOTS = 4;                        // "auto": one slot per host, at most this many
const EVENTS_REL = 'urn:ietf:params:whep:ext:core:server-sent-events';
const HOST_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const LAYER_CHOICES = ['auto', 'q', 'h', 'f'];   // auto: no cap, the server's estimate decides
const DEFAULT_RIDS = ['q', 'h', 'f'];            // viewer_layers index 0 = lowest
const SIMULCAST_ENCODINGS = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const params = new URLSearchParams(window.location.search);
const MODE = params.get('mode') === 'call' ? 'call' : 'live';
const SERVER = (() => {
  try { return new URL(params.get('server') || window.location.href).origin; } catch { return window.location.origin; }
})();
const api = (path) => SERVER + path;

let publisher = null;        // { pc, stream, live, host, location, events, stats, prev }
let joined = null;           // { live, host, key }: this page is a guest / call participant
const players = new Map();   // key (live, or live?host=x, live?exclude=x) -> player, see watch()

// ---------- helpers ----------

function setState(element, state) {
  element.dataset.state = state;
  const badge = element.querySelector('.state');
  if (badge) badge.textContent = state;
}

function showError(elementId, message) {
  const box = $(elementId);
  box.textContent = message || '';
  box.hidden = !message;
}

function liveName(name) {
  const value = (name ?? $('stream-name').value).trim();
  if (!value) throw new Error('enter a live name');
  return value;
}

function checkHost(name) {
  if (!HOST_NAME.test(name)) throw new Error(`bad host name "${name}": 1 to 64 letters, digits, _ or -`);
  return name;
}

// The name this page publishes under: the argument, else the "Your name" field, else a fresh
// guest name (written back into the field so the person sees it).
function myName(name) {
  let value = (name ?? $('host-name').value).trim();
  if (!value) {
    value = `guest-${Math.random().toString(36).slice(2, 6)}`;
    $('host-name').value = value;
  }
  return checkHost(value);
}

// Waits for ICE gathering to finish, but never longer than the cap: the server is
// reachable on host candidates, so a slow STUN/TURN candidate is not worth waiting for.
function iceGatheringDone(pc, capMs) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, capMs);
    function done() {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    }
    function check() { if (pc.iceGatheringState === 'complete') done(); }
    pc.addEventListener('icegatheringstatechange', check);
  });
}

// Turns a failed response into a readable Error; JSON bodies are {"error","detail"}.
async function responseError(response) {
  const text = await response.text().catch(() => '');
  let message = text;
  try {
    const body = JSON.parse(text);
    message = [body.error, body.detail].filter(Boolean).join(': ') || text;
  } catch (_) { /* not JSON: keep the text */ }
  const error = new Error(`HTTP ${response.status}${message ? ' — ' + message : ''}`);
  error.status = response.status;
  error.retryAfter = Number(response.headers.get('Retry-After')) || 1;
  return error;
}

// The target of the response's Link header with relation `rel`, as an absolute URL, or null.
function linkTarget(response, rel) {
  const header = response.headers.get('Link');
  if (!header) return null;
  for (const link of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(link);
    const rels = match && /;\s*rel\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(match[2]);
    if (rels && (rels[1] ?? rels[2]).split(/\s+/).includes(rel)) return new URL(match[1], response.url).href;
  }
  return null;
}

// Access control (README, "Access control"): a server with tokens on is used by opening this
// page as /?token=<JWT>; the token goes with every WHIP/WHEP POST and API read.
const ACCESS_TOKEN = new URLSearchParams(window.location.search).get('token');
function withToken(headers = {}) {
  return ACCESS_TOKEN ? { ...headers, Authorization: `Bearer ${ACCESS_TOKEN}` } : headers;
}

async function postOffer(url, sdp) {
  const response = await fetch(url, {
    method: 'POST',
    headers: withToken({ 'Content-Type': 'application/sdp' }),
    body: sdp,
  });
  if (!response.ok) throw await responseError(response);
  const location = response.headers.get('Location');
  return {
    answer: await response.text(),
    location: location ? new URL(location, response.url).href : null,
    events: linkTarget(response, EVENTS_REL),
  };
}

// Offer, POST, answer. Returns { location, events } (the session URL and its event stream URL).
async function negotiate(pc, url) {
  await pc.setLocalDescription(await pc.createOffer());
  await iceGatheringDone(pc, ICE_GATHER_CAP_MS);
  const { answer, location, events } = await postOffer(url, pc.localDescription.sdp);
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  return { location, events };
}

function deleteSession(location) {
  if (!location) return;
  fetch(location, { method: 'DELETE' }).catch(() => {});
}

function watchConnection(pc, onFailed) {
  pc.addEventListener('connectionstatechange', () => {
    if (pc.connectionState === 'failed') onFailed(new Error('ICE/DTLS connection failed'));
  });
}

// GET on the session's event stream: onLive(data) for every `live` event.
function followEvents(url, onLive) {
  if (!url) return null;
  const source = new EventSource(url);
  source.addEventListener('live', (event) => {
    try { onLive(JSON.parse(event.data)); } catch (error) { console.warn('bad live event', event.data, error); }
  });
  return source;
}

// "show: A, B (connecting) · 12 watching · A speaking"
function liveSummary(data) {
  const hosts = (data.hosts ?? []).map((h) => (h.live ? h.name : `${h.name} (connecting)`)).join(', ');
  const speaker = data.speaker ? ` · ${data.speaker} speaking` : '';
  return `${data.live}: ${hosts || 'no host'} · ${data.viewers ?? 0} watching${speaker}`;
}

// ---------- publish ----------

// A call shows everyone in small tiles: 640x360 is plenty and spares every participant's CPU.
async function openCamera() {
  const video = MODE === 'call' ? { width: { ideal: 640 }, height: { ideal: 360 } } : { width: { ideal: 1280 }, height: { ideal: 720 } };
  try {
    return await navigator.mediaDevices.getUserMedia({ video, audio: true });
  } catch (error) {
    if (error.name !== 'NotFoundError') throw error;
    return navigator.mediaDevices.getUserMedia({ video });  // no microphone: video only
  }
}

// Publishes the camera into `live` as host `opts.host` (no host: the server's default, "host");
// opts.events false: no event stream for this session.
async function publish(live, opts = {}) {
  const section = $('publish');
  showError('publish-error', '');
  try {
    live = liveName(live);
    const host = opts.host ? checkHost(opts.host) : null;
    $('stream-name').value = live;
    if (host) $('host-name').value = host;
    stopPublish();
    setState(section, 'connecting');
    const stream = await openCamera();
    const pc = new RTCPeerConnection();
    const entry = { pc, stream, live, host, location: null, events: null, stats: {}, prev: null };
    publisher = entry;
    $('publish-video').srcObject = stream;
    for (const track of stream.getTracks()) {
      const init = { direction: 'sendonly', streams: [stream] };
      if (track.kind === 'video' && $('simulcast').checked) init.sendEncodings = SIMULCAST_ENCODINGS;
      pc.addTransceiver(track, init);
    }
    watchConnection(pc, (error) => { if (publisher === entry) failPublish(error); });
    const query = host ? `?host=${encodeURIComponent(host)}` : '';
    const { location, events } = await negotiate(pc, api(`/whip/${encodeURIComponent(live)}${query}`));
    if (publisher !== entry) { deleteSession(location); return section.dataset.state; }  // stopped meanwhile
    entry.location = location;
    // A guest's viewer session brings the same events: one stream per page is enough (browsers
    // allow only a few open connections per server).
    if (opts.events !== false) entry.events = followEvents(events, showPublisherLive);
    section.dataset.live = live;
    section.dataset.host = host ?? 'host';
    setState(section, 'publishing');
    for (const id of ['publish-start', 'guest-start']) $(id).disabled = true;
    $('publish-stop').disabled = false;
    refreshLives();
  } catch (error) {
    failPublish(error);
  }
  return section.dataset.state;
}

function showPublisherLive(data) {
  $('publish-info').textContent = liveSummary(data);
  $('publish').dataset.viewers = data.viewers ?? 0;
}

function failPublish(error) {
  const message = error.message || String(error);
  showError('publish-error', message);
  if (MODE === 'call') showError('watch-error', `publish: ${message}`);  // the publish card is hidden
  teardownPublisher();
  setState($('publish'), 'error');
}

function teardownPublisher() {
  if (!publisher) return;
  deleteSession(publisher.location);
  publisher.events?.close();
  publisher.pc.close();
  publisher.stream.getTracks().forEach((track) => track.stop());
  publisher = null;
  $('publish-video').srcObject = null;
  $('publish-stats').textContent = '';
  $('publish-info').textContent = '';
  for (const id of ['publish-start', 'guest-start']) $(id).disabled = false;
  $('publish-stop').disabled = true;
}

function stopPublish() {
  teardownPublisher();
  setState($('publish'), 'idle');
}

// ---------- guest / call participant ----------

// Publishes as `host` and watches the live's other hosts (?exclude=host): a guest in a live, or
// a participant of a call (opts.slots: how many others to show; default from the page's controls).
async function join(live, host, opts = {}) {
  try {
    live = liveName(live);
    host = myName(host);
  } catch (error) {
    showError(MODE === 'call' ? 'watch-error' : 'publish-error', error.message);
    return 'error';
  }
  leave();
  const published = await publish(live, { host, events: false });
  if (published !== 'publishing') return published;
  joined = { live, host, key: playerKey(live, { exclude: host }) };
  $('call-join').disabled = true;
  $('call-leave').disabled = false;
  return watch(live, { exclude: host, slots: opts.slots ?? chosenSlots(), self: MODE === 'call' ? host : null });
}

function leave() {
  if (joined) stopWatch(joined.key);
  joined = null;
  stopPublish();
  $('call-join').disabled = false;
  $('call-leave').disabled = true;
}

// ---------- watch ----------

function playerKey(live, { host, exclude } = {}) {
  if (host) return `${live}?host=${host}`;
  if (exclude) return `${live}?exclude=${exclude}`;
  return live;
}

// The slot count the controls ask for: a number, or 'auto'.
function chosenSlots() {
  if (MODE === 'call') return Number($('call-size').value) - 1;
  const value = $('slots').value;
  return value === 'auto' ? 'auto' : Number(value);
}

// Host names of a live in join order ([] when it is not live). GET /api/v1/lives/{live}.
async function liveHosts(live) {
  try {
    const response = await fetch(api(`/api/v1/lives/${encodeURIComponent(live)}`), { headers: withToken({ Accept: 'application/json' }) });
    if (!response.ok) return [];
    return hostNames(await response.json());
  } catch (_) { return []; }
}

function hostNames(entry) {
  const hosts = Array.isArray(entry?.hosts) ? entry.hosts : entry?.live?.hosts ?? [];
  return hosts.map((h) => (typeof h === 'string' ? h : h?.name)).filter(Boolean);
}

// 'auto': one slot per host the viewer may see, 1 to MAX_AUTO_SLOTS.
async function slotCount(live, { host, exclude, slots }) {
  if (slots !== undefined && slots !== 'auto') {
    const n = Number(slots);
    if (!Number.isInteger(n) || n < 1) throw new Error(`bad slot count ${slots}`);
    return n;
  }
  if (host) return 1;
  const shown = (await liveHosts(live)).filter((name) => name !== exclude).length;
  return Math.min(MAX_AUTO_SLOTS, Math.max(1, shown));
}

function createPlayerElement(player) {
  const element = document.createElement('div');
  element.className = 'player';
  element.dataset.stream = player.live;
  element.dataset.key = player.key;
  element.innerHTML = `
    <header>
      <h3></h3><span class="state"></span><span class="muted viewers"></span>
      <label class="inline layer-control">Layer
        <select class="layer-select">${LAYER_CHOICES.map((l) => `<option value="${l}">${l}</option>`).join('')}</select>
      </label>
      <button class="small secondary sound">Sound on</button>
      <button class="small secondary stop">Stop</button>
    </header>
    <div class="tiles"></div>
    <pre class="stats"></pre>
    <pre class="stats layer-info"></pre>`;
  const filter = player.host ? ` — only ${player.host}` : player.exclude ? ` — all but ${player.exclude}` : '';
  element.querySelector('h3').textContent = `${player.live}${filter}`;
  element.querySelector('.stop').addEventListener('click', () => (player.key === joined?.key ? leave() : stopWatch(player.key)));
  const sound = element.querySelector('.sound');
  sound.addEventListener('click', () => {
    const muted = sound.textContent === 'Sound off';
    for (const video of element.querySelectorAll('.tile:not([data-self]) video')) video.muted = muted;
    sound.textContent = muted ? 'Sound on' : 'Sound off';
  });
  const select = element.querySelector('.layer-select');
  select.value = $('layer').value;
  select.addEventListener('change', () => setLayer(player.key, select.value));
  $('players').prepend(element);
  return element;
}

function createTile(label) {
  const element = document.createElement('figure');
  element.className = 'tile';
  element.innerHTML = `
    <video autoplay playsinline muted></video>
    <figcaption><span class="dot"></span><span class="name"></span></figcaption>
    <span class="tile-stats"></span>
    <div class="overlay"></div>`;
  element.querySelector('.name').textContent = label;
  return { element, video: element.querySelector('video') };
}

// One slot: a recvonly video m-line and its audio m-line, shown in one tile.
function addSlot(player, index) {
  const videoTx = player.pc.addTransceiver('video', { direction: 'recvonly' });
  const audioTx = player.pc.addTransceiver('audio', { direction: 'recvonly' });
  const tile = { index, videoTx, audioTx, mid: null, audioMid: null, host: null, live: false, stats: {}, prev: null, ...createTile('') };
  tile.element.dataset.slot = index;
  tile.video.srcObject = new MediaStream([videoTx.receiver.track, audioTx.receiver.track]);
  setTileHost(tile, null, false, 'connecting…');
  player.tiles.push(tile);
  player.element.querySelector('.tiles').append(tile.element);
}

// The caller's own camera as the first tile of a call (not a slot: no data-slot).
function addSelfTile(player, name) {
  const tile = createTile(name);
  tile.element.dataset.self = '';
  tile.element.dataset.host = name;
  tile.element.dataset.state = 'live';
  tile.video.srcObject = publisher?.stream ?? null;
  player.selfTile = tile;
  player.element.querySelector('.tiles').prepend(tile.element);
}

function layoutTiles(player) {
  const count = player.tiles.length + (player.selfTile ? 1 : 0);
  const columns = count <= 3 ? count : count === 4 ? 2 : 3;
  player.element.querySelector('.tiles').style.setProperty('--cols', columns);
}

// waiting (no host), connecting (a host whose media is not connected yet), live.
function setTileHost(tile, host, live, waitingText = 'waiting for a host') {
  tile.host = host;
  tile.live = live;
  tile.element.dataset.host = host ?? '';
  tile.element.dataset.state = !host ? 'waiting' : live ? 'live' : 'connecting';
  tile.element.querySelector('.name').textContent = host ?? `slot ${tile.index + 1}`;
  tile.element.querySelector('.overlay').textContent = host ? `${host} is connecting…` : waitingText;
}

function setSpeaking(element, speaking) {
  element.classList.toggle('speaking', speaking);
  if (speaking) element.dataset.speaking = '';
  else delete element.dataset.speaking;
}

// A `live` event on a viewer session: label the tiles, mark the speaker, show the viewer count.
function showPlayerLive(player, data) {
  player.info = data;
  (data.slots ?? []).forEach((slot, i) => {
    const tile = player.tiles.find((t) => t.mid !== null && t.mid === slot.mid) ?? player.tiles[i];
    if (tile) setTileHost(tile, slot.host ?? null, !!slot.live);
  });
  for (const tile of player.tiles) setSpeaking(tile.element, !!tile.host && tile.host === data.speaker);
  if (player.selfTile) setSpeaking(player.selfTile.element, player.selfTile.element.dataset.host === data.speaker);
  player.element.dataset.viewers = data.viewers ?? 0;
  player.element.dataset.speaker = data.speaker ?? '';
  player.element.querySelector('.viewers').textContent = liveSummary(data);
  if (player.key === joined?.key && publisher) showPublisherLive(data);
}

function updateWatchState() {
  const states = [...players.values()].map((p) => p.element.dataset.state);
  const section = $('watch');
  if (states.includes('playing')) setState(section, 'playing');
  else if (states.includes('connecting')) setState(section, 'connecting');
  else if (section.dataset.state !== 'error') setState(section, 'idle');
}

// POSTs the offer, waiting out 409 (live not started yet / busy) as Retry-After says.
async function negotiateWithRetry(pc, url, player) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await negotiate(pc, url);
    } catch (error) {
      if (error.status !== 409 || attempt >= WHEP_MAX_ATTEMPTS || players.get(player.key) !== player) {
        throw error;
      }
      showError('watch-error', `${error.message} — retrying in ${error.retryAfter}s`);
      await sleep(Math.min(error.retryAfter, 10) * 1000);
    }
  }
}

// Watches `live`: opts.slots tiles ('auto' or absent: one per host, from the controls), only
// opts.host, or every host but opts.exclude; opts.self names the caller's own tile (calls).
async function watch(live, opts = {}) {
  const section = $('watch');
  showError('watch-error', '');
  let player = null;
  try {
    live = liveName(live);
    const host = opts.host ? checkHost(opts.host) : null;
    const exclude = opts.exclude ? checkHost(opts.exclude) : null;
    const key = playerKey(live, { host, exclude });
    $('stream-name').value = live;
    stopWatch(key);
    const slots = await slotCount(live, { host, exclude, slots: opts.slots ?? chosenSlots() });
    const pc = new RTCPeerConnection();
    player = {
      key, live, host, exclude, pc, location: null, events: null, info: null,
      tiles: [], selfTile: null, element: null, stats: {}, prev: null, layer: null,
    };
    player.element = createPlayerElement(player);
    players.set(key, player);
    for (let i = 0; i < slots; i++) addSlot(player, i);
    if (opts.self) addSelfTile(player, opts.self);
    layoutTiles(player);
    setState(player.element, 'connecting');
    updateWatchState();
    watchConnection(pc, (error) => failPlayer(player, error));

    const query = new URLSearchParams();
    const layer = opts.layer ?? $('layer').value;
    if (layer !== 'auto') query.set('layer', layer);
    if (host) query.set('host', host);
    if (exclude) query.set('exclude', exclude);
    const search = String(query);
    const url = api(`/whep/${encodeURIComponent(live)}${search ? '?' + search : ''}`);
    const { location, events } = await negotiateWithRetry(pc, url, player);
    if (players.get(key) !== player) { deleteSession(location); return 'idle'; }  // stopped meanwhile
    player.location = location;
    for (const tile of player.tiles) {
      tile.mid = tile.videoTx.mid;
      tile.audioMid = tile.audioTx.mid;
      tile.element.dataset.mid = tile.mid ?? '';
    }
    player.events = followEvents(events, (data) => showPlayerLive(player, data));
    if (!events) player.tiles.forEach((tile) => setTileHost(tile, null, true));  // no event stream: unlabelled
    showError('watch-error', '');
    setState(player.element, 'playing');
    updateWatchState();
  } catch (error) {
    if (player) failPlayer(player, error);
    else { showError('watch-error', error.message); setState(section, 'error'); }
  }
  return player ? player.element.dataset.state : section.dataset.state;
}

function failPlayer(player, error) {
  showError('watch-error', `${player.key}: ${error.message || error}`);
  closePlayer(player);
  setState(player.element, 'error');
  setState($('watch'), 'error');
}

function closePlayer(player) {
  deleteSession(player.location);
  player.location = null;
  player.events?.close();
  player.pc.close();
  if (players.get(player.key) === player) players.delete(player.key);
}

function stopWatch(key) {
  const player = players.get(key);
  if (!player) return;
  closePlayer(player);
  player.element.remove();
  updateWatchState();
}

// ---------- layer choice ----------

// POST {session}/layer: the highest layer ("auto" = no cap) of one slot (mid: its video m-line)
// or of every slot (no mid). Returns the status.
async function setLayer(key, layer, mid) {
  const player = players.get(key);
  if (!player || !player.location) throw new Error(`not watching ${key}`);
  if (mid === undefined) player.element.querySelector('.layer-select').value = layer;
  const response = await fetch(`${player.location}/layer`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(mid === undefined ? { layer } : { mid, layer }),
  });
  if (!response.ok) {
    const error = await responseError(response);
    showError('watch-error', `${key}: layer ${layer}: ${error.message}`);
  } else {
    showError('watch-error', '');
    if (mid === undefined) player.element.dataset.requestedLayer = layer;
  }
  return response.status;
}

function sessionId(location) {
  return location ? new URL(location).pathname.split('/').pop() : null;
}

// The server's view of each player's layer choice (GET /api/v1/streams: one entry per host of
// a live, each listing viewer_layers per viewer slot showing that host): current/target layer, the
// downlink estimate, the cap. A player shows one line: the first entry naming its session.
async function pollLayers() {
  if (players.size === 0) return;
  let list = [];
  try {
    const response = await fetch(api('/api/v1/streams'), { headers: withToken({ Accept: 'application/json' }) });
    if (!response.ok) return;
    const data = await response.json();
    list = Array.isArray(data) ? data : data.streams ?? [];
  } catch (_) { return; }
  for (const player of players.values()) {
    const id = sessionId(player.location);
    const stream = list.find((s) => s && s.name === player.live && s.viewer_layers?.some((v) => v.session === id));
    const entry = stream?.viewer_layers.find((v) => v.session === id);
    player.layer = entry ? describeLayer(entry, stream) : null;
    if (player.layer) player.element.dataset.layerCurrent = player.layer.current;
    player.element.querySelector('.layer-info').textContent = formatLayer(player);
  }
}

// Layer indexes -> rids (lowest first) of the host's video track; -1: none chosen yet. A host
// without simulcast has one layer ("single").
function describeLayer(entry, stream) {
  const video = stream.tracks?.find((t) => t.kind === 'video');
  const rids = video ? video.rids ?? [] : DEFAULT_RIDS;
  const name = (i) => (!rids.length ? 'single' : i < 0 ? 'none' : rids[i] ?? String(i));
  return {
    current: name(entry.current),
    target: name(entry.target),
    max: entry.requested >= 0 ? name(entry.requested) : 'auto',
    temporal: entry.temporal,
    estimateBps: entry.estimate_bps ?? null,
    switches: entry.switches ?? 0,
    probes: entry.probes ?? 0,
  };
}

function formatBps(bps) {
  if (bps === null || bps === undefined) return '?';
  return bps >= 1e6 ? `${(bps / 1e6).toFixed(2)} Mbit/s` : `${Math.round(bps / 1000)} kbit/s`;
}

function formatLayer(player) {
  const l = player.layer;
  const size = `${player.stats.width ?? 0}x${player.stats.height ?? 0}`;
  if (!l) return `layer ?   ${size}`;
  const moving = l.target !== l.current ? ` → ${l.target}` : '';
  const temporal = l.temporal >= 0 ? `  T${l.temporal}` : '';
  return `layer ${l.current}${moving} (max ${l.max})${temporal}   estimate ${formatBps(l.estimateBps)}   ${size}`
    + `   switches ${l.switches}  probes ${l.probes}`;
}

// ---------- stats ----------

// Sums RTP stats (inbound-rtp, or outbound-rtp + remote-inbound-rtp); for video keeps the
// largest stream's frame size and rate.
function summarize(entries, prev, now) {
  let bytes = 0, packetsLost = 0, best = null, framesDecoded = 0;
  for (const s of entries) {
    if (s.type === 'remote-inbound-rtp') { packetsLost += s.packetsLost ?? 0; continue; }  // losses of what we send
    bytes += s.bytesSent ?? s.bytesReceived ?? 0;
    packetsLost += s.packetsLost ?? 0;
    if (s.kind === 'video') {
      framesDecoded += s.framesDecoded ?? 0;
      if (!best || (s.frameWidth ?? 0) > (best.frameWidth ?? 0)) best = s;
    }
  }
  const kbps = prev && now > prev.time ? Math.round(((bytes - prev.bytes) * 8) / (now - prev.time)) : 0;
  return {
    stats: {
      kbps: Math.max(0, kbps),
      width: best?.frameWidth ?? 0,
      height: best?.frameHeight ?? 0,
      fps: Math.round(best?.framesPerSecond ?? 0),
      packetsLost,
      bytes,
      framesDecoded,
    },
    prev: { bytes, time: now },
  };
}

function formatStats(label, s) {
  return `${label} ${s.kbps} kbit/s   ${s.width}x${s.height}   ${s.fps} fps   lost ${s.packetsLost}`;
}

async function samplePublisher(entry) {
  if (!entry || entry.pc.connectionState === 'closed') return;
  const report = await entry.pc.getStats();
  const rtp = [...report.values()].filter((s) => s.type === 'outbound-rtp' || s.type === 'remote-inbound-rtp');
  const { stats, prev } = summarize(rtp, entry.prev, performance.now());
  delete stats.framesDecoded;
  entry.stats = stats;
  entry.prev = prev;
  $('publish-stats').textContent = formatStats('out', stats);
}

// The whole session, then each tile (its receivers' inbound-rtp, by track id or mid).
async function samplePlayer(player) {
  if (player.pc.connectionState === 'closed') return;
  const report = await player.pc.getStats();
  const now = performance.now();
  const inbound = [...report.values()].filter((s) => s.type === 'inbound-rtp');
  ({ stats: player.stats, prev: player.prev } = summarize(inbound, player.prev, now));
  player.element.querySelector('.stats').textContent = formatStats('in', player.stats);
  for (const tile of player.tiles) {
    const tracks = [tile.videoTx.receiver.track.id, tile.audioTx.receiver.track.id];
    const mine = inbound.filter((s) => tracks.includes(s.trackIdentifier) || (s.mid && (s.mid === tile.mid || s.mid === tile.audioMid)));
    ({ stats: tile.stats, prev: tile.prev } = summarize(mine, tile.prev, now));
    tile.element.dataset.frames = tile.stats.framesDecoded;
    const s = tile.stats;
    tile.element.querySelector('.tile-stats').textContent = s.width ? `${s.width}x${s.height} · ${s.fps} fps · ${s.kbps} kbit/s` : '';
  }
}

async function pollStats() {
  const jobs = [samplePublisher(publisher), ...[...players.values()].map(samplePlayer), pollLayers()];
  await Promise.allSettled(jobs);
}

// What tests read: the publisher's outbound stats, each player's inbound stats with its layer,
// the live's viewer count and speaker, and each tile's (slot's) host and decoding.
function stats() {
  const snapshot = {
    publish: publisher ? { live: publisher.live, host: publisher.host ?? 'host', ...publisher.stats } : null,
    players: {},
  };
  for (const [key, player] of players) {
    snapshot.players[key] = {
      ...player.stats,
      layer: player.layer && { ...player.layer },
      live: player.live,
      viewers: player.info?.viewers ?? null,
      speaker: player.info?.speaker ?? null,
      tiles: player.tiles.map((tile) => ({
        slot: tile.index, mid: tile.mid, host: tile.host, live: tile.live, ...tile.stats,
        videoFrames: tile.video.getVideoPlaybackQuality?.().totalVideoFrames ?? 0,
      })),
    };
  }
  return snapshot;
}

// ---------- lives ----------

function liveList(data) {
  const list = Array.isArray(data) ? data : data?.lives ?? [];
  return list.filter((item) => item && typeof item === 'object').map((item) => ({
    name: item.name ?? item.live,
    hosts: hostNames(item),
    viewers: item.viewer_count ?? (Array.isArray(item.viewers) ? item.viewers.length : item.viewers ?? null),
  })).filter((live) => typeof live.name === 'string');
}

function renderLives(lives) {
  const list = $('stream-list');
  list.replaceChildren();
  for (const live of lives) {
    const item = document.createElement('li');
    const label = document.createElement('span');
    const hosts = document.createElement('span');
    hosts.className = 'hosts';
    hosts.textContent = ` ${live.hosts.join(', ')}${live.viewers === null ? '' : ` · ${live.viewers} watching`}`;
    label.append(live.name, hosts);
    const button = document.createElement('button');
    button.className = 'small';
    button.textContent = 'Watch';
    button.addEventListener('click', () => { $('stream-name').value = live.name; watch(live.name); });
    item.append(label, button);
    list.append(item);
  }
  $('streams-status').textContent = lives.length ? '' : 'No live right now.';
}

async function refreshLives() {
  if (MODE !== 'live') return;
  try {
    const response = await fetch(api('/api/v1/lives'), { headers: withToken({ Accept: 'application/json' }) });
    if (!response.ok) throw await responseError(response);
    renderLives(liveList(await response.json()));
  } catch (error) {
    $('streams-status').textContent = `List of lives unavailable (${error.message}).`;
  }
}

// ---------- wiring ----------

function init() {
  document.body.dataset.mode = MODE;
  for (const mode of ['live', 'call']) {
    const link = $(`mode-${mode}`);
    const query = new URLSearchParams(params);
    query.set('mode', mode);
    link.href = `?${query}`;
    link.classList.toggle('current', mode === MODE);
  }
  if (SERVER !== window.location.origin) $('server-label').textContent = `server ${SERVER}`;
  if (params.get('stream')) $('stream-name').value = params.get('stream');
  else if (MODE === 'call') $('stream-name').value = 'call';
  if (params.get('name')) $('host-name').value = params.get('name');

  $('publish-start').addEventListener('click', () => publish(undefined, { host: $('host-name').value.trim() || undefined }));
  $('guest-start').addEventListener('click', () => join());
  $('publish-stop').addEventListener('click', () => leave());
  $('watch-start').addEventListener('click', () => watch());
  $('call-join').addEventListener('click', () => join());
  $('call-leave').addEventListener('click', () => leave());
  $('streams-refresh').addEventListener('click', () => refreshLives());
  window.addEventListener('pagehide', () => {
    leave();
    for (const key of [...players.keys()]) stopWatch(key);
  });
  setInterval(pollStats, STATS_INTERVAL_MS);
  setInterval(refreshLives, LIVES_INTERVAL_MS);
  refreshLives();
}

window.strataDemo = {
  publish, watch, join, leave, stats, stopPublish, stopWatch, setLayer,
  refreshLives, refreshStreams: refreshLives, mode: MODE, server: SERVER,
};
init();
