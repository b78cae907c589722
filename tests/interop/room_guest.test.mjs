// Guest mode (README, "Lives with several hosts") in Chromium: host A publishes 640x360
// (POST /whip/guest?host=A), guest B 320x180 (?host=B), both with audio and video. A Chromium viewer
// offers two slots (video+audio, video+audio: one PeerConnection, one WHEP POST) and decodes A in
// slot 0 and B in slot 1 (frame sizes from inbound-rtp stats per mid); A watches ?exclude=A with one
// slot and decodes B, B watches ?exclude=B and decodes A. B leaves (DELETE of its WHIP session): the
// viewer's event stream (GET on the Link URL) reports within 1 s that B left (hosts without B, slot 1
// empty) while slot 0 keeps decoding. C joins (?host=C, 480x270): within 2 s the same viewer decodes C
// in slot 1, with no new WHEP request, and slot 0 never stalls (framesDecoded grows in every 500 ms
// window from B's DELETE to the end). Event latency and time to C's first frame are reported.
// Usage: STRATA_BIN=build/.../strata node tests/interop/room_guest.test.mjs
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { interopTest, report } from './lib/harness.mjs';
import { artifactsDir } from './lib/paths.mjs';
import { sleep } from './lib/procs.mjs';
import {
  brief, call, checkLink, checkSlotAnswer, eventLog, liveInfo, openEvents, publishHost, pullMonitor, stallsOf,
  waitEvent, waitSlotsDecoding,
} from './lib/rooms.mjs';

const LIVE = 'guest';
const SIZE = { A: { width: 640, height: 360 }, B: { width: 320, height: 180 }, C: { width: 480, height: 270 } };
const LEAVE_EVENT_BUDGET_MS = 1000;     // B's DELETE -> the viewer's event without B
const JOIN_FRAME_BUDGET_MS = 2000;      // C's WHIP POST -> the viewer's first decoded C frame in slot 1
const FIRST_EVENT_BUDGET_MS = 1000;     // GET events -> the first `live` event
const STALL_WINDOW_MS = 500;            // slot 0 must decode at least one frame in every such window
const DECODE_BUDGET_MS = 15000;         // first decoding of a freshly set up viewer (ICE, DTLS, key frame)
// Publishers keep the camera size (the encoder would otherwise start lower while its estimate ramps).
const PUB = { degradation: 'maintain-resolution' };

const hostNames = (ev) => (ev.hosts ?? []).map((h) => h.name);

