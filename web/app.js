// Strata demo page: publish the camera over WHIP, watch streams over WHEP, show live
// stats. Plain browser JS, no build step. Tests drive it through window.strataDemo and the
// data-state attributes on #publish, #watch and each .player.
'use strict';

const ICE_GATHER_CAP_MS = 1000;
const WHEP_MAX_ATTEMPTS = 10;
const STATS_INTERVAL_MS = 1000;
const STREAMS_INTERVAL_MS = 3000;
const LAYER_CHOICES = ['auto', 'q', 'h', 'f'];   // auto: no cap, the server's estimate decides
const DEFAULT_RIDS = ['q', 'h', 'f'];            // viewer_layers index 0 = lowest
const SIMULCAST_ENCODINGS = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let publisher = null;           // { pc, stream, location, name, stats, prev }
const players = new Map();      // name -> { pc, location, element, stats, prev }

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

function streamName(name) {
  const value = (name ?? $('stream-name').value).trim();
  if (!value) throw new Error('enter a stream name');
  return value;
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

async function postOffer(url, sdp) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/sdp' },
    body: sdp,
  });
  if (!response.ok) throw await responseError(response);
  const location = response.headers.get('Location');
  return {
    answer: await response.text(),
    location: location ? new URL(location, response.url || window.location.href).href : null,
  };
}

async function negotiate(pc, url) {
  await pc.setLocalDescription(await pc.createOffer());
  await iceGatheringDone(pc, ICE_GATHER_CAP_MS);
  const { answer, location } = await postOffer(url, pc.localDescription.sdp);
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  return location;
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

// ---------- publish ----------

async function openCamera() {
  const video = { width: { ideal: 1280 }, height: { ideal: 720 } };
  try {
    return await navigator.mediaDevices.getUserMedia({ video, audio: true });
  } catch (error) {
    if (error.name !== 'NotFoundError') throw error;
    return navigator.mediaDevices.getUserMedia({ video });  // no microphone: video only
  }
}

async function publish(name) {
  const section = $('publish');
  showError('publish-error', '');
  try {
    name = streamName(name);
    await stopPublish();
    setState(section, 'connecting');
    const stream = await openCamera();
    const pc = new RTCPeerConnection();
    publisher = { pc, stream, name, location: null, stats: {}, prev: null };
    $('publish-video').srcObject = stream;
    for (const track of stream.getTracks()) {
      const init = { direction: 'sendonly', streams: [stream] };
      if (track.kind === 'video' && $('simulcast').checked) init.sendEncodings = SIMULCAST_ENCODINGS;
      pc.addTransceiver(track, init);
    }
    watchConnection(pc, (error) => failPublish(error));
    publisher.location = await negotiate(pc, `/whip/${encodeURIComponent(name)}`);
    setState(section, 'publishing');
    $('publish-start').disabled = true;
    $('publish-stop').disabled = false;
    refreshStreams();
  } catch (error) {
    failPublish(error);
  }
  return section.dataset.state;
}

function failPublish(error) {
  showError('publish-error', error.message || String(error));
  teardownPublisher();
  setState($('publish'), 'error');
}

function teardownPublisher() {
  if (!publisher) return;
  deleteSession(publisher.location);
  publisher.pc.close();
  publisher.stream.getTracks().forEach((track) => track.stop());
  publisher = null;
  $('publish-video').srcObject = null;
  $('publish-stats').textContent = '';
  $('publish-start').disabled = false;
  $('publish-stop').disabled = true;
}

async function stopPublish() {
  teardownPublisher();
  setState($('publish'), 'idle');
}

// ---------- watch ----------

function createPlayerElement(name) {
  const element = document.createElement('div');
  element.className = 'player';
  element.dataset.stream = name;
  element.innerHTML = `
    <header><h3></h3><span class="state"></span><button class="small secondary">Stop</button></header>
    <label class="inline layer-control">Layer
      <select class="layer-select">${LAYER_CHOICES.map((l) => `<option value="${l}">${l}</option>`).join('')}</select>
    </label>
    <video autoplay playsinline muted></video>
    <pre class="stats"></pre>
    <pre class="stats layer-info"></pre>`;
  element.querySelector('h3').textContent = name;
  element.querySelector('button').addEventListener('click', () => stopWatch(name));
  const select = element.querySelector('.layer-select');
  select.value = $('layer').value;
  select.addEventListener('change', () => setLayer(name, select.value));
  $('players').prepend(element);
  return element;
}

function updateWatchState() {
  const states = [...players.values()].map((p) => p.element.dataset.state);
  const section = $('watch');
  if (states.includes('playing')) setState(section, 'playing');
  else if (states.includes('connecting')) setState(section, 'connecting');
  else if (section.dataset.state !== 'error') setState(section, 'idle');
}

// POSTs the offer, waiting out 409 (stream not live yet / busy) as Retry-After says.
async function negotiateWithRetry(pc, url, player) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await negotiate(pc, url);
    } catch (error) {
      if (error.status !== 409 || attempt >= WHEP_MAX_ATTEMPTS || players.get(player.name) !== player) {
        throw error;
      }
      showError('watch-error', `${error.message} — retrying in ${error.retryAfter}s`);
      await sleep(Math.min(error.retryAfter, 10) * 1000);
    }
  }
}

