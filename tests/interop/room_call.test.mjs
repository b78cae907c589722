// N:N call (README, "Lives with several hosts"): four aiortc participants p1..p4, each publishing a
// VP8 video of a size and colour of its own and an Opus tone of its own frequency (p2 loud, the
// others quiet) into one
// live with `POST /whip/{live}?host=pN`, and watching it with `POST /whep/{live}?exclude=pN`, an
// offer of 3 slots (3 recvonly video m-lines, each followed by a paired recvonly audio m-line).
// They join one after the other (each one's WHIP connected before the next starts), so every
// participant's slots hold the three others in join order; p1 starts with three empty slots.
// Every participant must decode all three others, each on its own slot: it tells who is in which
// slot from the decoded frame size and centre colour, and that must agree with the expected join
// order, with the tone on the paired audio m-line (dominant frequency of the decoded audio), with
// the SSRC the answer gave the slot, and with the server-sent events of its WHEP
// session (the 201's Link rel urn:ietf:params:whep:ext:core:server-sent-events): slots by video mid
// and paired audio mid, hosts in join order and live, viewers 4, and speaker p2 (the loud one;
// RFC 6464 levels). Every event received is self-consistent.
// Then p1 hangs up (DELETEs both sessions): p2..p4 have no host left for the slot p1 had, so it
// goes quiet (events: host null, live false) while the others keep flowing; p5 joins and takes
// exactly that slot in their views (same SSRC, no sequence-number jump), and p5 sees p2..p4.
// Every participant withholds every 50th video packet of each slot from its decoder, as if lost:
// the server must retransmit them on the slot's RTX SSRC when aiortc NACKs them.
// Prints per-participant per-slot frame counts and frame rates.
// Usage: STRATA_BIN=build/.../strata node tests/interop/room_call.test.mjs
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { interopTest, report } from './lib/harness.mjs';
import { jsonEvents, sleep, waitForEvent, withTimeout } from './lib/procs.mjs';

const LIVE = 'room-call';
const FPS = 15;
const MIN_FRAMES = 45; // 3 s at 15 fps on every slot
const RATE_WINDOW_MS = 4000;
const DROP_EVERY = 50; // each participant withholds every 50th video packet of each slot: NACK -> RTX
// Each sends a tone of its own frequency: p2 loud, the others quiet (about 22 dB lower).
const LOUD = 12000;
const QUIET = 1000;
const PARTICIPANTS = [
  { name: 'p1', size: '320x180', color: 'e02020', hz: 300, tone: QUIET },
  { name: 'p2', size: '384x216', color: '20c020', hz: 500, tone: LOUD },
  { name: 'p3', size: '448x252', color: '2040e0', hz: 700, tone: QUIET },
  { name: 'p4', size: '512x288', color: 'e0e020', hz: 900, tone: QUIET },
];
const LATE = { name: 'p5', size: '576x324', color: 'e020e0', hz: 1100, tone: QUIET };
const KNOWN = [...PARTICIPANTS, LATE].flatMap((p) => ['--known', `${p.name}=${p.size}:${p.color}:${p.hz}`]);

const lastProgress = (proc) => jsonEvents(proc).filter((e) => e.event === 'progress').at(-1);
const lastSse = (proc, session) => jsonEvents(proc).filter((e) => e.event === 'sse' && e.session === session && e.name === 'live').at(-1);
const lastLive = (proc) => lastSse(proc, 'watch')?.data;
const slotsOf = (proc) => lastProgress(proc)?.watch?.slots ?? [];
const answerOf = (proc) => jsonEvents(proc).find((e) => e.event === 'watch_session').media;

// Every live event must be self-consistent: a slot names a host of the event (or null) and is live
// only when that host is live. Returns the events that are not.
function inconsistentEvents(proc) {
  return jsonEvents(proc).filter((e) => e.event === 'sse' && e.name === 'live').filter(({ data }) => {
    const hosts = new Map((data?.hosts ?? []).map((h) => [h.name, h.live]));
    return !data || (data.slots ?? []).some((s) => (s.host !== null && !hosts.has(s.host)) || (s.live && hosts.get(s.host) !== true)
      || (s.host === null && s.live !== false));
  });
}

