// Lives with several hosts, bad input (README, "Lives with several hosts"): raw HTTP against a
// `strata dev --max-hosts 2` whose live has two connected aiortc hosts A and B. Every refusal is
// its status and a JSON body {"error": <code>, "detail": <non-empty>}:
//   WHEP offer with 3 video m-lines (> --max-hosts)     -> 400 too-many-slots (2 m-lines: 201)
//   WHEP ?host=nosuch                                    -> 404 unknown-host
//   WHIP ?host=bad$name, 65 characters, empty            -> 400 bad-host-name
//   WHEP ?host=A&exclude=B                               -> 400 bad-filter
//   WHIP ?host=A while A is live                         -> 409 host-taken
//   WHIP ?host=C with A and B live (--max-hosts 2)       -> 409 too-many-hosts
//   GET /session/unknown/events                          -> 404 unknown-session
//   GET /api/v1/lives/nosuch                             -> 404 unknown-live
//   WHIP ?host=D offering only H.264 to a VP8 live       -> 409 codec-mismatch
//   a second plain WHIP (no ?host=, the host `host`)     -> 409 host-taken
// and none of them disturbs the live: /api/v1/lives/{live} still lists A and B, both hosts keep
// sending, a 201's events Link answers 200 text/event-stream with a `live` event at once, and once
// A has left (DELETE) a new host C finds the place free, and A's event stream ended as a complete
// chunked message.
// Offers come from aiortc (room_participant.py --offer-only) and tests/interop/fixtures.
// Usage: STRATA_BIN=build/.../strata node tests/interop/room_bad_input.test.mjs
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { interopTest, report } from './lib/harness.mjs';
import { request } from './lib/http_raw.mjs';
import { INTEROP_DIR } from './lib/paths.mjs';
import { jsonEvents, sleep, waitForEvent, withTimeout } from './lib/procs.mjs';

const LIVE = 'room-bad';
const SSE_REL = 'urn:ietf:params:whep:ext:core:server-sent-events';
const WHEP_ONE_SLOT = fs.readFileSync(path.join(INTEROP_DIR, 'fixtures', 'chromium-whep-offer.sdp'), 'utf8');

function sdpPost(url, body) {
  return request('POST', url, { headers: { 'Content-Type': 'application/sdp' }, body });
}

// The contract's error shape: exactly this status, a JSON body naming this code, a non-empty detail.
function assertError(res, status, code, what) {
  const body = res.text.slice(0, 300);
  assert.equal(res.status, status, `${what}: status ${res.status}, want ${status} ${code} (body ${body})`);
  assert.match(String(res.headers['content-type']), /application\/json/, `${what}: JSON content type (got ${res.headers['content-type']})`);
  assert.ok(res.json && typeof res.json === 'object', `${what}: JSON body (got ${body})`);
  assert.equal(res.json.error, code, `${what}: error code (body ${body})`);
  assert.ok(typeof res.json.detail === 'string' && res.json.detail.trim().length > 0, `${what}: non-empty detail (body ${body})`);
  report(what, `${res.status} ${JSON.stringify(res.json)}`);
}

// The offer with its video m-line cut down to one codec (and that codec's RTX).
function onlyVideoCodec(sdp, codec) {
  const [head, ...sections] = sdp.split(/\r\n(?=m=)/);
  return [head, ...sections.map((sec) => {
    if (!sec.startsWith('m=video')) return sec;
    const lines = sec.split('\r\n');
    const keep = new Set([...sec.matchAll(/^a=rtpmap:(\d+) ([^/]+)\//gm)].filter((m) => m[2].toUpperCase() === codec).map((m) => m[1]));
    for (const m of sec.matchAll(/^a=fmtp:(\d+) apt=(\d+)/gm)) if (keep.has(m[2])) keep.add(m[1]);
    const mline = lines[0].split(' ');
    lines[0] = [...mline.slice(0, 3), ...mline.slice(3).filter((pt) => keep.has(pt))].join(' ');
    return lines.filter((l) => { const m = /^a=(?:rtpmap|rtcp-fb|fmtp):(\d+)/.exec(l); return !m || keep.has(m[1]); }).join('\r\n');
  })].join('\r\n');
}

function videoMLines(sdp) { return (sdp.match(/^m=video /gm) ?? []).length; }

function sseLink(res) {
  const values = [].concat(res.headers.link ?? []).join(', ');
  for (const m of values.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+)*)/g)) {
    const rel = m[2].match(/;\s*rel\s*=\s*"?([^";]+)"?/);
    if (rel && rel[1].split(/\s+/).includes(SSE_REL)) return m[1];
  }
  return null;
}

