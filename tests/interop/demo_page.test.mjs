// The server's own demo page ("/"), driven through window.strataDemo and its data attributes.
// 1. publish('demo') in one page, watch('demo') in another: both reach their data-state
//    ("publishing" / "playing"), the viewer decodes frames, the layer control switches it to q
//    (320 wide); screenshot artifacts/demo-page.png.
// 2. A live with two hosts: host A goes live, B joins as a guest (publishes, watches ?exclude=B),
//    a third page watches with 2 slots: tiles labelled A and B from the event stream, frames
//    decode in both; screenshot artifacts/demo-live.png.
// 3. A 3-person call (?mode=call): everyone publishes and watches the two others; frames decode
//    in every tile; screenshot artifacts/demo-call.png.
// Page source: the server's "/" (the page embedded in the binary). With STRATA_DEMO_FROM_SOURCE=1
// the page is web/ of this checkout, served by a small Node server on another port and pointed
// at strata with ?server= (cross-origin), to work on the page without rebuilding the server.
// Usage: STRATA_BIN=build/.../strata node tests/interop/demo_page.test.mjs
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { interopTest, report } from './lib/harness.mjs';
import { artifactsDir, REPO_ROOT } from './lib/paths.mjs';
import { sleep } from './lib/procs.mjs';

const STREAM = 'demo';
const WEB_DIR = path.join(REPO_ROOT, 'web');
const CONTENT_TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

// Serves web/ on a free port. Returns { url, close() }.
function serveWebDir() {
  const server = http.createServer((req, res) => {
    const name = new URL(req.url, 'http://x').pathname.replace(/^\/$/, '/index.html');
    const file = path.join(WEB_DIR, path.basename(name));
    if (!fs.existsSync(file)) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' });
    res.end(fs.readFileSync(file));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const close = () => new Promise((r) => { server.close(r); server.closeAllConnections(); });
      resolve({ url: `http://127.0.0.1:${server.address().port}/`, close });
    });
  });
}

// The demo page's URL for this test's server, with extra query parameters (e.g. mode=call).
async function demoUrl(ctx, server, query = {}) {
  const params = new URLSearchParams(query);
  let base = new URL('/', server.httpUrl).href;
  if (process.env.STRATA_DEMO_FROM_SOURCE) {
    if (!ctx.webServer) {
      ctx.webServer = await serveWebDir();
      ctx.defer(() => ctx.webServer.close());
    }
    base = ctx.webServer.url;
    params.set('server', server.httpUrl);
  }
  const search = String(params);
  return search ? `${base}?${search}` : base;
}

async function openDemo(ctx, server, query) {
  const page = await ctx.rawPage(await demoUrl(ctx, server, query));
  await page.waitForFunction(() => !!window.strataDemo, null, { timeout: 10000 });
  return page;
}

// n pages: the first alone (it launches the browser and the web/ server once), the others at once.
async function openDemos(ctx, server, n, query) {
  const first = await openDemo(ctx, server, query);
  return [first, ...await Promise.all(Array.from({ length: n - 1 }, () => openDemo(ctx, server, query)))];
}

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

function waitState(page, selector, state, timeoutMs) {
  return page.waitForSelector(`${selector}[data-state="${state}"]`, { state: 'attached', timeout: timeoutMs });
}

// The page's slot tiles: slot, mid, host (data-host), label, tile state, frames decoded (the page's
// per-tile stats) and frames painted by its <video>.
function tiles(page) {
  return page.evaluate(() => [...document.querySelectorAll('.tile[data-slot]')].map((tile) => ({
    slot: Number(tile.dataset.slot),
    mid: tile.dataset.mid ?? null,
    host: tile.dataset.host,
    label: tile.querySelector('.name').textContent,
    state: tile.dataset.state,
    frames: Number(tile.dataset.frames ?? 0),
    painted: tile.querySelector('video').getVideoPlaybackQuality?.().totalVideoFrames ?? 0,
  })));
}

