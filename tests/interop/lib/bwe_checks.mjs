// Checks shared by the bandwidth-estimation tests (interop simulcast_bwe, cluster cluster_bwe): the
// publisher sends all three simulcast layers, a viewer settles on a given frame width while decoding,
// and the server's per-viewer layer state (GET /api/v1/streams -> viewer_layers).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { sleep } from './procs.mjs';

const POLL_MS = 200;
// "Still decoding": at least this many frames per second over an observation window (temporal-layer
// dropping under a tight cap may leave a quarter of the frame rate).
export const MIN_FPS = 5;
// Without a cap the top layer must come with its full temporal layers: Chromium sends ~30 fps, and an
// uncapped viewer in these tests decodes 20+ fps of 1280x720 even on a loaded 2-core machine.
export const TOP_MIN_FPS = 15;

const stats = (page, id) => page.evaluate((sid) => window.strataClient.stats(sid), id);

// Waits until the simulcast publisher is connected and encodes all three layers, the top one 1280
// wide (Chromium adds its upper layers as its own bandwidth estimate grows). Returns outbound.video.
export async function publisherAllLayers(page, id, timeoutMs, topWidth = 1280) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await stats(page, id);
    const enc = last.outbound.video.encodings ?? [];
    if (last.connectionState === 'connected' && enc.length >= 3 && enc.every((e) => e.framesEncoded > 0)
        && enc.some((e) => e.frameWidth === topWidth)) return last.outbound.video;
    await sleep(POLL_MS);
  }
  throw new Error(`publisher does not send 3 layers up to ${topWidth} wide after ${timeoutMs} ms: ${JSON.stringify(last)}`);
}

// The publisher's send rate per simulcast layer and for audio, in kbit/s of RTP payload+headers
// (bytesSent), over ms: { q, h, f, audio }.
export async function publisherLayerRates(page, id, ms = 2000) {
  const snap = async () => {
    const s = await stats(page, id);
    const out = { audio: s.outbound.audio.bytesSent ?? 0, at: Date.now() };
    for (const e of s.outbound.video.encodings ?? []) out[e.rid] = e.bytesSent;
    return out;
  };
  const a = await snap();
  await sleep(ms);
  const b = await snap();
  const secs = (b.at - a.at) / 1000;
  const rates = {};
  for (const k of Object.keys(b)) if (k !== 'at') rates[k] = Math.round(((b[k] - (a[k] ?? 0)) * 8) / secs / 1000);
  return rates;
}

// The cap must sit between what the lowest layer needs and what the next one needs, or "settles on the
// lowest layer" is not the right answer (Chromium's built-in fake camera compresses well: its
// 640x360 layer runs at ~350 kbit/s, under a 500 kbit/s cap; see launchCameraLikePublisher). Transport overhead (SRTP, UDP, IP) is taken as 8 %.
export function checkCapPremise(rates, capKbit, lowRid = 'q', nextRid = 'h') {
  const need = (rid) => Math.round(((rates[rid] ?? 0) + (rates.audio ?? 0)) * 1.08);
  const low = need(lowRid);
  const next = need(nextRid);
  assert.ok(low <= capKbit * 0.9, `cap ${capKbit} kbit/s leaves no room for layer ${lowRid} + audio (${low} kbit/s)`);
  assert.ok(next > capKbit, `cap ${capKbit} kbit/s would also carry layer ${nextRid} + audio (${next} kbit/s): `
    + 'the lowest layer is not the only right choice; lower the cap (STRATA_BWE_CAP_KBIT)');
  return { [`${lowRid}+audio`]: low, [`${nextRid}+audio`]: next };
}

// The session's entry in the server's viewer_layers (the session id is the last segment of its
// Location URL), or a note saying why there is none.
export async function viewerLayer(httpUrl, stream, location) {
  try {
    const res = await fetch(new URL('/api/v1/streams', httpUrl), { signal: AbortSignal.timeout(2000) });
    const list = (await res.json()).streams ?? [];
    const entry = list.find((s) => s.name === stream);
    if (!entry) return { note: `stream ${stream} not listed` };
    if (!Array.isArray(entry.viewer_layers)) return { note: 'no viewer_layers in /api/v1/streams' };
    const session = new URL(location).pathname.split('/').pop();
    return entry.viewer_layers.find((v) => v.session === session) ?? { note: `session ${session} not in viewer_layers`, all: entry.viewer_layers };
  } catch (err) {
    return { note: `GET /api/v1/streams failed: ${err.message}` };
  }
}

