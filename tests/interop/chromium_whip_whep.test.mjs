// Chromium -> strata -> Chromium: one publisher (WHIP), two viewers (WHEP) that must keep decoding
// for >= 5 s with audio flowing, and late viewers joining a live that has been up a few seconds
// (issue 14, instant start): LATE_VIEWERS fresh pages, one after another (each POSTs as soon as the
// previous one decoded its first frame and left), must decode their first frame within 1 s of their
// setRemoteDescription each, and within 200 ms of the start of their WHEP POST in the median. The
// server starts a late viewer from its keyframe cache; without it (`--keyframe-cache-ms 0`) each
// viewer needs a keyframe from the publisher, and back-to-back joins meet the one-PLI-per-second
// coalescer, so most of them wait most of a second. First frame: lib/page/client.js watchFirstFrame
// (the <video>'s requestVideoFrameCallback decode time, or getStats polled every 10 ms if earlier).
// Usage: STRATA_BIN=build/.../strata node tests/interop/chromium_whip_whep.test.mjs
import assert from 'node:assert/strict';
import { interopTest, report } from './lib/harness.mjs';
import { waitForStats } from './lib/browser.mjs';
import { sleep } from './lib/procs.mjs';

const STREAM = 'chromium-interop';
const WATCH_SECONDS = 5;
const LATE_JOIN_DELAY_MS = 3000;
const LATE_FIRST_FRAME_BUDGET_MS = 1000;          // each late viewer, after its setRemoteDescription
const LATE_VIEWERS = 5;
const LATE_FIRST_FRAME_AFTER_POST_BUDGET_MS = 200;  // the late viewers' median, after the start of the POST

function median(values) {
  const v = [...values].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

interopTest('chromium publishes, two viewers decode, late joiners get a frame fast', { timeoutMs: 120000 }, async (ctx) => {
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
    v.start = await waitForStats(v.page, v.session.id, (s) => s.video.framesDecoded > 0 && s.firstFrameMs !== null, 10000,
      `${v.name} first frame`);
    report(`${v.name} first frame after SRD (ms)`, Math.round(v.start.firstFrameMs));
  }

  // Late joiners: start 3 s after the first viewers are decoding, one after another. Their pages are
  // opened first, so that opening one does not sit between two joins. Each leaves (DELETE) once it has
  // its first frame, so every join meets the same load.
  const latePages = [];
  for (let i = 0; i < LATE_VIEWERS; i++) latePages.push(await ctx.clientPage());
  await sleep(LATE_JOIN_DELAY_MS);
  const late = [];
  for (const [i, page] of latePages.entries()) {
    const name = `late viewer ${i + 1}`;
    const session = await page.evaluate(([url, s]) => window.strataClient.watch(url, s), [server.httpUrl, STREAM]);
    await page.evaluate(([id, t]) => window.strataClient.firstFrame(id, { timeoutMs: t }), [session.id, 10000]);
    // Read it again a little later: the same first frame, with the stats poll's own reading in too.
    await sleep(50);
    const ff = await page.evaluate((id) => window.strataClient.firstFrame(id), session.id);
    report(`${name} first frame after POST (ms)`, Math.round(ff.afterPostMs));
    report(`${name} first frame`, { afterSrdMs: Math.round(ff.afterSrdMs), via: ff.via,
      srdAfterPostMs: Math.round(ff.srdAfterPostMs), statsAfterPostMs: ff.statsAfterPostMs === null ? null : Math.round(ff.statsAfterPostMs),
      statsWindowMs: ff.statsWindowMs === null ? null : Math.round(ff.statsWindowMs),
      rvfcDecodedAfterPostMs: ff.rvfcDecodedAfterPostMs === null ? null : Math.round(ff.rvfcDecodedAfterPostMs),
      rvfcPresentedAfterPostMs: ff.rvfcPresentedAfterPostMs === null ? null : Math.round(ff.rvfcPresentedAfterPostMs) });
    assert.equal(await page.evaluate((sid) => window.strataClient.close(sid), session.id), 200, `${name}: DELETE session -> 200`);
    late.push({ name, ff });
  }
  const afterPost = late.map((v) => v.ff.afterPostMs);
  const lateMedian = median(afterPost);
  report('late viewers first frame after POST (ms)', { each: afterPost.map(Math.round), median: Math.round(lateMedian),
    budget: LATE_FIRST_FRAME_AFTER_POST_BUDGET_MS });

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

  for (const v of late) {
    assert.ok(v.ff.afterSrdMs <= LATE_FIRST_FRAME_BUDGET_MS,
      `${v.name} decoded its first frame ${Math.round(v.ff.afterSrdMs)} ms after setRemoteDescription (budget ${LATE_FIRST_FRAME_BUDGET_MS} ms)`);
  }
  assert.ok(lateMedian <= LATE_FIRST_FRAME_AFTER_POST_BUDGET_MS,
    `late viewers decoded their first frame a median ${Math.round(lateMedian)} ms after the start of their WHEP POST `
    + `(${afterPost.map(Math.round).join(', ')} ms; budget ${LATE_FIRST_FRAME_AFTER_POST_BUDGET_MS} ms)`);

  // RFC 9725 §4.2: DELETE ends the sessions with 200 (the late viewers' were checked as they left).
  for (const [page, id] of [...viewers.map((v) => [v.page, v.session.id]), [pubPage, pub.id]]) {
    assert.equal(await page.evaluate((sid) => window.strataClient.close(sid), id), 200, 'DELETE session -> 200');
  }
});
