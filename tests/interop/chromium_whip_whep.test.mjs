// Chromium -> strata -> Chromium: one publisher (WHIP), two viewers (WHEP) that must keep decoding
// for >= 5 s with audio flowing, and a late viewer whose first frame must come within 1 s of its
// setRemoteDescription (the server should send a key frame / ask the publisher for one on join).
// Usage: STRATA_BIN=build/.../strata node tests/interop/chromium_whip_whep.test.mjs
import assert from 'node:assert/strict';
import { interopTest, report } from './lib/harness.mjs';
import { waitForStats } from './lib/browser.mjs';
import { sleep } from './lib/procs.mjs';

const STREAM = 'chromium-interop';
const WATCH_SECONDS = 5;
const LATE_JOIN_DELAY_MS = 3000;
const LATE_FIRST_FRAME_BUDGET_MS = 1000;

interopTest('chromium publishes, two viewers decode, late joiner gets a frame fast', { timeoutMs: 120000 }, async (ctx) => {
  const server = await ctx.startServer();
  const pubPage = await ctx.clientPage();
  const pub = await pubPage.evaluate(([url, s]) => window.strataClient.publish(url, s), [server.httpUrl, STREAM]);
  report('publisher session', { location: pub.location, etag: pub.etag, camera: `${pub.width}x${pub.height}` });
  assert.equal(pub.width, 1280);
  assert.ok(pub.etag, 'WHIP 201 carries an ETag');
  await waitForStats(pubPage, pub.id, (s) => s.outbound.video.packetsSent > 0 && s.connectionState === 'connected',
    10000, 'publisher connected and sending');

  const viewers = [];
  for (let i = 0; i < 2; i++) {
    const page = await ctx.clientPage();
    const session = await page.evaluate(([url, s]) => window.strataClient.watch(url, s), [server.httpUrl, STREAM]);
    viewers.push({ page, session, name: `viewer${i + 1}` });
  }
  for (const v of viewers) {
    v.start = await waitForStats(v.page, v.session.id, (s) => s.video.framesDecoded > 0, 10000, `${v.name} first frame`);
    report(`${v.name} first frame after SRD (ms)`, Math.round(v.start.firstFrameMs));
  }

  // Late joiner: starts 3 s after the first viewers are decoding.
  await sleep(LATE_JOIN_DELAY_MS);
  const latePage = await ctx.clientPage();
  const late = await latePage.evaluate(([url, s]) => window.strataClient.watch(url, s), [server.httpUrl, STREAM]);
  const lateStats = await waitForStats(latePage, late.id, (s) => s.firstFrameMs !== null, 10000, 'late viewer first frame');
  report('late viewer first frame after SRD (ms)', Math.round(lateStats.firstFrameMs));

  // Sample the first two viewers every second for WATCH_SECONDS (they have run >= 3 s already).
  const samples = viewers.map(() => []);
  for (let sec = 0; sec <= WATCH_SECONDS; sec++) {
    for (const [i, v] of viewers.entries()) {
      samples[i].push(await v.page.evaluate((id) => window.strataClient.stats(id), v.session.id));
    }
    if (sec < WATCH_SECONDS) await sleep(1000);
  }
  for (const [i, v] of viewers.entries()) {
    const frames = samples[i].map((s) => s.video.framesDecoded);
    const last = samples[i].at(-1);
    report(`${v.name} framesDecoded per second`, frames);
    report(`${v.name} final`, { size: `${last.video.frameWidth}x${last.video.frameHeight}`, codec: last.video.codec,
      freezeCount: last.video.freezeCount, audioPackets: last.audio.packetsReceived, lost: last.video.packetsLost });
    for (let k = 1; k < frames.length; k++) {
      assert.ok(frames[k] > frames[k - 1], `${v.name}: framesDecoded rises every second (${frames.join(',')})`);
    }
    assert.ok(last.audio.packetsReceived > 0, `${v.name}: audio packets received`);
    assert.ok(last.video.frameWidth > 0 && last.video.frameHeight > 0, `${v.name}: frame size known`);
  }

  assert.ok(lateStats.firstFrameMs <= LATE_FIRST_FRAME_BUDGET_MS,
    `late viewer decoded its first frame ${Math.round(lateStats.firstFrameMs)} ms after setRemoteDescription (budget ${LATE_FIRST_FRAME_BUDGET_MS} ms)`);

  // RFC 9725 §4.2: DELETE ends the sessions with 200.
  for (const [page, id] of [[latePage, late.id], ...viewers.map((v) => [v.page, v.session.id]), [pubPage, pub.id]]) {
    assert.equal(await page.evaluate((sid) => window.strataClient.close(sid), id), 200, 'DELETE session -> 200');
  }
});
