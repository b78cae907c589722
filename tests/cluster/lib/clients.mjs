// Node side of aiortc_hosts.py / aiortc_viewers.py: spawn the script, connect to its control socket,
// send JSON-line commands, wait for its JSON events, and keep the latest per-viewer frame counts.
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SYSTEM_PYTHON } from '../../interop/lib/paths.mjs';
import { startProcess, waitForEvent, withTimeout } from '../../interop/lib/procs.mjs';

const CLUSTER_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

class Swarm {
  constructor(proc) {
    this.proc = proc;
    this.events = [];
    this.listeners = [];
    proc.onLine((line, stream) => {
      if (stream !== 'out' || !line.startsWith('{')) return;
      let ev;
      try { ev = JSON.parse(line); } catch { return; }
      ev.at = Date.now();
      if (ev.event === 'frames') { this.lastFrames = ev; return; }   // not kept: too many
      if (ev.event === 'hosts') { this.lastHosts = ev; return; }
      this.events.push(ev);
      for (const cb of this.listeners) cb(ev);
    });
  }

  async connect() {
    const ready = await waitForEvent(this.proc, (e) => e.event === 'ready', 20000, 'control socket ready');
    this.sock = await new Promise((resolve, reject) => {
      const s = net.connect(ready.control_port, '127.0.0.1', () => resolve(s));
      s.on('error', reject);
    });
    return this;
  }

  send(cmd) { this.sock.write(`${JSON.stringify(cmd)}\n`); }

  // First event after `since` (ms timestamp) matching pred.
  waitEvent(pred, ms, what, since = 0) {
    const found = this.events.find((e) => e.at >= since && pred(e));
    if (found) return Promise.resolve(found);
    return withTimeout(new Promise((resolve, reject) => {
      this.listeners.push((e) => { if (e.at >= since && pred(e)) resolve(e); });
      this.proc.exited.then((st) => reject(new Error(`${this.proc.name} exited ${JSON.stringify(st)} before ${what}`)));
    }), ms, `${this.proc.name}: ${what}`);
  }

  async close() {
    this.sock?.end();
    await this.proc.stop(5000);
  }
}

function spawnScript(script, args, name) {
  const proc = startProcess(SYSTEM_PYTHON, ['-u', path.join(CLUSTER_DIR, script), ...args],
    { name, env: { PYTHONDONTWRITEBYTECODE: '1' } });
  return proc;
}

export class Hosts extends Swarm {
  // Resolves with the `published` event (throws on publish_failed).
  async publish(stream, { retryS = 0, timeoutMs = 20000, audio = false } = {}) {
    const since = Date.now();
    this.send({ cmd: 'publish', stream, retry_s: retryS, audio });
    const ev = await this.waitEvent((e) => e.stream === stream && (e.event === 'published' || e.event === 'publish_failed'),
      timeoutMs, `publish ${stream}`, since);
    if (ev.event !== 'published') {
      const err = new Error(`WHIP ${stream} failed: ${JSON.stringify(ev)}`);
      err.event = ev;
      throw err;
    }
    return ev;
  }

  async del(stream, { drop = false } = {}) {
    const since = Date.now();
    this.send({ cmd: drop ? 'drop' : 'delete', stream });
    return this.waitEvent((e) => e.event === 'deleted' && e.stream === stream, 10000, `delete ${stream}`, since);
  }
}

export class Viewers extends Swarm {
  // Viewer id -> { frames, state, location, gen, ended } from the latest frames event.
  snapshot() {
    const out = {};
    for (const [id, [frames, state, location, gen, ended]] of Object.entries(this.lastFrames?.viewers ?? {})) {
      out[id] = { frames, state, location, gen, ended };
    }
    return out;
  }

  frames(id) { return this.snapshot()[id]?.frames ?? 0; }

  // Sends `add` and resolves with the session event (throws on whep_failed).
  async add(id, stream, { timeoutS = 20 } = {}) {
    const since = Date.now();
    this.send({ cmd: 'add', id, stream, timeout_s: timeoutS });
    return this.sessionOf(id, since, timeoutS);
  }

  async reconnect(id, { timeoutS = 20 } = {}) {
    const since = Date.now();
    this.send({ cmd: 'reconnect', id, timeout_s: timeoutS });
    return this.sessionOf(id, since, timeoutS);
  }

  async sessionOf(id, since, timeoutS) {
    const ev = await this.waitEvent((e) => e.id === id && (e.event === 'session' || e.event === 'whep_failed'),
      timeoutS * 1000 + 5000, `WHEP ${id}`, since);
    if (ev.event !== 'session') throw new Error(`WHEP ${id} failed: ${JSON.stringify(ev)}`);
    return ev;
  }

  firstFrame(id, gen, ms) {
    return this.waitEvent((e) => e.event === 'first_frame' && e.id === id && e.gen === gen, ms, `${id} first frame (gen ${gen})`);
  }
}

export async function startHosts(brokerUrl, args = []) {
  return new Hosts(spawnScript('aiortc_hosts.py', [brokerUrl, ...args], 'aiortc-hosts')).connect();
}

export async function startViewers(brokerUrl, args = [], name = 'aiortc-viewers') {
  return new Viewers(spawnScript('aiortc_viewers.py', [brokerUrl, ...args], name)).connect();
}
