// Helpers for the tests of lives with several hosts (README, "Lives with several hosts"):
// room_guest.test.mjs and room_bwe.test.mjs. They drive the in-page client (lib/page/client.js:
// watchSlots, slotStats, startMonitor/monitorSamples, openEvents/eventLog) from Node.
import assert from 'node:assert/strict';
import { sleep } from './procs.mjs';

export const SSE_REL = 'urn:ietf:params:whep:ext:core:server-sent-events';
const POLL_MS = 100;

// Evaluates window.strataClient[fn](...args) in the page.
export const call = (page, fn, ...args) => page.evaluate(([f, a]) => window.strataClient[f](...a), [fn, args]);

// The m-sections of an SDP: [{ kind, port, mid, direction, ssrcs (a=ssrc ids, distinct), ssrcGroups,
// extmaps ({ id: uri }), rtpmaps ([encoding names]) }].
export function sdpSections(sdp) {
  const out = [];
  let cur = null;
  for (const line of sdp.split(/\r?\n/)) {
    let m;
    if ((m = /^m=(\w+) (\d+) /.exec(line))) {
      cur = { kind: m[1], port: Number(m[2]), mid: null, direction: 'sendrecv', ssrcs: [], ssrcGroups: [], extmaps: {}, rtpmaps: [] };
      out.push(cur);
    } else if (!cur) {
      continue;
    } else if ((m = /^a=mid:(\S+)/.exec(line))) {
      cur.mid = m[1];
    } else if ((m = /^a=(sendrecv|sendonly|recvonly|inactive)\s*$/.exec(line))) {
      cur.direction = m[1];
    } else if ((m = /^a=ssrc:(\d+)/.exec(line))) {
      if (!cur.ssrcs.includes(Number(m[1]))) cur.ssrcs.push(Number(m[1]));
    } else if ((m = /^a=ssrc-group:(\S+) (.*)$/.exec(line))) {
      cur.ssrcGroups.push(`${m[1]} ${m[2].trim()}`);
    } else if ((m = /^a=extmap:(\d+)(?:\/\w+)? (\S+)/.exec(line))) {
      cur.extmaps[m[1]] = m[2];
    } else if ((m = /^a=rtpmap:\d+ ([^/]+)\//.exec(line))) {
      cur.rtpmaps.push(m[1]);
    }
  }
  return out;
}

// The contract's answer to a viewer with slots: every offered m-line accepted (port != 0) and
// `sendonly` with a fixed SSRC (a=ssrc), the mids those of the offer. Returns the sections.
export function checkSlotAnswer(offer, answer, who) {
  const want = sdpSections(offer);
  const got = sdpSections(answer);
  assert.equal(got.length, want.length, `${who}: the answer has one m-line per offered m-line (${want.length}); answer:\n${answer}`);
  for (const [i, w] of want.entries()) {
    const g = got[i];
    const where = `${who}: m-line ${i} (${w.kind}, mid ${w.mid})`;
    assert.equal(g.kind, w.kind, `${where}: kind`);
    assert.equal(g.mid, w.mid, `${where}: mid`);
    assert.notEqual(g.port, 0, `${where}: accepted (port not 0); answer:\n${answer}`);
    assert.equal(g.direction, 'sendonly', `${where}: sendonly`);
    assert.ok(g.ssrcs.length >= 1, `${where}: a fixed SSRC (a=ssrc) in the answer; answer:\n${answer}`);
  }
  return got;
}

// A WHIP/WHEP 201's Link header must name the events URL (rel and events="live").
export function checkLink(result, who) {
  assert.ok(result.link, `${who}: 201 carries a Link header readable by the page (cross-origin: Access-Control-Expose-Headers must list Link)`);
  assert.ok(result.link.includes(`rel="${SSE_REL}"`), `${who}: Link has rel="${SSE_REL}": ${result.link}`);
  assert.match(result.link, /events="live"/, `${who}: Link has events="live": ${result.link}`);
  assert.ok(result.eventsUrl, `${who}: events URL parsed from Link: ${result.link}`);
  const session = new URL(result.location).pathname;
  assert.equal(new URL(result.eventsUrl).pathname, `${session}/events`, `${who}: events URL is the session's /events`);
}

// Publishes host `host` on live `live` from `page` and waits until the page is connected and encodes
// video at width x height (simulcast: all three layers, the top one `width` wide). Returns publish()'s result.
export async function publishHost(page, serverUrl, live, host, opts = {}, { timeoutMs = 15000 } = {}) {
  const pub = await call(page, 'publish', serverUrl, `${live}?host=${encodeURIComponent(host)}`, opts);
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await call(page, 'stats', pub.id);
    const v = last.outbound.video;
    const ok = opts.simulcast
      ? (v.encodings ?? []).length >= 3 && v.encodings.every((e) => e.framesEncoded > 0) && v.frameWidth === (opts.width ?? 1280)
      : v.frameWidth === (opts.width ?? 1280) && v.frameHeight === (opts.height ?? 720) && v.framesEncoded > 0;
    if (last.connectionState === 'connected' && ok && last.outbound.audio.packetsSent > 0) break;
    if (Date.now() > deadline) {
      throw new Error(`host ${host}: not connected and encoding ${opts.width ?? 1280}x${opts.height ?? 720} after ${timeoutMs} ms: ${JSON.stringify(last)}`);
    }
    await sleep(POLL_MS);
  }
  pub.host = host;
  return pub;
}

