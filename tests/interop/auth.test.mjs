// Access control and abuse resistance on `strata dev` (README, "Access control", "Limits"):
// every row of the token contract over real HTTP (401 + WWW-Authenticate, 403, prefix grants,
// host pinning, ?access_token=, iss/aud, every algorithm), the admin API (a kicked aiortc viewer
// and the viewers of an ended live, Chromium among them, stop getting media within 1 s), and
// the limits (429 + Retry-After, a client trickling its header is dropped and blocks no one).
// Tokens are minted with Node's crypto (tests/interop/lib/tokens.mjs), not with Strata's code.
// Usage: STRATA_BIN=build/.../strata node tests/interop/auth.test.mjs
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { interopTest, report } from './lib/harness.mjs';
import { request } from './lib/http_raw.mjs';
import { artifactsDir, INTEROP_DIR } from './lib/paths.mjs';
import { freeTcpPort } from './lib/ports.mjs';
import { jsonEvents, sleep, waitForEvent } from './lib/procs.mjs';
import { startServer } from './lib/server.mjs';
import { Issuer } from './lib/tokens.mjs';

const WHIP_OFFER = fs.readFileSync(path.join(INTEROP_DIR, 'fixtures', 'chromium-whip-offer.sdp'), 'utf8');
const WHEP_OFFER = fs.readFileSync(path.join(INTEROP_DIR, 'fixtures', 'chromium-whep-offer.sdp'), 'utf8');
const KICK_BUDGET_MS = 1000;

