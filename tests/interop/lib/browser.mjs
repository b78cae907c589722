// Chromium (Debian's /usr/bin/chromium) driven by playwright-core, plus the page that hosts the
// in-page WHIP/WHEP client (lib/page/client.js).
//
// Page origin: by default the client page is served by a tiny Node HTTP server on its own port
// (http://127.0.0.1:<other port>), so every WHIP/WHEP request from the browser is cross-origin
// and exercises the server's CORS handling (preflight for application/sdp, exposed Location/ETag).
// With STRATA_INTEROP_SAME_ORIGIN=1 the page is the server's own "/" instead and the client script
// is injected into it (useful to tell a CORS bug from a media bug).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, LIB_DIR } from './paths.mjs';

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
  '--force-fieldtrials=WebRTC-LegacySimulcastLayerLimit/Disabled/',
];

const CLIENT_JS = path.join(LIB_DIR, 'page', 'client.js');
const CLIENT_HTML = path.join(LIB_DIR, 'page', 'index.html');

// Launches Chromium. Profile: playwright-core itself creates a fresh mkdtemp --user-data-dir
// (playwright_chromiumdev_profile-*) for every launch() and removes it on close; it refuses a
// --user-data-dir in args, so we rely on that instead of passing our own.
export async function launchChromium({ extraArgs = [] } = {}) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    timeout: 30000,
  });
  browser.cleanup = () => browser.close().catch(() => {});
  return browser;
}

// Serves lib/page/index.html and client.js on a free port. Returns { url, close() }.
export function startPageServer() {
  const files = { '/': [CLIENT_HTML, 'text/html'], '/index.html': [CLIENT_HTML, 'text/html'], '/client.js': [CLIENT_JS, 'text/javascript'] };
  const server = http.createServer((req, res) => {
    const entry = files[new URL(req.url, 'http://x').pathname];
    if (!entry) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'Content-Type': entry[1], 'Cache-Control': 'no-store' });
    res.end(fs.readFileSync(entry[0]));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

// Opens a page with window.strataClient ready. `pageUrl` is the static page server's URL, or null for
// same-origin mode (serverUrl's "/" + injected client). Console output is kept on page.consoleLines.
export async function openClientPage(browser, { pageUrl, serverUrl }) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.consoleLines = [];
  page.on('console', (msg) => page.consoleLines.push(`[${msg.type()}] ${msg.text()}`));
  page.on('pageerror', (err) => page.consoleLines.push(`[pageerror] ${err.message}`));
  page.setDefaultTimeout(15000);
  if (pageUrl) {
    await page.goto(pageUrl);
  } else {
    await page.goto(new URL('/', serverUrl).href);
    await page.addScriptTag({ path: CLIENT_JS });
  }
  await page.waitForFunction(() => !!window.strataClient, null, { timeout: 5000 });
  return page;
}

// Polls page-side stats for a session until pred(stats) or timeout; returns the last stats.
export async function waitForStats(page, id, pred, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await page.evaluate((sid) => window.strataClient.stats(sid), id);
    if (pred(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timeout after ${timeoutMs} ms waiting for ${what}; last stats: ${JSON.stringify(last)}`);
}
