// Starts `strata dev` on free ports and waits for GET /healthz -> 200.
import { startProcess, sleep } from './procs.mjs';
import { freeTcpPort, randomFreeUdpPort } from './ports.mjs';
import { strataBin } from './paths.mjs';

const READY_TIMEOUT_MS = 15000;

async function waitHealthy(proc, httpUrl) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!proc.running()) return false;
    try {
      const res = await fetch(new URL('/healthz', httpUrl), { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return true;
    } catch { /* not listening yet */ }
    await sleep(100);
  }
  throw new Error(`strata not healthy after ${READY_TIMEOUT_MS} ms\n${proc.text().slice(-4000)}`);
}

// Returns { httpUrl, httpPort, udpPort, proc, metricsText(), stop() }.
// Retries with new ports when the server exits during startup (e.g. it lost a race for the UDP port).
// publicIp: the one advertised candidate; null = none given, so `strata dev` advertises every
// interface address and 127.0.0.1 last (what `make run` does).
export async function startServer({ workers = 2, extraArgs = [], attempts = 3, publicIp = '127.0.0.1' } = {}) {
  const bin = strataBin();
  let lastLog = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const httpPort = await freeTcpPort();
    const udpPort = await randomFreeUdpPort();
    const args = ['dev', '--http', `127.0.0.1:${httpPort}`, '--udp-port', String(udpPort),
      ...(publicIp ? ['--public-ip', publicIp] : []), '--workers', String(workers), ...extraArgs];
    const proc = startProcess(bin, args, { name: 'strata' });
    proc.lines.push(`[harness] ${bin} ${args.join(' ')}`);
    const httpUrl = `http://127.0.0.1:${httpPort}`;
    if (await waitHealthy(proc, httpUrl)) {
      return {
        httpUrl, httpPort, udpPort, proc,
        metricsText: async () => (await fetch(new URL('/metrics', httpUrl), { signal: AbortSignal.timeout(3000) })).text(),
        stop: () => proc.stop(5000),
      };
    }
    lastLog = proc.text();
    await proc.exited;
  }
  throw new Error(`strata failed to start after ${attempts} attempts; last log:\n${lastLog.slice(-4000)}`);
}
