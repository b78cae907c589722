// ICE restart through WHEP PATCH (RFC 9725 §4.3.2): a Chromium viewer restarts ICE, the server
// answers 200 with new credentials, and the viewer keeps decoding on the restarted session.
// Usage: STRATA_BIN=build/.../strata node tests/interop/ice_restart.test.mjs
import assert from 'node:assert/strict';
import { interopTest, report } from './lib/harness.mjs';
import { waitForStats } from './lib/browser.mjs';
import { sleep } from './lib/procs.mjs';
import { request } from './lib/http_raw.mjs';
import { parseMetrics } from './lib/metrics.mjs';

const STREAM = 'ice-restart';

interopTest('chromium viewer restarts ICE with PATCH and keeps decoding', { timeoutMs: 90000 }, async (ctx) => {
  const server = await ctx.startServer();
  const pubPage = await ctx.clientPage();
  const pub = await pubPage.evaluate(([url, s]) => window.strataClient.publish(url, s), [server.httpUrl, STREAM]);
  const viewPage = await ctx.clientPage();
  const view = await viewPage.evaluate(([url, s]) => window.strataClient.watch(url, s), [server.httpUrl, STREAM]);
  await waitForStats(viewPage, view.id, (s) => s.video.framesDecoded > 10, 15000, 'viewer decoding');

  const restart = await viewPage.evaluate((id) => window.strataClient.restartIce(id), view.id);
  report('ice restart', restart);
  assert.equal(restart.status, 200, `PATCH with new credentials -> 200 (${JSON.stringify(restart)})`);
  assert.ok(restart.ufrag && restart.ufrag !== restart.clientUfrag, 'server sent new credentials');

  const before = (await viewPage.evaluate((id) => window.strataClient.stats(id), view.id)).video.framesDecoded;
  await sleep(3000);
  const after = await viewPage.evaluate((id) => window.strataClient.stats(id), view.id);
  report('frames decoded across the restart', { before, after: after.video.framesDecoded, state: after.iceConnectionState });
  assert.ok(after.video.framesDecoded >= before + 30, 'viewer keeps decoding after the restart');
  assert.equal(after.iceConnectionState, 'connected');
  // Had the server ignored the restart, Chromium's checks with the new credentials would be
  // dropped (and media would still flow on the old pair): none may be.
  const metrics = parseMetrics((await request('GET', new URL('/metrics', server.httpUrl).href)).text);
  const dropped = ['strata_drop_unknown_ufrag_total', 'strata_drop_stun_unauthenticated_total'].map((n) => metrics.get(n));
  report('STUN drops after restart', dropped);
  assert.deepEqual(dropped, [0, 0], 'every post-restart connectivity check was accepted');

  // The publisher's trickle PATCH (no credentials) is acknowledged with 204.
  const trickle = await pubPage.evaluate(async (loc) => (await fetch(loc, {
    method: 'PATCH', headers: { 'Content-Type': 'application/trickle-ice-sdpfrag' },
    body: 'a=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\n',
  })).status, pub.location);
  assert.equal(trickle, 204, 'trickle PATCH -> 204');
});
