// aiortc -> strata -> aiortc: a Python publisher (synthetic VP8 video + Opus tone) over WHIP and a
// Python WHEP viewer that must decode frames.
// Usage: STRATA_BIN=build/.../strata node tests/interop/aiortc_interop.test.mjs
import assert from 'node:assert/strict';
import { interopTest, report } from './lib/harness.mjs';
import { jsonEvents, waitForEvent, withTimeout } from './lib/procs.mjs';

const STREAM = 'aiortc-interop';
const PUBLISH_SECONDS = 25;
const MIN_FRAMES = 60; // ~2 s at 30 fps

interopTest('aiortc publisher -> strata -> aiortc viewer decodes video', { timeoutMs: 90000 }, async (ctx) => {
  const server = await ctx.startServer();
  const pub = ctx.python('aiortc_publish.py', [server.httpUrl, STREAM, '--duration', String(PUBLISH_SECONDS)], 'aiortc-publish');
  const session = await waitForEvent(pub, (e) => e.event === 'session' || e.event === 'error', 20000, 'WHIP session');
  assert.equal(session.event, 'session', `WHIP POST failed: ${JSON.stringify(session)}`);
  report('aiortc publisher location', session.location);

  // The viewer retries on 409 until the stream is live, so it may start right away.
  const view = ctx.python('aiortc_view.py', [server.httpUrl, STREAM, '--frames', String(MIN_FRAMES), '--timeout', '30', '--duration', '3'], 'aiortc-view');
  const status = await withTimeout(view.exited, 50000, 'aiortc viewer exit');
  const events = jsonEvents(view);
  const first = events.find((e) => e.event === 'first_frame');
  const done = events.find((e) => e.event === 'done');
  report('aiortc viewer first frame', first ?? 'none');
  report('aiortc viewer result', done ?? events.at(-1) ?? 'no events');
  assert.equal(status.code, 0, `aiortc viewer exit status ${JSON.stringify(status)}`);
  assert.ok(done.ok && done.video_frames >= MIN_FRAMES, `viewer decoded ${done.video_frames} frames`);
  assert.ok(done.audio_frames > 0, 'viewer decoded audio frames');
  assert.equal(done.delete_status, 200, 'viewer DELETE -> 200');
  assert.ok(pub.running(), 'publisher still running');
});
