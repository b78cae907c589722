// Access tokens for the tests (README, "Access control"): an issuer with an HS256 secret and
// ES256 / EdDSA key pairs made by Node's crypto (OpenSSL underneath, but none of Strata's
// code), the JWK Set the server is given, and a writer for the files.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const b64u = (b) => Buffer.from(b).toString('base64url');

export class Issuer {
  constructor({ iss = null, aud = null } = {}) {
    this.secret = crypto.randomBytes(32).toString('hex');  // 64 bytes of text
    this.es = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.ed = crypto.generateKeyPairSync('ed25519');
    this.iss = iss;
    this.aud = aud;
  }

  jwks() {
    const es = { ...this.es.publicKey.export({ format: 'jwk' }), kid: 'es-1', alg: 'ES256', use: 'sig' };
    const ed = { ...this.ed.publicKey.export({ format: 'jwk' }), kid: 'ed-1', alg: 'EdDSA', use: 'sig' };
    return { keys: [es, ed] };
  }

  // Writes secret and JWKS files into dir; returns the server flags for them.
  flags(dir) {
    fs.mkdirSync(dir, { recursive: true });
    const secretFile = path.join(dir, 'auth-secret');
    const jwksFile = path.join(dir, 'auth-jwks.json');
    fs.writeFileSync(secretFile, `${this.secret}\n`, { mode: 0o600 });
    fs.writeFileSync(jwksFile, JSON.stringify(this.jwks()));
    return ['--auth-secret-file', secretFile, '--auth-jwks-file', jwksFile,
      ...(this.iss ? ['--auth-issuer', this.iss] : []), ...(this.aud ? ['--auth-audience', this.aud] : [])];
  }

  // claims: the "strata" grant plus standard claims (sub, exp offset, nbf offset, iss/aud overrides).
  // alg: 'HS256' | 'ES256' | 'EdDSA' | 'none'; header: fields added to / overriding the JOSE header.
  token(strata, { sub = null, expIn = 300, nbfIn = null, alg = 'ES256', header = {}, extra = {}, secret = null } = {}) {
    const now = Math.floor(Date.now() / 1000);
    const claims = { strata, ...(sub ? { sub } : {}), ...(expIn === null ? {} : { exp: now + expIn }),
      ...(nbfIn === null ? {} : { nbf: now + nbfIn }), ...(this.iss ? { iss: this.iss } : {}), ...(this.aud ? { aud: this.aud } : {}),
      ...extra };
    const kid = alg === 'ES256' ? 'es-1' : alg === 'EdDSA' ? 'ed-1' : undefined;
    const h = { alg, typ: 'JWT', ...(kid ? { kid } : {}), ...header };
    const input = `${b64u(JSON.stringify(h))}.${b64u(JSON.stringify(claims))}`;
    return `${input}.${b64u(this.sign(alg, input, secret))}`;
  }

  sign(alg, input, secret) {
    if (alg === 'none') return Buffer.alloc(0);
    if (alg === 'HS256' || secret) return crypto.createHmac('sha256', secret ?? this.secret).update(input).digest();
    if (alg === 'ES256') return crypto.sign('sha256', Buffer.from(input), { key: this.es.privateKey, dsaEncoding: 'ieee-p1363' });
    if (alg === 'EdDSA') return crypto.sign(null, Buffer.from(input), this.ed.privateKey);
    throw new Error(`no signer for ${alg}`);
  }
}