function post(url, body, token = null) {
  const headers = { 'Content-Type': 'application/sdp', ...(token ? { Authorization: `Bearer ${token}` } : {}) };
  return request('POST', url, { headers, body });
}
function get(url, token = null) {
  return request('GET', url, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
}
function del(url, token = null) {
  return request('DELETE', url, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
}

function assertRefused(res, status, error, what) {
  assert.equal(res.status, status, `${what}: status ${res.status} (${res.text.slice(0, 200)})`);
  assert.equal(res.json?.error, error, `${what}: error code (${res.text.slice(0, 200)})`);
  assert.ok(typeof res.json?.detail === 'string' && res.json.detail.length > 0, `${what}: a detail`);
  const challenge = String(res.headers['www-authenticate'] ?? '');
  assert.match(challenge, /^Bearer realm="strata"/, `${what}: WWW-Authenticate (${challenge})`);
  if (status === 401 && error !== 'auth-required') assert.match(challenge, /error="invalid_token"/, `${what}: RFC 6750 error`);
  if (status === 403) assert.match(challenge, /error="insufficient_scope"/, `${what}: RFC 6750 error`);
}

async function created(res, what) {
  assert.equal(res.status, 201, `${what}: ${res.status} ${res.text.slice(0, 300)}`);
  return res.headers.location;
}

interopTest('tokens: every 401/403 row, grants, pinning, ?access_token=, admin API', { timeoutMs: 90000 }, async (ctx) => {
  const issuer = new Issuer({ iss: 'https://id.strata.test', aud: 'strata' });
  const metricsPort = await freeTcpPort();
  const server = await ctx.startServer({
    extraArgs: [...issuer.flags(artifactsDir('auth-keys')), '--metrics-http', `127.0.0.1:${metricsPort}`],
  });
  const url = (p) => new URL(p, server.httpUrl).href;
  const publish = { live: 'show', publish: true };
  const view = { live: 'show', view: true };

  // 401: no token, or one that does not hold up. Nothing of the offer is looked at first.
  const rows401 = [
    ['no token', null, 'auth-required'],
    ['not a JWT', 'abc.def', 'invalid-token'],
    ['alg none', issuer.token(publish, { alg: 'none' }), 'invalid-token'],
    ['bad HS256 signature', issuer.token(publish, { alg: 'HS256', secret: 'someone-elses-secret-of-32-bytes!!' }), 'invalid-token'],
    ['HS256 keyed with the public JWKS, naming an EC kid', issuer.token(publish, { alg: 'HS256', header: { kid: 'es-1' },
      secret: JSON.stringify(issuer.jwks()) }), 'invalid-token'],
    ['EdDSA token naming the ES256 key', (() => {
      const t = issuer.token(publish, { alg: 'EdDSA' });
      const [h, p, s] = t.split('.');
      const header = { ...JSON.parse(Buffer.from(h, 'base64url')), kid: 'es-1' };
      return `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${p}.${s}`;
    })(), 'invalid-token'],
    ['unknown kid', issuer.token(publish, { header: { kid: 'nobody' } }), 'invalid-token'],
    ['expired', issuer.token(publish, { expIn: -120 }), 'token-expired'],
    ['not yet valid', issuer.token(publish, { nbfIn: 120 }), 'token-not-yet-valid'],
    ['no exp', issuer.token(publish, { expIn: null }), 'invalid-token'],
    ['wrong issuer', issuer.token(publish, { extra: { iss: 'https://evil.test' } }), 'invalid-token'],
    ['wrong audience', issuer.token(publish, { extra: { aud: 'someone-else' } }), 'invalid-token'],
    ['malformed grant', issuer.token({ live: 'show', publish: 'yes' }), 'invalid-token'],
  ];
  for (const [what, token, error] of rows401) {
    assertRefused(await post(url('/whip/show'), WHIP_OFFER, token), 401, error, `WHIP, ${what}`);
  }
  assertRefused(await post(url('/whip/show'), WHIP_OFFER, null), 401, 'auth-required', 'WHIP without token');
  assertRefused(await request('POST', url('/whip/show'), { headers: { 'Content-Type': 'application/sdp', Authorization: 'Basic dTpw' },
    body: WHIP_OFFER }), 401, 'invalid-token', 'Basic credentials');

  // 403: a valid token without this right.
  const rows403 = [
    ['a view token publishing', issuer.token(view)],
    ['another live', issuer.token({ live: 'other', publish: true })],
    ['a prefix that does not match', issuer.token({ live: 'sh-*', publish: true })],
    ['no strata grant', issuer.token({})],
    ['pinned to alice, publishing as bob', issuer.token(publish, { sub: 'alice' }), '?host=bob'],
  ];
  for (const [what, token, query = ''] of rows403) {
    assertRefused(await post(url(`/whip/show${query}`), WHIP_OFFER, token), 403, 'forbidden', `WHIP, ${what}`);
  }

  // Allowed: each algorithm, a prefix grant, the pinned host, ?access_token=.
  const sessions = [];
  sessions.push(await created(await post(url('/whip/show'), WHIP_OFFER, issuer.token(publish, { alg: 'ES256' })), 'ES256 publish'));
  sessions.push(await created(await post(url('/whip/show?host=guest'), WHIP_OFFER, issuer.token(publish, { alg: 'HS256' })), 'HS256 publish'));
  sessions.push(await created(await post(url('/whip/show'), WHIP_OFFER, issuer.token(publish, { alg: 'EdDSA', sub: 'alice' })), 'pinned'));
  sessions.push(await created(await post(url('/whip/team-red'), WHIP_OFFER, issuer.token({ live: 'team-*', publish: true })), 'prefix'));
  assertRefused(await post(url('/whep/show'), WHEP_OFFER, issuer.token(publish)), 403, 'forbidden', 'WHEP with a publish token');
  sessions.push(await created(await post(url('/whep/show'), WHEP_OFFER, issuer.token(view, { alg: 'EdDSA' })), 'EdDSA view'));
  sessions.push(await created(await post(url(`/whep/show?access_token=${issuer.token(view)}`), WHEP_OFFER), '?access_token='));
  assertRefused(await post(url('/whep/show?access_token=nope'), WHEP_OFFER), 401, 'invalid-token', 'bad ?access_token=');

  // Admin: /api/v1/* and /metrics need an admin of every live; /healthz and --metrics-http stay open.
  const root = issuer.token({ live: '*', admin: true });
  const moderator = issuer.token({ live: 'team-*', admin: true });
  for (const p of ['/api/v1/lives', '/api/v1/streams', '/api/v1/nodes', '/metrics']) {
    assertRefused(await get(url(p)), 401, 'auth-required', `GET ${p} without token`);
    assertRefused(await get(url(p), issuer.token(view)), 403, 'forbidden', `GET ${p} with a view token`);
    assertRefused(await get(url(p), moderator), 403, 'forbidden', `GET ${p} as one prefix's admin`);
    assert.equal((await get(url(p), root)).status, 200, `GET ${p} as admin`);
  }
  assert.equal((await get(url('/api/v1/lives/team-red'), moderator)).status, 200, 'a live of the moderator\'s prefix');
  assert.equal((await get(url('/healthz'))).status, 200, '/healthz is open');
  const scraped = await get(`http://127.0.0.1:${metricsPort}/metrics`);
  assert.equal(scraped.status, 200, '--metrics-http serves /metrics without a token');
  assert.match(scraped.text, /strata_/);
  const lives = (await get(url('/api/v1/lives/show'), root)).json;
  assert.deepEqual(lives.hosts.map((h) => h.name).sort(), ['alice', 'guest', 'host'], 'the pinned token published as alice');

  // Viewers first: the live's last host leaving ends its viewers' sessions too.
  for (const s of sessions.reverse()) assert.equal((await del(url(s))).status, 200, 'session URLs need no token (their id is the capability)');
  report('401 rows', rows401.length + 2);
  report('403 rows', rows403.length + 1);
});

interopTest('admin kick and live end: the viewers\' media stops within 1 s', { timeoutMs: 120000 }, async (ctx) => {
  const issuer = new Issuer();
  const server = await ctx.startServer({ extraArgs: issuer.flags(artifactsDir('auth-keys-kick')) });
  const url = (p) => new URL(p, server.httpUrl).href;
  const LIVE = 'kick';
  const root = issuer.token({ live: '*', admin: true });
  const pub = ctx.python('aiortc_publish.py', [server.httpUrl, LIVE, '--duration', '90', '--token',
    issuer.token({ live: LIVE, publish: true })], 'aiortc-publish');
  const session = await waitForEvent(pub, (e) => e.event === 'session' || e.event === 'error', 20000, 'WHIP session');
  assert.equal(session.event, 'session', `WHIP failed: ${JSON.stringify(session)}`);

  const viewToken = issuer.token({ live: LIVE, view: true });
  const kicked = ctx.python('aiortc_view.py', [server.httpUrl, LIVE, '--frames', '30', '--timeout', '60', '--wait-ended',
    '--token', viewToken], 'aiortc-kicked');
  const stays = ctx.python('aiortc_view.py', [server.httpUrl, LIVE, '--frames', '30', '--timeout', '60', '--wait-ended',
    '--token', viewToken], 'aiortc-stays');
  const page = await ctx.clientPage();
  await page.evaluate((t) => window.strataClient.setToken(t), viewToken);
  const chromium = await page.evaluate((a) => window.strataClient.watch(a.url, a.live, { waitLiveMs: 10000 }), { url: server.httpUrl, live: LIVE });
  await waitForEvent(kicked, (e) => e.event === 'watching', 40000, 'kicked viewer decoding');
  await waitForEvent(stays, (e) => e.event === 'watching', 40000, 'other viewer decoding');
  await page.evaluate((id) => window.strataClient.firstFrame(id, { timeoutMs: 20000 }), chromium.id);

  // Kick one aiortc viewer: it alone stops (RTCP BYE, then no media).
  const kickedSession = new URL(jsonEvents(kicked).find((e) => e.event === 'session').location).pathname.split('/').pop();
  assertRefused(await del(url(`/api/v1/sessions/${kickedSession}`), viewToken), 403, 'forbidden', 'a viewer kicking');
  const t0 = Date.now();
  const res = await del(url(`/api/v1/sessions/${kickedSession}`), root);
  assert.equal(res.status, 200, `kick: ${res.text}`);
  await waitForEvent(kicked, (e) => e.event === 'track_ended' && e.kind === 'video', 5000, 'kicked video ended');
  const kickMs = Date.now() - t0;
  report('kicked aiortc viewer: media ended after (ms)', kickMs);
  assert.ok(kickMs <= KICK_BUDGET_MS, `kicked viewer's media stopped within ${KICK_BUDGET_MS} ms (${kickMs})`);
  const before = jsonEvents(stays).filter((e) => e.event === 'progress').pop()?.video_frames ?? 0;
  await sleep(1500);
  const after = jsonEvents(stays).filter((e) => e.event === 'progress').pop()?.video_frames ?? 0;
  assert.ok(after > before, `the other viewer goes on decoding (${before} -> ${after})`);
  assert.equal((await del(url(`/api/v1/sessions/${kickedSession}`), root)).status, 404, 'the kicked session is gone');

  // End the live: every viewer, Chromium's too, stops getting packets within 1 s.
  const packets = async () => (await page.evaluate((id) => window.strataClient.stats(id), chromium.id)).video.packetsReceived;
  const t1 = Date.now();
  const staysEnded = waitForEvent(stays, (e) => e.event === 'track_ended' && e.kind === 'video', 3000, 'other aiortc viewer ended')
    .then(() => Date.now() - t1);
  const ended = await del(url(`/api/v1/lives/${LIVE}`), root);
  assert.equal(ended.status, 200, `live end: ${ended.text}`);
  let last = await packets();
  let lastChange = Date.now();
  while (Date.now() - lastChange < 1500 && Date.now() - t1 < 6000) {
    await sleep(50);
    const now = await packets();
    if (now !== last) { last = now; lastChange = Date.now(); }
  }
  const chromiumMs = lastChange - t1;
  report('live end: Chromium viewer\'s last packet after (ms)', chromiumMs);
  assert.ok(chromiumMs <= KICK_BUDGET_MS, `Chromium's media stopped within ${KICK_BUDGET_MS} ms of the live's end (${chromiumMs})`);
  const staysMs = await staysEnded;
  report('live end: aiortc viewer\'s media ended after (ms)', staysMs);
  assert.ok(staysMs <= KICK_BUDGET_MS, `the aiortc viewer's media stopped within ${KICK_BUDGET_MS} ms of the live's end (${staysMs})`);
  assert.equal((await get(url('/api/v1/lives'), root)).json.lives.length, 0, 'no live left');
});

interopTest('limits: 429 + Retry-After per client, and a trickling client is dropped', { timeoutMs: 60000 }, async (ctx) => {
  // Concurrent sessions: two held, the third refused until one ends.
  const held = await ctx.startServer({ extraArgs: ['--per-ip-max-sessions', '2'] });
  const on = (server, p) => new URL(p, server.httpUrl).href;
  const a = await created(await post(on(held, '/whip/lim-a'), WHIP_OFFER), 'first');
  await created(await post(on(held, '/whip/lim-b'), WHIP_OFFER), 'second');
  let res = await post(on(held, '/whip/lim-c'), WHIP_OFFER);
  assert.equal(res.status, 429, `third concurrent session: ${res.status} ${res.text}`);
  assert.equal(res.json?.error, 'too-many-sessions');
  assert.ok(Number(res.headers['retry-after']) >= 1, 'Retry-After');
  assert.equal((await del(on(held, a))).status, 200);
  await created(await post(on(held, '/whip/lim-c'), WHIP_OFFER), 'once a session ended');

  // Rate: a bucket of 2 refilling at 1/s.
  const rated = await startServer({ extraArgs: ['--per-ip-session-rate', '1', '--per-ip-session-burst', '2', '--http-header-timeout', '2',
    '--per-ip-max-connections', '20'] });
  ctx.procs.push(rated.proc);
  ctx.defer(() => rated.stop());
  await created(await post(on(rated, '/whip/rate-a'), WHIP_OFFER), 'first');
  await created(await post(on(rated, '/whip/rate-b'), WHIP_OFFER), 'second');
  res = await post(on(rated, '/whip/rate-c'), WHIP_OFFER);
  assert.equal(res.status, 429, `too fast: ${res.status} ${res.text}`);
  assert.equal(res.json?.error, 'too-many-requests');
  assert.equal(res.headers['retry-after'], '1');
  await sleep(1100);
  await created(await post(on(rated, '/whip/rate-c'), WHIP_OFFER), 'after Retry-After');

  // Slowloris: one header byte every 400 ms; dropped ~2 s after its first byte, while
  // /healthz answers at once.
  const sock = net.connect(rated.httpPort, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  const closed = new Promise((r) => sock.once('close', () => r(Date.now())));
  sock.on('error', () => {});
  const text = 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(64) + '\r\n\r\n';
  const t0 = Date.now();
  let sent = 0;
  const dripper = setInterval(() => { if (sent < text.length && !sock.destroyed) sock.write(text[sent++]); }, 400);
  try {
    await sleep(900);
    const asked = Date.now();
    const health = await request('GET', on(rated, '/healthz'));
    const answeredMs = Date.now() - asked;
    assert.equal(health.status, 200);
    assert.ok(answeredMs < 500, `others are served while a client trickles (${answeredMs} ms)`);
    const droppedAt = await Promise.race([closed, sleep(8000).then(() => null)]);
    assert.ok(droppedAt, 'the trickling client was dropped');
    report('trickling client dropped after (ms)', droppedAt - t0);
    report('bytes it had sent', sent);
    assert.ok(droppedAt - t0 <= 3500, `dropped within the 2 s header timeout (+ slack): ${droppedAt - t0} ms`);
  } finally {
    clearInterval(dripper);
    sock.destroy();
  }

  // A connection flood: one client opening 50 idle connections keeps 20; the rest are closed at
  // once, and the server still answers.
  const flood = await Promise.all(Array.from({ length: 50 }, () => new Promise((resolve) => {
    const s = net.connect(rated.httpPort, '127.0.0.1');
    s.on('error', () => {});
    s.once('connect', () => resolve(s));
  })));
  await sleep(500);
  const open = flood.filter((s) => !s.destroyed && s.readyState === 'open');
  const closedAtOnce = await Promise.all(flood.map((s) => new Promise((r) => {
    if (s.readyState !== 'open') return r(true);
    const timer = setTimeout(() => r(false), 300);
    s.once('close', () => { clearTimeout(timer); r(true); });
    s.once('end', () => { clearTimeout(timer); r(true); });
  })));
  // The client's earlier keep-alive connections (Node's agent) count too: at most 20 stay.
  const closedCount = closedAtOnce.filter(Boolean).length;
  report('connection flood: closed at accept', closedCount);
  assert.ok(closedCount >= 30 && 50 - closedCount <= 20, `at most 20 of 50 stay open (${closedCount} closed, ${open.length} looked open)`);
  for (const s of flood) s.destroy();
  await sleep(300);
  assert.equal((await request('GET', on(rated, '/healthz'))).status, 200, 'the server answers after the flood');
});

interopTest('the demo page sends the token of its ?token= (and fails without one)', { timeoutMs: 60000 }, async (ctx) => {
  const issuer = new Issuer();
  const server = await ctx.startServer({ extraArgs: issuer.flags(artifactsDir('auth-keys-demo')) });
  const LIVE = 'demo-auth';
  const token = issuer.token({ live: LIVE, publish: true, view: true, admin: true });
  const open = async (query) => {
    const page = await ctx.rawPage(new URL(`/${query}`, server.httpUrl).href);
    await page.waitForFunction(() => !!window.strataDemo, null, { timeout: 10000 });
    return page;
  };
  const bare = await open('');
  await bare.evaluate((s) => { window.strataDemo.publish(s); }, LIVE);
  await bare.waitForSelector('#publish[data-state="error"]', { state: 'attached', timeout: 15000 });
  report('demo page without a token', await bare.textContent('#publish'));

  const host = await open(`?token=${token}`);
  await host.evaluate((s) => { window.strataDemo.publish(s); }, LIVE);
  await host.waitForSelector('#publish[data-state="publishing"]', { state: 'attached', timeout: 15000 });
  const viewer = await open(`?token=${token}`);
  await viewer.evaluate((s) => { window.strataDemo.watch(s); }, LIVE);
  await viewer.waitForSelector('#watch[data-state="playing"]', { state: 'attached', timeout: 15000 });
  const painted = async () => viewer.evaluate(() => [...document.querySelectorAll('video')]
    .map((v) => v.getVideoPlaybackQuality?.().totalVideoFrames ?? 0).reduce((a, b) => Math.max(a, b), 0));
  const deadline = Date.now() + 15000;
  let frames = 0;
  while (frames < 10 && Date.now() < deadline) { await sleep(250); frames = await painted(); }
  report('demo viewer frames with ?token=', frames);
  assert.ok(frames >= 10, `the demo viewer plays (${frames} frames)`);
});