function allDecoding(procs, minFrames) {
  return procs.every((proc) => {
    const slots = slotsOf(proc);
    return slots.length === 3 && slots.every((s) => s.frames >= minFrames);
  });
}

// Waits until pred(procs) holds on the latest progress lines (checked every 250 ms).
async function waitAll(procs, pred, ms, what) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (pred(procs)) return;
    for (const p of procs) if (!p.running()) throw new Error(`${p.name} exited early (${JSON.stringify(p.exitStatus)}) while waiting for ${what}`);
    await sleep(250);
  }
  const state = procs.map((p) => `${p.name}: ${JSON.stringify(slotsOf(p).map((s) => ({ mid: s.mid, frames: s.frames, who: s.who, by_who: s.by_who })))} last event ${JSON.stringify(lastLive(p))}`);
  throw new Error(`timeout after ${ms} ms: ${what}\n${state.join('\n')}`);
}

async function join(ctx, server, p) {
  const proc = ctx.python('room_participant.py', [server.httpUrl, LIVE, '--publish', p.name, '--size', p.size,
    '--color', p.color, '--fps', String(FPS), '--tone-amp', String(p.tone), '--tone-freq', String(p.hz), '--wait-connected',
    '--slots', '3', '--audio', '--exclude', p.name, ...KNOWN, '--events', '--drop-every', String(DROP_EVERY),
    '--duration', '200'], p.name);
  const pub = await waitForEvent(proc, (e) => e.event === 'publish_connected' || e.event === 'error', 45000, `${p.name} WHIP connected`);
  assert.equal(pub.event, 'publish_connected', `${p.name} WHIP: ${JSON.stringify(pub).slice(0, 500)}`);
  assert.equal(pub.connection, 'connected', `${p.name} WHIP connection`);
  // A host watching its co-hosts gets its 201 even while it is alone (its slots wait for hosts).
  const watch = await waitForEvent(proc, (e) => e.event === 'watch_session' || e.event === 'error', 40000, `${p.name} WHEP 201`);
  assert.equal(watch.event, 'watch_session', `${p.name} WHEP ?exclude=${p.name}: ${JSON.stringify(watch).slice(0, 500)}`);
  return proc;
}

// The WHEP answer: 3 video m-lines sendonly with an SSRC each, 3 paired audio m-lines.
function checkAnswer(proc) {
  const watch = jsonEvents(proc).find((e) => e.event === 'watch_session');
  const video = watch.media.filter(([kind]) => kind === 'video');
  const audio = watch.media.filter(([kind]) => kind === 'audio');
  assert.equal(video.length, 3, `${proc.name}: answer has 3 video m-lines`);
  assert.equal(audio.length, 3, `${proc.name}: answer has 3 audio m-lines`);
  for (const [kind, mid, dir, ssrcs] of watch.media) {
    assert.equal(dir, 'sendonly', `${proc.name}: answer ${kind} mid ${mid} is sendonly`);
    assert.ok(ssrcs.length >= 1, `${proc.name}: answer ${kind} mid ${mid} names its SSRC (a=ssrc)`);
  }
  const primary = video.map(([, , , ssrcs]) => ssrcs[0]);
  assert.equal(new Set(primary).size, 3, `${proc.name}: each slot has an SSRC of its own (${primary})`);
  assert.ok(watch.events_url, `${proc.name}: WHEP 201 carries the events Link (${JSON.stringify(watch.link)})`);
}

// The slot's RTP comes with the media SSRC the answer gave it (a=ssrc order: media first, then RTX).
function checkSsrc(proc, slot) {
  const answered = answerOf(proc).find(([kind, mid]) => kind === 'video' && mid === slot.mid)?.[3] ?? [];
  assert.ok(slot.rtp.ssrcs.length >= 1 && slot.rtp.ssrcs.includes(answered[0]) && slot.rtp.ssrcs.every((x) => answered.includes(x)),
    `${proc.name} slot ${slot.mid}: RTP comes with the SSRC the answer gave the slot (${slot.rtp.ssrcs} vs a=ssrc ${answered})`);
}

