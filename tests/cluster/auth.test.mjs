// Access control across the cluster (README, "Access control"): a broker and its nodes with
// tokens on. Chromium, on a page of a third origin, publishes and watches through the broker with
// `Authorization: Bearer` on its fetch(); fetch follows the broker's 307 to the node, another
// origin, and drops Authorization on the way (Fetch standard, "HTTP-redirect fetch"): the node
// admits the request by the broker's ticket in the Location alone. Then, from Node (no browser):
// a ticket is bound to its node (another edge refuses it), a node refuses a request without any
// credential, the broker refuses a bad token before placing anything, and /api/v1 on the broker
// needs an admin.
// Usage: STRATA_BIN=build/.../strata node tests/cluster/auth.test.mjs
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { launchChromium, openClientPage, startPageServer, waitForStats } from '../interop/lib/browser.mjs';
import { artifactsDir, INTEROP_DIR } from '../interop/lib/paths.mjs';
import { Issuer } from '../interop/lib/tokens.mjs';
import { Cluster } from './lib/cluster.mjs';

const LIVE = 'secure-show';
const WHEP_OFFER = fs.readFileSync(path.join(INTEROP_DIR, 'fixtures', 'chromium-whep-offer.sdp'), 'utf8');

function report(label, value) {
  process.stdout.write(`# cluster_auth: ${label}: ${typeof value === 'string' ? value : JSON.stringify(value)}\n`);
}

