// Client-side self-test (no strata server needed): proves the harness's clients work on this machine.
//  - Chromium launches headless with our flags; fake getUserMedia gives a 1280x720 track.
//  - A Chromium->Chromium loopback PeerConnection decodes frames (validates the stats reader).
//  - aiortc (Debian python3) and GStreamer webrtcbin produce offers with VP8 + Opus and BUNDLE.
// Real offers are saved in artifacts/offers/ for the SDP/signaling developers.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { interopTest, report } from './lib/harness.mjs';
import { waitForStats } from './lib/browser.mjs';
import { artifactsDir } from './lib/paths.mjs';
import { waitForEvent } from './lib/procs.mjs';

function saveOffer(file, sdp) {
  const out = path.join(artifactsDir('offers'), file);
  fs.writeFileSync(out, sdp);
  report('saved offer', out);
}

function assertBundledVp8Opus(sdp, who) {
  assert.match(sdp, /^a=group:BUNDLE /m, `${who}: offer has a=group:BUNDLE`);
  assert.match(sdp, /a=rtpmap:\d+ VP8\/90000/, `${who}: offer has VP8`);
  assert.match(sdp, /a=rtpmap:\d+ opus\/48000\/2/i, `${who}: offer has Opus`);
  assert.match(sdp, /^a=candidate:/m, `${who}: offer has candidates (gathering complete)`);
  assert.match(sdp, /^a=fingerprint:sha-256 /m, `${who}: offer has a DTLS fingerprint`);
}

interopTest('chromium: fake 1280x720 camera, offers, loopback decodes', { timeoutMs: 60000 }, async (ctx) => {
  const page = await ctx.clientPage();
  const whip = await page.evaluate(() => window.strataClient.createOffer('whip'));
  report('chromium fake camera', `${whip.width}x${whip.height}`);
  assert.equal(whip.width, 1280);
  assert.equal(whip.height, 720);
  assert.ok(whip.gathered, 'ICE gathering completed within 2 s');
  assertBundledVp8Opus(whip.sdp, 'chromium whip');
  assert.match(whip.sdp, /^a=sendonly/m);
  saveOffer('chromium-whip-offer.sdp', whip.sdp);

  const whep = await page.evaluate(() => window.strataClient.createOffer('whep'));
  assertBundledVp8Opus(whep.sdp, 'chromium whep');
  assert.match(whep.sdp, /^a=recvonly/m);
  saveOffer('chromium-whep-offer.sdp', whep.sdp);

  const { id } = await page.evaluate(() => window.strataClient.loopback());
  const first = await waitForStats(page, id, (s) => s.video.framesDecoded > 0 && s.audio.packetsReceived > 0, 10000, 'loopback decode');
  await new Promise((r) => setTimeout(r, 2000));
  const later = await page.evaluate((sid) => window.strataClient.stats(sid), id);
  report('loopback stats', later);
  assert.ok(later.video.framesDecoded > first.video.framesDecoded, 'framesDecoded rises');
  assert.ok(later.video.frameWidth > 0 && later.video.frameHeight > 0, 'frame size reported');
  assert.ok(later.firstFrameMs !== null, 'first-frame timing recorded');
});

interopTest('aiortc: creates a bundled VP8/Opus offer', { timeoutMs: 60000 }, async (ctx) => {
  for (const [script, file] of [['aiortc_publish.py', 'aiortc-whip-offer.sdp'], ['aiortc_view.py', 'aiortc-whep-offer.sdp']]) {
    const proc = ctx.python(script, ['--offer-only', 'http://127.0.0.1:9/', 'selftest']);
    const ev = await waitForEvent(proc, (e) => e.event === 'offer', 30000, 'offer');
    assertBundledVp8Opus(ev.sdp, script);
    saveOffer(file, ev.sdp);
    assert.deepEqual(await proc.exited, { code: 0, signal: null }, `${script} --offer-only exits 0`);
  }
});

interopTest('gstreamer: webrtcbin pipeline creates a bundled VP8/Opus offer', { timeoutMs: 60000 }, async (ctx) => {
  const proc = ctx.python('gst_publish.py', ['--offer-only', 'http://127.0.0.1:9/', 'selftest']);
  const ev = await waitForEvent(proc, (e) => e.event === 'offer', 30000, 'offer');
  assertBundledVp8Opus(ev.sdp, 'gst');
  assert.match(ev.sdp, /^a=sendonly/m);
  saveOffer('gst-whip-offer.sdp', ev.sdp);
  assert.deepEqual(await proc.exited, { code: 0, signal: null }, 'gst_publish.py --offer-only exits 0');
});