async function watch(name) {
  const section = $('watch');
  showError('watch-error', '');
  let player = null;
  try {
    name = streamName(name);
    stopWatch(name);
    const pc = new RTCPeerConnection();
    player = { name, pc, location: null, element: createPlayerElement(name), stats: {}, prev: null, layer: null };
    players.set(name, player);
    setState(player.element, 'connecting');
    updateWatchState();
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const remote = new MediaStream();
    const video = player.element.querySelector('video');
    pc.addEventListener('track', (event) => {
      remote.addTrack(event.track);
      video.srcObject = remote;
    });
    watchConnection(pc, (error) => failPlayer(player, error));
    const layer = $('layer').value;
    const query = layer === 'auto' ? '' : `?layer=${encodeURIComponent(layer)}`;
    const url = `/whep/${encodeURIComponent(name)}${query}`;
    player.location = await negotiateWithRetry(pc, url, player);
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
  showError('watch-error', `${player.name}: ${error.message || error}`);
  closePlayer(player);
  setState(player.element, 'error');
  setState($('watch'), 'error');
}

function closePlayer(player) {
  deleteSession(player.location);
  player.location = null;
  player.pc.close();
  if (players.get(player.name) === player) players.delete(player.name);
}

function stopWatch(name) {
  const player = players.get(name);
  if (!player) return;
  closePlayer(player);
  player.element.remove();
  updateWatchState();
}

// ---------- layer choice ----------

// POST {session}/layer: the highest layer this viewer may get ("auto" = no cap). Returns the status.
async function setLayer(name, layer) {
  const player = players.get(name);
  if (!player || !player.location) throw new Error(`not watching ${name}`);
  const select = player.element.querySelector('.layer-select');
  select.value = layer;
  const response = await fetch(`${player.location}/layer`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ layer }),
  });
  if (!response.ok) {
    const error = await responseError(response);
    showError('watch-error', `${name}: layer ${layer}: ${error.message}`);
  } else {
    showError('watch-error', '');
    player.element.dataset.requestedLayer = layer;
  }
  return response.status;
}

function sessionId(location) {
  return location ? new URL(location).pathname.split('/').pop() : null;
}

