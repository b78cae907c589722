// Two regions end to end (docs/ARCHITECTURE.md, "Cluster", regions): network namespaces A and B joined by a veth pair,
// one Redis (in A, reached from B across the link), broker + origin in A with an aiortc host, broker
// + edge in B. A viewer in B asking B's broker is placed on B's edge, which relays the stream from
// A's origin across regions; the viewer decodes frames. Also: A's broker honours ?region=b.
// Needs root (ip netns); skips with a message otherwise.
// Usage: STRATA_BIN=build/.../strata node tests/cluster/regions.test.mjs
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { artifactsDir, SYSTEM_PYTHON, strataBin } from '../interop/lib/paths.mjs';
import { startProcess, sleep, withTimeout } from '../interop/lib/procs.mjs';
import { REDIS, waitUntil } from './lib/cluster.mjs';
import { createRegions, inNs, isRoot, nsHttp, nsJson } from './lib/regions_net.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CLIENTS = path.join(HERE, 'lib', 'regions_clients.py');
const ADDR = { a: '10.255.1.1', b: '10.255.1.2' };
const BROKER_PORT = 8080;
const NODE_PORT = 8081;
const REDIS_PORT = 6390;
const STREAM = 'live';
const MIN_FRAMES = 20;

function report(label, value) {
  process.stdout.write(`# regions: ${label}: ${typeof value === 'string' ? value : JSON.stringify(value)}\n`);
}

const skip = !isRoot() ? 'needs root for network namespaces (ip netns); run as root to test regions' : false;

