// The host ends its stream (WHIP DELETE): every viewer gets RTCP BYE and its session closes
// within 2 s. aiortc stops a receiver's track when it gets RTCP BYE, so the viewer sees both
// tracks end; the server then no longer knows the viewer's session (its DELETE is 404).
// Usage: STRATA_BIN=build/.../strata node tests/interop/host_end.test.mjs
import assert from 'node:assert/strict';
import { interopTest, report } from './lib/harness.mjs';
import { request } from './lib/http_raw.mjs';
import { jsonEvents, waitForEvent, withTimeout } from './lib/procs.mjs';

const STREAM = 'host-end';
const CLOSE_BUDGET_MS = 2000;

interopTest('host DELETE ends the viewers\' sessions with RTCP BYE', { timeoutMs: 90000 }, async (ctx) => {
  const server = await ctx.startServer();
  const pub = ctx.python('aiortc_publish.py', [server.httpUrl, STREAM, '--duration', '60'], 'aiortc-publish');
  const session = await waitForEvent(pub, (e) => e.event === 'session' || e.event === 'error', 20000, 'WHIP session');
  assert.equal(session.event, 'session', `WHIP POST failed: ${JSON.stringify(session)}`);

  const view = ctx.python('aiortc_view.py', [server.httpUrl, STREAM, '--frames', '30', '--timeout', '40', '--wait-ended'], 'aiortc-view');
  await waitForEvent(view, (e) => e.event === 'watching', 30000, 'viewer decoding');

  const viewerSession = jsonEvents(view).find((e) => e.event === 'session');
  const t0 = Date.now();
  const deleted = await request('DELETE', session.location);
  assert.equal(deleted.status, 200, 'host DELETE -> 200');

  await waitForEvent(view, (e) => e.event === 'track_ended' && e.kind === 'video', CLOSE_BUDGET_MS + 1000, 'video track ended');
  await waitForEvent(view, (e) => e.event === 'track_ended' && e.kind === 'audio', CLOSE_BUDGET_MS + 1000, 'audio track ended');
  const endedMs = Date.now() - t0;
  report('viewer tracks ended after host DELETE (ms)', endedMs);
  assert.ok(endedMs <= CLOSE_BUDGET_MS, `viewer tracks ended within ${CLOSE_BUDGET_MS} ms (took ${endedMs})`);

  const streams = JSON.parse((await request('GET', new URL('/api/v1/streams', server.httpUrl).href)).text);
  assert.equal(streams.streams.length, 0, `no stream left (${JSON.stringify(streams)})`);
  const viewerDelete = await request('DELETE', new URL(viewerSession.location, server.httpUrl).href);
  assert.equal(viewerDelete.status, 404, 'the viewer session is already gone');

  const status = await withTimeout(view.exited, 10000, 'aiortc viewer exit');
  const done = jsonEvents(view).find((e) => e.event === 'done');
  report('aiortc viewer result', done);
  assert.equal(status.code, 0, `viewer exit ${JSON.stringify(status)}`);
});
