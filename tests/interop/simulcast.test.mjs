// Simulcast with per-viewer layer choice: Chromium publishes rid q/h/f (1/4, 1/2, full of
// 1280x720); viewers asking for q, h and f (WHEP ?layer=) decode 320x180, 640x360 and
// 1280x720; a viewer switching layer while watching (POST {session}/layer) changes size
// and keeps decoding.
// Usage: STRATA_BIN=build/.../strata node tests/interop/simulcast.test.mjs
import assert from 'node:assert/strict';
import { interopTest, report } from './lib/harness.mjs';
import { waitForStats } from './lib/browser.mjs';
import { sleep } from './lib/procs.mjs';

const STREAM = 'simulcast';
const WIDTHS = { q: 320, h: 640, f: 1280 };

interopTest('simulcast: viewers choose q, h, f and switch while watching', { timeoutMs: 120000 }, async (ctx) => {
  const server = await ctx.startServer();
  const pubPage = await ctx.clientPage();
  const pub = await pubPage.evaluate(([url, s]) => window.strataClient.publish(url, s, { simulcast: true }),
    [server.httpUrl, STREAM]);
  await waitForStats(pubPage, pub.id, (s) => s.connectionState === 'connected', 10000, 'publisher connected');

  const viewers = {};
  for (const layer of ['q', 'h', 'f']) {
    const page = await ctx.clientPage();
    const session = await page.evaluate(([url, s, l]) => window.strataClient.watch(url, s, { layer: l }),
      [server.httpUrl, STREAM, layer]);
    viewers[layer] = { page, session };
  }
  // The browser adds its upper layers as its bandwidth estimate grows: allow it time.
  for (const [layer, v] of Object.entries(viewers)) {
    const s = await waitForStats(v.page, v.session.id, (x) => x.video.frameWidth === WIDTHS[layer], 30000,
      `viewer ${layer} decodes ${WIDTHS[layer]} wide`);
    report(`viewer ${layer}`, `${s.video.frameWidth}x${s.video.frameHeight}, ${s.video.framesDecoded} frames`);
    assert.equal(s.video.frameHeight, WIDTHS[layer] * 9 / 16);
  }

  // Switch the q viewer to f while it watches.
  const v = viewers.q;
  const before = await v.page.evaluate((id) => window.strataClient.stats(id), v.session.id);
  const status = await v.page.evaluate(async (loc) => (await fetch(`${loc}/layer`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ layer: 'f' }),
  })).status, v.session.location);
  assert.equal(status, 200, 'POST {session}/layer -> 200');
  const after = await waitForStats(v.page, v.session.id, (x) => x.video.frameWidth === 1280, 10000, 'switched to f');
  await sleep(2000);
  const later = await v.page.evaluate((id) => window.strataClient.stats(id), v.session.id);
  report('switch q -> f', { before: before.video, after: later.video });
  assert.ok(later.video.framesDecoded > after.video.framesDecoded, 'keeps decoding after the switch');
  assert.ok(later.video.freezeCount <= before.video.freezeCount + 1, 'at most one freeze across the switch');
});