// One labelled sample of a node's /metrics (read with the admin token).
async function metricsText(httpUrl, token) {
  const res = await fetch(new URL('/metrics', httpUrl), { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200, `GET ${httpUrl}/metrics as admin`);
  return res.text();
}
function sample(text, name, labels) {
  const want = `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}} `;
  const line = text.split('\n').find((l) => l.startsWith(want));
  return line ? Number(line.slice(want.length)) : 0;
}

describe('access control through broker redirects', () => {
  const issuer = new Issuer({ aud: 'strata-cluster' });
  const dir = artifactsDir('cluster-auth-keys');
  const authFlags = issuer.flags(dir);
  const admin = issuer.token({ live: '*', admin: true }, { expIn: 3600 });
  const cluster = new Cluster({ origins: 1, edges: 2, nodeArgs: authFlags, adminToken: admin });
  let browser, pageServer, failed = false;

  before(async () => {
    cluster.opts.brokerArgs = [...authFlags, '--cluster-secret-file', cluster.secretFile];
    await cluster.start();
    browser = await launchChromium();
    pageServer = await startPageServer();
  });

  after(async () => {
    if (failed) cluster.saveLogs(artifactsDir('cluster-auth'));
    await browser?.cleanup();
    await pageServer?.close();
    await cluster.stop();
  });

  async function page(token) {
    const p = await openClientPage(browser, { pageUrl: pageServer.url, serverUrl: cluster.brokerUrl });
    await p.evaluate((t) => window.strataClient.setToken(t), token);
    return p;
  }

  it('Chromium publishes and watches through the broker; the nodes admit it by ticket', { timeout: 120000 }, async () => {
    try {
      const host = await page(issuer.token({ live: LIVE, publish: true }, { sub: 'alice' }));
      const pub = await host.evaluate((a) => window.strataClient.publish(a.url, a.live), { url: cluster.brokerUrl, live: LIVE });
      const whip = (await host.evaluate(() => window.strataClient.requests())).find((r) => r.kind === 'whip');
      report('WHIP request', whip);
      assert.equal(whip.status, 201);
      assert.ok(whip.redirected, 'fetch followed the broker\'s 307');
      assert.equal(new URL(whip.finalUrl).port, String(cluster.origins[0].port), 'the session is on the origin');
      await waitForStats(host, pub.id, (s) => s.outbound.video.packetsSent > 50, 20000, 'host sending');

      const viewer = await page(issuer.token({ live: LIVE, view: true }));
      const view = await viewer.evaluate((a) => window.strataClient.watch(a.url, a.live, { waitLiveMs: 15000 }),
        { url: cluster.brokerUrl, live: LIVE });
      const whep = (await viewer.evaluate(() => window.strataClient.requests())).filter((r) => r.kind === 'whep').at(-1);
      report('WHEP request', whep);
      assert.ok(whep.redirected, 'fetch followed the broker\'s 307');
      const edge = cluster.nodeByUrl(whep.finalUrl);
      assert.equal(edge?.role, 'edge', `the viewer is on an edge (${whep.finalUrl})`);
      const frames = await waitForStats(viewer, view.id, (s) => s.video.framesDecoded >= 30, 30000, 'viewer decoding');
      report('viewer frames decoded', frames.video.framesDecoded);

      // What the nodes saw: the broker's ticket and no Authorization header from Chromium.
      for (const [node, action] of [[cluster.origins[0], 'publish'], [edge, 'view']]) {
        const m = await metricsText(node.httpUrl, admin);
        const seen = {
          bearer: sample(m, 'strata_auth_credentials_total', { action, kind: 'bearer' }),
          ticket: sample(m, 'strata_auth_credentials_total', { action, kind: 'ticket' }),
          by_ticket: sample(m, 'strata_auth_decisions_total', { action, result: 'ticket' }),
        };
        report(`${node.id} ${action} credentials`, seen);
        assert.ok(seen.ticket >= 1 && seen.by_ticket >= 1, `${node.id} admitted Chromium's ${action} by ticket`);
        assert.equal(seen.bearer, 0, `${node.id} never saw Chromium's Authorization header (dropped on the cross-origin redirect)`);
      }
      const lives = await (await fetch(new URL(`/api/v1/lives/${LIVE}`, cluster.origins[0].httpUrl),
        { headers: { Authorization: `Bearer ${admin}` } })).json();
      assert.deepEqual(lives.hosts.map((h) => h.name), ['alice'], 'the ticket carried the host the token pins');
    } catch (err) {
      failed = true;
      throw err;
    }
  });

  it('a ticket is bound to its node, and nodes refuse requests without credentials', { timeout: 60000 }, async () => {
    try {
      const viewToken = issuer.token({ live: LIVE, view: true });
      const placed = await fetch(new URL(`/whep/${LIVE}`, cluster.brokerUrl), {
        method: 'POST', redirect: 'manual', body: WHEP_OFFER,
        headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${viewToken}` },
      });
      assert.equal(placed.status, 307);
      const location = new URL(placed.headers.get('Location'));
      assert.ok(location.searchParams.get('ticket'), `the Location carries a ticket: ${location}`);
      const chosen = cluster.nodeByUrl(location.href);
      const other = cluster.edges.find((e) => e !== chosen);
      const replayed = await fetch(new URL(`${location.pathname}${location.search}`, other.httpUrl), {
        method: 'POST', body: WHEP_OFFER, headers: { 'Content-Type': 'application/sdp' },
      });
      const replayBody = await replayed.json();
      report('ticket replayed to another edge', { status: replayed.status, body: replayBody });
      assert.equal(replayed.status, 401);
      assert.equal(replayBody.error, 'invalid-ticket');
      assert.match(replayed.headers.get('WWW-Authenticate') ?? '', /^Bearer/);

      const bare = await fetch(new URL(`/whep/${LIVE}`, chosen.httpUrl), { method: 'POST', body: WHEP_OFFER,
        headers: { 'Content-Type': 'application/sdp' } });
      assert.equal(bare.status, 401, 'a node needs a token or a ticket');
      const good = await fetch(location, { method: 'POST', body: WHEP_OFFER, headers: { 'Content-Type': 'application/sdp' } });
      assert.equal(good.status, 201, `the ticket works on its own node (${good.status})`);
      await fetch(new URL(good.headers.get('Location'), location), { method: 'DELETE' });

      const badToken = await fetch(new URL(`/whep/${LIVE}`, cluster.brokerUrl), {
        method: 'POST', redirect: 'manual', body: WHEP_OFFER,
        headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${issuer.token({ live: LIVE, view: true }, { expIn: -100 })}` },
      });
      assert.equal(badToken.status, 401, 'the broker refuses an expired token');
      assert.equal(badToken.headers.get('Location'), null, 'and places nothing');
      const noAdmin = await fetch(new URL('/api/v1/streams', cluster.brokerUrl), { headers: { Authorization: `Bearer ${viewToken}` } });
      assert.equal(noAdmin.status, 403, 'the broker\'s /api/v1 needs an admin');
      assert.ok((await cluster.brokerStreams()).some((s) => s.live === LIVE), 'an admin lists the streams');
      const m = await metricsText(chosen.httpUrl, admin);
      report(`${chosen.id} view decisions`, ['token', 'ticket', 'unauthorized', 'forbidden']
        .map((r) => `${r}=${sample(m, 'strata_auth_decisions_total', { action: 'view', result: r })}`).join(' '));
    } catch (err) {
      failed = true;
      throw err;
    }
  });
});
