// GStreamer webrtcbin (VP8 + Opus) -> strata -> Chromium viewer that must decode frames.
// Usage: STRATA_BIN=build/.../strata node tests/interop/gst_interop.test.mjs
import assert from 'node:assert/strict';
import { interopTest, report } from './lib/harness.mjs';
import { waitForStats } from './lib/browser.mjs';
import { sleep, waitForEvent } from './lib/procs.mjs';

const STREAM = 'gst-interop';
const PUBLISH_SECONDS = 25;

interopTest('gstreamer publisher -> strata -> chromium viewer decodes', { timeoutMs: 90000 }, async (ctx) => {
  const server = await ctx.startServer();
  const pub = ctx.python('gst_publish.py', [server.httpUrl, STREAM, '--duration', String(PUBLISH_SECONDS)], 'gst-publish');
  const session = await waitForEvent(pub, (e) => e.event === 'session' || e.event === 'error', 20000, 'WHIP session');
  assert.equal(session.event, 'session', `WHIP POST failed: ${JSON.stringify(session)}`);
  report('gst publisher location', session.location);

  const page = await ctx.clientPage();
  const view = await page.evaluate(([url, s]) => window.strataClient.watch(url, s, { waitLiveMs: 10000 }), [server.httpUrl, STREAM]);
  const first = await waitForStats(page, view.id, (s) => s.video.framesDecoded > 0 && s.firstFrameMs !== null, 15000, 'first decoded frame');
  report('chromium viewer first frame after SRD (ms)', Math.round(first.firstFrameMs));
  await sleep(3000);
  const later = await page.evaluate((id) => window.strataClient.stats(id), view.id);
  report('chromium viewer stats', later);
  assert.ok(later.video.framesDecoded > first.video.framesDecoded + 30, 'framesDecoded keeps rising (>10 fps)');
  assert.equal(later.video.codec, 'video/VP8');
  assert.equal(later.video.frameWidth, 640);
  assert.ok(later.audio.packetsReceived > 0, 'audio (Opus from audiotestsrc) arrives');
  assert.ok(pub.running(), 'gst publisher still running');
  assert.equal(await page.evaluate((id) => window.strataClient.close(id), view.id), 200, 'viewer DELETE -> 200');
});
