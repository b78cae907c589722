// Plain node:http requests for the negative tests: unlike fetch, they survive a server that answers
// early (e.g. 413) and closes the connection while the body is still being sent.
import http from 'node:http';

export function request(method, url, { headers = {}, body = null, timeoutMs = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { ...headers, ...(body ? { 'Content-Length': Buffer.byteLength(body) } : {}) } });
    let answered = false;
    const timer = setTimeout(() => { req.destroy(new Error(`timeout: ${method} ${url}`)); }, timeoutMs);
    req.on('response', (res) => {
      answered = true;
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', () => {});
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('error', (err) => {
      // EPIPE/ECONNRESET after the response arrived is expected for oversized bodies.
      if (!answered) { clearTimeout(timer); reject(err); }
    });
    if (body) req.write(body);
    req.end();
  });
}
