// Firefox ESR as a WHEP viewer of `strata dev` started WITHOUT --public-ip (what `make run` does):
// Firefox never pairs its own interface addresses with a remote 127.0.0.1 candidate, so this only
// works because the server advertises its interface addresses (ice/host_candidates.hpp) and
// answers from the address each check was sent to (worker/udp_socket.hpp, IP_PKTINFO).
//
// Where: as root, the whole test runs twice, each time in a network namespace of its own that
// looks like a desktop (loopback plus one interface with default routes, lib/netns.mjs
// createDesktopNetns): dual-stack (IPv4 + IPv6: the server's socket is a dual-stack [::]), then
// IPv4 only (a 0.0.0.0 socket). So it does not depend on the machine's interfaces (a CI sandbox
// may have loopback only) and sends nothing outside. Without root it runs once in the machine's
// namespace and fails, rather than skips, when that has no non-loopback address.
//
// Publisher: Chromium (fake camera, lib/page/client.js). Viewer: Firefox over WebDriver BiDi
// (puppeteer-core, fresh profile). Passes when Firefox's framesDecoded rises over 4 s with
// frameWidth > 0; the selected candidate pairs of both browsers are reported.
// Usage: STRATA_BIN=build/.../strata node tests/interop/firefox_whep.test.mjs
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { interopTest, report } from './lib/harness.mjs';
import { startPageServer } from './lib/browser.mjs';
import { launchFirefox, openFirefoxClientPage } from './lib/firefox.mjs';
import { createDesktopNetns, isRoot, removeStaleNetns } from './lib/netns.mjs';
import { strataBin } from './lib/paths.mjs';
import { sleep, withTimeout } from './lib/procs.mjs';

const STREAM = 'firefox-whep';
const INNER_ENV = 'STRATA_FIREFOX_TEST_NETNS';
const SAMPLE_MS = 4000;
const MIN_NEW_FRAMES = 40;  // over 4 s at the fake camera's ~30 fps: ~120

// Polls the viewer's stats in the Firefox page until pred(stats) or timeout.
async function waitViewer(page, id, pred, ms, what) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await page.evaluate((sid) => window.strataClient.stats(sid), id);
    if (pred(last)) return last;
    await sleep(200);
  }
  throw new Error(`timeout after ${ms} ms waiting for ${what}; last stats: ${JSON.stringify(last)}`);
}

const pairText = (t) => (t && t.local && t.remote
  ? `${t.local.address}:${t.local.port} (${t.local.type}) -> ${t.remote.address}:${t.remote.port} (${t.remote.type}) ${t.local.protocol}`
  : JSON.stringify(t ?? null));

function nonLoopbackAddresses() {
  return Object.values(os.networkInterfaces()).flat()
    .filter((a) => !a.internal && !(a.family === 'IPv6' && a.address.startsWith('fe80')))
    .map((a) => a.address);
}

async function runInNamespace({ ipv6 }) {
  removeStaleNetns();
  const ns = createDesktopNetns({ ipv6 });
  process.stdout.write(`# interop: namespace ${ns.name}: lo + ${ns.ifName} ${[ns.ipv4, ns.ipv6].filter(Boolean).join(', ')}\n`);
  const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, fileURLToPath(import.meta.url)],
    { stdio: 'inherit', env: { ...process.env, [INNER_ENV]: ns.name, STRATA_BIN: strataBin() } });
  const killer = () => { try { child.kill('SIGKILL'); } catch { /* gone */ } };
  process.on('exit', killer);
  const code = await withTimeout(new Promise((resolve) => child.on('close', (c, sig) => resolve(c ?? (sig ? 1 : 0)))),
    85000, 'test inside the namespace').catch((err) => { process.stderr.write(`${err.message}\n`); killer(); return 1; });
  process.off('exit', killer);
  ns.destroy();
  return code;
}