// GET an event stream and resolve with its status, content type and first event (or the body of
// a refusal); the connection is closed afterwards.
function firstEvent(url, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const req = http.get(url, { headers: { Accept: 'text/event-stream' } });
    const timer = setTimeout(() => { req.destroy(); reject(new Error(`no event within ${timeoutMs} ms: ${url}`)); }, timeoutMs);
    req.on('error', (err) => { clearTimeout(timer); reject(err); });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        text += chunk;
        if (res.statusCode !== 200) return;
        const end = text.search(/\r?\n\r?\n/);
        const block = end >= 0 ? text.slice(0, end) : null;
        if (block === null) return;
        const lines = block.split(/\r?\n/).filter((l) => !l.startsWith(':'));
        if (!lines.length) { text = text.slice(end).replace(/^\r?\n\r?\n/, ''); return; }
        clearTimeout(timer);
        const name = lines.find((l) => l.startsWith('event:'))?.slice(6).trim();
        const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
        let json = null;
        try { json = JSON.parse(data); } catch { /* reported below */ }
        resolve({ status: res.statusCode, contentType: res.headers['content-type'], name, data, json, ms: Date.now() - t0 });
        req.destroy();
      });
      res.on('end', () => {
        clearTimeout(timer);
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, contentType: res.headers['content-type'], headers: res.headers, text, json, ms: Date.now() - t0 });
      });
    });
  });
}

// Opens an event stream on a raw socket; close() resolves with everything received until the
// server closed the connection (or timeoutMs passed: { closed: false }).
function rawEventStream(url) {
  const u = new URL(url);
  const sock = net.connect(Number(u.port), u.hostname);
  const chunks = [];
  let closed = false;
  sock.on('data', (c) => chunks.push(c));
  sock.on('error', () => {});
  const ended = new Promise((resolve) => sock.on('close', () => { closed = true; resolve(); }));
  sock.write(`GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nAccept: text/event-stream\r\n\r\n`);
  return {
    text: () => Buffer.concat(chunks).toString('latin1'),
    waitClosed: async (timeoutMs) => {
      await Promise.race([ended, new Promise((r) => setTimeout(r, timeoutMs))]);
      if (!closed) sock.destroy();
      return { closed, text: Buffer.concat(chunks).toString('latin1') };
    },
  };
}

async function offers(ctx, slots) {
  const proc = ctx.python('room_participant.py', ['http://127.0.0.1:9', LIVE, '--publish', 'X', '--slots', String(slots), '--offer-only'], `offers-${slots}`);
  const status = await withTimeout(proc.exited, 45000, 'offer generation');
  assert.equal(status.code, 0, `room_participant.py --offer-only exit ${JSON.stringify(status)}`);
  const events = jsonEvents(proc);
  return { whip: events.find((e) => e.event === 'publish_offer').sdp, whep: events.find((e) => e.event === 'watch_offer').sdp };
}

function host(ctx, server, name, size, color, live = LIVE) {
  return ctx.python('room_participant.py', [server.httpUrl, live, '--publish', name, '--size', size, '--color', color,
    '--wait-connected', '--fps', '15', '--duration', '150', '--progress', '1'], `host-${name || 'default'}`);
}

async function liveHosts(server, live) {
  const res = await request('GET', new URL(`/api/v1/lives/${live}`, server.httpUrl).href);
  assert.equal(res.status, 200, `GET /api/v1/lives/${live}: ${res.status} ${res.text.slice(0, 300)}`);
  assert.ok(Array.isArray(res.json?.hosts), `/api/v1/lives/${live} has hosts[] (${res.text.slice(0, 300)})`);
  return res.json.hosts.map((h) => h.name);
}

function framesSent(proc) {
  return jsonEvents(proc).filter((e) => e.event === 'progress').at(-1)?.pub?.frames_sent ?? 0;
}