// Packets withheld from aiortc (--drop-every) come back on the slot's RTX SSRC (the second a=ssrc
// of the slot's FID group) once aiortc NACKs them: of those withheld more than 1 s ago, at least
// 80% per participant are recovered, and every slot that withheld two or more recovered at least
// one (a stalled receiver on a loaded machine may lose a retransmission; a server that does not
// retransmit for slots recovers none). No RTP may come with an SSRC the answer did not name.
function checkRetransmissions(proc, slots) {
  let recovered = 0;
  let due = 0;
  for (const slot of slots) {
    const answered = answerOf(proc).find(([kind, mid]) => kind === 'video' && mid === slot.mid)?.[3] ?? [];
    const media = slot.rtp.by_ssrc[String(slot.rtp.media_ssrc)] ?? 0;
    const what = `${proc.name} slot ${slot.mid}: ${slot.rtp.dropped} withheld, ${slot.rtp.recovered} recovered, ${slot.rtp.nacks} NACKs sent; unrecovered [seq, ms withheld, [ms NACKed]] ${JSON.stringify(slot.rtp.unrecovered)}; RTX SSRC ${answered.slice(1)}; packets per SSRC ${JSON.stringify(slot.rtp.by_ssrc)}`;
    assert.ok(slot.rtp.dropped >= 1 || media < 60 + DROP_EVERY, `packets were withheld (${what})`);
    assert.ok(slot.rtp.dropped < 2 || slot.rtp.recovered >= 1, `retransmissions arrive (${what})`);
    assert.ok(slot.rtp.ssrcs.every((x) => answered.includes(x)), `retransmissions on the answer's RTX SSRC (${what})`);
    recovered += slot.rtp.recovered;
    due += slot.rtp.recovered + slot.rtp.unrecovered.length;
  }
  assert.ok(due < 3 || recovered >= 0.8 * due, `${proc.name}: ${recovered} of ${due} withheld packets recovered by RTX (${JSON.stringify(slots.map((s) => s.rtp.unrecovered))})`);
  const unrouted = lastProgress(proc).unrouted;
  assert.deepEqual(unrouted, {}, `${proc.name}: no RTP with an SSRC the answer did not name (ssrc/pt: ${JSON.stringify(unrouted)})`);
}

function checkEvents(proc, { hosts, viewers, slots }) {
  const ev = lastLive(proc);
  assert.ok(ev, `${proc.name}: a live event with a JSON body`);
  assert.equal(ev.live, LIVE, `${proc.name}: event names the live`);
  assert.deepEqual(ev.hosts.map((h) => h.name), hosts, `${proc.name}: event hosts in join order`);
  assert.ok(ev.hosts.every((h) => h.live === true), `${proc.name}: every host live (${JSON.stringify(ev.hosts)})`);
  assert.equal(ev.viewers, viewers, `${proc.name}: event viewers`);
  assert.deepEqual(ev.slots, slots, `${proc.name}: event slots`);
}

function slotTable(proc, before, after) {
  return slotsOf(proc).map((s, k) => ({
    mid: s.mid, audio_mid: s.audio_mid, who: s.who, frames: s.frames, audio_frames: s.audio_frames,
    fps: before ? +((after[k] - before[k]) / (RATE_WINDOW_MS / 1000)).toFixed(1) : null, size: `${s.width}x${s.height}`,
    color: s.color, max_gap_ms: s.max_gap_ms, by_who: s.by_who, rtp: s.rtp,
    audio_who: s.audio_who, audio_hz: s.audio_hz, audio_by_who: s.audio_by_who,
  }));
}

function reportSlots(label, name, slots) {
  report(`${label} ${name} slots`, slots.map((s) => `mid ${s.mid}/${s.audio_mid}: ${s.who} ${s.frames} frames (${s.fps ?? '-'} fps, ${s.size}, rgb ${s.color}), ${s.audio_frames} audio (${s.audio_who} ${s.audio_hz} Hz), max gap ${s.max_gap_ms} ms, ${s.rtp.jump_count} seq jumps (${s.rtp.filled} packets filled later, ${s.rtp.unfilled.length} never), ${s.rtp.dropped} withheld/${s.rtp.recovered} recovered`).join(' | '));
}

