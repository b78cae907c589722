// Free port helpers. TCP: ask the OS (bind :0). UDP: the server needs a port it binds itself, so we
// pick a random high port, check that it binds right now, and the caller retries startup if it loses the race.
import net from 'node:net';
import dgram from 'node:dgram';

export function freeTcpPort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function udpPortIsFree(port, host) {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    sock.once('error', () => { sock.close(); resolve(false); });
    sock.bind(port, host, () => sock.close(() => resolve(true)));
  });
}

export async function randomFreeUdpPort(host = '127.0.0.1', lo = 20000, hi = 59999) {
  for (let i = 0; i < 50; i++) {
    const port = lo + Math.floor(Math.random() * (hi - lo + 1));
    if (await udpPortIsFree(port, host)) return port;
  }
  throw new Error('no free UDP port found');
}
