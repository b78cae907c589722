// STUN Binding requests for the negative tests (RFC 8489 §5/§14, ICE attributes RFC 8445 §16.1).
import crypto from 'node:crypto';
import zlib from 'node:zlib';

const MAGIC = 0x2112a442;
const ATTR = { USERNAME: 0x0006, MESSAGE_INTEGRITY: 0x0008, PRIORITY: 0x0024, ICE_CONTROLLING: 0x802a, FINGERPRINT: 0x8028 };

function crc32(buf) {
  if (zlib.crc32) return zlib.crc32(buf) >>> 0;
  let c = ~0;
  for (const byte of buf) { c ^= byte; for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1)); }
  return ~c >>> 0;
}

function attr(type, value) {
  const padded = Buffer.alloc(4 + Math.ceil(value.length / 4) * 4);
  padded.writeUInt16BE(type, 0);
  padded.writeUInt16BE(value.length, 2);
  value.copy(padded, 4);
  return padded;
}

// A well-formed ICE connectivity check: USERNAME, PRIORITY, ICE-CONTROLLING, MESSAGE-INTEGRITY keyed
// with `password` (short-term credential, RFC 8489 §9.1.1) and FINGERPRINT.
export function bindingRequest({ username, password }) {
  const txid = crypto.randomBytes(12);
  const prio = Buffer.alloc(4); prio.writeUInt32BE(0x6e7f00ff, 0);
  let body = Buffer.concat([
    attr(ATTR.USERNAME, Buffer.from(username, 'utf8')),
    attr(ATTR.PRIORITY, prio),
    attr(ATTR.ICE_CONTROLLING, crypto.randomBytes(8)),
  ]);
  const header = (len) => { const h = Buffer.alloc(20); h.writeUInt16BE(0x0001, 0); h.writeUInt16BE(len, 2); h.writeUInt32BE(MAGIC, 4); txid.copy(h, 8); return h; };
  // MESSAGE-INTEGRITY: HMAC-SHA1 over the message with the length covering MI itself (24 bytes).
  const hmac = crypto.createHmac('sha1', Buffer.from(password, 'utf8')).update(Buffer.concat([header(body.length + 24), body])).digest();
  body = Buffer.concat([body, attr(ATTR.MESSAGE_INTEGRITY, hmac)]);
  // FINGERPRINT: CRC-32 of the message (length covering FINGERPRINT, 8 bytes) XOR 0x5354554e.
  const crc = Buffer.alloc(4); crc.writeUInt32BE((crc32(Buffer.concat([header(body.length + 8), body])) ^ 0x5354554e) >>> 0, 0);
  body = Buffer.concat([body, attr(ATTR.FINGERPRINT, crc)]);
  return Buffer.concat([header(body.length), body]);
}

// STUN message class from the type field: 'request' | 'indication' | 'success' | 'error' | null (not STUN).
export function stunClass(buf) {
  if (buf.length < 20 || (buf[0] & 0xc0) !== 0 || buf.readUInt32BE(4) !== MAGIC) return null;
  const type = buf.readUInt16BE(0);
  const cls = ((type & 0x0100) >> 7) | ((type & 0x0010) >> 4);
  return ['request', 'indication', 'success', 'error'][cls];
}
