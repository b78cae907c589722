// A network namespace joined to the root namespace by a veth pair, for tests that need a client
// behind a constrained link (tc tbf on the host-side veth shapes server -> client traffic only).
//
//   root namespace                         namespace strata-nt-<pid>-<n>
//   strata, publisher   10.201.X.1 [snt<pid>h<n>] ==== [snt<pid>n<n>] 10.201.X.2   Chromium viewer
//                                  ^ tbf here = egress toward the viewer
//
// Names carry the creating process's pid, so a later run removes what a crashed (SIGKILLed, timed
// out) run left behind: removeStaleNetns() deletes every strata-nt-*/snt* whose pid is gone.
// Needs root (ip netns, tc); isRoot() lets a test skip cleanly otherwise.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from './browser.mjs';
import { CHROMIUM, LIB_DIR, strataBin } from './paths.mjs';
import { freeTcpPort, randomFreeUdpPort } from './ports.mjs';
import { sleep, startProcess } from './procs.mjs';

const NS_PREFIX = 'strata-nt-';
const IF_PREFIX = 'snt';
const NS_RE = /^strata-nt-(\d+)-\d+/;
const IF_RE = /^snt(\d+)[hn]\d+/;
const live = new Set();   // namespaces this process made and has not removed yet
let counter = 0;

export function isRoot() { return typeof process.getuid === 'function' && process.getuid() === 0; }

function run(cmd, args, { allowFail = false } = {}) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10000 });
  } catch (err) {
    if (allowFail) return '';
    throw new Error(`${cmd} ${args.join(' ')} failed: ${err.stderr || err.message}`);
  }
}
const ip = (...args) => run('ip', args);
const tc = (...args) => run('tc', args);

function pidAlive(pid) {
  try { process.kill(pid, 0); return true; } catch (err) { return err.code === 'EPERM'; }
}

// Deletes namespaces and veths left by runs whose process no longer exists. Returns what it removed.
export function removeStaleNetns() {
  const removed = [];
  for (const line of run('ip', ['netns', 'list'], { allowFail: true }).split('\n')) {
    const name = line.split(/\s/)[0];
    const m = NS_RE.exec(name);
    if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]))) {
      run('ip', ['netns', 'del', name], { allowFail: true });
      removed.push(name);
    }
  }
  for (const line of run('ip', ['-o', 'link', 'show'], { allowFail: true }).split('\n')) {
    const name = (/^\d+:\s+([^:@\s]+)/.exec(line) || [])[1];
    const m = name && IF_RE.exec(name);
    if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]))) {
      run('ip', ['link', 'del', name], { allowFail: true });
      removed.push(name);
    }
  }
  return removed;
}

// A /30 in 10.201.0.0/16 that no interface uses yet (other tests may run their own namespace).
function freeSubnet() {
  const used = run('ip', ['-4', '-o', 'addr', 'show'], { allowFail: true });
  for (let i = 0; i < 256; i++) {
    const x = (process.pid + counter + i) % 256;
    if (!used.includes(` 10.201.${x}.`)) return x;
  }
  throw new Error('no free 10.201.X.0/30 subnet');
}

function destroySync(name, hostIf) {
  if (!live.has(name)) return;
  live.delete(name);
  run('ip', ['netns', 'del', name], { allowFail: true });   // takes the veth pair with it
  if (hostIf) run('ip', ['link', 'del', hostIf], { allowFail: true });  // in case the pair outlived the namespace
}

const registered = new Map();   // name -> hostIf, for the exit hook
process.on('exit', () => { for (const [name, hostIf] of registered) destroySync(name, hostIf); });

