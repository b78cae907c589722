// Downlink bandwidth estimation through the cluster: Redis + broker + one origin + one edge; a Chromium
// publisher (root namespace) sends q/h/f of 1280x720 through the broker to the origin; a Chromium viewer
// inside a network namespace watches through the broker (307 to the edge, which relays from the origin)
// behind a tbf cap on the host-side veth (edge -> viewer only; default 500 kbit/s, see CAP_KBIT). It
// must reach the lowest layer (320 wide) within 10 s and stay there 3 s, decoding, then reach the top
// layer (1280 wide, ≥ 15 fps) within 20 s once the cap is lifted and stay there 3 s (runCapScenario in
// tests/interop/lib/bwe_checks.mjs, as the interop test). The broker and nodes listen on the host-side
// veth address so the namespaced viewer reaches them (HTTP and media). Needs root: prints "SKIP: ..."
// and exits 0 otherwise.
// Usage: sudo STRATA_BIN=build/.../strata node tests/cluster/cluster_bwe.test.mjs
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { artifactsDir } from '../interop/lib/paths.mjs';
import { launchChromium, openClientPage, startPageServer } from '../interop/lib/browser.mjs';
import { sleep, startProcess, withTimeout } from '../interop/lib/procs.mjs';
import { freeTcpPort, randomFreeUdpPort } from '../interop/lib/ports.mjs';
import { createNetns, isRoot, removeStaleNetns, startPageServerOn, waitHttpOk } from '../interop/lib/netns.mjs';
import { checkCapPremise, launchCameraLikePublisher, publisherAllLayers, publisherLayerRates, runCapScenario, viewerLayer, waitWidth } from '../interop/lib/bwe_checks.mjs';
import { Cluster, getJson, getMetrics, waitUntil } from './lib/cluster.mjs';

const STREAM = 'bwe';
// Between the lowest layer's rate and the next one's for Chromium's fake camera (q+audio ~250, h+audio
// ~420 kbit/s; checked at run time by checkCapPremise). 500 kbit/s would also carry h.
const CAP_KBIT = Number(process.env.STRATA_BWE_CAP_KBIT) || 500;
const PUBLISHER_RAMP_MS = 3000;
const SETTLE_BUDGET_MS = 10000;
const CLIMB_BUDGET_MS = 20000;
const HOLD_MS = 3000;
const TEST_BUDGET_MS = 90000;

function report(label, value) {
  process.stdout.write(`# cluster: ${label}: ${typeof value === 'string' ? value : JSON.stringify(value)}\n`);
}

if (!isRoot()) {
  process.stdout.write('SKIP: cluster_bwe needs root (ip netns add, tc qdisc)\n');
  process.exit(0);
}

// A broker or node on `host` (cluster.mjs's own start binds 127.0.0.1, which the namespace cannot
// reach). The node object has what Cluster's stop/saveLogs/unexpectedExits use.
async function startOn(cluster, host, { role, id }) {
  const port = await freeTcpPort(host);
  const httpUrl = `http://${host}:${port}`;
  const args = role === 'broker'
    ? ['broker', '--region', 'a', '--http', `${host}:${port}`, '--registry', cluster.registryUrl]
    : ['node', '--role', role, '--region', 'a', '--http', `${host}:${port}`, '--udp-port', String(await randomFreeUdpPort(host)),
      '--workers', '1', '--public-ip', host, '--registry', cluster.registryUrl, '--cluster-secret-file', cluster.secretFile,
      '--node-id', id, '--relay-linger', '10'];
  const proc = startProcess(cluster.bin, args, { name: id });
  proc.lines.push(`[harness] ${cluster.bin} ${args.join(' ')}`);
  if (!(await waitHttpOk(proc, `${httpUrl}/healthz`))) throw new Error(`${id} exited at startup:\n${proc.text().slice(-3000)}`);
  if (role === 'broker') {
    cluster.broker = proc;
    cluster.brokerUrl = httpUrl;
    return proc;
  }
  const node = {
    role, id, port, httpUrl, proc, procs: [proc], killed: false,
    get running() { return proc.running(); },
    stop() { node.killed = true; return proc.stop(5000); },
    metrics: () => getMetrics(httpUrl),
    streams: () => getJson(`${httpUrl}/api/v1/streams`).then((j) => j.streams ?? []),
  };
  cluster.nodes.push(node);
  return node;
}

