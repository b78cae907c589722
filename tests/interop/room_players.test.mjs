// Plain players on a live with two hosts (README, "Lives with several hosts"): hosts A then B
// (aiortc, `POST /whip/{live}?host=A|B`; A 320x180 red with a 300 Hz tone, B 480x270 blue with
// 700 Hz) are watched by
//   - a one-slot aiortc viewer (room_participant.py --slots 1: audio then video m-line, as a plain
//     WHEP player offers), which must get A, the first host (frame size, colour and tone), as its events
//     say; and
//   - a GStreamer webrtcbin viewer (room_gst_view.py, one video and one audio m-line), which must
//     decode A too.
// Then A leaves (DELETE of its WHIP session): without a new request both viewers go on decoding,
// now B's video; the aiortc viewer's slot keeps its one SSRC with no sequence-number jump at the
// switch, its tracks do not end, and its events name B. When A comes back it joins after B, and
// both players stay on B. Then B leaves (both players get A again), then A, the last host: the
// viewer's tracks end (RTCP BYE), its event stream closes after a last event with no host and an
// empty slot, and every event it got was consistent.
// Usage: STRATA_BIN=build/.../strata node tests/interop/room_players.test.mjs
import assert from 'node:assert/strict';
import { interopTest, report } from './lib/harness.mjs';
import { request } from './lib/http_raw.mjs';
import { jsonEvents, sleep, waitForEvent } from './lib/procs.mjs';

const LIVE = 'room-players';
const FPS = 20;
const MIN_FRAMES = 40; // 2 s at 20 fps
const SWITCH_BUDGET_MS = 3000;
const HOSTS = {
  A: { size: '320x180', width: 320, height: 180, color: 'e02020', rgb: [0xe0, 0x20, 0x20], hz: 300 },
  B: { size: '480x270', width: 480, height: 270, color: '2040e0', rgb: [0x20, 0x40, 0xe0], hz: 700 },
};
const KNOWN = Object.entries(HOSTS).flatMap(([name, h]) => ['--known', `${name}=${h.size}:${h.color}:${h.hz}`]);

const lastProgress = (proc) => jsonEvents(proc).filter((e) => e.event === 'progress').at(-1);
const lastLive = (proc, session) => jsonEvents(proc).filter((e) => e.event === 'sse' && e.session === session && e.name === 'live').at(-1)?.data;
const slot0 = (proc) => lastProgress(proc)?.watch?.slots?.[0];
const near = (rgb, want) => Array.isArray(rgb) && rgb.every((v, i) => Math.abs(v - want[i]) <= 40);

function startHost(ctx, server, name) {
  const h = HOSTS[name];
  return ctx.python('room_participant.py', [server.httpUrl, LIVE, '--publish', name, '--size', h.size, '--color', h.color,
    '--tone-freq', String(h.hz), '--fps', String(FPS), '--wait-connected', '--events', '--duration', '200'], `host-${name}`);
}

// Every live event must be self-consistent: a slot names a host of the event (or null) and is live
// only when that host is live. Returns the events that are not.
function inconsistentEvents(proc) {
  return jsonEvents(proc).filter((e) => e.event === 'sse' && e.name === 'live').filter(({ data }) => {
    const hosts = new Map((data?.hosts ?? []).map((h) => [h.name, h.live]));
    return !data || (data.slots ?? []).some((s) => (s.host !== null && !hosts.has(s.host)) || (s.live && hosts.get(s.host) !== true)
      || (s.host === null && s.live !== false));
  });
}

async function waitUntil(pred, ms, what, state = () => '') {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (pred()) return;
    await sleep(100);
  }
  throw new Error(`timeout after ${ms} ms: ${what} ${state()}`);
}

