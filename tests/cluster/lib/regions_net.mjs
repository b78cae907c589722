// Two "regions" as network namespaces joined by one veth pair, for tests/cluster/regions.test.mjs.
// Each namespace gets a service address on lo (the address its processes bind to and advertise),
// routed over the veth from the other namespace. Needs root (ip netns). Names carry the test's pid,
// so parallel or leftover runs never collide; destroy() removes everything (also on process exit).
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export function isRoot() { return typeof process.getuid === 'function' && process.getuid() === 0; }

function ip(...args) { execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] }); }

// regions: [{ name: 'a', addr: '10.255.1.1' }, { name: 'b', addr: '10.255.1.2' }]
export function createRegions(regions, { tag = String(process.pid), linkNet = '10.78.0' } = {}) {
  if (regions.length !== 2) throw new Error('createRegions: two regions');
  const ns = regions.map((r) => `strata-rt${tag}-${r.name}`);
  const devs = regions.map((r) => `srt${tag % 100000}${r.name}`.slice(0, 15));
  const net = {
    ns: Object.fromEntries(regions.map((r, i) => [r.name, ns[i]])),
    addr: Object.fromEntries(regions.map((r) => [r.name, r.addr])),
    destroyed: false,
    destroy() {
      if (net.destroyed) return;
      net.destroyed = true;
      for (const n of ns) { try { ip('netns', 'del', n); } catch { /* already gone */ } }
    },
  };
  process.on('exit', () => net.destroy());
  try {
    for (const n of ns) {
      ip('netns', 'add', n);
      ip('-n', n, 'link', 'set', 'lo', 'up');
    }
    ip('link', 'add', devs[0], 'netns', ns[0], 'type', 'veth', 'peer', 'name', devs[1], 'netns', ns[1]);
    for (let i = 0; i < 2; i++) {
      const other = 1 - i;
      ip('-n', ns[i], 'addr', 'add', `${regions[i].addr}/32`, 'dev', 'lo');
      ip('-n', ns[i], 'addr', 'add', `${linkNet}.${i + 1}/30`, 'dev', devs[i]);
      ip('-n', ns[i], 'link', 'set', devs[i], 'up');
      ip('-n', ns[i], 'route', 'add', `${regions[other].addr}/32`, 'via', `${linkNet}.${other + 1}`, 'dev', devs[i],
        'src', regions[i].addr);
    }
  } catch (err) {
    net.destroy();
    throw new Error(`creating network namespaces failed: ${err.stderr?.toString() ?? err.message}`);
  }
  return net;
}

// The argv that runs `cmd args` inside namespace `ns`.
export function inNs(ns, cmd, args) { return ['ip', ['netns', 'exec', ns, cmd, ...args]]; }

// HTTP from inside a namespace (curl): { status, headers (lower-case names), body }.
export async function nsHttp(ns, method, url, { body, contentType, timeoutS = 3 } = {}) {
  const args = ['netns', 'exec', ns, 'curl', '-s', '-i', '-X', method, '--max-time', String(timeoutS)];
  if (body !== undefined) args.push('--data-binary', body, '-H', `Content-Type: ${contentType ?? 'application/octet-stream'}`);
  args.push(url);
  const { stdout } = await execFileP('ip', args, { maxBuffer: 4 << 20 });
  const split = stdout.indexOf('\r\n\r\n');
  const head = split >= 0 ? stdout.slice(0, split) : stdout;
  const lines = head.split('\r\n');
  const status = Number(lines[0].split(' ')[1]);
  const headers = {};
  for (const l of lines.slice(1)) {
    const c = l.indexOf(':');
    if (c > 0) headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
  }
  return { status, headers, body: split >= 0 ? stdout.slice(split + 4) : '' };
}

export async function nsJson(ns, url) {
  const r = await nsHttp(ns, 'GET', url);
  try { return JSON.parse(r.body); } catch { throw new Error(`GET ${url} -> ${r.status}: not JSON: ${r.body.slice(0, 200)}`); }
}