// Waits until viewer `id` decodes frames `width` wide (any width for null): the first sample at that
// width with framesDecoded above the previous sample's. Returns { reachedAt (ms timestamp), stats }.
// On timeout throws with the widths seen, the last stats and diag()'s output.
// With minFps, also Chromium's decoded framesPerSecond ≥ minFps; firstAt is then when the width was
// first seen (at any frame rate).
export async function waitWidth(page, id, { width, timeoutMs, minFps = 0, diag = async () => ({}) }, what) {
  const deadline = Date.now() + timeoutMs;
  let prev = null;
  let last = null;
  let firstAt = null;
  const widths = [];   // distinct widths seen, in order, for the error message
  while (Date.now() < deadline) {
    last = await stats(page, id);
    const v = last.video;
    if (widths[widths.length - 1] !== v.frameWidth) widths.push(v.frameWidth);
    const wanted = width === null ? v.frameWidth > 0 : v.frameWidth === width;
    const decoding = prev && v.framesDecoded > prev.video.framesDecoded;
    if (wanted && decoding) firstAt ??= Date.now();
    if (wanted && decoding && (v.framesPerSecond ?? 0) >= minFps) return { reachedAt: Date.now(), firstAt, stats: last };
    prev = last;
    await sleep(POLL_MS);
  }
  throw new Error(`timeout after ${timeoutMs} ms: ${what}; widths seen ${JSON.stringify(widths)}; `
    + (firstAt ? `width reached ${firstAt - (deadline - timeoutMs)} ms in, but not at ${minFps} fps; ` : '')
    + `last video ${JSON.stringify(last?.video)}; transport ${JSON.stringify(last?.transport)}; diag ${JSON.stringify(await diag())}`);
}

// Samples viewer `id` for ms: { widths (distinct, in order), fps (decoded), rxKbps (whole connection),
// framesDecoded (over the window), freezes, stats (last) }.
export async function observe(page, id, ms) {
  const first = await stats(page, id);
  const t0 = Date.now();
  const widths = [first.video.frameWidth];
  let last = first;
  while (Date.now() - t0 < ms) {
    await sleep(POLL_MS);
    last = await stats(page, id);
    if (widths[widths.length - 1] !== last.video.frameWidth) widths.push(last.video.frameWidth);
  }
  const secs = (Date.now() - t0) / 1000;
  const frames = last.video.framesDecoded - first.video.framesDecoded;
  return {
    widths,
    framesDecoded: frames,
    fps: Math.round(frames / secs),
    rxKbps: Math.round((((last.transport?.bytesReceived ?? 0) - (first.transport?.bytesReceived ?? 0)) * 8) / secs / 1000),
    freezes: last.video.freezeCount - first.video.freezeCount,
    stats: last,
  };
}