// The server's view of each player (GET /api/v1/streams -> viewer_layers): current/target layer,
// the downlink estimate, the cap. Fields are optional: an older server has none of them.
async function pollLayers() {
  if (players.size === 0) return;
  let list = [];
  try {
    const response = await fetch('/api/v1/streams', { headers: { Accept: 'application/json' } });
    if (!response.ok) return;
    const data = await response.json();
    list = Array.isArray(data) ? data : data.streams ?? [];
  } catch (_) { return; }
  for (const player of players.values()) {
    const stream = list.find((s) => s && s.name === player.name);
    const id = sessionId(player.location);
    const entry = stream?.viewer_layers?.find((v) => v.session === id) ?? null;
    const rids = stream?.rids ?? DEFAULT_RIDS;
    player.layer = entry && {
      current: rids[entry.current] ?? entry.current,
      target: rids[entry.target] ?? entry.target,
      max: entry.requested >= 0 ? rids[entry.requested] ?? entry.requested : 'auto',
      temporal: entry.temporal,
      estimateBps: entry.estimate_bps ?? null,
      switches: entry.switches ?? 0,
      probes: entry.probes ?? 0,
    };
    if (player.layer) player.element.dataset.layerCurrent = player.layer.current;
    player.element.querySelector('.layer-info').textContent = formatLayer(player);
  }
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

// Sums RTP stats of one direction; for video keeps the largest layer's frame stats.
function summarize(report, prev, now) {
  let bytes = 0, packetsLost = 0, best = null, framesDecoded = 0;
  report.forEach((s) => {
    if (s.type === 'outbound-rtp' || s.type === 'inbound-rtp') {
      bytes += s.bytesSent ?? s.bytesReceived ?? 0;
      if (s.type === 'inbound-rtp') packetsLost += s.packetsLost ?? 0;
      if (s.kind === 'video') {
        framesDecoded += s.framesDecoded ?? 0;
        if (!best || (s.frameWidth ?? 0) > (best.frameWidth ?? 0)) best = s;
      }
    } else if (s.type === 'remote-inbound-rtp') {
      packetsLost += s.packetsLost ?? 0;  // losses the receiver reports for what we send
    }
  });
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

async function sampleStats(entry, label, target) {
  if (!entry || entry.pc.connectionState === 'closed') return;
  const report = await entry.pc.getStats();
  const { stats, prev } = summarize(report, entry.prev, performance.now());
  entry.stats = stats;
  entry.prev = prev;
  target.textContent = formatStats(label, stats);
}

async function pollStats() {
  const jobs = [];
  if (publisher) jobs.push(sampleStats(publisher, 'out', $('publish-stats')));
  for (const player of players.values()) {
    jobs.push(sampleStats(player, 'in', player.element.querySelector('.stats')));
  }
  jobs.push(pollLayers());
  await Promise.allSettled(jobs);
}

function stats() {
  const snapshot = { publish: publisher ? { ...publisher.stats } : null, players: {} };
  for (const [name, player] of players) snapshot.players[name] = { ...player.stats, layer: player.layer && { ...player.layer } };
  return snapshot;
}

// ---------- live streams ----------

// Accepts {"streams":[{"name":..}]}, a bare array of names or objects, or a name-keyed map.
function streamNames(data) {
  let list = data;
  if (data && !Array.isArray(data)) list = data.streams ?? data.items ?? data;
  if (list && !Array.isArray(list) && typeof list === 'object') list = Object.keys(list);
  if (!Array.isArray(list)) return [];
  return list
    .map((item) => (typeof item === 'string' ? item : item?.name ?? item?.stream ?? item?.id))
    .filter((name) => typeof name === 'string' && name.length > 0);
}

function renderStreams(names) {
  const list = $('stream-list');
  list.replaceChildren();
  for (const name of names) {
    const item = document.createElement('li');
    const label = document.createElement('span');
    label.textContent = name;
    const button = document.createElement('button');
    button.className = 'small';
    button.textContent = 'Watch';
    button.addEventListener('click', () => watch(name));
    item.append(label, button);
    list.append(item);
  }
  $('streams-status').textContent = names.length ? '' : 'No live streams.';
}

async function refreshStreams() {
  try {
    const response = await fetch('/api/v1/streams', { headers: { Accept: 'application/json' } });
    if (!response.ok) throw await responseError(response);
    renderStreams(streamNames(await response.json()));
  } catch (error) {
    $('streams-status').textContent = `Stream list unavailable (${error.message}).`;
  }
}

// ---------- wiring ----------

function init() {
  const params = new URLSearchParams(window.location.search);
  if (params.get('stream')) $('stream-name').value = params.get('stream');
  $('publish-start').addEventListener('click', () => publish());
  $('publish-stop').addEventListener('click', () => stopPublish());
  $('watch-start').addEventListener('click', () => watch());
  $('streams-refresh').addEventListener('click', () => refreshStreams());
  window.addEventListener('pagehide', () => {
    teardownPublisher();
    for (const name of [...players.keys()]) stopWatch(name);
  });
  setInterval(pollStats, STATS_INTERVAL_MS);
  setInterval(refreshStreams, STREAMS_INTERVAL_MS);
  refreshStreams();
}

window.strataDemo = { publish, watch, stats, stopPublish, stopWatch, refreshStreams, setLayer };
init();