test('cluster BWE: viewer on an edge behind a cap settles on q, climbs to f when uncapped', { timeout: TEST_BUDGET_MS + 30000 }, async () => {
  const cleanups = [];
  const pages = [];
  let cluster;
  try {
    await withTimeout((async () => {
      const stale = removeStaleNetns();
      if (stale.length) report('removed stale namespaces/links', stale);
      const ns = createNetns();
      cleanups.push(() => ns.destroy());

      cluster = new Cluster({ origins: 0, edges: 0 });
      cleanups.push(() => cluster.stop());
      await cluster.startRedis();
      await startOn(cluster, ns.hostIp, { role: 'broker', id: 'broker' });
      const origin = await startOn(cluster, ns.hostIp, { role: 'origin', id: 'origin-1' });
      const edge = await startOn(cluster, ns.hostIp, { role: 'edge', id: 'edge-1' });
      await waitUntil(async () => {
        const ids = (await cluster.brokerNodes()).map((n) => n.id);
        return ids.includes(origin.id) && ids.includes(edge.id);
      }, 8000, 'broker lists origin and edge');
      report('cluster', { broker: cluster.brokerUrl, origin: origin.httpUrl, edge: edge.httpUrl, ns: ns.name });

      // Publisher: root namespace, through the broker (307 to the origin).
      const pubBrowser = await launchCameraLikePublisher(path.join(artifactsDir('cluster_bwe'), 'media'));
      cleanups.push(() => pubBrowser.cleanup());
      const pubPageServer = await startPageServer();
      cleanups.push(() => pubPageServer.close());
      const pubPage = await openClientPage(pubBrowser, { pageUrl: pubPageServer.url, serverUrl: cluster.brokerUrl });
      pages.push(pubPage);
      const pub = await pubPage.evaluate(([url, s]) => window.strataClient.publish(url, s, { simulcast: true }),
        [cluster.brokerUrl, STREAM]);
      await publisherAllLayers(pubPage, pub.id, 30000);
      // Let the publisher's own estimate ramp, then check the cap separates q from h for this content.
      await sleep(PUBLISHER_RAMP_MS);
      const rates = await publisherLayerRates(pubPage, pub.id);
      report('publisher send rates (kbit/s)', rates);
      report('cap premise (kbit/s needed, cap ' + CAP_KBIT + ')', checkCapPremise(rates, CAP_KBIT));
      report('publisher session', pub.location);

      // Viewer: inside the namespace, page from the veth address, WHEP through the broker.
      const viewPageServer = await startPageServerOn(ns.hostIp);
      cleanups.push(() => viewPageServer.close());
      const viewBrowser = await ns.launchChromium();
      cleanups.push(() => viewBrowser.cleanup());
      const viewPage = await openClientPage(viewBrowser, { pageUrl: viewPageServer.url, serverUrl: cluster.brokerUrl });
      pages.push(viewPage);

      // Uncapped probe session first: the namespaced Chromium reaches broker and edge and decodes.
      const streamsOf = async () => ({ origin: await origin.streams().catch((e) => e.message), edge: await edge.streams().catch((e) => e.message) });
      const probe = await viewPage.evaluate(([url, s]) => window.strataClient.watch(url, s, { waitLiveMs: 5000 }), [cluster.brokerUrl, STREAM]);
      const probed = await waitWidth(viewPage, probe.id, { width: null, timeoutMs: 10000, diag: streamsOf }, 'uncapped probe viewer decodes');
      report('uncapped probe viewer', { session: probe.location, width: probed.stats.video.frameWidth });
      assert.equal(new URL(probe.location).port, String(edge.port), 'the broker placed the viewer on the edge');
      await viewPage.evaluate((id) => window.strataClient.close(id), probe.id);

      await runCapScenario({
        page: viewPage, ns, report, capKbit: CAP_KBIT, settleBudgetMs: SETTLE_BUDGET_MS, climbBudgetMs: CLIMB_BUDGET_MS, holdMs: HOLD_MS, recapMs: 0,
        timelineFile: path.join(artifactsDir('cluster', 'bwe'), 'timeline.jsonl'),
        join: () => viewPage.evaluate(([url, s]) => window.strataClient.watch(url, s, { waitLiveMs: 5000 }), [cluster.brokerUrl, STREAM]),
        diag: async (view) => ({ qdisc: ns.qdiscCounters(), edge: await viewerLayer(edge.httpUrl, STREAM, view.location),
          // What the publisher encodes now: its top layer may shrink when its machine is loaded.
          publisher: await pubPage.evaluate((id) => window.strataClient.stats(id), pub.id)
            .then((st) => (st.outbound.video.encodings ?? []).map((e) => [e.rid, e.frameWidth, e.qualityLimitationReason]))
            .catch((e) => e.message) }),
      });

      const m = await edge.metrics();
      const pick = (re) => Object.fromEntries([...m].filter(([k]) => re.test(k)));
      report('edge counters', pick(/^strata_(layer_switches|bwe_|keyframe_requests)/));
      assert.deepEqual(cluster.unexpectedExits(), [], 'strata processes exited on their own');
    })(), TEST_BUDGET_MS, 'cluster BWE');
  } catch (err) {
    if (cluster) {
      const dir = artifactsDir('cluster', 'bwe');
      cluster.saveLogs(dir, err);
      for (const [i, page] of pages.entries()) {
        await withTimeout(page.screenshot({ path: `${dir}/page-${i}.png` }), 5000, 'screenshot').catch(() => {});
      }
    }
    throw err;
  } finally {
    while (cleanups.length) {
      await withTimeout(Promise.resolve().then(cleanups.pop()), 10000, 'cleanup').catch((e) => process.stderr.write(`cleanup: ${e.message}\n`));
    }
  }
});
