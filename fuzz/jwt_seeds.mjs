// Writes the seeds of the jwt and api_json fuzz targets into tests/data/fuzz/{jwt,api_json}/:
// tokens signed by the fixed test keys of fuzz/jwt_target.cpp (their private halves are here;
// they guard nothing), tickets, and the JSON bodies of the HTTP API. Run from the repo root:
//   node fuzz/jwt_seeds.mjs
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const ES = crypto.createPrivateKey({ format: 'jwk', key: { kty: 'EC', crv: 'P-256',
  x: '6zhYhOY-w4MY4agrPGJZYMOkLuI99t1g2e4d2I12KHs', y: 'JxoMtgoRSnvrmk5gOfJLVYUHfNde6bJdlq6KwHwmySU',
  d: '4a1_U1FOA715uKajsNBFYWRHgEyYo8utCDHkWKgIUWY' } });
const ED = crypto.createPrivateKey({ format: 'jwk', key: { kty: 'OKP', crv: 'Ed25519',
  x: 'kHHQUUh89tZs43bYEM0vYDWK1B4DKr8V7wKOPcNB8V8', d: '98m6mTTJF9VcT2nSZUpmZfbh1211vEz4ZExdhtWOysY' } });
const SECRET = 'strata-fuzz-hs256-secret-0123456789abcdef';
const CLUSTER_SECRET = 'strata-fuzz-cluster-secret';
const NOW = 1800000000;  // the target's clock

const b64u = (b) => Buffer.from(b).toString('base64url');
function token(header, claims) {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims))}`;
  let sig;
  if (header.alg === 'HS256') sig = crypto.createHmac('sha256', SECRET).update(input).digest();
  else if (header.alg === 'ES256') sig = crypto.sign('sha256', Buffer.from(input), { key: ES, dsaEncoding: 'ieee-p1363' });
  else if (header.alg === 'EdDSA') sig = crypto.sign(null, Buffer.from(input), ED);
  else sig = Buffer.alloc(0);
  return `${input}.${b64u(sig)}`;
}
function ticket(payload) {
  const key = crypto.createHmac('sha256', CLUSTER_SECRET).update('strata redirect ticket v1').digest();
  const body = b64u(JSON.stringify(payload));
  return `${body}.${b64u(crypto.createHmac('sha256', key).update(body).digest())}`;
}

const grant = { live: 'show', publish: true, view: true };
const jwt = {
  'hs256_publish': token({ alg: 'HS256', typ: 'JWT' }, { sub: 'host', exp: NOW + 60, strata: grant }),
  'es256_view_prefix': token({ alg: 'ES256', kid: 'es-1' }, { exp: NOW + 60, nbf: NOW - 5, strata: { live: 'sh*', view: true } }),
  'eddsa_admin': token({ alg: 'EdDSA', kid: 'ed-1' }, { sub: 'root', exp: NOW + 600, iss: 'i', aud: ['a', 'b'], strata: { live: '*', admin: true } }),
  'es256_no_kid': token({ alg: 'ES256' }, { exp: NOW + 60, strata: grant }),
  'expired': token({ alg: 'HS256' }, { exp: NOW - 100, strata: grant }),
  'alg_none': token({ alg: 'none' }, { exp: NOW + 60, strata: grant }),
  'bad_grant': token({ alg: 'HS256' }, { exp: NOW + 60, strata: { live: 'a/b', publish: 1, extra: true } }),
  'ticket_publish': ticket({ act: 'publish', live: 'show', host: 'host', node: 'node-1', exp: NOW + 30 }),
  'ticket_view': ticket({ act: 'view', live: 'show', node: 'node-1', sub: 'v', exp: NOW + 30 }),
  'jwks': JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', kid: 'k', x: ES.export({ format: 'jwk' }).x, y: ES.export({ format: 'jwk' }).y },
    { kty: 'OKP', crv: 'Ed25519', x: ED.export({ format: 'jwk' }).x }, { kty: 'RSA', n: 'AQAB', e: 'AQAB' }] }),
  'bearer_header': 'Bearer abc.def.ghi',
  'client_v6': '[2001:db8:1:2::7]:4000',
};
const apiJson = {
  'layer_mid': JSON.stringify({ layer: 'h', mid: '0' }),
  'layer_auto': JSON.stringify({ layer: 'auto' }),
  'layer_bad_mid': JSON.stringify({ layer: 'q', mid: 3 }),
  'relay_request': JSON.stringify({ edge_id: 'edge-1', ice_ufrag: 'abcd', ice_pwd: 'abcdefghijklmnopqrstuvwx',
    fingerprint: `sha-256 ${Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, '0').toUpperCase()).join(':')}` }),
  'relay_answer': JSON.stringify({ session: '/session/x', ice_ufrag: 'abcd', ice_pwd: 'abcdefghijklmnopqrstuvwx',
    fingerprint: `sha-256 ${Array(32).fill('AB').join(':')}`, candidates: [{ ip: '127.0.0.1', port: 40000 }],
    tracks: [{ index: 0, kind: 'video', mid: '1', codec: { name: 'VP8', pt: 96, rtx_pt: 97, clock_rate: 90000, channels: 0, fmtp: '', nack: true, pli: true }, rids: ['q', 'h'], ssrcs: [1, 2] }] }),
  'node_record': JSON.stringify({ id: 'edge-1', role: 'edge', region: 'a', http_url: 'http://127.0.0.1:1', cpu: 0.1,
    egress_bps: 1, sessions: 2, capacity: 5000, draining: false }),
  'event': JSON.stringify({ kind: 'stream_moved', stream: 'live/host', origin_id: 'origin-1' }),
};
for (const [dir, seeds] of [['jwt', jwt], ['api_json', apiJson]]) {
  const out = path.join('tests', 'data', 'fuzz', dir);
  fs.mkdirSync(out, { recursive: true });
  for (const [name, text] of Object.entries(seeds)) fs.writeFileSync(path.join(out, name), text);
}
