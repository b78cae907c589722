// Simulcast beyond VP8 (issue 4): Chromium publishes q/h/f with VP9 and AV1 at
// scalabilityMode L1T3 (three temporal layers per encoding), and H.264 when this Chromium
// can encode it. For each codec, viewers asking for q and f decode 320x180 and 1280x720 in
// that codec, and the f viewer keeps decoding after a switch to q, with no sequence holes. Temporal layer ids (VP9
// descriptor) let the server drop temporal layers; AV1 carries them in the dependency
// descriptor, which Strata does not read, so AV1 is forwarded per spatial layer only.
// Usage: STRATA_BIN=build/.../strata node tests/interop/simulcast_codecs.test.mjs
import assert from 'node:assert/strict';
import { interopTest, report } from './lib/harness.mjs';
import { waitForStats } from './lib/browser.mjs';
import { sleep } from './lib/procs.mjs';

const CASES = [
  { codec: 'VP9', scalabilityMode: 'L1T3' },
  { codec: 'AV1', scalabilityMode: 'L1T3' },
  { codec: 'H264', scalabilityMode: null },
];

interopTest('simulcast with VP9 / AV1 (L1T3) and H.264: q and f decode, switching works', { timeoutMs: 170000 }, async (ctx) => {
  const server = await ctx.startServer();
  const probe = await ctx.clientPage();
  const available = await probe.evaluate(() => window.strataClient.sendCodecs());
  report('codecs this Chromium can send', available);
  const only = process.env.STRATA_CODECS?.split(',');
  for (const { codec, scalabilityMode } of CASES.filter((c) => !only || only.includes(c.codec))) {
    if (!available.includes(codec)) {
      assert.notEqual(codec, 'VP9', 'Chromium always sends VP9');
      assert.notEqual(codec, 'AV1', 'Chromium always sends AV1');
      report(`${codec}`, 'skipped: this Chromium build cannot encode it');
      continue;
    }
    const stream = `sc-${codec.toLowerCase()}`;
    const pubPage = await ctx.clientPage();
    const pub = await pubPage.evaluate(([url, s, c, m]) => window.strataClient.publish(url, s, { simulcast: true, codec: c, scalabilityMode: m }),
      [server.httpUrl, stream, codec, scalabilityMode]);
    await waitForStats(pubPage, pub.id, (s) => s.connectionState === 'connected', 10000, `${codec} publisher connected`);
    const viewers = {};
    for (const layer of ['q', 'f']) {
      const page = await ctx.clientPage();
      const session = await page.evaluate(([url, s, l]) => window.strataClient.watch(url, s, { layer: l }), [server.httpUrl, stream, layer]);
      viewers[layer] = { page, session };
    }
    for (const [layer, width] of [['q', 320], ['f', 1280]]) {
      const v = viewers[layer];
      const s = await waitForStats(v.page, v.session.id, (x) => x.video.frameWidth === width && x.video.framesDecoded > 10, 40000,
        `${codec} viewer ${layer} decodes ${width} wide`);
      assert.equal(s.video.codec?.toLowerCase(), `video/${codec.toLowerCase()}`, `${codec} viewer ${layer} receives ${codec}`);
      report(`${codec} viewer ${layer}`, `${s.video.frameWidth}x${s.video.frameHeight}, ${s.video.framesDecoded} frames, ${s.video.codec}`);
    }
    // The f viewer switches to q while watching.
    const v = viewers.f;
    const status = await v.page.evaluate((loc) => fetch(`${loc}/layer`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ layer: 'q' }),
    }).then((r) => r.status), v.session.location);
    assert.equal(status, 200);
    const before = await waitForStats(v.page, v.session.id, (x) => x.video.frameWidth === 320, 15000, `${codec} f viewer switched to q`);
    await sleep(3000);
    const after = await v.page.evaluate((id) => window.strataClient.stats(id), v.session.id);
    assert.ok(after.video.framesDecoded > before.video.framesDecoded + 10,
      `${codec}: keeps decoding after the switch: ${JSON.stringify({ before: before.video, after: after.video })}`);
    // Chromium pads with RTX copies of delivered packets; forwarded, they made a joining
    // viewer start at an old keyframe and stall on the hole after it (found with H.264).
    assert.ok(after.video.packetsLost <= 5, `${codec}: no sequence holes at the viewer: ${after.video.packetsLost} lost`);
    report(`${codec} switch f -> q`, { framesDecoded: [before.video.framesDecoded, after.video.framesDecoded], freezes: after.video.freezeCount });
    for (const p of [pubPage, viewers.q.page, viewers.f.page]) await p.close().catch(() => {});
  }
});