// Creates the namespace and veth pair. Returns a handle:
//   name, hostIf, nsIf, hostIp, nsIp,
//   limit(kbit) / unlimit() (tbf on hostIf egress), qdisc() (tc -s text), destroy(),
//   launchChromium({ extraArgs }) (a playwright Browser whose process runs inside the namespace).
export function createNetns() {
  if (!isRoot()) throw new Error('createNetns needs root');
  const n = counter++;
  const name = `${NS_PREFIX}${process.pid}-${n}`;
  const hostIf = `${IF_PREFIX}${process.pid}h${n}`;
  const nsIf = `${IF_PREFIX}${process.pid}n${n}`;
  const x = freeSubnet();
  const hostIp = `10.201.${x}.1`;
  const nsIp = `10.201.${x}.2`;
  registered.set(name, hostIf);
  live.add(name);
  try {
    ip('netns', 'add', name);
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
    ip('link', 'set', nsIf, 'netns', name);
    ip('addr', 'add', `${hostIp}/30`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('netns', 'exec', name, 'ip', 'addr', 'add', `${nsIp}/30`, 'dev', nsIf);
    ip('netns', 'exec', name, 'ip', 'link', 'set', nsIf, 'up');
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
  } catch (err) {
    destroySync(name, hostIf);
    throw err;
  }

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-netns-'));
  const wrapper = path.join(tmp, 'chromium-in-netns.sh');
  // Playwright drives Chromium over a pipe (fds 3/4), which `ip netns exec` passes through.
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${name} ${CHROMIUM} "$@"\n`, { mode: 0o755 });

  const handle = {
    name, hostIf, nsIf, hostIp, nsIp,
    // Token bucket on the host-side veth: caps server -> namespace traffic at `kbit`.
    limit(kbit, { burst = '16kbit', latency = '100ms' } = {}) {
      tc('qdisc', 'replace', 'dev', hostIf, 'root', 'tbf', 'rate', `${kbit}kbit`, 'burst', burst, 'latency', latency);
    },
    unlimit() { run('tc', ['qdisc', 'del', 'dev', hostIf, 'root'], { allowFail: true }); },
    qdisc() { return tc('-s', 'qdisc', 'show', 'dev', hostIf).trim(); },
    // { sentBytes, dropped, overlimits } of the root qdisc (tbf or the default one).
    qdiscCounters() {
      const text = handle.qdisc();
      const m = /Sent (\d+) bytes \d+ pkt \(dropped (\d+), overlimits (\d+)/.exec(text);
      return m ? { sentBytes: Number(m[1]), dropped: Number(m[2]), overlimits: Number(m[3]) } : null;
    },
    async launchChromium({ extraArgs = [] } = {}) {
      const browser = await chromium.launch({
        executablePath: wrapper, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs], timeout: 30000,
      });
      browser.cleanup = () => browser.close().catch(() => {});
      return browser;
    },
    destroy() {
      destroySync(name, hostIf);
      registered.delete(name);
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
  return handle;
}

// A namespace shaped like a desktop: loopback plus one interface with an IPv4 and an IPv6 address
// and default routes through it, for tests that need a non-loopback address whatever the machine
// has (a CI sandbox may have loopback only). The interface is one end of a veth pair whose other
// end also stays inside, without an address (kernels without the dummy driver have veth): nothing
// leaves the namespace. Run processes inside with `ip netns exec <name> ...`. ipv6: false leaves
// the interface IPv4 only. Returns { name, ifName, ipv4, ipv6 (null when off), destroy() }.
export function createDesktopNetns({ ipv6: withIpv6 = true } = {}) {
  if (!isRoot()) throw new Error('createDesktopNetns needs root');
  const n = counter++;
  const name = `${NS_PREFIX}${process.pid}-${n}`;
  const ifName = 'eth0';  // inside the namespace only: no clash with the machine's
  // RFC 5737 TEST-NET-2 and an RFC 4193 unique local prefix: never routed anywhere.
  const ipv4 = '198.51.100.10';
  const ipv6 = withIpv6 ? 'fd5e:7a7a:0:1::10' : null;
  registered.set(name, '');
  live.add(name);
  const inNs = (...args) => ip('netns', 'exec', name, 'ip', ...args);
  try {
    ip('netns', 'add', name);
    inNs('link', 'set', 'lo', 'up');
    inNs('link', 'add', ifName, 'type', 'veth', 'peer', 'name', `${ifName}p`);
    inNs('link', 'set', `${ifName}p`, 'up');
    inNs('addr', 'add', `${ipv4}/24`, 'dev', ifName);
    // nodad: usable at once (duplicate address detection would hold it "tentative" ~1 s).
    if (ipv6) inNs('-6', 'addr', 'add', `${ipv6}/64`, 'dev', ifName, 'nodad');
    inNs('link', 'set', ifName, 'up');
    // Browsers gather the address of the default route's interface (Firefox, without camera
    // permission, only that one), as on a desktop.
    inNs('route', 'add', 'default', 'dev', ifName);
    if (ipv6) inNs('-6', 'route', 'add', 'default', 'dev', ifName);
  } catch (err) {
    destroySync(name, '');
    throw err;
  }
  return {
    name, ifName, ipv4, ipv6,
    destroy() { destroySync(name, ''); registered.delete(name); },
  };
}

// `strata dev` listening (HTTP and media) on `host`, e.g. the host-side veth address, so a client in
// the namespace reaches both and the ICE candidates name an address it can route to. Same shape as
// server.mjs's startServer(): { httpUrl, httpPort, udpPort, proc, metricsText(), stop() }.
export async function startServerOn(host, { workers = 2, extraArgs = [], attempts = 3 } = {}) {
  const bin = strataBin();
  let lastLog = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const httpPort = await freeTcpPort(host);
    const udpPort = await randomFreeUdpPort(host);
    const args = ['dev', '--http', `${host}:${httpPort}`, '--udp-port', String(udpPort),
      '--public-ip', host, '--workers', String(workers), ...extraArgs];
    const proc = startProcess(bin, args, { name: 'strata' });
    proc.lines.push(`[harness] ${bin} ${args.join(' ')}`);
    const httpUrl = `http://${host}:${httpPort}`;
    if (await waitHttpOk(proc, `${httpUrl}/healthz`)) {
      return {
        httpUrl, httpPort, udpPort, proc,
        metricsText: async () => (await fetch(new URL('/metrics', httpUrl), { signal: AbortSignal.timeout(3000) })).text(),
        stop: () => proc.stop(5000),
      };
    }
    lastLog = proc.text();
    await proc.exited;
  }
  throw new Error(`strata failed to start on ${host} after ${attempts} attempts; last log:\n${lastLog.slice(-4000)}`);
}

// Polls url until 200; false if the process exits first; throws after ms.
export async function waitHttpOk(proc, url, ms = 15000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!proc.running()) return false;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return true;
    } catch { /* not listening yet */ }
    await sleep(100);
  }
  throw new Error(`${proc.name}: ${url} not ready after ${ms} ms\n${proc.text().slice(-3000)}`);
}

// The interop client page (lib/page/index.html + client.js) served on `host`, e.g. the host-side veth
// address, for a namespaced browser that must load it from somewhere other than a strata node.
// Returns { url, close() }.
export function startPageServerOn(host) {
  const files = {
    '/': [path.join(LIB_DIR, 'page', 'index.html'), 'text/html'],
    '/client.js': [path.join(LIB_DIR, 'page', 'client.js'), 'text/javascript'],
  };
  const server = http.createServer((req, res) => {
    const entry = files[new URL(req.url, 'http://x').pathname];
    if (!entry) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'Content-Type': entry[1], 'Cache-Control': 'no-store' });
    res.end(fs.readFileSync(entry[0]));
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, host, () => {
      resolve({ url: `http://${host}:${server.address().port}/`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}
