// Negative tests, no browser: malformed and unsupported offers, unknown streams and sessions,
// oversized bodies, and UDP garbage / unauthenticated STUN while a real session keeps flowing.
// Usage: STRATA_BIN=build/.../strata node tests/interop/bad_input.test.mjs
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { interopTest, report } from './lib/harness.mjs';
import { request } from './lib/http_raw.mjs';
import { parseMetrics, sumMetrics } from './lib/metrics.mjs';
import { bindingRequest, stunClass } from './lib/stun.mjs';
import { INTEROP_DIR } from './lib/paths.mjs';
import { jsonEvents, sleep, waitForEvent } from './lib/procs.mjs';

// Counters that must rise when the media port drops unauthenticated or unparseable datagrams.
// Agreed names first; if the server exposes none of them, any metric whose name matches the
// fallback pattern counts (so a rename shows up in the printed "used" list, not as a failure).
// (src/worker/metrics.hpp counters drop_unknown_source, drop_unknown_ufrag, drop_stun_unauthenticated,
// drop_malformed; the exported prefix is expected to be strata_ with a _total suffix.)
const DROP_METRIC_NAMES = [
  'strata_drop_unknown_source_total', 'strata_drop_unknown_ufrag_total',
  'strata_drop_stun_unauthenticated_total', 'strata_drop_malformed_total',
];
const DROP_METRIC_FALLBACK = /drop|unauthenticated/i;

const WHIP_OFFER = fs.readFileSync(path.join(INTEROP_DIR, 'fixtures', 'chromium-whip-offer.sdp'), 'utf8');
const WHEP_OFFER = fs.readFileSync(path.join(INTEROP_DIR, 'fixtures', 'chromium-whep-offer.sdp'), 'utf8');

// Audio PCMU only, video H.263 only: well-formed, bundled, but nothing an SFU for Opus/VP8/H.264 can use.
const UNSUPPORTED_CODECS_OFFER = [
  'v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1', 'a=msid-semantic: WMS s',
  'm=audio 9 UDP/TLS/RTP/SAVPF 0', 'c=IN IP4 0.0.0.0', 'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  'a=fingerprint:sha-256 ' + Array.from({ length: 32 }, () => 'AB').join(':'), 'a=setup:actpass', 'a=mid:0',
  'a=sendonly', 'a=rtcp-mux', 'a=rtpmap:0 PCMU/8000', 'a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host',
  'm=video 9 UDP/TLS/RTP/SAVPF 34', 'c=IN IP4 0.0.0.0', 'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  'a=fingerprint:sha-256 ' + Array.from({ length: 32 }, () => 'AB').join(':'), 'a=setup:actpass', 'a=mid:1',
  'a=sendonly', 'a=rtcp-mux', 'a=rtpmap:34 H263/90000', '',
].join('\r\n');

function sdpPost(url, body) {
  return request('POST', url, { headers: { 'Content-Type': 'application/sdp' }, body });
}

// Contract: errors are 4xx with a JSON body {"error": ..., "detail": ...}.
function assertJsonError(res, expectStatus, what) {
  const statuses = [].concat(expectStatus);
  assert.ok(statuses.includes(res.status), `${what}: status ${res.status}, want ${statuses.join(' or ')} (body ${res.text.slice(0, 200)})`);
  assert.match(String(res.headers['content-type']), /application\/json/, `${what}: JSON content type`);
  assert.ok(res.json && typeof res.json.error === 'string', `${what}: JSON body with "error" (got ${res.text.slice(0, 200)})`);
  assert.ok('detail' in res.json, `${what}: JSON body with "detail"`);
}

// Sends datagrams from a fresh socket and reports whether anything came back within waitMs.
async function sendUdp(port, datagrams, waitMs = 1000) {
  const sock = dgram.createSocket('udp4');
  const replies = [];
  sock.on('message', (msg) => replies.push(msg));
  await new Promise((r) => sock.bind(0, '127.0.0.1', r));
  for (const d of datagrams) await new Promise((r) => sock.send(d, port, '127.0.0.1', r));
  await sleep(waitMs);
  sock.close();
  return replies;
}

function garbageDatagrams() {
  const out = [];
  for (let i = 0; i < 30; i++) out.push(crypto.randomBytes(1 + Math.floor(Math.random() * 1200)));
  const rtpLike = crypto.randomBytes(200); rtpLike[0] = 0x80; rtpLike[1] = 96; out.push(rtpLike);
  const rtcpLike = crypto.randomBytes(64); rtcpLike[0] = 0x81; rtcpLike[1] = 200; out.push(rtcpLike);
  const dtlsLike = crypto.randomBytes(100); dtlsLike[0] = 22; dtlsLike[1] = 0xfe; dtlsLike[2] = 0xfd; out.push(dtlsLike);
  const stunHeaderOnly = Buffer.alloc(20); stunHeaderOnly.writeUInt16BE(1, 0); stunHeaderOnly.writeUInt32BE(0x2112a442, 4); out.push(stunHeaderOnly);
  out.push(Buffer.alloc(0));
  return out;
}

function lastProgress(proc) {
  return jsonEvents(proc).filter((e) => e.event === 'progress').at(-1)?.video_frames ?? 0;
}

