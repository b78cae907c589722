// Lives across the cluster (README, "Lives across origins"; docs/ARCHITECTURE.md, "Cluster"): one
// Redis, three regions on loopback, each with its own broker. Every participant is an aiortc
// process (tests/interop/room_participant.py) that publishes a VP8 video of a size and colour of
// its own and tells whom it decodes in each slot from the decoded frames.
//   1. N:N across two origins of region b: p1, p2 on origin-b1 and p3, p4 on origin-b2, each
//      publishing and watching the others (?exclude=self) on its own origin: each decodes the
//      other three; one relay per (origin, co-host).
//   2. Battle: host A through broker a, host B through broker b, into one live. A and B watch
//      each other through their brokers (their own origins); a viewer through broker a (edge in
//      a) and one through broker b (edge in b) each decode both hosts in one PeerConnection.
//      Exactly one relay per (edge, host) and per (origin, co-host).
//   3. kill -9 B's origin: A's viewer and A keep decoding A without a gap; B's slot reports
//      inactive (server-sent event) within the claim's TTL; B publishes again through broker b
//      (onto region b's other origin) and the same viewer sessions decode B within 3 s.
//   4. Guest mode in region g (two origins of 4 sessions each): a guest lands on the host's
//      origin; with that origin full, the next guest lands on the other; everyone decodes.
// Usage: STRATA_BIN=build/.../strata node tests/cluster/rooms.test.mjs
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { artifactsDir, INTEROP_DIR, SYSTEM_PYTHON } from '../interop/lib/paths.mjs';
import { jsonEvents, sleep, startProcess, waitForEvent, withTimeout } from '../interop/lib/procs.mjs';
import { Cluster, getJson, waitUntil } from './lib/cluster.mjs';

const FPS = 15;
const MIN_FRAMES = 30;
const PEOPLE = {
  p1: '320x180:e02020', p2: '384x216:20c020', p3: '448x252:2040e0', p4: '512x288:e0e020',
  A: '320x180:e020e0', B: '384x216:20e0e0', H: '448x252:e08020', G1: '512x288:8020e0', G2: '576x324:20e080',
};
const KNOWN = Object.entries(PEOPLE).flatMap(([n, v]) => ['--known', `${n}=${v}`]);

function report(label, value) {
  process.stdout.write(`# rooms: ${label}: ${typeof value === 'string' ? value : JSON.stringify(value)}\n`);
}

const lastProgress = (proc) => jsonEvents(proc).filter((e) => e.event === 'progress').at(-1);
// Frames of `name` decoded so far, over every slot of the participant's WHEP session.
function framesOf(proc, name) {
  const slots = lastProgress(proc)?.watch?.slots ?? [];
  return slots.reduce((n, s) => n + (s.by_who?.[name] ?? 0), 0);
}
const sessionOf = (proc, kind) => jsonEvents(proc).find((e) => e.event === `${kind}_session`);
// The last live event of the WHEP session: host shown per slot -> live.
function slotStates(proc) {
  const data = jsonEvents(proc).filter((e) => e.event === 'sse' && e.session === 'watch' && e.name === 'live').at(-1)?.data;
  return Object.fromEntries((data?.slots ?? []).filter((s) => s.host).map((s) => [s.host, s.live]));
}