// Opens an events reader for session `id` (see client.js openEvents) and checks the answer: 200,
// Content-Type text/event-stream.
export async function openEvents(page, id, opts = {}) {
  const r = await call(page, 'openEvents', id, opts);
  if (opts.via !== 'eventsource') {
    assert.equal(r.status, 200, `GET ${r.url} -> 200 (${r.error ?? ''})`);
    assert.match(r.contentType ?? '', /^text\/event-stream\b/, `GET ${r.url}: Content-Type text/event-stream (got ${r.contentType})`);
  }
  return r;
}

export const eventLog = (page, id, { name = 'fetch', from = 0 } = {}) => call(page, 'eventLog', id, { name, from });

// Waits for a `live` event of reader `name` (from index `from` on) whose JSON satisfies pred.
// Returns { event, index }; on timeout throws with every event seen since `from`.
export async function waitEvent(page, id, pred, { timeoutMs, name = 'fetch', from = 0, what }) {
  const deadline = Date.now() + timeoutMs;
  let log;
  for (;;) {
    log = await eventLog(page, id, { name, from });
    if (!log) throw new Error(`session ${id}: no events reader ${name}`);
    const i = log.events.findIndex((e) => e.type === 'live' && e.json && pred(e.json));
    if (i >= 0) return { event: log.events[i], index: from + i };
    if (Date.now() > deadline) break;
    await sleep(50);
  }
  throw new Error(`timeout after ${timeoutMs} ms waiting for an event: ${what}; reader ${name}: status ${log.status}, `
    + `error ${log.error}, closed ${log.closed}; events since #${from}: ${JSON.stringify(log.events.map((e) => ({ at: e.at, type: e.type, data: e.data })))}`);
}

// The latest `live` event's JSON of reader `name`, or null.
export async function lastLive(page, id, name = 'fetch') {
  const log = await eventLog(page, id, { name });
  const live = (log?.events ?? []).filter((e) => e.type === 'live' && e.json);
  return live.length ? live[live.length - 1].json : null;
}

// A short form of an event for reports: "hosts A*,B | slots 0:A,2:B | viewers 3 | speaker A"
// (* = live).
export function brief(ev) {
  if (!ev) return null;
  const hosts = (ev.hosts ?? []).map((h) => `${h.name}${h.live ? '*' : ''}`).join(',');
  const slots = (ev.slots ?? []).map((s) => `${s.mid}/${s.audio_mid}:${s.host ?? '-'}${s.live ? '*' : ''}`).join(',');
  return `hosts ${hosts} | slots ${slots} | viewers ${ev.viewers} | speaker ${ev.speaker}`;
}