interopTest('guest mode: two hosts in two slots, a guest leaves and another takes the slot', { timeoutMs: 150000 }, async (ctx) => {
  const server = await ctx.startServer();
  const url = server.httpUrl;
  const timeline = [];
  const note = (what, extra = {}) => timeline.push({ at: Date.now(), what, ...extra });
  const monV = { next: 0, rows: [] };   // 50 ms samples of the viewer's slots (client.js startMonitor)
  const monA = { next: 0, rows: [] };   // and of host A's ?exclude=A view
  ctx.defer(() => {
    const file = path.join(artifactsDir('room_guest'), 'timeline.jsonl');
    const rows = [...timeline.map((x) => ({ kind: 'note', ...x })), ...monV.rows.map((x) => ({ kind: 'viewer', ...x })),
      ...monA.rows.map((x) => ({ kind: 'A-view', ...x }))].sort((x, y) => x.at - y.at);
    fs.writeFileSync(file, rows.map((x) => JSON.stringify(x)).join('\n') + '\n');
    report('timeline (notes, 50 ms per-slot samples: fd frames decoded, w/h size, fz freezes, kf key frames, vp/ap packets)', file);
  });

  // Hosts A then B (join order A, B), each in a page of its own.
  const pageA = await ctx.clientPage();
  const pubA = await publishHost(pageA, url, LIVE, 'A', { ...PUB, ...SIZE.A });
  checkLink(pubA, 'WHIP 201 (host A)');
  const pageB = await ctx.clientPage();
  const pubB = await publishHost(pageB, url, LIVE, 'B', { ...PUB, ...SIZE.B });
  checkLink(pubB, 'WHIP 201 (host B)');
  report('hosts publishing', { A: `${pubA.width}x${pubA.height} ${pubA.location}`, B: `${pubB.width}x${pubB.height} ${pubB.location}` });

  // A host's own event stream: the live, no slots.
  await openEvents(pageA, pubA.id);
  const hostEv = await waitEvent(pageA, pubA.id, (e) => hostNames(e).join() === 'A,B', { timeoutMs: 3000, what: 'host A sees hosts A,B' });
  report('host A event', brief(hostEv.event.json));
  assert.deepEqual(hostEv.event.json.slots, [], 'a host session\'s events carry slots []');
  assert.equal(hostEv.event.json.live, LIVE, 'event names the live');

  // The viewer: 2 slots, one WHEP POST.
  const pageV = await ctx.clientPage();
  const view = await call(pageV, 'watchSlots', url, LIVE, { slots: 2 });
  checkLink(view, 'WHEP 201 (viewer)');
  const sections = checkSlotAnswer(view.offer, view.answer, 'viewer answer');
  report('viewer answer', sections.map((s) => `${s.kind} mid ${s.mid} ${s.direction} ssrc ${s.ssrcs.join('/')}`));
  report('viewer slots (offer mids)', view.slots);
  assert.deepEqual(view.slots.map((s) => [s.mid, s.audioMid]), [['0', '1'], ['2', '3']], 'offer mids: video 0, audio 1, video 2, audio 3');

  const opened = await openEvents(pageV, view.id);
  report('viewer events stream', opened);
  await openEvents(pageV, view.id, { via: 'eventsource' });
  const first = await waitEvent(pageV, view.id, () => true, { timeoutMs: FIRST_EVENT_BUDGET_MS + 2000, what: 'the first live event' });
  const firstLatency = first.event.at - (await eventLog(pageV, view.id)).openedAt;
  report('viewer first event (ms after GET)', { ms: firstLatency, event: brief(first.event.json) });
  assert.ok(firstLatency <= FIRST_EVENT_BUDGET_MS, `the first live event comes at once (${firstLatency} ms)`);
  const both = await waitEvent(pageV, view.id, (e) => hostNames(e).join() === 'A,B' && e.hosts.every((h) => h.live)
    && e.slots?.[0]?.host === 'A' && e.slots?.[1]?.host === 'B', { timeoutMs: 5000, what: 'hosts A,B live, slot 0 A, slot 1 B' });
  const ev0 = both.event.json;
  assert.equal(ev0.live, LIVE);
  assert.deepEqual(ev0.slots.map((s) => [s.mid, s.audio_mid]), [['0', '1'], ['2', '3']], 'slots named by the answer\'s video mid and audio mid');
  assert.equal(typeof ev0.viewers, 'number', 'viewers is a count');

  const s0 = await waitSlotsDecoding(pageV, view.id, [SIZE.A, SIZE.B], DECODE_BUDGET_MS, 'viewer decodes A (640x360) in slot 0 and B (320x180) in slot 1');
  await sleep(1000);
  const s1 = await call(pageV, 'slotStats', view.id);
  for (const i of [0, 1]) {
    assert.ok(s1.slots[i].video.framesDecoded > s0.slots[i].video.framesDecoded, `slot ${i} keeps decoding`);
    assert.ok(s1.slots[i].audio.packetsReceived > 0, `slot ${i}: audio packets on mid ${s1.slots[i].audioMid}`);
    assert.equal(s1.slots[i].video.streams, 1, `slot ${i}: one inbound video stream (one SSRC)`);
  }
  report('viewer slots decoding', s1.slots.map((s) => ({ mid: s.mid, size: `${s.video.frameWidth}x${s.video.frameHeight}`,
    framesDecoded: s.video.framesDecoded, audioPackets: s.audio.packetsReceived, ssrc: s.video.ssrc })));
  const ssrcs = s1.slots.map((s) => s.video.ssrc);
  note('viewer decoding A,B', { slots: s1.slots.map((s) => s.video) });

  // Each host watches its co-hosts with one slot.
  const viewA = await call(pageA, 'watchSlots', url, LIVE, { slots: 1, query: 'exclude=A' });
  checkSlotAnswer(viewA.offer, viewA.answer, 'A ?exclude=A answer');
  const viewB = await call(pageB, 'watchSlots', url, LIVE, { slots: 1, query: 'exclude=B' });
  checkSlotAnswer(viewB.offer, viewB.answer, 'B ?exclude=B answer');
  const vA = await waitSlotsDecoding(pageA, viewA.id, [SIZE.B], DECODE_BUDGET_MS, 'host A (?exclude=A) decodes B 320x180');
  const vB = await waitSlotsDecoding(pageB, viewB.id, [SIZE.A], DECODE_BUDGET_MS, 'host B (?exclude=B) decodes A 640x360');
  report('co-host views', { A: `${vA.slots[0].video.frameWidth}x${vA.slots[0].video.frameHeight}`, B: `${vB.slots[0].video.frameWidth}x${vB.slots[0].video.frameHeight}` });
  await openEvents(pageA, viewA.id, { name: 'view' });
  const aView = await waitEvent(pageA, viewA.id, (e) => e.slots?.length === 1 && e.slots[0].host === 'B',
    { name: 'view', timeoutMs: 3000, what: 'A\'s ?exclude=A view: its one slot shows B' });
  report('A\'s view event', brief(aView.event.json));

  // Monitors: 50 ms samples inside the viewer's page and A's view page.
  await call(pageV, 'startMonitor', view.id, { intervalMs: 50 });
  await call(pageA, 'startMonitor', viewA.id, { intervalMs: 50 });

  // B leaves: first its own view (a viewer-count change), then its host session.
  assert.equal(await call(pageB, 'close', viewB.id), 200, 'B\'s view DELETE -> 200');
  await sleep(1000);
  const fromLeave = (await eventLog(pageV, view.id)).next;
  const fromLeaveEs = (await eventLog(pageV, view.id, { name: 'eventsource' })).next;
  const leave = await call(pageB, 'leave', pubB.id);
  note('B DELETE', leave);
  assert.equal(leave.status, 200, 'B\'s WHIP DELETE -> 200');
  const gone = (e) => !hostNames(e).includes('B') && hostNames(e).includes('A') && e.slots?.[0]?.host === 'A' && e.slots?.[1]?.host === null;
  const left = await waitEvent(pageV, view.id, gone, { from: fromLeave, timeoutMs: 5000, what: 'B left: hosts without B, slot 0 A, slot 1 null' });
  const leaveLatency = left.event.at - leave.sentAt;
  note('viewer event: B left', { event: left.event.json });
  const leftEs = await waitEvent(pageV, view.id, gone, { name: 'eventsource', from: fromLeaveEs, timeoutMs: 3000, what: 'EventSource: B left' });
  report('B left: event latency after the DELETE (ms; fetch reader, EventSource)', [leaveLatency, leftEs.event.at - leave.sentAt]);
  report('B left: event', brief(left.event.json));
  assert.equal(left.event.json.slots[1].live, false, 'slot 1 without a host is not live');
  assert.ok(leaveLatency <= LEAVE_EVENT_BUDGET_MS, `the viewer hears that B left within ${LEAVE_EVENT_BUDGET_MS} ms (${leaveLatency} ms)`);

  // The viewer still decodes A; slot 1 is empty.
  await sleep(1500);
  const afterLeave = await call(pageV, 'slotStats', view.id);
  await pullMonitor(pageV, view.id, monV);
  const rowsSinceLeave = monV.rows.filter((r) => r.at >= leave.sentAt);
  assert.ok(rowsSinceLeave.length > 10, 'monitor rows after B left');
  const fdA0 = rowsSinceLeave[0].slots[0].fd;
  assert.ok(afterLeave.slots[0].video.framesDecoded > fdA0, 'slot 0 (A) keeps decoding after B left');
  assert.equal(`${afterLeave.slots[0].video.frameWidth}x${afterLeave.slots[0].video.frameHeight}`, '640x360', 'slot 0 still shows A');
  report('after B left', { slot0: afterLeave.slots[0].video.framesDecoded, slot1: afterLeave.slots[1].video.framesDecoded });

  // C joins: slot 1 (and A's view) take it, no new WHEP request.
  const pageC = await ctx.clientPage();
  const fromJoin = (await eventLog(pageV, view.id)).next;
  const pubC = await call(pageC, 'publish', url, `${LIVE}?host=C`, { ...PUB, ...SIZE.C });
  note('C WHIP POST', { sentAt: pubC.sentAt, answeredAt: pubC.answeredAt });
  const joined = await waitEvent(pageV, view.id, (e) => hostNames(e).join() === 'A,C' && e.slots?.[1]?.host === 'C',
    { from: fromJoin, timeoutMs: 5000, what: 'C joined: hosts A,C, slot 1 C' });
  note('viewer event: C in slot 1', { event: joined.event.json });
  // The first sample (page time) with a new frame of C's size in the last slot.
  const firstCFrame = (rows) => {
    for (let k = 1; k < rows.length; k++) {
      const [p, r] = [rows[k - 1].slots.at(-1), rows[k].slots.at(-1)];
      if (rows[k].at >= pubC.sentAt && r.w === SIZE.C.width && r.h === SIZE.C.height && r.fd > p.fd) return rows[k].at;
    }
    return null;
  };
  const deadline = pubC.sentAt + JOIN_FRAME_BUDGET_MS + 8000;   // keep watching past the budget to report the real time
  while (Date.now() < deadline) {
    await sleep(100);
    if (firstCFrame(await pullMonitor(pageV, view.id, monV)) !== null && firstCFrame(await pullMonitor(pageA, viewA.id, monA)) !== null) break;
  }
  // Two more seconds: C keeps decoding in slot 1, A in slot 0.
  await sleep(2000);
  const end = await call(pageV, 'slotStats', view.id);
  await pullMonitor(pageV, view.id, monV);
  await pullMonitor(pageA, viewA.id, monA);
  const cFrameAt = firstCFrame(monV.rows);
  const aViewCAt = firstCFrame(monA.rows);
  // The in-page monitor samples every 50 ms; a much longer gap between its samples means the page
  // itself did not run (an overloaded machine), which no server can be blamed for.
  const monitorGap = monV.rows.filter((r) => r.at >= leave.sentAt).reduce((acc, r, k, a) => (k ? Math.max(acc, r.at - a[k - 1].at) : 0), 0);
  const overload = monitorGap > 400 ? ` [the viewer page's 50 ms monitor had a ${monitorGap} ms gap: the page itself stalled; machine overloaded?]` : '';
  report('viewer page: longest gap between 50 ms monitor samples from B\'s DELETE on (ms)', monitorGap);
  const joinTimes = {
    eventMs: joined.event.at - pubC.sentAt,
    viewerFirstCFrameMs: cFrameAt && cFrameAt - pubC.sentAt,
    hostAViewFirstCFrameMs: aViewCAt && aViewCAt - pubC.sentAt,
    whipAnswerMs: pubC.answeredAt - pubC.sentAt,
  };
  report('C joined: times after C\'s WHIP POST (ms)', joinTimes);
  report('C joined: event', brief(joined.event.json));
  report('viewer at the end', end.slots.map((s) => ({ mid: s.mid, size: `${s.video.frameWidth}x${s.video.frameHeight}`,
    framesDecoded: s.video.framesDecoded, keyFrames: s.video.keyFramesDecoded, freezes: s.video.freezeCount, ssrc: s.video.ssrc,
    streams: s.video.streams, audioPackets: s.audio.packetsReceived, lost: s.video.packetsLost })));

  const stall = stallsOf(monV.rows.filter((r) => r.at >= leave.sentAt), 0, STALL_WINDOW_MS);
  const sinceLeave = monV.rows.filter((r) => r.at >= leave.sentAt);
  report('slot 0 (A) from B\'s DELETE to the end: longest gap between decoded frames (ms), frozen 500 ms windows, Chromium freezeCount delta',
    [stall.longestMs, stall.frozenWindows.length, sinceLeave.at(-1).slots[0].fz - sinceLeave[0].slots[0].fz]);
  note('end', { stall, joinTimes });
  const requests = await call(pageV, 'requests');
  assert.deepEqual(requests.map((r) => r.kind), ['whep'], `the viewer made one WHEP request and no other: ${JSON.stringify(requests)}`);

  assert.ok(cFrameAt !== null, `the viewer decodes C (480x270) in slot 1; last ${JSON.stringify(end.slots[1].video)}; live ${JSON.stringify(await liveInfo(url, LIVE))}${overload}`);
  assert.ok(cFrameAt - pubC.sentAt <= JOIN_FRAME_BUDGET_MS, `C's first frame in slot 1 within ${JOIN_FRAME_BUDGET_MS} ms of its WHIP POST (${cFrameAt - pubC.sentAt} ms)${overload}`);
  const cRows = monV.rows.filter((r) => r.at >= cFrameAt);
  assert.ok(cRows.at(-1).slots[1].fd > cRows[0].slots[1].fd, 'slot 1 keeps decoding C');
  assert.ok(cRows.every((r) => r.slots[1].w === SIZE.C.width && r.slots[1].h === SIZE.C.height), 'slot 1 stays 480x270 once C is in');
  assert.equal(`${end.slots[0].video.frameWidth}x${end.slots[0].video.frameHeight}`, '640x360', 'slot 0 still shows A');
  assert.deepEqual(end.slots.map((s) => s.video.ssrc), ssrcs, 'each slot keeps its SSRC');
  assert.ok(end.slots[1].audio.packetsReceived > afterLeave.slots[1].audio.packetsReceived, 'slot 1 audio (mid 3) carries C\'s audio');
  assert.equal(stall.frozenWindows.length, 0, `slot 0 decodes in every ${STALL_WINDOW_MS} ms window from B's DELETE on (frozen: ${JSON.stringify(stall.frozenWindows.slice(0, 5))})${overload}`);
  assert.ok(aViewCAt !== null, 'host A\'s ?exclude=A view decodes C 480x270 in its one slot');
  assert.ok(aViewCAt - pubC.sentAt <= JOIN_FRAME_BUDGET_MS, `host A's view: C's first frame within ${JOIN_FRAME_BUDGET_MS} ms (${aViewCAt - pubC.sentAt} ms)${overload}`);

  // Everything ends with 200.
  for (const [page, id, who] of [[pageV, view.id, 'viewer'], [pageA, viewA.id, 'A view'], [pageC, pubC.id, 'C'], [pageA, pubA.id, 'A']]) {
    assert.equal(await call(page, 'close', id), 200, `${who} DELETE -> 200`);
  }
});
