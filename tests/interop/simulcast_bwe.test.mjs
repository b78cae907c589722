// Downlink bandwidth estimation picks the simulcast layer: a Chromium viewer inside a network
// namespace, behind a token bucket (tc tbf on the host-side veth, i.e. server -> viewer only; default
// 500 kbit/s, see CAP_KBIT), reaches the lowest layer (320 wide) within 10 s of joining and stays there
// 3 s, still decoding; once the cap is lifted it reaches the top layer (1280 wide, ≥ 15 fps) within
// 20 s and stays there 3 s. The publisher is a Chromium in the root namespace sending q/h/f of
// 1280x720 from a noisy test pattern, so the layers run at camera-like rates (~150/500/2400
// kbit/s; the built-in fake camera's h would fit under 500). Measured times are reported, with a 500 ms timeline in artifacts/simulcast_bwe/; so is how
// long a re-applied cap takes to bring the viewer down again (reported, not asserted).
// Needs root (ip netns, tc): prints "SKIP: ..." and exits 0 otherwise.
// Usage: sudo STRATA_BIN=build/.../strata node tests/interop/simulcast_bwe.test.mjs
import path from 'node:path';
import { interopTest, report } from './lib/harness.mjs';
import { artifactsDir } from './lib/paths.mjs';
import { openClientPage, startPageServer } from './lib/browser.mjs';
import { createNetns, isRoot, removeStaleNetns, startServerOn } from './lib/netns.mjs';
import { parseMetrics } from './lib/metrics.mjs';
import { sleep } from './lib/procs.mjs';
import { checkCapPremise, launchCameraLikePublisher, publisherAllLayers, publisherLayerRates, runCapScenario, viewerLayer, waitWidth } from "./lib/bwe_checks.mjs";

const STREAM = 'bwe';
// Between the lowest layer's rate and the next one's for Chromium's fake camera (q+audio ~250, h+audio
// ~420 kbit/s; checked at run time by checkCapPremise). 500 kbit/s would also carry h.
const CAP_KBIT = Number(process.env.STRATA_BWE_CAP_KBIT) || 500;
const PUBLISHER_RAMP_MS = 3000;
const SETTLE_BUDGET_MS = 10000;
const CLIMB_BUDGET_MS = 20000;
const HOLD_MS = 3000;          // after reaching a layer: still that size and still decoding this long

if (!isRoot()) {
  process.stdout.write('SKIP: simulcast_bwe needs root (ip netns add, tc qdisc)\n');
  process.exit(0);
}

interopTest('simulcast BWE: capped viewer settles on q, climbs to f when uncapped', { timeoutMs: 150000 }, async (ctx) => {
  const stale = removeStaleNetns();
  if (stale.length) report('removed stale namespaces/links', stale);
  const ns = createNetns();
  ctx.defer(() => ns.destroy());
  report('namespace', { name: ns.name, hostIf: ns.hostIf, hostIp: ns.hostIp, nsIp: ns.nsIp });

  // The server listens on the host-side veth address: reachable from both namespaces.
  const server = await startServerOn(ns.hostIp);
  ctx.server = server;
  ctx.procs.push(server.proc);
  ctx.defer(() => server.stop());

  const pubBrowser = await launchCameraLikePublisher(path.join(artifactsDir('simulcast_bwe'), 'media'));
  ctx.defer(() => pubBrowser.close());
  // getUserMedia needs a secure context: the page comes from a 127.0.0.1 page server.
  const pageServer = await startPageServer();
  ctx.defer(() => pageServer.close());
  const pubPage = await openClientPage(pubBrowser, { pageUrl: pageServer.url, serverUrl: server.httpUrl });
  ctx.pages.push(pubPage);
  const pub = await pubPage.evaluate(([url, s]) => window.strataClient.publish(url, s, { simulcast: true }),
    [server.httpUrl, STREAM]);
  const layers = await publisherAllLayers(pubPage, pub.id, 30000);
  report('publisher encodings', layers.encodings);
  // Let the publisher's own estimate ramp, then check the cap separates q from h for this content.
  await sleep(PUBLISHER_RAMP_MS);
  const rates = await publisherLayerRates(pubPage, pub.id);
  report('publisher send rates (kbit/s)', rates);
  report('cap premise (kbit/s needed, cap ' + CAP_KBIT + ')', checkCapPremise(rates, CAP_KBIT));

  // The viewer: Chromium inside the namespace, page from the server's own origin on the veth address.
  const viewerBrowser = await ns.launchChromium();
  ctx.defer(() => viewerBrowser.cleanup());
  const viewPage = await openClientPage(viewerBrowser, { pageUrl: null, serverUrl: server.httpUrl });
  ctx.pages.push(viewPage);

  // Uncapped probe session first: Chromium in the namespace reaches the server and decodes.
  const probe = await viewPage.evaluate(([url, s]) => window.strataClient.watch(url, s), [server.httpUrl, STREAM]);
  const probed = await waitWidth(viewPage, probe.id, { width: null, timeoutMs: 10000 }, 'uncapped probe viewer decodes');
  report('uncapped probe viewer', { firstFrameMs: probed.stats.firstFrameMs, width: probed.stats.video.frameWidth });
  await viewPage.evaluate((id) => window.strataClient.close(id), probe.id);

  await runCapScenario({
    page: viewPage, ns, report, capKbit: CAP_KBIT, settleBudgetMs: SETTLE_BUDGET_MS, climbBudgetMs: CLIMB_BUDGET_MS, holdMs: HOLD_MS,
    timelineFile: path.join(artifactsDir('simulcast_bwe'), 'timeline.jsonl'),
    join: () => viewPage.evaluate(([url, s]) => window.strataClient.watch(url, s), [server.httpUrl, STREAM]),
    diag: async (view) => ({ qdisc: ns.qdiscCounters(), server: await viewerLayer(server.httpUrl, STREAM, view.location) }),
  });

  const m = parseMetrics(await server.metricsText());
  const pick = (prefix) => Object.fromEntries([...m].filter(([k]) => k.startsWith(prefix)));
  report('server counters', { ...pick('strata_layer_switches'), ...pick('strata_bwe_'), ...pick('strata_keyframe_requests') });
});