interopTest('one-slot aiortc and GStreamer players get the first host, then the next one when it leaves', { timeoutMs: 240000 }, async (ctx) => {
  const server = await ctx.startServer();

  const hostA = startHost(ctx, server, 'A');
  const connA = await waitForEvent(hostA, (e) => e.event === 'publish_connected' || e.event === 'error', 45000, 'host A connected');
  assert.equal(connA.connection, 'connected', `host A: ${JSON.stringify(connA).slice(0, 500)}`);
  const sessionA = jsonEvents(hostA).find((e) => e.event === 'publish_session');
  const hostB = startHost(ctx, server, 'B');
  const connB = await waitForEvent(hostB, (e) => e.event === 'publish_connected' || e.event === 'error', 45000, 'host B connected');
  assert.equal(connB.connection, 'connected', `host B: ${JSON.stringify(connB).slice(0, 500)}`);

  const view = ctx.python('room_participant.py', [server.httpUrl, LIVE, '--slots', '1', '--audio', '--audio-first',
    ...KNOWN, '--events', '--duration', '200'], 'aiortc-view');
  const gst = ctx.python('room_gst_view.py', [server.httpUrl, LIVE, '--duration', '200'], 'gst-view');

  // The aiortc player: one slot, A.
  const watch = await waitForEvent(view, (e) => e.event === 'watch_session' || e.event === 'error', 40000, 'aiortc viewer WHEP 201');
  assert.equal(watch.event, 'watch_session', `aiortc viewer WHEP: ${JSON.stringify(watch).slice(0, 500)}`);
  const videoLines = watch.media.filter(([kind]) => kind === 'video');
  assert.equal(videoLines.length, 1, 'one video m-line in the answer');
  const [, videoMid, videoDir, videoSsrcs] = videoLines[0];
  const audioSsrcs = watch.media.find(([kind]) => kind === 'audio')?.[3] ?? [];
  assert.equal(videoDir, 'sendonly', 'the slot is sendonly');
  assert.ok(videoSsrcs.length >= 1, 'the slot names its SSRC (a=ssrc)');
  // The tone is identified every 0.5 s of audio; the video may get its first 40 frames sooner
  // (a start from the keyframe cache plays the cached pictures at 2.5x), so wait for both.
  await waitUntil(() => (slot0(view)?.frames ?? 0) >= MIN_FRAMES && slot0(view).audio_who != null, 20000,
    `aiortc viewer decodes ${MIN_FRAMES} frames and a tone`, () => JSON.stringify(slot0(view)));
  const beforeLeave = slot0(view);
  report('aiortc viewer before A leaves', beforeLeave);
  assert.equal(beforeLeave.who, 'A', `the one-slot viewer shows A (${beforeLeave.width}x${beforeLeave.height}, rgb ${beforeLeave.color})`);
  assert.deepEqual(Object.keys(beforeLeave.by_who), ['A'], `only A so far (${JSON.stringify(beforeLeave.by_who)})`);
  assert.ok(beforeLeave.audio_frames > 0, 'the aiortc viewer decodes audio');
  assert.equal(beforeLeave.audio_who, 'A', `the audio is A's tone (${beforeLeave.audio_hz} Hz)`);

  // The GStreamer player: A too.
  const gstSession = await waitForEvent(gst, (e) => e.event === 'session' || e.event === 'error', 40000, 'gst viewer WHEP 201');
  assert.equal(gstSession.event, 'session', `gst viewer WHEP: ${JSON.stringify(gstSession).slice(0, 500)}`);
  await waitUntil(() => (lastProgress(gst)?.frames ?? 0) >= MIN_FRAMES, 20000, `gst viewer decodes ${MIN_FRAMES} frames`,
    () => JSON.stringify(lastProgress(gst)));
  const gstBefore = lastProgress(gst);
  report('gst viewer before A leaves', gstBefore);
  assert.equal(`${gstBefore.width}x${gstBefore.height}`, HOSTS.A.size, 'the gst viewer decodes A\'s frame size');
  assert.ok(near(gstBefore.color, HOSTS.A.rgb), `the gst viewer sees A's colour (rgb ${gstBefore.color})`);

  // The events of the aiortc player's session.
  await waitUntil(() => lastLive(view, 'watch')?.viewers === 2, 5000, 'events: viewers 2', () => JSON.stringify(lastLive(view, 'watch')));
  const evBefore = lastLive(view, 'watch');
  report('aiortc viewer live event before A leaves', evBefore);
  assert.equal(evBefore.live, LIVE);
  assert.deepEqual(evBefore.hosts, [{ name: 'A', live: true }, { name: 'B', live: true }], 'hosts A then B, both live');
  assert.deepEqual(evBefore.slots, [{ mid: videoMid, audio_mid: beforeLeave.audio_mid, host: 'A', live: true }], 'one slot, A');

  // A leaves.
  const framesAtLeave = slot0(view).frames;
  const audioAtLeave = slot0(view).audio_frames;
  const gstFramesAtLeave = lastProgress(gst).frames;
  const t0 = Date.now();
  const del = await request('DELETE', sessionA.location);
  assert.equal(del.status, 200, `DELETE host A -> 200 (${del.status} ${del.text.slice(0, 200)})`);
  const change = await waitForEvent(view, (e) => e.event === 'slot_change' && e.to === 'B', SWITCH_BUDGET_MS + 2000, 'aiortc viewer shows B');
  const switchMs = Date.now() - t0;
  report('aiortc viewer: B after A\'s DELETE (ms)', switchMs);
  report('aiortc viewer slot change', change);
  assert.ok(switchMs <= SWITCH_BUDGET_MS, `B within ${SWITCH_BUDGET_MS} ms of A's DELETE (took ${switchMs})`);
  await waitUntil(() => (slot0(view)?.by_who?.B ?? 0) >= MIN_FRAMES && slot0(view).audio_who === 'B', 15000, `aiortc viewer decodes ${MIN_FRAMES} frames and the tone of B`,
    () => JSON.stringify(slot0(view)));
  await waitUntil(() => lastProgress(gst)?.width === HOSTS.B.width && lastProgress(gst).frames >= gstFramesAtLeave + MIN_FRAMES,
    15000, 'gst viewer decodes B', () => JSON.stringify(lastProgress(gst)));
  const after = slot0(view);
  const gstAfter = lastProgress(gst);
  report('aiortc viewer after A left', after);
  report('gst viewer after A left', gstAfter);
  report('gst caps changes', jsonEvents(gst).filter((e) => e.event === 'caps'));

  assert.equal(after.who, 'B', 'the slot now shows B');
  assert.ok(after.frames >= framesAtLeave + MIN_FRAMES, 'frames continue');
  assert.ok(after.audio_frames >= audioAtLeave + 50, `audio continues (${audioAtLeave} -> ${after.audio_frames})`);
  assert.equal(after.audio_who, 'B', `the audio is now B's tone (${after.audio_hz} Hz)`);
  assert.equal(jsonEvents(view).filter((e) => e.event === 'watch_session').length, 1, 'no new WHEP request');
  assert.deepEqual(after.ended, [], 'the viewer\'s tracks did not end');
  assert.equal(lastProgress(view).watch.connection, 'connected', 'the aiortc viewer is still connected');
  assert.ok(after.rtp.media_ssrc === videoSsrcs[0] && after.rtp.ssrcs.every((x) => videoSsrcs.includes(x)),
    `the slot keeps its one SSRC from the answer (${after.rtp.ssrcs} vs a=ssrc ${videoSsrcs})`);
  // A jump whose missing packets came later (late or by RTX) was loss on the way; one that nothing
  // filled means the server skipped sequence numbers.
  const holesAtSwitch = after.rtp.unfilled.filter(([at]) => Math.abs(at - change.ms) <= 1500);
  report('aiortc viewer RTP sequence jumps', { jumps: after.rtp.jumps, filled: after.rtp.filled, unfilled: after.rtp.unfilled, switch_ms: change.ms });
  assert.deepEqual(holesAtSwitch, [], `sequence numbers continue across the switch (unfilled [ms, seq] ${JSON.stringify(after.rtp.unfilled)}, jumps ${JSON.stringify(after.rtp.jumps)})`);
  // (aiortc does not NACK audio: any audio jump right at the switch counts.)
  const audioJumps = after.audio_rtp.jumps.filter(([at]) => Math.abs(at - change.ms) <= 1000);
  report('aiortc viewer audio RTP (ssrcs, jumps)', { ssrcs: after.audio_rtp.ssrcs, answer: audioSsrcs, jumps: after.audio_rtp.jumps });
  assert.ok(after.audio_rtp.media_ssrc === audioSsrcs[0] && after.audio_rtp.ssrcs.every((x) => audioSsrcs.includes(x)),
    `the paired audio m-line keeps its one SSRC from the answer (${after.audio_rtp.ssrcs} vs a=ssrc ${audioSsrcs})`);
  assert.deepEqual(audioJumps, [], 'audio sequence numbers continue across the switch');
  assert.ok(near(gstAfter.color, HOSTS.B.rgb), `the gst viewer sees B's colour (rgb ${gstAfter.color})`);
  assert.equal(gstAfter.connection, 'connected', 'the gst viewer is still connected');
  assert.equal(jsonEvents(gst).filter((e) => e.event === 'session').length, 1, 'gst: no new WHEP request');

  await waitUntil(() => lastLive(view, 'watch')?.slots?.[0]?.host === 'B', 3000, 'events name B in the slot', () => JSON.stringify(lastLive(view, 'watch')));
  const evAfter = lastLive(view, 'watch');
  report('aiortc viewer live event after A left', evAfter);
  assert.deepEqual(evAfter.hosts, [{ name: 'B', live: true }], 'only B is left');
  assert.deepEqual(evAfter.slots, [{ mid: videoMid, audio_mid: after.audio_mid, host: 'B', live: true }], 'one slot, B');
  assert.ok(hostB.running(), 'host B still publishing');

  // A comes back: it joins after B now, so the one-slot players stay on B.
  hostA.child.kill('SIGTERM');
  await hostA.exited;
  const hostA2 = startHost(ctx, server, 'A');
  const connA2 = await waitForEvent(hostA2, (e) => e.event === 'publish_connected' || e.event === 'error', 45000, 'host A connected again');
  assert.equal(connA2.connection, 'connected', `host A again: ${JSON.stringify(connA2).slice(0, 500)}`);
  await waitUntil(() => lastLive(view, 'watch')?.hosts?.length === 2, 3000, 'events: A is back', () => JSON.stringify(lastLive(view, 'watch')));
  const framesAtRejoin = slot0(view).by_who.B;
  const gstAtRejoin = lastProgress(gst).frames;
  await sleep(3000);
  const back = slot0(view);
  const gstBack = lastProgress(gst);
  report('aiortc viewer 3 s after A came back', back);
  report('gst viewer 3 s after A came back', gstBack);
  assert.equal(back.who, 'B', 'the one-slot viewer stays on B when A comes back');
  assert.equal(back.by_who.A, after.by_who.A, 'no frame of A since it came back');
  assert.equal(back.audio_who, 'B', `the audio stays B's (${back.audio_hz} Hz)`);
  assert.ok(back.by_who.B >= framesAtRejoin + 30, `B keeps flowing (${framesAtRejoin} -> ${back.by_who.B})`);
  assert.equal(`${gstBack.width}x${gstBack.height}`, HOSTS.B.size, 'the gst viewer stays on B');
  assert.ok(gstBack.frames >= gstAtRejoin + 30, `the gst viewer keeps decoding (${gstAtRejoin} -> ${gstBack.frames})`);
  const evBack = lastLive(view, 'watch');
  report('aiortc viewer live event after A came back', evBack);
  assert.deepEqual(evBack.hosts, [{ name: 'B', live: true }, { name: 'A', live: true }], 'hosts B then A');
  assert.deepEqual(evBack.slots, [{ mid: videoMid, audio_mid: after.audio_mid, host: 'B', live: true }], 'still one slot, B');

  // B leaves: A, the next host, takes the slot again.
  const sessionB = jsonEvents(hostB).find((e) => e.event === 'publish_session');
  const t1 = Date.now();
  assert.equal((await request('DELETE', sessionB.location)).status, 200, 'DELETE host B');
  const changeBack = await waitForEvent(view, (e) => e.event === 'slot_change' && e.to === 'A' && e.ms > change.ms, SWITCH_BUDGET_MS + 2000, 'aiortc viewer shows A again');
  report('aiortc viewer: A again after B\'s DELETE (ms)', Date.now() - t1);
  await waitUntil(() => (slot0(view)?.by_who?.A ?? 0) >= back.by_who.A + MIN_FRAMES && slot0(view).audio_who === 'A', 15000, 'aiortc viewer decodes A again', () => JSON.stringify(slot0(view)));
  await waitUntil(() => lastProgress(gst)?.width === HOSTS.A.width && lastProgress(gst).frames >= gstBack.frames + MIN_FRAMES, 15000,
    'gst viewer decodes A again', () => JSON.stringify(lastProgress(gst)));
  const again = slot0(view);
  report('aiortc viewer with A again', again);
  assert.ok(again.rtp.media_ssrc === videoSsrcs[0] && again.rtp.ssrcs.every((x) => videoSsrcs.includes(x)), `still the one SSRC (${again.rtp.ssrcs})`);
  const holesBack = again.rtp.unfilled.filter(([at]) => Math.abs(at - changeBack.ms) <= 1500);
  assert.deepEqual(holesBack, [], `sequence numbers continue across the second switch (unfilled ${JSON.stringify(again.rtp.unfilled)}, jumps ${JSON.stringify(again.rtp.jumps)})`);
  await waitUntil(() => lastLive(view, 'watch')?.slots?.[0]?.host === 'A', 3000, 'events name A in the slot', () => JSON.stringify(lastLive(view, 'watch')));
  assert.deepEqual(lastLive(view, 'watch').hosts, [{ name: 'A', live: true }], 'only A is left');

  // A, the last host, leaves: the viewers' sessions end (RTCP BYE) and the last event shows an
  // empty live with an empty slot.
  const sessionA2 = jsonEvents(hostA2).find((e) => e.event === 'publish_session');
  const t2 = Date.now();
  assert.equal((await request('DELETE', sessionA2.location)).status, 200, 'DELETE host A (the last one)');
  await waitForEvent(view, (e) => e.event === 'track_ended' && e.kind === 'video', 5000, 'the viewer\'s video ends');
  report('aiortc viewer video ended after the last host\'s DELETE (ms)', Date.now() - t2);
  await waitForEvent(view, (e) => e.event === 'sse_closed' && e.session === 'watch', 5000, 'the viewer\'s event stream ends');
  const evEnd = lastLive(view, 'watch');
  report('aiortc viewer last live event', evEnd);
  assert.deepEqual(evEnd.hosts, [], 'the last event: no host');
  assert.deepEqual(evEnd.slots, [{ mid: videoMid, audio_mid: after.audio_mid, host: null, live: false }], 'the last event: the slot is empty');

  const bad = inconsistentEvents(view);
  report('aiortc viewer live events received', jsonEvents(view).filter((e) => e.event === 'sse').length);
  assert.deepEqual(bad.map((e) => e.data), [], 'every live event is consistent (a slot names one of the event\'s hosts, live only when it is)');
});