// Waits until the page's tiles show exactly `hosts` (in slot order), each labelled with its host
// and decoding frames. Returns the tiles.
async function waitTilesDecoding(page, hosts, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  let last = [];
  while (Date.now() < deadline) {
    last = await tiles(page);
    const ok = last.length === hosts.length && last.every((t, i) =>
      t.host === hosts[i] && t.label === hosts[i] && t.state === 'live' && t.frames > 0 && t.painted > 0);
    if (ok) return last;
    await sleep(250);
  }
  throw new Error(`${what}: tiles never showed ${JSON.stringify(hosts)} decoding within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
}

// Every tile decodes more frames than in `before` within timeoutMs (generous: on a busy machine the
// hosts' encoders starve and the viewers drop to a few frames per second for a while).
async function assertTilesKeepDecoding(page, before, what, timeoutMs = 8000) {
  const deadline = Date.now() + timeoutMs;
  let after = [];
  const grew = (tile) => after.find((t) => t.slot === tile.slot)?.frames > tile.frames;
  do {
    await sleep(1000);
    after = await tiles(page);
  } while (!before.every(grew) && Date.now() < deadline);
  for (const tile of before) {
    assert.ok(grew(tile), `${what}: slot ${tile.slot} (${tile.host}) keeps decoding (${tile.frames} -> ${after.find((t) => t.slot === tile.slot)?.frames})`);
  }
  return after;
}

interopTest('demo page publishes and plays', { timeoutMs: 60000 }, async (ctx) => {
  const server = await ctx.startServer();

  const pubPage = await openDemo(ctx, server);
  await pubPage.evaluate((s) => { window.strataDemo.publish(s); }, STREAM); // may resolve late; state tells
  await waitState(pubPage, '#publish', 'publishing', 15000);

  const viewPage = await openDemo(ctx, server);
  await sleep(1000);
  await viewPage.evaluate((s) => { window.strataDemo.watch(s); }, STREAM);
  await waitState(viewPage, '#watch', 'playing', 15000);

  const deadline = Date.now() + 15000;
  let first = await decodedFrames(viewPage);
  while (first.frames <= 0 && Date.now() < deadline) { await sleep(200); first = await decodedFrames(viewPage); }
  assert.ok(first.frames > 0, `viewer decodes frames (${JSON.stringify(first)})`);
  await sleep(3000);
  const later = await decodedFrames(viewPage);
  report('demo viewer frames', { first, later });
  assert.ok(later.frames > first.frames, 'frames keep decoding');
  // One host, no ?host=: the server names it "host", and the one tile says so.
  const [tile] = await waitTilesDecoding(viewPage, ['host'], 5000, 'single host');
  report('single tile', tile);

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

interopTest('demo page: a host and a guest in one live, a viewer with two slots', { timeoutMs: 75000 }, async (ctx) => {
  const server = await ctx.startServer();
  const LIVE = 'show';

  const [hostPage, guestPage, viewPage] = await openDemos(ctx, server, 3);

  // Host A goes live.
  await hostPage.evaluate((live) => { window.strataDemo.publish(live, { host: 'A' }); }, LIVE);
  await waitState(hostPage, '#publish', 'publishing', 15000);

  // B joins as a guest: publishes into the same live and watches its co-host A.
  await guestPage.evaluate((live) => { window.strataDemo.join(live, 'B'); }, LIVE);
  await waitState(guestPage, '#publish', 'publishing', 20000);
  await waitState(guestPage, '.player', 'playing', 20000);
  await waitTilesDecoding(guestPage, ['A'], 15000, 'guest B watching its co-host');

  // A viewer with two slots gets both hosts, in join order, each tile labelled by the event stream.
  await viewPage.evaluate((live) => { window.strataDemo.watch(live, { slots: 2 }); }, LIVE);
  await waitState(viewPage, '.player', 'playing', 15000);
  const first = await waitTilesDecoding(viewPage, ['A', 'B'], 20000, 'viewer with 2 slots');
  const later = await assertTilesKeepDecoding(viewPage, first, 'viewer with 2 slots');
  report('live tiles', later);

  // The event stream also counts viewers (this one and the guest's) and names the speaker, if any.
  const live = await viewPage.evaluate(() => {
    const player = document.querySelector('.player');
    return { viewers: Number(player.dataset.viewers), speaker: player.dataset.speaker, summary: player.querySelector('.viewers').textContent,
      speaking: [...document.querySelectorAll('.tile[data-speaking]')].map((t) => t.dataset.host) };
  });
  report('live info', live);
  assert.ok(live.viewers >= 2, `the viewer count covers the viewer and the guest (${JSON.stringify(live)})`);
  assert.ok(live.speaking.every((host) => host === live.speaker), 'only the speaker\'s tile is highlighted');
  const hostInfo = await hostPage.textContent('#publish-info');
  report('host A sees', hostInfo);
  assert.match(hostInfo, /A, B/, 'the host sees both hosts of its live');

  const shot = path.join(artifactsDir(), 'demo-live.png');
  await viewPage.screenshot({ path: shot, fullPage: true });
  await guestPage.screenshot({ path: path.join(artifactsDir(), 'demo-live-guest.png'), fullPage: true });
  report('screenshot', shot);
});

interopTest('demo page: a 3-person call', { timeoutMs: 90000 }, async (ctx) => {
  const server = await ctx.startServer();
  const CALL = 'standup';
  const people = ['ann', 'bob', 'cyd'];

  const t0 = Date.now();
  const timeline = {};
  const pages = await openDemos(ctx, server, people.length, { mode: 'call' });
  timeline.pagesOpen = Date.now() - t0;
  // One after the other, so that the join order (and with it the order of the tiles) is known.
  for (const [i, page] of pages.entries()) {
    await page.evaluate(([call, who]) => { window.strataDemo.join(call, who, { slots: 2 }); }, [CALL, people[i]]);
    await waitState(page, '#publish', 'publishing', 20000);
    timeline[`${people[i]}Publishing`] = Date.now() - t0;
  }
  for (const page of pages) await waitState(page, '.player', 'playing', 20000);
  timeline.allPlaying = Date.now() - t0;
  // Everyone sees the two others, in join order, decoding.
  for (const [i, page] of pages.entries()) {
    const others = people.filter((_, j) => j !== i);
    const first = await waitTilesDecoding(page, others, 20000, `${people[i]} in the call`);
    timeline[`${people[i]}Decoding`] = Date.now() - t0;
    const later = await assertTilesKeepDecoding(page, first, `${people[i]} in the call`);
    report(`${people[i]} sees`, later);
    assert.equal(await page.getAttribute('.tile[data-self]', 'data-host'), people[i], 'the own camera is the first tile');
  }

  report('call timeline (ms)', timeline);
  const shot = path.join(artifactsDir(), 'demo-call.png');
  await pages[0].screenshot({ path: shot, fullPage: true });
  report('screenshot', shot);
});