interopTest('N:N call: four aiortc hosts each watch the three others on three slots', { timeoutMs: 240000 }, async (ctx) => {
  const server = await ctx.startServer();
  const procs = [];
  for (const p of PARTICIPANTS) procs.push(await join(ctx, server, p));
  const joinOrder = PARTICIPANTS.map((p) => p.name);
  const t0 = Date.now();
  for (const proc of procs) checkAnswer(proc);

  await waitAll(procs, (ps) => allDecoding(ps, MIN_FRAMES), 40000, `every participant decodes ≥ ${MIN_FRAMES} frames on each of its 3 slots`);
  report('all slots decoding after the last join (ms)', Date.now() - t0);
  const before = procs.map((p) => slotsOf(p).map((s) => s.frames));
  await sleep(RATE_WINDOW_MS);
  const table = Object.fromEntries(procs.map((p, i) => [p.name, slotTable(p, before[i], slotsOf(p).map((s) => s.frames))]));
  for (const [name, slots] of Object.entries(table)) reportSlots('call', name, slots);
  report('withheld / recovered by RTX (max ms) per slot', procs.map((p) => `${p.name}: ${slotsOf(p).map((s) => `${s.rtp.dropped}/${s.rtp.recovered} (${s.rtp.max_recovery_ms})`).join(' ')}`).join(', '));

  // Who is where: the three others in join order, seen in the pixels.
  for (const proc of procs) {
    const slots = table[proc.name];
    assert.deepEqual(slots.map((s) => s.who), joinOrder.filter((n) => n !== proc.name), `${proc.name} decodes the three others in join order on its slots`);
    for (const s of slots) {
      checkSsrc(proc, s);
      assert.ok(s.fps >= FPS / 3, `${proc.name} slot ${s.mid} (${s.who}) keeps decoding: ${s.fps} fps`);
      assert.deepEqual(Object.keys(s.by_who), [s.who], `${proc.name} slot ${s.mid} only ever showed ${s.who} (${JSON.stringify(s.by_who)})`);
      assert.ok(s.audio_frames > 0, `${proc.name} slot ${s.mid}: audio of the paired m-line ${s.audio_mid} arrives`);
      assert.equal(s.audio_who, s.who, `${proc.name}: the audio m-line ${s.audio_mid} paired with slot ${s.mid} carries ${s.who}'s tone (${s.audio_hz} Hz)`);
      assert.deepEqual(Object.keys(s.audio_by_who), [s.who], `${proc.name}: audio m-line ${s.audio_mid} only ever carried ${s.who} (${JSON.stringify(s.audio_by_who)})`);
    }
    checkRetransmissions(proc, slots);
    assert.equal(lastProgress(proc).watch.connection, 'connected', `${proc.name} WHEP connected`);
    assert.equal(lastProgress(proc).pub.connection, 'connected', `${proc.name} WHIP connected`);
  }

  // ... and named by the events of each participant's sessions.
  for (const proc of procs) {
    const open = jsonEvents(proc).find((e) => (e.event === 'sse_open' || e.event === 'sse_error') && e.session === 'watch');
    assert.ok(open, `${proc.name}: the WHEP events stream was opened`);
    assert.equal(open.event, 'sse_open', `${proc.name}: GET events: ${JSON.stringify(open)}`);
    assert.equal(open.status, 200, `${proc.name}: GET events -> 200`);
    assert.match(String(open.content_type), /^text\/event-stream/, `${proc.name}: events content type`);
    const first = jsonEvents(proc).find((e) => e.event === 'sse' && e.session === 'watch');
    assert.equal(first.name, 'live', `${proc.name}: first event is live`);
    assert.ok(first.first_ms < 1000, `${proc.name}: first event at once (${first.first_ms} ms)`);
    report(`${proc.name} last live event`, lastLive(proc));
    checkEvents(proc, {
      hosts: joinOrder, viewers: 4,
      slots: table[proc.name].map((s) => ({ mid: s.mid, audio_mid: s.audio_mid, host: s.who, live: true })),
    });
    const hostEv = lastSse(proc, 'publish')?.data;
    assert.ok(hostEv, `${proc.name}: its WHIP session's events stream sent a live event`);
    assert.deepEqual(hostEv.slots, [], `${proc.name}: a host session's event has slots []`);
    assert.deepEqual(hostEv.hosts.map((h) => h.name), joinOrder, `${proc.name}: host session event hosts`);
  }

  // Active speaker: p2 is the loud one.
  const speakerDeadline = Date.now() + 10000;
  while (Date.now() < speakerDeadline && !procs.every((p) => lastLive(p)?.speaker === 'p2')) await sleep(250);
  report('speaker per participant', procs.map((p) => `${p.name}: ${lastLive(p)?.speaker}`).join(', '));
  for (const proc of procs) assert.equal(lastLive(proc).speaker, 'p2', `${proc.name}: speaker is p2 (the loud one)`);

  // p1 hangs up: the slot it had in the others' views has no host left to show.
  const [p1, ...rest] = procs;
  p1.child.kill('SIGTERM');
  await withTimeout(p1.exited, 15000, 'p1 exit');
  const p1done = jsonEvents(p1).find((e) => e.event === 'done');
  assert.equal(p1done?.watch_delete, 200, 'p1: WHEP DELETE -> 200');
  assert.equal(p1done?.publish_delete, 200, 'p1: WHIP DELETE -> 200');
  const leftAt = Date.now();
  const remaining = joinOrder.slice(1);
  const emptied = (proc) => ({ mid: table[proc.name][0].mid, audio_mid: table[proc.name][0].audio_mid, host: null, live: false });
  await waitAll(rest, (ps) => ps.every((p) => isDeepStrictEqual(lastLive(p)?.slots?.[0], emptied(p))
    && lastLive(p)?.hosts?.length === 3 && lastLive(p)?.viewers === 3), 5000, 'events: p1\'s slot empty, 3 hosts, 3 viewers');
  report('events show p1 gone after (ms)', Date.now() - leftAt);
  // The slot must fall quiet: a 2 s stretch with at most one frame (a decoder running late under
  // load may still hand out p1's last frames for a moment), while the other two slots flow.
  const QUIET_MS = 2000;
  const samples = []; // [t, frames per slot per participant]
  const quietDeadline = Date.now() + 8000;
  const quietFound = rest.map(() => null);
  while (Date.now() < quietDeadline && quietFound.some((q) => q === null)) {
    samples.push([Date.now(), rest.map((p) => slotsOf(p).map((s) => s.frames))]);
    for (const [i] of rest.entries()) {
      if (quietFound[i]) continue;
      const [t1, now] = samples.at(-1);
      const start = samples.findLast(([t]) => t <= t1 - QUIET_MS);
      if (start && now[i][0] - start[1][i][0] <= 1) quietFound[i] = { fromMs: start[0] - leftAt, frames: now[i].map((n, k) => n - start[1][i][k]) };
    }
    await sleep(250);
  }
  for (const [i, proc] of rest.entries()) {
    report(`${proc.name}: p1's slot quiet (frames per slot over ${QUIET_MS} ms, from ms after p1 left)`, quietFound[i]);
    assert.ok(quietFound[i], `${proc.name}: p1's slot carries no media once p1 left (no ${QUIET_MS} ms without frames within 8 s; frames ${JSON.stringify(samples.map(([t, f]) => [t - leftAt, f[i][0]]))})`);
    const [, other1, other2] = quietFound[i].frames;
    assert.ok(other1 >= QUIET_MS / 1000 * FPS / 3 && other2 >= QUIET_MS / 1000 * FPS / 3, `${proc.name}: the other two slots keep flowing (${other1}, ${other2} frames in ${QUIET_MS} ms)`);
    assert.deepEqual(Object.keys(slotsOf(proc)[0].by_who), ['p1'], `${proc.name}: slot 0 showed nobody but p1 (${JSON.stringify(slotsOf(proc)[0].by_who)})`);
    checkEvents(proc, {
      hosts: remaining, viewers: 3,
      slots: [emptied(proc), ...table[proc.name].slice(1).map((s) => ({ mid: s.mid, audio_mid: s.audio_mid, host: s.who, live: true }))],
    });
  }

  // p5 joins: it takes the free slot in every view, and sees p2..p4.
  const p5 = await join(ctx, server, LATE);
  checkAnswer(p5);
  const joinedAt = Date.now();
  const seesP5 = (p) => (slotsOf(p)[0]?.by_who?.p5 ?? 0) >= MIN_FRAMES && slotsOf(p)[0]?.audio_who === 'p5';
  await waitAll([...rest, p5], (ps) => ps.slice(0, 3).every(seesP5) && allDecoding([p5], MIN_FRAMES), 30000,
    `p2..p4 decode ≥ ${MIN_FRAMES} frames of p5 in p1's old slot, p5 decodes its 3 slots`);
  report('p5 in every view after its WHEP 201 (ms)', Date.now() - joinedAt);
  const changes = rest.map((p) => jsonEvents(p).find((e) => e.event === 'slot_change' && e.to === 'p5'));
  report('slot changes to p5', changes);
  const after = Object.fromEntries([...rest, p5].map((p) => [p.name, slotTable(p)]));
  for (const [name, slots] of Object.entries(after)) reportSlots('after p1 left and p5 joined', name, slots);
  assert.deepEqual(after.p5.map((s) => s.who), remaining, 'p5 decodes p2, p3, p4 in join order');
  for (const proc of [...rest, p5]) checkRetransmissions(proc, slotsOf(proc));
  for (const s of after.p5) {
    checkSsrc(p5, s);
    assert.equal(s.audio_who, s.who, `p5: the audio paired with slot ${s.mid} carries ${s.who}'s tone (${s.audio_hz} Hz)`);
  }
  for (const [i, proc] of rest.entries()) {
    const slots = after[proc.name];
    const expected = ['p5', ...table[proc.name].slice(1).map((s) => s.who)];
    assert.deepEqual(slots.map((s) => s.who), expected, `${proc.name}: p5 in p1's old slot, the other slots unchanged`);
    assert.deepEqual(Object.keys(slots[0].by_who), ['p1', 'p5'], `${proc.name}: slot ${slots[0].mid} showed p1 then p5 (${JSON.stringify(slots[0].by_who)})`);
    for (const s of slots) {
      checkSsrc(proc, s);
      assert.equal(s.audio_who, s.who, `${proc.name}: the audio paired with slot ${s.mid} carries ${s.who}'s tone (${s.audio_hz} Hz)`);
    }
    assert.ok(changes[i], `${proc.name}: a slot change to p5 was seen`);
    // A jump whose missing packets came later (late or by RTX) was loss on the way; one that
    // nothing filled means the server skipped sequence numbers.
    const holes = slots[0].rtp.unfilled.filter(([at]) => Math.abs(at - changes[i].ms) <= 1500);
    assert.deepEqual(holes, [], `${proc.name}: sequence numbers of slot ${slots[0].mid} continue when p5 takes it (unfilled [ms, seq] ${JSON.stringify(slots[0].rtp.unfilled)}, jumps [ms, ssrc, delta] ${JSON.stringify(slots[0].rtp.jumps)}, switch at ${changes[i].ms} ms)`);
    assert.equal(jsonEvents(proc).filter((e) => e.event === 'watch_session').length, 1, `${proc.name}: no new WHEP request`);
  }
  await sleep(500);
  for (const proc of [...rest, p5]) {
    checkEvents(proc, {
      hosts: [...remaining, 'p5'], viewers: 4,
      slots: after[proc.name].map((s) => ({ mid: s.mid, audio_mid: s.audio_mid, host: s.who, live: true })),
    });
  }

  for (const proc of procs.concat(p5)) {
    report(`${proc.name} live events received`, jsonEvents(proc).filter((e) => e.event === 'sse').length);
    assert.deepEqual(inconsistentEvents(proc).map((e) => e.data), [], `${proc.name}: every live event is consistent`);
  }

  // Everyone hangs up: their DELETEs are 200.
  for (const proc of [...rest, p5]) proc.child.kill('SIGTERM');
  for (const proc of [...rest, p5]) {
    await withTimeout(proc.exited, 15000, `${proc.name} exit`);
    const done = jsonEvents(proc).find((e) => e.event === 'done');
    report(`${proc.name} done`, { watch_delete: done?.watch_delete, publish_delete: done?.publish_delete, frames: done?.watch?.slots?.map((s) => s.frames) });
    assert.equal(done?.watch_delete, 200, `${proc.name}: WHEP DELETE -> 200`);
    assert.equal(done?.publish_delete, 200, `${proc.name}: WHIP DELETE -> 200`);
  }
});
