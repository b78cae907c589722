// The server's own demo page ("/"): window.strataDemo.publish('demo') in one page, .watch('demo') in
// another; both reach their data-state ("publishing" / "playing"), the viewer decodes frames, and a
// screenshot of the viewer goes to artifacts/demo-page.png. The player's layer control switches it to q (320 wide).
// Usage: STRATA_BIN=build/.../strata node tests/interop/demo_page.test.mjs
import assert from 'node:assert/strict';
import path from 'node:path';
import { interopTest, report } from './lib/harness.mjs';
import { artifactsDir } from './lib/paths.mjs';
import { sleep } from './lib/procs.mjs';

const STREAM = 'demo';

// Frames decoded so far: from strataDemo.stats() (any nested numeric framesDecoded, since the page's
// stats shape is its own), else from the page's <video> elements.
async function decodedFrames(page) {
  return page.evaluate(async () => {
    const find = (v, depth = 0) => {
      if (!v || typeof v !== 'object' || depth > 4) return null;
      if (typeof v.framesDecoded === 'number') return v.framesDecoded;
      for (const x of Object.values(v)) { const r = find(x, depth + 1); if (r !== null) return r; }
      return null;
    };
    let fromStats = null;
    try { fromStats = find(await window.strataDemo.stats()); } catch { /* stats() optional */ }
    const fromVideo = [...document.querySelectorAll('video')]
      .map((v) => v.getVideoPlaybackQuality?.().totalVideoFrames ?? 0).reduce((a, b) => Math.max(a, b), 0);
    return { fromStats, fromVideo, frames: fromStats ?? fromVideo };
  });
}

function waitState(page, state, timeoutMs) {
  return page.waitForSelector(`[data-state="${state}"]`, { state: 'attached', timeout: timeoutMs });
}

interopTest('demo page publishes and plays', { timeoutMs: 90000 }, async (ctx) => {
  const server = await ctx.startServer();
  const url = new URL('/', server.httpUrl).href;

  const pubPage = await ctx.rawPage(url);
  await pubPage.waitForFunction(() => !!window.strataDemo, null, { timeout: 10000 });
  await pubPage.evaluate((s) => { window.strataDemo.publish(s); }, STREAM); // may resolve late; state tells
  await waitState(pubPage, 'publishing', 15000);

  const viewPage = await ctx.rawPage(url);
  await viewPage.waitForFunction(() => !!window.strataDemo, null, { timeout: 10000 });
  await sleep(1000);
  await viewPage.evaluate((s) => { window.strataDemo.watch(s); }, STREAM);
  await waitState(viewPage, 'playing', 15000);

  const deadline = Date.now() + 15000;
  let first = await decodedFrames(viewPage);
  while (first.frames <= 0 && Date.now() < deadline) { await sleep(200); first = await decodedFrames(viewPage); }
  assert.ok(first.frames > 0, `viewer decodes frames (${JSON.stringify(first)})`);
  await sleep(3000);
  const later = await decodedFrames(viewPage);
  report('demo viewer frames', { first, later });
  assert.ok(later.frames > first.frames, 'frames keep decoding');

  // The player's layer control: q caps it at the quarter layer (320 wide), auto lifts the cap.
  await viewPage.selectOption('.player .layer-select', 'q');
  const toQ = Date.now();
  let width = 0;
  while (Date.now() - toQ < 10000) {
    width = await viewPage.evaluate(() => Object.values(window.strataDemo.stats().players)[0]?.width ?? 0);
    if (width === 320) break;
    await sleep(250);
  }
  report('layer control -> q', { width, ms: Date.now() - toQ, info: await viewPage.textContent('.player .layer-info') });
  assert.equal(width, 320, 'the player shows the q layer after choosing q');
  // The server's view (GET /api/v1/streams viewer_layers), refreshed every second by the page.
  await viewPage.waitForSelector('.player[data-layer-current="q"]', { state: 'attached', timeout: 5000 });
  await viewPage.selectOption('.player .layer-select', 'auto');
  await sleep(1500);
  report('layer control -> auto', {
    error: await viewPage.textContent('#watch-error'), requested: await viewPage.getAttribute('.player', 'data-requested-layer'),
    info: await viewPage.textContent('.player .layer-info'),
  });

  const shot = path.join(artifactsDir(), 'demo-page.png');
  await viewPage.screenshot({ path: shot, fullPage: true });
  await pubPage.screenshot({ path: path.join(artifactsDir(), 'demo-page-publisher.png'), fullPage: true });
  report('screenshot', shot);
});
