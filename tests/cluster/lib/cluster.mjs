// A local Strata cluster for the cluster tests: one Redis, one broker, origins and edges, each its own
// process on free ports (region "a"). Every process's output is captured; saveLogs() writes them all
// into an artifacts folder. kill9()/restart() per node and stopRedis()/startRedis() (same port) let a
// test break the cluster on purpose.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startProcess, sleep } from '../../interop/lib/procs.mjs';
import { freeTcpPort, randomFreeUdpPort } from '../../interop/lib/ports.mjs';
import { strataBin } from '../../interop/lib/paths.mjs';
import { parseMetrics } from '../../interop/lib/metrics.mjs';

export const REDIS = process.env.STRATA_REDIS || '/usr/bin/redis-server';
const READY_MS = 15000;

// token: an access token for a cluster with access control on (README, "Access control").
export async function getJson(url, timeoutMs = 3000, token = null) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  try { return JSON.parse(text); } catch { throw new Error(`GET ${url} -> ${res.status}: not JSON: ${text.slice(0, 200)}`); }
}

export async function getMetrics(httpUrl, token = null) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  const res = await fetch(new URL('/metrics', httpUrl), { headers, signal: AbortSignal.timeout(3000) });
  return parseMetrics(await res.text());
}

async function waitHttp(proc, url, ms = READY_MS) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!proc.running()) return false;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return true;
    } catch { /* not yet */ }
    await sleep(100);
  }
  throw new Error(`${proc.name}: ${url} not ready after ${ms} ms\n${proc.text().slice(-3000)}`);
}

// Waits for pred() to return a truthy value (polled every `everyMs`); returns { value, ms }.
export async function waitUntil(pred, ms, what, everyMs = 100) {
  const t0 = Date.now();
  let last;
  while (Date.now() - t0 < ms) {
    try { last = await pred(); } catch (e) { last = undefined; }
    if (last) return { value: last, ms: Date.now() - t0 };
    await sleep(everyMs);
  }
  throw new Error(`timeout after ${ms} ms: ${what}`);
}

class Node {
  constructor(cluster, { role, id, region = 'a', args = [] }) {
    this.cluster = cluster;
    this.role = role;
    this.id = id;
    this.region = region;
    this.args = args;     // extra command-line arguments of this node
    this.procs = [];   // every incarnation, for the logs
    this.proc = null;
  }

  get running() { return !!this.proc && this.proc.running(); }

  async start() {
    const c = this.cluster;
    this.killed = false;
    for (let attempt = 1; attempt <= 3; attempt++) {
      if (!this.port || attempt > 1) this.port = await freeTcpPort();
      if (!this.udpPort || attempt > 1) this.udpPort = await randomFreeUdpPort();
      this.httpUrl = `http://127.0.0.1:${this.port}`;
      const args = ['node', '--role', this.role, '--region', this.region, '--http', `127.0.0.1:${this.port}`,
        '--udp-port', String(this.udpPort), '--workers', '1', '--public-ip', '127.0.0.1',
        '--registry', c.registryUrl, '--cluster-secret-file', c.secretFile, '--node-id', this.id,
        '--relay-linger', String(c.opts.relayLinger), ...c.opts.nodeArgs, ...this.args];
      const proc = startProcess(c.bin, args, { name: this.id });
      proc.lines.push(`[harness] ${c.bin} ${args.join(' ')}`);
      this.procs.push(proc);
      this.proc = proc;
      if (await waitHttp(proc, `${this.httpUrl}/healthz`)) return this;
      await proc.exited;
    }
    throw new Error(`${this.id} failed to start:\n${this.proc.text().slice(-3000)}`);
  }

  kill9() { this.killed = true; if (this.running) this.proc.child.kill('SIGKILL'); return this.proc.exited; }
  stop() { this.killed = true; return this.proc ? this.proc.stop(5000) : null; }
  metrics() { return getMetrics(this.httpUrl, this.cluster.opts.adminToken); }
  streams() { return getJson(`${this.httpUrl}/api/v1/streams`, 3000, this.cluster.opts.adminToken).then((j) => j.streams ?? []); }
}

export class Cluster {
  constructor(opts) {
    // brokerArgs / nodeArgs: extra flags of every broker / node; adminToken: sent on the
    // harness's own /api/v1 and /metrics reads when access control is on.
    this.opts = { origins: 2, edges: 3, relayLinger: 10, nodeArgs: [], brokerArgs: [], adminToken: null, ...opts };
    this.bin = strataBin();
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-cluster-'));
    this.secret = crypto.randomBytes(24).toString('hex');
    this.secretFile = path.join(this.dir, 'secret');
    fs.writeFileSync(this.secretFile, `${this.secret}\n`, { mode: 0o600 });
    this.redisProcs = [];
    this.nodes = [];
    this.extraProcs = [];   // client processes registered for the logs
    this.brokers = {};      // region -> { url, proc }; this.broker / brokerUrl are region a's
  }