interopTest('bad input is rejected cleanly and does not disturb live sessions', { timeoutMs: 120000 }, async (ctx) => {
  const server = await ctx.startServer();
  const whip = new URL('/whip/bad-input', server.httpUrl).href;

  assertJsonError(await sdpPost(whip, 'this is not an SDP offer\r\n'), 400, 'malformed SDP');
  assertJsonError(await sdpPost(whip, 'v=0\r\nm=video\r\n\x00\xff'), 400, 'truncated SDP');

  const noBundle = await sdpPost(whip, WHIP_OFFER.replace(/^a=group:BUNDLE.*\r\n/m, ''));
  assertJsonError(noBundle, 400, 'offer without BUNDLE');
  assert.match(noBundle.text, /bundle/i, 'no-BUNDLE error mentions bundle');

  assertJsonError(await sdpPost(whip, UNSUPPORTED_CODECS_OFFER), [400, 406, 415, 422, 488], 'only PCMU/H.263 offer');

  const unknownStream = await sdpPost(new URL('/whep/never-published', server.httpUrl).href, WHEP_OFFER);
  assertJsonError(unknownStream, [409, 404], 'WHEP of an unknown stream');
  if (unknownStream.status === 409) assert.ok(unknownStream.headers['retry-after'], '409 carries Retry-After');
  report('WHEP unknown stream', { status: unknownStream.status, retryAfter: unknownStream.headers['retry-after'] });

  assertJsonError(await sdpPost(whip, 'v=0\r\n' + 'a'.repeat(1024 * 1024)), 413, '1 MB body');

  // A real publisher + viewer that must keep flowing through the garbage below.
  const pub = ctx.python('aiortc_publish.py', [server.httpUrl, 'bad-input-live', '--duration', '30'], 'aiortc-publish');
  const session = await waitForEvent(pub, (e) => e.event === 'session' || e.event === 'error', 20000, 'WHIP session');
  assert.equal(session.event, 'session', `WHIP POST failed: ${JSON.stringify(session)}`);
  const view = ctx.python('aiortc_view.py', [server.httpUrl, 'bad-input-live', '--frames', '1000000', '--timeout', '25'], 'aiortc-view');
  await waitForEvent(view, (e) => e.event === 'progress' && e.video_frames > 30, 20000, 'viewer decoding');

  // DELETE of an unknown session: the real Location with its last segment replaced, and a made-up path.
  const bogus = new URL(session.location);
  bogus.pathname = bogus.pathname.replace(/[^/]+\/?$/, 'ffffffffffffffff0000');
  assertJsonError(await request('DELETE', bogus.href), 404, `DELETE ${bogus.pathname}`);
  assertJsonError(await request('DELETE', new URL('/whip/no-such-stream/no-such-session', server.httpUrl).href), 404, 'DELETE made-up path');

  // UDP: garbage and STUN checks with unknown or wrong credentials get no answer (never a success).
  const serverUfrag = session.answer.match(/^a=ice-ufrag:(\S+)/m)?.[1];
  assert.ok(serverUfrag, 'answer has a=ice-ufrag');
  const before = parseMetrics(await server.metricsText());
  const framesBefore = lastProgress(view);
  const garbageReplies = await sendUdp(server.udpPort, garbageDatagrams());
  assert.equal(garbageReplies.length, 0, `no reply to garbage (got ${garbageReplies.length})`);
  const unknownUfrag = await sendUdp(server.udpPort, [bindingRequest({ username: 'nosuchufrag:client', password: 'wrong-password-wrong-pw' })]);
  assert.equal(unknownUfrag.length, 0, 'no reply to a STUN check with an unknown ufrag');
  const wrongPwd = await sendUdp(server.udpPort, [bindingRequest({ username: `${serverUfrag}:client`, password: 'wrong-password-wrong-pw' })]);
  // RFC 8489 §9.1.3 allows a 401 error response here; a success response would be a security bug.
  assert.ok(wrongPwd.every((m) => stunClass(m) === 'error'), `wrong password: only silence or a STUN error (got ${wrongPwd.map(stunClass)})`);
  report('STUN wrong password replies', wrongPwd.map(stunClass));

  await sleep(1500);
  const framesAfter = lastProgress(view);
  report('viewer frames before/after garbage', [framesBefore, framesAfter]);
  assert.ok(framesAfter >= framesBefore + 20, `viewer keeps decoding through the garbage (${framesBefore} -> ${framesAfter})`);

  const after = parseMetrics(await server.metricsText());
  const dropBefore = sumMetrics(before, DROP_METRIC_NAMES, DROP_METRIC_FALLBACK);
  const dropAfter = sumMetrics(after, DROP_METRIC_NAMES, DROP_METRIC_FALLBACK);
  report('drop metrics', { used: dropAfter.used, before: dropBefore.total, after: dropAfter.total });
  assert.ok(dropAfter.used.length > 0, `/metrics exposes a drop counter (${DROP_METRIC_NAMES.join(', ')} or /${DROP_METRIC_FALLBACK.source}/)`);
  assert.ok(dropAfter.total > dropBefore.total, 'drop counters rose after the garbage');

  // The real session still ends cleanly; a second DELETE of it is a 404.
  assert.equal((await request('DELETE', session.location)).status, 200, 'DELETE live publisher -> 200');
  assertJsonError(await request('DELETE', session.location), 404, 'second DELETE of the same session');
});