describe('lives across the cluster', () => {
  const cluster = new Cluster({ origins: 0, edges: 0, relayLinger: 10 });
  const brokers = {};
  const people = {};

  function participant(name, url, live, args) {
    const proc = startProcess(SYSTEM_PYTHON, ['-u', path.join(INTEROP_DIR, 'room_participant.py'), url, live,
      '--fps', String(FPS), ...KNOWN, '--progress', '0.25', '--duration', '240', ...args],
    { name, env: { PYTHONDONTWRITEBYTECODE: '1' } });
    cluster.extraProcs.push(proc);
    return proc;
  }
  // Publishes as `name` and watches the others with `slots` slots, on `url` (a broker or a node).
  async function host(name, url, live, slots, extra = []) {
    const [size, color] = PEOPLE[name].split(':');
    const proc = participant(name, url, live, ['--publish', name, '--size', size, '--color', color, '--wait-connected',
      '--slots', String(slots), '--exclude', name, '--events', ...extra]);
    const pub = await waitForEvent(proc, (e) => e.event === 'publish_connected' || e.event === 'error', 45000, `${name} WHIP`);
    assert.equal(pub.connection, 'connected', `${name} WHIP: ${JSON.stringify(pub).slice(0, 400)}`);
    const watch = await waitForEvent(proc, (e) => e.event === 'watch_session' || e.event === 'error', 30000, `${name} WHEP`);
    assert.equal(watch.event, 'watch_session', `${name} WHEP: ${JSON.stringify(watch).slice(0, 400)}`);
    people[name] = proc;
    return proc;
  }
  async function viewer(name, url, live, slots) {
    const proc = participant(name, url, live, ['--slots', String(slots), '--events']);
    const watch = await waitForEvent(proc, (e) => e.event === 'watch_session' || e.event === 'error', 30000, `${name} WHEP`);
    assert.equal(watch.event, 'watch_session', `${name} WHEP: ${JSON.stringify(watch).slice(0, 400)}`);
    people[name] = proc;
    return proc;
  }
  async function waitDecoding(procs, names, ms, what) {
    await waitUntil(() => procs.every((p) => names(p).every((n) => framesOf(p, n) >= MIN_FRAMES)), ms, what, 250)
      .catch((err) => {
        const state = procs.map((p) => `${p.name}: ${JSON.stringify(names(p).map((n) => [n, framesOf(p, n)]))}`);
        throw new Error(`${err.message}\n${state.join('\n')}`);
      });
  }
  async function stopAll(names) {
    for (const n of names) {
      await people[n]?.stop(5000);
      delete people[n];
    }
  }
  const nodeOf = (proc, kind) => cluster.nodeByUrl(sessionOf(proc, kind)?.location)?.id;
  // A node's sources of `live`: host -> { relayed, relays } (GET /api/v1/streams).
  async function sources(node, live) {
    const out = {};
    for (const s of await node.streams()) if (s.name === live) out[s.host] = { relayed: s.relayed, relays: s.relays };
    return out;
  }

  function step(name, ms, fn) {
    return it(name, { timeout: ms + 15000 }, async () => {
      try {
        await withTimeout(fn(), ms, name);
        const dead = cluster.unexpectedExits();
        assert.deepEqual(dead, [], `strata processes exited: ${JSON.stringify(dead)}`);
      } catch (err) {
        cluster.saveLogs(artifactsDir('cluster', 'rooms', name.replace(/[^a-zA-Z0-9]+/g, '-').slice(0, 50)), err);
        throw err;
      }
    });
  }

  before(async () => {
    await cluster.startRedis();
    for (const r of ['a', 'b', 'g']) brokers[r] = await cluster.startBroker(r);
    await cluster.addNode({ role: 'origin', id: 'origin-a1', region: 'a' });
    await cluster.addNode({ role: 'edge', id: 'edge-a1', region: 'a' });
    await cluster.addNode({ role: 'origin', id: 'origin-b1', region: 'b' });
    await cluster.addNode({ role: 'origin', id: 'origin-b2', region: 'b' });
    await cluster.addNode({ role: 'edge', id: 'edge-b1', region: 'b' });
    for (const id of ['origin-g1', 'origin-g2']) await cluster.addNode({ role: 'origin', id, region: 'g', args: ['--max-sessions', '4'] });
    await cluster.addNode({ role: 'edge', id: 'edge-g1', region: 'g' });
    for (const r of ['a', 'b', 'g']) {
      await waitUntil(async () => {
        const ids = (await getJson(`${brokers[r]}/api/v1/nodes`)).nodes.map((n) => n.id);
        return cluster.nodes.filter((n) => n.region === r).every((n) => ids.includes(n.id));
      }, 8000, `broker ${r} lists its nodes`);
    }
    report('cluster', Object.fromEntries(cluster.nodes.map((n) => [n.id, n.httpUrl])));
  });

  after(async () => {
    await cluster.stop();
  });

  step('1: N:N across two origins: each of 4 participants decodes the other 3', 120000, async () => {
    const [b1, b2] = [cluster.node('origin-b1'), cluster.node('origin-b2')];
    const placed = { p1: b1, p2: b1, p3: b2, p4: b2 };
    for (const [name, node] of Object.entries(placed)) await host(name, node.httpUrl, 'call', 3);
    const procs = Object.keys(placed).map((n) => people[n]);
    await waitDecoding(procs, (p) => Object.keys(placed).filter((n) => n !== p.name), 60000, 'each decodes the other 3');
    report('N:N frames', Object.fromEntries(procs.map((p) => [p.name, Object.fromEntries(Object.keys(placed).map((n) => [n, framesOf(p, n)]))])));
    // One relay per (origin, co-host): each origin serves each of its hosts to the other once.
    const on1 = await sources(b1, 'call');
    const on2 = await sources(b2, 'call');
    report('N:N sources', { 'origin-b1': on1, 'origin-b2': on2 });
    for (const n of ['p1', 'p2']) {
      assert.deepEqual(on1[n], { relayed: false, relays: 1 }, `${n} on origin-b1`);
      assert.deepEqual(on2[n], { relayed: true, relays: 0 }, `${n} relayed to origin-b2`);
    }
    for (const n of ['p3', 'p4']) {
      assert.deepEqual(on2[n], { relayed: false, relays: 1 }, `${n} on origin-b2`);
      assert.deepEqual(on1[n], { relayed: true, relays: 0 }, `${n} relayed to origin-b1`);
    }
    await stopAll(Object.keys(placed));
  });

  step('2: battle across regions a and b: hosts decode each other, viewers in both regions decode both', 120000, async () => {
    await host('A', brokers.a, 'battle', 1);
    await host('B', brokers.b, 'battle', 1);
    await viewer('va', brokers.a, 'battle', 2);
    await viewer('vb', brokers.b, 'battle', 2);
    const { A, B, va, vb } = people;
    const placement = { A: nodeOf(A, 'publish'), B: nodeOf(B, 'publish'), va: nodeOf(va, 'watch'), vb: nodeOf(vb, 'watch'),
      A_watch: nodeOf(A, 'watch'), B_watch: nodeOf(B, 'watch') };
    report('battle placement', placement);
    assert.equal(placement.A, 'origin-a1');
    assert.match(placement.B, /^origin-b[12]$/);
    assert.equal(placement.va, 'edge-a1');
    assert.equal(placement.vb, 'edge-b1');
    assert.equal(placement.A_watch, placement.A, 'A watches on its own origin');
    assert.equal(placement.B_watch, placement.B, 'B watches on its own origin');
    await waitDecoding([va, vb], () => ['A', 'B'], 60000, 'viewers in a and b decode A and B');
    await waitDecoding([A], () => ['B'], 30000, 'A decodes B');
    await waitDecoding([B], () => ['A'], 30000, 'B decodes A');
    // Exactly one relay per (edge, host) and per (origin, co-host).
    const originA = cluster.node('origin-a1');
    const originB = cluster.node(placement.B);
    const counts = {
      'origin-a1': await sources(originA, 'battle'), [placement.B]: await sources(originB, 'battle'),
      'edge-a1': await sources(cluster.node('edge-a1'), 'battle'), 'edge-b1': await sources(cluster.node('edge-b1'), 'battle'),
    };
    report('battle sources', counts);
    // A is pulled by edge-a1, edge-b1 and B's origin; B by both edges and origin-a1.
    assert.deepEqual(counts['origin-a1'].A, { relayed: false, relays: 3 });
    assert.deepEqual(counts[placement.B].B, { relayed: false, relays: 3 });
    assert.equal(counts['origin-a1'].B?.relayed, true);
    assert.equal(counts[placement.B].A?.relayed, true);
    for (const e of ['edge-a1', 'edge-b1']) {
      assert.deepEqual(Object.keys(counts[e]).sort(), ['A', 'B'], `${e} relays each host once`);
      assert.ok(counts[e].A.relayed && counts[e].B.relayed, `${e}: both relayed`);
    }
    for (const [id, want] of [['edge-a1', 2], ['edge-b1', 2], ['origin-a1', 1], [placement.B, 1]]) {
      const m = await cluster.node(id).metrics();
      assert.equal(m.get('strata_relays_in'), want, `${id}: relays in`);
    }
  });

  step('3: kill -9 B\'s origin: A is untouched, B\'s slot goes inactive, B comes back on the same sessions', 90000, async () => {
    const { A, va, vb } = people;
    const originB = cluster.node(nodeOf(people.B, 'publish'));
    const vaSession = sessionOf(va, 'watch').location;
    const before = { va: framesOf(va, 'A'), A: framesOf(A, 'B') };
    const killedAt = Date.now();
    await originB.kill9();
    // A keeps flowing to its viewer without a gap: frames of A keep coming every quarter second.
    let lastA = framesOf(va, 'A');
    let maxStallMs = 0;
    let stallFrom = Date.now();
    const { ms: inactiveMs } = await waitUntil(() => {
      const now = framesOf(va, 'A');
      if (now > lastA) {
        maxStallMs = Math.max(maxStallMs, Date.now() - stallFrom);
        stallFrom = Date.now();
        lastA = now;
      }
      return slotStates(va).B === false && slotStates(vb).B === false;
    }, 15000, 'B\'s slot reports inactive on both viewers', 100);
    report('B inactive after kill (ms)', inactiveMs);
    report('A to va: longest stall while B died (ms)', maxStallMs);
    assert.ok(inactiveMs <= 5000, `B's slot inactive ${inactiveMs} ms after the kill, want within the claim's TTL (5 s)`);
    assert.ok(maxStallMs < 1000, `A's frames stalled ${maxStallMs} ms at va`);
    assert.ok(framesOf(va, 'A') > before.va, 'va keeps decoding A');
    assert.equal(slotStates(va).A, true);
    // B publishes again through broker b; its old claim lapsed, so it lands on the other origin.
    await people.B.stop(3000);
    delete people.B;
    const bFrames = { va: framesOf(va, 'B'), vb: framesOf(vb, 'B') };
    const republishAt = Date.now();
    const B2 = await host('B', brokers.b, 'battle', 1);
    const newOrigin = nodeOf(B2, 'publish');
    report('B republished on', { node: newOrigin, after_kill_ms: Date.now() - killedAt });
    assert.notEqual(newOrigin, originB.id);
    const { ms: backMs } = await waitUntil(() => framesOf(va, 'B') > bFrames.va + 5 && framesOf(vb, 'B') > bFrames.vb + 5,
      10000, 'the same viewer sessions decode B again', 100);
    const fromPublish = Date.now() - republishAt;
    report('B decoded again after its republish (ms: from its POST / from its sessions being up)', { from_post: fromPublish, from_up: backMs });
    assert.ok(backMs <= 3000, `viewers decode B ${backMs} ms after B's new session connected`);
    assert.equal(sessionOf(va, 'watch').location, vaSession, 'no new WHEP session');
    assert.ok(jsonEvents(va).filter((e) => e.event === 'watch_session').length === 1, 'va did not renegotiate');
    await waitDecoding([A], () => ['B'], 15000, 'A decodes B again');
    assert.ok(framesOf(A, 'B') > before.A, 'A decodes the republished B');
    await stopAll(['A', 'B', 'va', 'vb']);
  });

  step('4: guest mode: guests join the host\'s origin until it is full, then the other; all decode', 120000, async () => {
    await host('H', brokers.g, 'guests', 2);
    await host('G1', brokers.g, 'guests', 2);
    const hOrigin = nodeOf(people.H, 'publish');
    const g1Origin = nodeOf(people.G1, 'publish');
    // H's origin now holds 4 sessions of 4 (H and G1, each publishing and watching): full once its
    // record says so.
    const full = await waitUntil(async () => (await getJson(`${brokers.g}/api/v1/nodes`)).nodes
      .find((n) => n.id === hOrigin && n.sessions >= n.capacity), 5000, `${hOrigin} reported full`);
    report('host origin full', full.value);
    await host('G2', brokers.g, 'guests', 2);
    const g2Origin = nodeOf(people.G2, 'publish');
    report('guest placement', { H: hOrigin, G1: g1Origin, G2: g2Origin });
    assert.equal(g1Origin, hOrigin, 'the guest lands on the host\'s origin');
    assert.notEqual(g2Origin, hOrigin, 'with that origin full, the next guest lands on the other');
    await viewer('vg', brokers.g, 'guests', 3);
    assert.equal(nodeOf(people.vg, 'watch'), 'edge-g1');
    const names = ['H', 'G1', 'G2'];
    await waitDecoding(names.map((n) => people[n]), (p) => names.filter((n) => n !== p.name), 60000, 'hosts decode each other');
    await waitDecoding([people.vg], () => names, 60000, 'the edge viewer decodes all three');
    await stopAll([...names, 'vg']);
  });
});
