// Child-process helpers: every child is registered so a failing or timed-out test never leaves
// one behind (killed on process exit), output is captured line by line, and waits are bounded.
import { spawn } from 'node:child_process';

const live = new Set();
process.on('exit', () => { for (const child of live) { try { child.kill('SIGKILL'); } catch { /* gone */ } } });

export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

// Rejects with `what` if `promise` does not settle within ms.
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Spawns a process and captures its output. Returns a handle:
//   lines (all output lines, prefixed by stream), onLine(cb), exited (promise of {code, signal}),
//   running(), stop(graceMs) (SIGTERM then SIGKILL), text().
export function startProcess(cmd, args, { name = cmd, env = {}, echo = !!process.env.STRATA_INTEROP_VERBOSE } = {}) {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const lines = [];
  const listeners = [];
  const handle = { name, child, lines, exitStatus: null };
  const feed = (stream) => {
    let partial = '';
    return (chunk) => {
      partial += chunk.toString('utf8');
      const parts = partial.split('\n');
      partial = parts.pop();
      for (const line of parts) {
        lines.push(`[${stream}] ${line}`);
        if (echo) process.stderr.write(`${name} ${stream}| ${line}\n`);
        for (const cb of listeners) cb(line, stream);
      }
    };
  };
  child.stdout.on('data', feed('out'));
  child.stderr.on('data', feed('err'));
  handle.exited = new Promise((resolve) => {
    child.on('error', (err) => { lines.push(`[spawn error] ${err.message}`); });
    child.on('close', (code, signal) => {
      live.delete(child);
      handle.exitStatus = { code, signal };
      resolve(handle.exitStatus);
    });
  });
  handle.onLine = (cb) => listeners.push(cb);
  handle.running = () => handle.exitStatus === null;
  handle.text = () => lines.join('\n') + '\n';
  handle.stop = async (graceMs = 5000) => {
    if (!handle.running()) return handle.exitStatus;
    child.kill('SIGTERM');
    const timer = setTimeout(() => { if (handle.running()) child.kill('SIGKILL'); }, graceMs);
    const status = await handle.exited;
    clearTimeout(timer);
    return status;
  };
  return handle;
}

// Parses the JSON-lines events our Python clients print on stdout ({"event": ...}).
export function jsonEvents(handle) {
  const events = [];
  for (const raw of handle.lines) {
    if (!raw.startsWith('[out] {')) continue;
    try { events.push(JSON.parse(raw.slice(6))); } catch { /* not an event */ }
  }
  return events;
}

// Waits until a JSON event matching pred appears on the handle's stdout.
export function waitForEvent(handle, pred, ms, what) {
  const found = jsonEvents(handle).find(pred);
  if (found) return Promise.resolve(found);
  return withTimeout(new Promise((resolve, reject) => {
    handle.onLine((line, stream) => {
      if (stream !== 'out' || !line.startsWith('{')) return;
      try { const ev = JSON.parse(line); if (pred(ev)) resolve(ev); } catch { /* ignore */ }
    });
    handle.exited.then((st) => reject(new Error(`${handle.name} exited (${JSON.stringify(st)}) before ${what}`)));
  }), ms, `${handle.name}: ${what}`);
}