describe('regions', { skip }, () => {
  let net;
  let dir;
  const procs = [];
  const urls = {
    broker: (r) => `http://${ADDR[r]}:${BROKER_PORT}`,
    node: (r) => `http://${ADDR[r]}:${NODE_PORT}`,
  };

  function spawnIn(region, name, cmd, args, env = {}) {
    const [c, a] = inNs(net.ns[region], cmd, args);
    const p = startProcess(c, a, { name, env });
    p.lines.push(`[harness] ${cmd} ${args.join(' ')}`);
    procs.push(p);
    return p;
  }

  async function waitReady(region, url, proc) {
    await waitUntil(async () => {
      if (!proc.running()) throw new Error(`${proc.name} exited:\n${proc.text().slice(-2000)}`);
      return (await nsHttp(net.ns[region], 'GET', url, { timeoutS: 1 })).status === 200;
    }, 15000, `${proc.name} ready`, 200).catch((err) => { throw new Error(`${err.message}\n${proc.text().slice(-2000)}`); });
  }

  function startStrata(region, name, args) {
    return spawnIn(region, name, strataBin(), args);
  }

  function saveLogs(err) {
    const out = artifactsDir('cluster', 'regions');
    if (err) fs.writeFileSync(path.join(out, 'error.txt'), `${err?.stack ?? err}\n`);
    for (const [i, p] of procs.entries()) fs.writeFileSync(path.join(out, `${String(i).padStart(2, '0')}-${p.name}.log`), p.text());
    process.stderr.write(`regions: logs saved in ${out}\n`);
  }

  function step(name, ms, fn) {
    return it(name, { timeout: ms + 10000 }, async () => {
      try {
        await withTimeout(fn(), ms, name);
      } catch (err) {
        saveLogs(err);
        throw err;
      }
    });
  }

  before(async () => {
    net = createRegions([{ name: 'a', addr: ADDR.a }, { name: 'b', addr: ADDR.b }]);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-regions-'));
    const secretFile = path.join(dir, 'secret');
    fs.writeFileSync(secretFile, `${crypto.randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
    const registry = `redis://${ADDR.a}:${REDIS_PORT}`;
    try {
      const redis = spawnIn('a', 'redis', REDIS, ['--port', String(REDIS_PORT), '--bind', ADDR.a, '--protected-mode', 'no', '--save', '',
        '--appendonly', 'no', '--dir', dir]);
      await waitUntil(() => redis.lines.some((l) => /Ready to accept connections/i.test(l)), 10000, 'redis ready');
      const node = (r, role) => ['node', '--role', role, '--region', r, '--node-id', `${role}-${r}`,
        '--http', `${ADDR[r]}:${NODE_PORT}`, '--public-ip', ADDR[r], '--udp-port', '41000', '--workers', '1',
        '--registry', registry, '--cluster-secret-file', secretFile];
      const broker = (r) => ['broker', '--region', r, '--http', `${ADDR[r]}:${BROKER_PORT}`, '--registry', registry];
      const started = [
        ['a', 'broker-a', broker('a'), urls.broker('a')],
        ['b', 'broker-b', broker('b'), urls.broker('b')],
        ['a', 'origin-a', node('a', 'origin'), urls.node('a')],
        ['b', 'edge-b', node('b', 'edge'), urls.node('b')],
      ].map(([r, name, args, url]) => [r, startStrata(r, name, args), url]);
      for (const [r, p, url] of started) await waitReady(r, `${url}/healthz`, p);
      // Both brokers see their region's node through the shared Redis.
      for (const [r, role] of [['a', 'origin'], ['b', 'edge']]) {
        await waitUntil(async () => (await nsJson(net.ns[r], `${urls.broker(r)}/api/v1/nodes`)).nodes
          ?.some((n) => n.id === `${role}-${r}` && n.region === r), 8000, `broker ${r} lists ${role}-${r}`);
      }
    } catch (err) {
      saveLogs(err);
      throw err;
    }
  });

  after(async () => {
    for (const p of [...procs].reverse()) await p.stop(3000);
    net?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  step('a host in A publishes through A\'s broker onto A\'s origin', 25000, async () => {
    const host = spawnIn('a', 'host-a', SYSTEM_PYTHON, ['-u', CLIENTS, 'host', urls.broker('a'), STREAM, '--size', '160x120', '--fps', '15'],
      { PYTHONDONTWRITEBYTECODE: '1' });
    const published = await waitUntil(() => {
      if (!host.running()) throw new Error(`host exited:\n${host.text().slice(-2000)}`);
      return host.lines.map((l) => l.replace(/^\[out\] /, ''))
      .filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).find((e) => e.event === 'published' || e.event === 'publish_failed');
    }, 20000, 'host published');
    assert.equal(published.value.event, 'published', JSON.stringify(published.value));
    assert.ok(published.value.location.startsWith(urls.node('a')), `host placed on ${published.value.location}`);
    // The claim is global: B's broker sees the stream with its origin in region a.
    await waitUntil(async () => (await nsJson(net.ns.b, `${urls.broker('b')}/api/v1/streams`)).streams
      ?.find((s) => s.live === STREAM && s.origin_region === 'a'), 5000, 'B sees the claim');
  });

  step('a viewer in B is placed on B\'s edge, which relays from A\'s origin; frames decode', 30000, async () => {
    const viewer = spawnIn('b', 'viewer-b', SYSTEM_PYTHON, ['-u', CLIENTS, 'viewers', urls.broker('b'), STREAM, '--count', '1',
      '--duration', '3', '--spread-s', '0', '--timeout', '20'], { PYTHONDONTWRITEBYTECODE: '1' });
    const status = await viewer.exited;
    const events = viewer.lines.map((l) => l.replace(/^\[out\] /, '')).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const v = events.find((e) => e.event === 'viewer');
    assert.ok(v, `viewer did not finish (exit ${JSON.stringify(status)}): ${JSON.stringify(events)}`);
    report('viewer in B', v);
    assert.ok(v.location.startsWith(urls.node('b')), `viewer placed on ${v.location}, want B's edge`);
    assert.ok(v.frames >= MIN_FRAMES, `decoded ${v.frames} frames, want >= ${MIN_FRAMES}`);
    // B's broker: the stream's origin is in A and B's edge relays it (relay record, region-scoped).
    const streams = (await nsJson(net.ns.b, `${urls.broker('b')}/api/v1/streams`)).streams;
    const s = streams.find((x) => x.live === STREAM);
    report('stream as B sees it', s);
    assert.equal(s.origin_region, 'a');
    assert.equal(s.origin_id, 'origin-a');
    assert.deepEqual(s.relays, ['edge-b']);
    // A's own relay record set for the stream stays empty: records are per region.
    const inA = (await nsJson(net.ns.a, `${urls.broker('a')}/api/v1/streams`)).streams.find((x) => x.live === STREAM);
    assert.deepEqual(inA.relays, []);
  });

  step('A\'s broker sends a viewer that names region b to B\'s edge', 10000, async () => {
    const r = await nsHttp(net.ns.a, 'POST', `${urls.broker('a')}/whep/${STREAM}?region=b`, { body: 'v=0\r\n', contentType: 'application/sdp' });
    assert.equal(r.status, 307, `status ${r.status}: ${r.body}`);
    assert.equal(r.headers.location, `${urls.node('b')}/whep/${STREAM}?region=b`);
    const own = await nsHttp(net.ns.a, 'POST', `${urls.broker('a')}/whep/${STREAM}`, { body: 'v=0\r\n', contentType: 'application/sdp' });
    assert.equal(own.status, 503, 'region a has no edge: no capacity');
    await sleep(0);
  });
});
