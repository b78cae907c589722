// Keyframe-request storm: 50 viewers join a simulcast stream at once (aiortc, one Python process,
// ?layer=q). Every new viewer needs a keyframe; the server must coalesce their requests so the
// publisher sees at most a few (≤ 6 PLI+FIR over its three encodings, i.e. about two per layer).
// Counted at the source: the Chromium publisher's outbound-rtp pliCount + firCount, before and after
// the join. All 50 viewers must decode. The server's keyframe_requests_in/_out counters are reported.
// Usage: STRATA_BIN=build/.../strata node tests/interop/keyframe_storm.test.mjs
import assert from 'node:assert/strict';
import { interopTest, report } from './lib/harness.mjs';
import { jsonEvents, sleep, waitForEvent } from './lib/procs.mjs';
import { parseMetrics } from './lib/metrics.mjs';
import { publisherAllLayers } from './lib/bwe_checks.mjs';

const STREAM = 'storm';
const VIEWERS = 50;
const MAX_KEYFRAME_REQUESTS = 6;
const ALL_DECODE_BUDGET_MS = 45000;
const QUIET_BEFORE_MS = 3000;   // publisher steady before the baseline
const SETTLE_AFTER_MS = 3000;   // late requests (a viewer's retry) still count

async function publisherRequests(page, id) {
  const s = await page.evaluate((sid) => window.strataClient.stats(sid), id);
  const v = s.outbound.video;
  return {
    total: (v.pliCount ?? 0) + (v.firCount ?? 0),
    perRid: Object.fromEntries((v.encodings ?? []).map((e) => [e.rid, { pli: e.pliCount, fir: e.firCount, keyFrames: e.keyFramesEncoded }])),
  };
}

async function serverCounters(server) {
  const m = parseMetrics(await server.metricsText());
  return Object.fromEntries([...m].filter(([k]) => k.startsWith('strata_keyframe_requests')));
}

const delta = (a, b) => Object.fromEntries(Object.keys(b).map((k) => [k, b[k] - (a[k] ?? 0)]));

// Latest per-viewer frame counts from the storm process's `frames` events.
function frameCounts(proc) {
  const ev = jsonEvents(proc).filter((e) => e.event === 'frames').pop();
  return ev ? ev.counts : [];
}

interopTest(`keyframe storm: ${VIEWERS} viewers join at once, publisher sees ≤ ${MAX_KEYFRAME_REQUESTS} keyframe requests`,
  { timeoutMs: 150000 }, async (ctx) => {
    const server = await ctx.startServer();
    const pubPage = await ctx.clientPage();
    const pub = await pubPage.evaluate(([url, s]) => window.strataClient.publish(url, s, { simulcast: true }),
      [server.httpUrl, STREAM]);
    await publisherAllLayers(pubPage, pub.id, 30000);
    await sleep(QUIET_BEFORE_MS);
    const before = await publisherRequests(pubPage, pub.id);
    const serverBefore = await serverCounters(server);
    report('publisher keyframe requests before the join', before);

    const t0 = Date.now();
    const storm = ctx.python('storm_viewers.py', [server.httpUrl, STREAM, '--count', String(VIEWERS), '--layer', 'q'], 'storm-viewers');
    const posted = await waitForEvent(storm, (e) => e.event === 'posted', 30000, 'all WHEP POSTs answered');
    const failed = jsonEvents(storm).filter((e) => e.event === 'whep_failed');
    assert.deepEqual(failed, [], 'every WHEP POST -> 201');
    report('offers and POSTs', { offers_ms: jsonEvents(storm).find((e) => e.event === 'offers_ready')?.ms, posts_ms: posted.ms });

    // Every viewer decodes a first frame.
    const deadline = Date.now() + ALL_DECODE_BUDGET_MS;
    let firsts = [];
    while (Date.now() < deadline) {
      firsts = jsonEvents(storm).filter((e) => e.event === 'first_frame');
      if (new Set(firsts.map((e) => e.id)).size >= VIEWERS) break;
      await sleep(250);
    }
    const decodedIds = new Set(firsts.map((e) => e.id));
    const missing = [...Array(VIEWERS).keys()].filter((i) => !decodedIds.has(i));
    const ms = firsts.map((e) => e.ms_since_answer).sort((a, b) => a - b);
    report('first frame after answer (ms: min/median/max)', ms.length ? [ms[0], ms[ms.length >> 1], ms[ms.length - 1]] : null);
    report('all viewers decoding after (ms from start)', Date.now() - t0);
    assert.deepEqual(missing, [], `viewers without a first frame after ${ALL_DECODE_BUDGET_MS} ms`);

    // ...and keep decoding.
    const c1 = frameCounts(storm);
    await sleep(SETTLE_AFTER_MS);
    const c2 = frameCounts(storm);
    const stalled = [...Array(VIEWERS).keys()].filter((i) => !(c2[i] > c1[i]));
    report('frames per viewer over 3 s (min/max)', [Math.min(...c2.map((x, i) => x - c1[i])), Math.max(...c2.map((x, i) => x - c1[i]))]);
    assert.deepEqual(stalled, [], 'viewers that stopped decoding');

    const after = await publisherRequests(pubPage, pub.id);
    const serverAfter = await serverCounters(server);
    const requests = after.total - before.total;
    report('publisher keyframe requests (PLI+FIR) caused by the join', requests);
    report('publisher per encoding after the join', after.perRid);
    report('server counters over the join', delta(serverBefore, serverAfter));
    assert.ok(requests <= MAX_KEYFRAME_REQUESTS,
      `publisher got ${requests} keyframe requests for ${VIEWERS} joins (max ${MAX_KEYFRAME_REQUESTS}): ${JSON.stringify(after.perRid)}`);
  });