// The cap scenario both BWE tests run, on a viewer page inside namespace `ns`:
//  1. cap the link at capKbit, join (join() -> the watch() result): the viewer must reach lowWidth
//     within settleBudgetMs of the join, then stay there for holdMs, decoding ≥ MIN_FPS, and receive
//     no more than the cap (+10 %);
//  2. lift the cap: it must reach topWidth at ≥ TOP_MIN_FPS (all temporal layers) within climbBudgetMs,
//     then stay there for holdMs at that frame rate.
//  3. cap again (reported only, skipped for recapMs 0): how long a viewer on the top layer takes to come down.
// diag(session) adds the qdisc counters and the server's viewer_layers entry to reports and errors.
export async function runCapScenario({ page, ns, join, diag, report, capKbit = 500, lowWidth = 320, topWidth = 1280,
  settleBudgetMs = 10000, climbBudgetMs = 20000, holdMs = 3000, recapMs = 15000, timelineFile = null }) {
  const timeline = { phase: 'join', rows: [], stop: false };
  try {
    return await capPhases({ page, ns, join, diag, report, capKbit, lowWidth, topWidth, settleBudgetMs, climbBudgetMs, holdMs, recapMs, timeline });
  } finally {
    timeline.stop = true;
    await timeline.done;
    if (timelineFile) {
      fs.writeFileSync(timelineFile, timeline.rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
      report('timeline (500 ms samples: phase, viewer stats, server viewer_layers, qdisc)', timelineFile);
    }
  }
}

// Every 500 ms until timeline.stop: the phase, the viewer's width/frames/bytes, and diag().
async function record(page, id, diag, timeline) {
  const t0 = Date.now();
  while (!timeline.stop) {
    try {
      const s = await stats(page, id);
      timeline.rows.push({ ms: Date.now() - t0, phase: timeline.phase, width: s.video.frameWidth, framesDecoded: s.video.framesDecoded,
        rxBytes: s.transport?.bytesReceived ?? null, lost: s.video.packetsLost, freezes: s.video.freezeCount, ...(await diag()) });
    } catch { /* page closing */ }
    await sleep(500);
  }
}

async function capPhases({ page, ns, join, diag, report, capKbit, lowWidth, topWidth, settleBudgetMs, climbBudgetMs, holdMs, recapMs, timeline }) {
  ns.limit(capKbit);
  report('tbf', ns.qdisc().split('\n')[0]);
  const t0 = Date.now();
  const view = await join();
  const d = () => diag(view);
  timeline.phase = 'capped';
  timeline.done = record(page, view.id, d, timeline);

  const settled = await waitWidth(page, view.id, { width: lowWidth, timeoutMs: settleBudgetMs, diag: d },
    `reach ${lowWidth} wide within ${settleBudgetMs} ms under ${capKbit} kbit/s`);
  const settleMs = settled.reachedAt - t0;
  report('settle time under cap (ms, from the WHEP POST)', settleMs);
  const low = await observe(page, view.id, holdMs);
  const lowDiag = await d();
  report('under cap, after settling', { widths: low.widths, fps: low.fps, rxKbps: low.rxKbps, freezes: low.freezes, ...lowDiag });
  assert.deepEqual(low.widths, [lowWidth], `stays on ${lowWidth} under the cap (widths over ${holdMs} ms); ${JSON.stringify(lowDiag)}`);
  assert.ok(low.fps >= MIN_FPS, `still decoding under the cap: ${low.fps} fps`);
  assert.ok(low.rxKbps <= capKbit * 1.1, `tbf effective: received ${low.rxKbps} kbit/s under a ${capKbit} kbit/s cap`);

  ns.unlimit();
  timeline.phase = 'uncapped';
  const t1 = Date.now();
  const climbed = await waitWidth(page, view.id, { width: topWidth, timeoutMs: climbBudgetMs, minFps: TOP_MIN_FPS, diag: d },
    `reach ${topWidth} wide at ≥ ${TOP_MIN_FPS} fps within ${climbBudgetMs} ms once the cap is lifted`);
  const climbMs = climbed.reachedAt - t1;
  report(`climb time after the cap is lifted (ms): first ${topWidth} frame, ${topWidth} at ≥ ${TOP_MIN_FPS} fps`, [climbed.firstAt - t1, climbMs]);
  const top = await observe(page, view.id, holdMs);
  const topDiag = await d();
  report('uncapped, after climbing', { widths: top.widths, fps: top.fps, rxKbps: top.rxKbps, freezes: top.freezes, ...topDiag });
  assert.deepEqual(top.widths, [topWidth], `stays on ${topWidth} without the cap (widths over ${holdMs} ms); ${JSON.stringify(topDiag)}`);
  assert.ok(top.fps >= TOP_MIN_FPS, `full frame rate on the top layer without the cap: ${top.fps} fps (min ${TOP_MIN_FPS}); ${JSON.stringify(topDiag)}`);

  if (recapMs > 0) {
    ns.limit(capKbit);
    timeline.phase = 'recapped';
    const t2 = Date.now();
    try {
      const down = await waitWidth(page, view.id, { width: lowWidth, timeoutMs: recapMs, diag: d }, 'down again');
      report('drop time after re-applying the cap (ms, not asserted)', down.reachedAt - t2);
    } catch (err) {
      report('drop time after re-applying the cap (not asserted)', `not within ${recapMs} ms: ${err.message.slice(0, 400)}`);
    }
    ns.unlimit();
  }
  return { view, settleMs, climbMs, low, top };
}

// A publisher whose layers run at camera-like bit rates: Chromium's built-in fake camera
// compresses so well that its 640x360 layer fits under 500 kbit/s, which would make "a
// 500 kbit/s viewer gets the lowest layer" the wrong expectation. This one captures a noisy
// 1280x720 test pattern (MJPEG made with Debian's ffmpeg, cached under `dir`), so each layer
// reaches the bit rate Chromium allots it (q ~150, h ~500, f ~1200+ kbit/s).
export async function launchCameraLikePublisher(dir) {
  const { execFileSync } = await import('node:child_process');
  const { launchChromium } = await import('./browser.mjs');
  const path = (await import('node:path')).default;
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'noisy-720p.mjpeg');
  if (!fs.existsSync(file)) {
    execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
      'testsrc2=size=1280x720:rate=30,noise=alls=12:allf=t', '-t', '6', '-q:v', '4', `${file}.tmp.mjpeg`]);
    fs.renameSync(`${file}.tmp.mjpeg`, file);
  }
  return launchChromium({ extraArgs: [`--use-file-for-fake-video-capture=${file}`] });
}