interopTest('lives with several hosts: bad input gets the contract\'s errors', { timeoutMs: 180000 }, async (ctx) => {
  const server = await ctx.startServer({ extraArgs: ['--max-hosts', '2'] });
  const base = server.httpUrl;
  const whip = (query) => new URL(`/whip/${LIVE}${query}`, base).href;
  const whep = (query) => new URL(`/whep/${LIVE}${query}`, base).href;

  const [three, two] = await Promise.all([offers(ctx, 3), offers(ctx, 2)]);
  assert.equal(videoMLines(three.whep), 3, 'the 3-slot offer has 3 video m-lines');
  assert.equal(videoMLines(two.whep), 2, 'the 2-slot offer has 2 video m-lines');
  assert.equal(videoMLines(WHEP_ONE_SLOT), 1, 'the fixture WHEP offer has 1 video m-line');

  // Host names, on a live of their own so nothing else can be the reason.
  assertError(await sdpPost(new URL('/whip/room-bad-names?host=bad$name', base).href, three.whip), 400, 'bad-host-name', 'WHIP ?host=bad$name');
  assertError(await sdpPost(new URL('/whip/room-bad-names?host=bad%24name', base).href, three.whip), 400, 'bad-host-name', 'WHIP ?host=bad%24name');
  assertError(await sdpPost(new URL(`/whip/room-bad-names?host=${'x'.repeat(65)}`, base).href, three.whip), 400, 'bad-host-name', 'WHIP ?host= 65 characters');
  assertError(await sdpPost(new URL('/whip/room-bad-names?host=', base).href, three.whip), 400, 'bad-host-name', 'WHIP ?host= (empty)');

  // Two real hosts, A then B, connected.
  const a = host(ctx, server, 'A', '320x180', 'e02020');
  const connA = await waitForEvent(a, (e) => e.event === 'publish_connected' || e.event === 'error', 45000, 'host A connected');
  assert.equal(connA.connection, 'connected', `host A: ${JSON.stringify(connA)}`);
  const sessionA = jsonEvents(a).find((e) => e.event === 'publish_session');
  const b = host(ctx, server, 'B', '480x270', '2040e0');
  const connB = await waitForEvent(b, (e) => e.event === 'publish_connected' || e.event === 'error', 45000, 'host B connected');
  assert.equal(connB.connection, 'connected', `host B: ${JSON.stringify(connB)}`);
  assert.deepEqual(await liveHosts(server, LIVE), ['A', 'B'], 'the live lists A then B');

  // The events Link of a host's 201.
  const link = sessionA.link.join(', ');
  assert.ok(sessionA.events_url, `host A's 201 carries a Link with rel ${SSE_REL} (Link: ${link || 'none'})`);
  assert.match(link, /events="live"/, 'the Link says events="live"');
  const ev = await firstEvent(sessionA.events_url);
  report('host A events: first event', { status: ev.status, contentType: ev.contentType, ms: ev.ms, name: ev.name, data: ev.json ?? ev.data ?? ev.text });
  assert.equal(ev.status, 200, `GET ${sessionA.events_url}`);
  assert.match(String(ev.contentType), /^text\/event-stream/, 'events: text/event-stream');
  assert.equal(ev.name, 'live', 'the first event is `live`');
  assert.ok(ev.ms < 1000, `the first event comes at once (${ev.ms} ms)`);
  assert.equal(ev.json?.live, LIVE, 'event names the live');
  assert.deepEqual(ev.json?.hosts?.map((h) => h.name), ['A', 'B'], 'event hosts in join order');
  assert.deepEqual(ev.json?.slots, [], 'a host session has slots []');

  // Slots.
  assertError(await sdpPost(whep(''), three.whep), 400, 'too-many-slots', 'WHEP with 3 video m-lines, --max-hosts 2');
  const twoSlots = await sdpPost(whep(''), two.whep);
  assert.equal(twoSlots.status, 201, `WHEP with 2 video m-lines (= --max-hosts) -> 201 (got ${twoSlots.status} ${twoSlots.text.slice(0, 300)})`);
  assert.ok(sseLink(twoSlots), `the WHEP 201 carries the events Link (Link: ${twoSlots.headers.link})`);
  assert.equal((await request('DELETE', new URL(twoSlots.headers.location, base).href)).status, 200, 'DELETE the 2-slot viewer');

  // Filters.
  assertError(await sdpPost(whep('?host=nosuch'), WHEP_ONE_SLOT), 404, 'unknown-host', 'WHEP ?host=nosuch');
  assertError(await sdpPost(whep('?host=A&exclude=B'), WHEP_ONE_SLOT), 400, 'bad-filter', 'WHEP ?host=A&exclude=B');
  const onlyB = await sdpPost(whep('?host=B'), WHEP_ONE_SLOT);
  assert.equal(onlyB.status, 201, `WHEP ?host=B -> 201 (got ${onlyB.status} ${onlyB.text.slice(0, 300)})`);
  assert.equal((await request('DELETE', new URL(onlyB.headers.location, base).href)).status, 200, 'DELETE the ?host=B viewer');

  // Hosts.
  assertError(await sdpPost(whip('?host=A'), three.whip), 409, 'host-taken', 'second WHIP ?host=A');
  assertError(await sdpPost(whip('?host=C'), three.whip), 409, 'too-many-hosts', 'WHIP ?host=C with A and B live, --max-hosts 2');

  // Sessions and lives that do not exist.
  const unknownSession = await firstEvent(new URL('/session/unknown/events', base).href);
  assertError(unknownSession, 404, 'unknown-session', 'GET /session/unknown/events');
  assertError(await request('GET', new URL('/api/v1/lives/nosuch', base).href), 404, 'unknown-live', 'GET /api/v1/lives/nosuch');

  // Nothing above changed the live, and both hosts are still sending.
  assert.deepEqual(await liveHosts(server, LIVE), ['A', 'B'], 'after the refusals the live still lists A then B');
  const sentBefore = [framesSent(a), framesSent(b)];
  await waitForEvent(a, (e) => e.event === 'progress' && e.pub.frames_sent > sentBefore[0] + 10, 5000, 'host A keeps sending');
  await waitForEvent(b, (e) => e.event === 'progress' && e.pub.frames_sent > sentBefore[1] + 10, 5000, 'host B keeps sending');
  for (const [name, proc] of [['A', a], ['B', b]]) {
    const last = jsonEvents(proc).filter((e) => e.event === 'progress').at(-1);
    assert.equal(last.pub.connection, 'connected', `host ${name} still connected`);
  }

  // A leaves: its place is free for C (too-many-hosts counts the hosts that are there). Its own
  // event stream ends as a complete chunked message (RFC 9112 §7.1: the last-chunk 0 CRLF CRLF).
  const streamA = rawEventStream(sessionA.events_url);
  await sleep(300);
  assert.match(streamA.text(), /^HTTP\/1\.1 200 [^]*\r\ntransfer-encoding: chunked\r\n[^]*event: live\n/i, `A's event stream is open and chunked (${streamA.text().slice(0, 300)})`);
  assert.equal((await request('DELETE', sessionA.location)).status, 200, 'DELETE host A');
  const endA = await streamA.waitClosed(3000);
  report('host A event stream after its DELETE (tail)', JSON.stringify(endA.text.slice(-160)));
  assert.ok(endA.closed, 'the server ends the event stream of a deleted session');
  assert.ok(endA.text.endsWith('\r\n0\r\n\r\n'), `the event stream ends with the last chunk (0 CRLF CRLF), not a bare close (tail ${JSON.stringify(endA.text.slice(-40))})`);
  const c = await sdpPost(whip('?host=C'), three.whip);
  assert.equal(c.status, 201, `WHIP ?host=C after A left -> 201 (got ${c.status} ${c.text.slice(0, 300)})`);
  assert.deepEqual(await liveHosts(server, LIVE), ['B', 'C'], 'after A left and C joined the live lists B then C');
  assert.equal((await request('DELETE', new URL(c.headers.location, base).href)).status, 200, 'DELETE host C');

  // B (VP8) is the one host left: a host that offers only H.264 cannot join.
  const h264 = onlyVideoCodec(three.whip, 'H264');
  assert.match(h264, /^m=video \d+ \S+ \d+/m, 'the H.264-only offer keeps a video payload type');
  assert.doesNotMatch(h264, /VP8/, 'the H.264-only offer has no VP8');
  assertError(await sdpPost(whip('?host=D'), h264), 409, 'codec-mismatch', 'WHIP ?host=D offering only H.264 to a VP8 live');
  assert.deepEqual(await liveHosts(server, LIVE), ['B'], 'after the codec mismatch the live lists B alone');

  // A plain WHIP (no ?host=) publishes the host named `host`: a second plain WHIP or ?host=host
  // finds the name taken, and ?host=host watches it.
  const plain = host(ctx, server, '', '320x180', 'e02020', 'room-bad-plain');
  const connPlain = await waitForEvent(plain, (e) => e.event === 'publish_connected' || e.event === 'error', 45000, 'plain host connected');
  assert.equal(connPlain.connection, 'connected', `plain WHIP host: ${JSON.stringify(connPlain).slice(0, 500)}`);
  assert.deepEqual(await liveHosts(server, 'room-bad-plain'), ['host'], 'a WHIP without ?host= publishes the host `host`');
  assertError(await sdpPost(new URL('/whip/room-bad-plain', base).href, three.whip), 409, 'host-taken', 'second plain WHIP');
  assertError(await sdpPost(new URL('/whip/room-bad-plain?host=host', base).href, three.whip), 409, 'host-taken', 'WHIP ?host=host next to a plain WHIP');
  const watchPlain = await sdpPost(new URL('/whep/room-bad-plain?host=host', base).href, WHEP_ONE_SLOT);
  assert.equal(watchPlain.status, 201, `WHEP ?host=host -> 201 (got ${watchPlain.status} ${watchPlain.text.slice(0, 300)})`);
  assert.equal((await request('DELETE', new URL(watchPlain.headers.location, base).href)).status, 200, 'DELETE the ?host=host viewer');
});