export const slotStats = (page, id) => call(page, 'slotStats', id);

// Polls slotStats until every expected slot decodes: expect[i] = { width, height } (or null to skip
// slot i); "decodes" = that size and framesDecoded above the previous poll's. Returns the last stats.
export async function waitSlotsDecoding(page, id, expect, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  let prev = null;
  let last = null;
  const seen = expect.map(() => []);
  for (;;) {
    last = await slotStats(page, id);
    for (const [i, sl] of last.slots.entries()) {
      const size = `${sl.video.frameWidth}x${sl.video.frameHeight}`;
      if (seen[i] && seen[i][seen[i].length - 1] !== size) seen[i].push(size);
    }
    const ok = prev && expect.every((e, i) => {
      if (!e) return true;
      const v = last.slots[i].video;
      return v.frameWidth === e.width && v.frameHeight === e.height && v.framesDecoded > prev.slots[i].video.framesDecoded;
    });
    if (ok) return last;
    if (Date.now() > deadline) break;
    prev = last;
    await sleep(POLL_MS);
  }
  throw new Error(`timeout after ${timeoutMs} ms: ${what}; sizes seen per slot ${JSON.stringify(seen)}; last ${JSON.stringify(last)}`);
}

// Reads the rows an in-page monitor recorded since `state.next` (state = { next: 0, rows: [] } kept
// by the caller) and appends them to state.rows.
export async function pullMonitor(page, id, state) {
  const { next, rows } = await call(page, 'monitorSamples', id, state.next);
  state.next = next;
  state.rows.push(...rows);
  return state.rows;
}

// Over monitor rows: for slot i, the longest time (ms) between two increases of framesDecoded, and
// the windows of windowMs in which it did not increase at all (a freeze as a viewer sees it).
export function stallsOf(rows, i, windowMs) {
  let lastInc = rows.length ? rows[0].at : 0;
  let longest = 0;
  for (let k = 1; k < rows.length; k++) {
    if (rows[k].slots[i].fd > rows[k - 1].slots[i].fd) {
      longest = Math.max(longest, rows[k].at - lastInc);
      lastInc = rows[k].at;
    }
  }
  if (rows.length) longest = Math.max(longest, rows[rows.length - 1].at - lastInc);
  const frozen = [];
  let k0 = 0;
  for (let k = 0; k < rows.length; k++) {
    while (rows[k].at - rows[k0].at > windowMs) k0++;
    if (rows[k].at - rows[k0].at >= windowMs * 0.9 && rows[k].slots[i].fd === rows[k0].slots[i].fd) {
      frozen.push({ from: rows[k0].at, to: rows[k].at, fd: rows[k].slots[i].fd });
    }
  }
  return { longestMs: longest, frozenWindows: frozen };
}

// Frames per second and kbit/s of slot i (and of the whole connection) between monitor rows a and b.
export function rates(a, b, i) {
  const secs = (b.at - a.at) / 1000;
  return {
    fps: Math.round(((b.slots[i].fd - a.slots[i].fd) / secs) * 10) / 10,
    rxKbps: Math.round(((b.rx - a.rx) * 8) / secs / 1000),
  };
}

// GET /api/v1/lives/{live} (diagnostics: never throws).
export async function liveInfo(httpUrl, live) {
  try {
    const res = await fetch(new URL(`/api/v1/lives/${encodeURIComponent(live)}`, httpUrl), { signal: AbortSignal.timeout(2000) });
    const text = await res.text();
    try { return { status: res.status, body: JSON.parse(text) }; } catch { return { status: res.status, body: text.slice(0, 2000) }; }
  } catch (err) {
    return { error: err.message };
  }
}