if (isRoot() && !process.env[INNER_ENV]) {
  const dualStack = await runInNamespace({ ipv6: true });
  const ipv4Only = await runInNamespace({ ipv6: false });
  process.stdout.write(`# interop: dual-stack namespace ${dualStack ? 'FAILED' : 'passed'}, IPv4-only namespace ${ipv4Only ? 'FAILED' : 'passed'}\n`);
  process.exitCode = dualStack || ipv4Only ? 1 : 0;
} else {
  interopTest('Firefox views a Chromium host on strata dev without --public-ip', { timeoutMs: 70000 }, async (ctx) => {
    const own = nonLoopbackAddresses();
    report('namespace', process.env[INNER_ENV] ?? 'the machine\'s (not root)');
    report('interface addresses', own);
    assert.ok(own.length > 0,
      'no non-loopback interface address: run as root (the test then makes a namespace with one) or on a machine with a network');

    const server = await ctx.startServer({ publicIp: null });
    const advertised = /\(advertised ([^)]*)\)/.exec(server.proc.text())?.[1] ?? '';
    report('server advertises', advertised);
    const candidates = advertised.split(', ');
    assert.equal(candidates.at(-1), '127.0.0.1', 'loopback is the last candidate');
    assert.ok(own.every((a) => candidates.includes(a)), `every interface address is advertised (${own.join(', ')})`);

    // Host: Chromium publishes its fake camera.
    const hostPage = await ctx.clientPage();
    const pub = await hostPage.evaluate(([url, s]) => window.strataClient.publish(url, s), [server.httpUrl, STREAM]);
    // One set per m-line (audio, video); BUNDLE makes them the same.
    const answerCandidates = [...new Set(pub.answer.split('\r\n').filter((l) => l.startsWith('a=candidate:')))];
    report('answer candidates', answerCandidates);
    assert.equal(answerCandidates.length, candidates.length, 'the answer carries every advertised address');

    // Viewer: Firefox, from the same client page on a separate origin (CORS as for any viewer).
    const pageServer = await startPageServer();
    ctx.defer(() => pageServer.close());
    const firefox = await launchFirefox();
    ctx.defer(() => firefox.cleanup());
    report('firefox', await firefox.version());
    const viewerPage = await openFirefoxClientPage(firefox, pageServer.url);
    ctx.pages.push(viewerPage);
    const view = await viewerPage.evaluate((url, s) => window.strataClient.watch(url, s, { waitLiveMs: 10000 }), server.httpUrl, STREAM);

    const first = await waitViewer(viewerPage, view.id, (s) => s.video.framesDecoded > 0 && s.firstFrameMs !== null, 20000, 'Firefox decodes a first frame');
    report('firefox first frame after', `${first.firstFrameMs ?? '?'} ms`);
    const before = await waitViewer(viewerPage, view.id, (s) => s.video.frameWidth > 0, 5000, 'Firefox reports frameWidth');
    await sleep(SAMPLE_MS);
    const after = await viewerPage.evaluate((sid) => window.strataClient.stats(sid), view.id);
    const gained = after.video.framesDecoded - before.video.framesDecoded;
    report('firefox viewer', { framesDecoded: after.video.framesDecoded, gainedIn4s: gained, frameWidth: after.video.frameWidth,
      frameHeight: after.video.frameHeight, codec: after.video.codec, packetsLost: after.video.packetsLost,
      connectionState: after.connectionState });
    report('firefox selected pair', pairText(after.transport));
    const hostStats = await hostPage.evaluate((sid) => window.strataClient.stats(sid), pub.id);
    report('chromium host selected pair', pairText(hostStats.transport));

    assert.equal(after.connectionState, 'connected');
    assert.ok(gained >= MIN_NEW_FRAMES, `Firefox decoded ${gained} frames in ${SAMPLE_MS} ms (want >= ${MIN_NEW_FRAMES})`);
    assert.ok(after.video.frameWidth > 0, 'frameWidth > 0');
    const remote = after.transport?.remote?.address;
    assert.ok(remote && candidates.includes(remote), `Firefox's pair ends at an advertised address (${remote})`);
    assert.notEqual(remote, '127.0.0.1', 'Firefox never pairs a remote loopback candidate');
    assert.equal(await viewerPage.evaluate((sid) => window.strataClient.close(sid), view.id), 200, 'viewer DELETE -> 200');
  });
}