  get origins() { return this.nodes.filter((n) => n.role === 'origin'); }
  get edges() { return this.nodes.filter((n) => n.role === 'edge'); }
  node(id) { return this.nodes.find((n) => n.id === id); }
  // The node an absolute session/redirect URL points at.
  // The node serving a session URL; undefined for none (a viewer between sessions has no URL).
  nodeByUrl(url) {
    if (!url || !URL.canParse(url)) return undefined;
    const port = Number(new URL(url).port);
    return this.nodes.find((n) => n.port === port);
  }

  async startRedis() {
    if (!this.redisPort) this.redisPort = await freeTcpPort();
    const args = ['--port', String(this.redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', this.dir];
    const proc = startProcess(REDIS, args, { name: 'redis' });
    this.redisProcs.push(proc);
    this.redis = proc;
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis not ready:\n${proc.text()}`)), 10000);
      const check = (line) => { if (/Ready to accept connections/i.test(line)) { clearTimeout(timer); resolve(); } };
      proc.lines.forEach((l) => check(l));
      proc.onLine(check);
      proc.exited.then((st) => { clearTimeout(timer); reject(new Error(`redis exited ${JSON.stringify(st)}:\n${proc.text()}`)); });
    });
  }

  stopRedis() { return this.redis.stop(3000); }
  get registryUrl() { return `redis://127.0.0.1:${this.redisPort}`; }

  // A broker of `region` (several regions share the one Redis, as in the reference setup).
  async startBroker(region = 'a') {
    const port = await freeTcpPort();
    const url = `http://127.0.0.1:${port}`;
    const args = ['broker', '--region', region, '--http', `127.0.0.1:${port}`, '--registry', this.registryUrl,
      ...this.opts.brokerArgs];
    const proc = startProcess(this.bin, args, { name: region === 'a' ? 'broker' : `broker-${region}` });
    proc.lines.push(`[harness] ${this.bin} ${args.join(' ')}`);
    this.brokers[region] = { url, proc };
    if (region === 'a') {
      this.brokerPort = port;
      this.brokerUrl = url;
      this.broker = proc;
    }
    await waitHttp(proc, `${url}/healthz`);
    return url;
  }

  // Every broker process: startBroker's, and `broker` when a test set it itself (cluster_bwe).
  brokerProcs() {
    const procs = Object.values(this.brokers).map((b) => b.proc);
    if (this.broker && !procs.includes(this.broker)) procs.push(this.broker);
    return procs;
  }

  // Starts one more node: { role, id, region, args }.
  async addNode(spec) {
    const node = new Node(this, spec);
    this.nodes.push(node);
    return node.start();
  }

  async start() {
    await this.startRedis();
    await this.startBroker();
    for (let i = 1; i <= this.opts.origins; i++) this.nodes.push(new Node(this, { role: 'origin', id: `origin-${i}` }));
    for (let i = 1; i <= this.opts.edges; i++) this.nodes.push(new Node(this, { role: 'edge', id: `edge-${i}` }));
    for (const n of this.nodes) await n.start();   // one at a time: the machine has 2 cores
    await waitUntil(async () => {
      const ids = await this.brokerNodeIds();
      return this.nodes.every((n) => ids.includes(n.id));
    }, 8000, 'broker lists every node');
    return this;
  }

  async brokerNodes() {
    const j = await getJson(`${this.brokerUrl}/api/v1/nodes`, 3000, this.opts.adminToken);
    return j.nodes ?? [];
  }
  async brokerNodeIds() { return (await this.brokerNodes()).map((n) => n.id); }
  async brokerStreams() { return (await getJson(`${this.brokerUrl}/api/v1/streams`, 3000, this.opts.adminToken)).streams ?? []; }

  // Strata processes that died on their own (not through kill9/stop) are a failure of the test.
  unexpectedExits() {
    const dead = [];
    for (const b of this.brokerProcs()) if (!b.running()) dead.push({ name: b.name, status: b.exitStatus });
    for (const n of this.nodes) {
      if (n.proc && !n.proc.running() && !n.killed) dead.push({ name: n.id, status: n.proc.exitStatus });
    }
    return dead;
  }

  allProcs() {
    return [...this.redisProcs, ...this.brokerProcs(), ...this.nodes.flatMap((n) => n.procs), ...this.extraProcs];
  }

  saveLogs(dir, err) {
    fs.mkdirSync(dir, { recursive: true });
    if (err) fs.writeFileSync(path.join(dir, 'error.txt'), `${err?.stack ?? err}\n`);
    for (const [i, p] of this.allProcs().entries()) {
      fs.writeFileSync(path.join(dir, `${String(i).padStart(2, '0')}-${p.name.replace(/[^a-zA-Z0-9_-]+/g, '-')}.log`), p.text());
    }
    process.stderr.write(`cluster: logs saved in ${dir}\n`);
  }

  async stop() {
    for (const p of this.extraProcs) await p.stop(3000);
    for (const n of this.nodes) await n.stop();
    for (const b of this.brokerProcs()) await b.stop(5000);
    if (this.redis) await this.redis.stop(3000);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function startCluster(opts = {}) {
  const cluster = new Cluster(opts);
  try {
    return await cluster.start();
  } catch (err) {
    await cluster.stop().catch(() => {});
    throw err;
  }
}
