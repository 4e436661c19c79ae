// Reads the SNI from a TLS ClientHello without terminating TLS (RFC 8446 §4.1.2, RFC 5246 §6.2 for
// records, RFC 6066 §3 for server_name). The bytes are only looked at: the proxy forwards them
// untouched, so the backend completes the handshake with its own certificate.
// Incremental like the PROXY header reader: the bytes so far give need-more, a result, or invalid.
// Every length is checked against what is there before it is used; the ClientHello may be split
// over several TCP segments and over several TLS records (§5.1 allows handshake fragmentation).

/** A ClientHello with large post-quantum key shares is about 2 KiB; refuse anything past 32 KiB. */
export const MAX_CLIENT_HELLO_BYTES = 32 * 1024;
const RECORD_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0;
/** RFC 5246 §6.2.1: a record's fragment is at most 2^14 bytes. */
const MAX_RECORD_BYTES = 16384;

export type ClientHelloParse =
  | { readonly kind: 'need-more' }
  | { readonly kind: 'invalid'; readonly message: string }
  /** `serverName` absent: the client sent no server_name (an IP literal, an old client). */
  | { readonly kind: 'client-hello'; readonly serverName?: string };

export function parseClientHello(buf: Buffer): ClientHelloParse {
  // Reassemble the handshake bytes from as many records as the message needs.
  const parts: Buffer[] = [];
  let have = 0;
  let needed = -1;
  let at = 0;
  while (needed === -1 || have < needed) {
    if (buf.length < at + 5) return lengthCheck(buf);
    if (buf[at] !== RECORD_HANDSHAKE) return { kind: 'invalid', message: `not a TLS handshake record (content type ${buf[at]})` };
    if (buf[at + 1] !== 3) return { kind: 'invalid', message: 'not a TLS record (major version is not 3)' };
    const len = buf.readUInt16BE(at + 3);
    if (len === 0 || len > MAX_RECORD_BYTES) return { kind: 'invalid', message: `a TLS record of ${len} bytes` };
    if (buf.length < at + 5 + len) return lengthCheck(buf);
    parts.push(buf.subarray(at + 5, at + 5 + len));
    have += len;
    at += 5 + len;
    if (needed === -1 && have >= 4) {
      const head = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) return { kind: 'invalid', message: `the first handshake message is type ${head[0]}, not ClientHello` };
      needed = 4 + head.readUIntBE(1, 3);
      if (needed > MAX_CLIENT_HELLO_BYTES) return { kind: 'invalid', message: `a ClientHello of ${needed} bytes (at most ${MAX_CLIENT_HELLO_BYTES})` };
    }
  }
  const msg = Buffer.concat(parts).subarray(4, needed);
  return readServerName(msg);
}

function lengthCheck(buf: Buffer): ClientHelloParse {
  return buf.length > MAX_CLIENT_HELLO_BYTES + 64 ? { kind: 'invalid', message: 'the ClientHello is too large' } : { kind: 'need-more' };
}

/** A bounds-checked reader over the ClientHello body: every read says whether it fitted. */
class Cursor {
  at = 0;
  constructor(readonly b: Buffer) {}
  skip(n: number): boolean {
    if (this.at + n > this.b.length) return false;
    this.at += n;
    return true;
  }
  u8(): number | undefined {
    return this.at + 1 <= this.b.length ? this.b[this.at++] : undefined;
  }
  u16(): number | undefined {
    if (this.at + 2 > this.b.length) return undefined;
    const v = this.b.readUInt16BE(this.at);
    this.at += 2;
    return v;
  }
  take(n: number): Buffer | undefined {
    if (this.at + n > this.b.length) return undefined;
    const v = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }
}

function readServerName(body: Buffer): ClientHelloParse {
  const c = new Cursor(body);
  const bad = (what: string): ClientHelloParse => ({ kind: 'invalid', message: `a malformed ClientHello (${what})` });
  // legacy_version, random
  if (!c.skip(2 + 32)) return bad('too short');
  const sessionLen = c.u8();
  if (sessionLen === undefined || sessionLen > 32 || !c.skip(sessionLen)) return bad('session id');
  const suitesLen = c.u16();
  if (suitesLen === undefined || suitesLen % 2 !== 0 || !c.skip(suitesLen)) return bad('cipher suites');
  const compLen = c.u8();
  if (compLen === undefined || !c.skip(compLen)) return bad('compression methods');
  // No extensions at all (SSL 3 style): no SNI.
  if (c.at === body.length) return { kind: 'client-hello' };
  const extLen = c.u16();
  if (extLen === undefined) return bad('extensions length');
  const exts = c.take(extLen);
  if (exts === undefined) return bad('extensions overrun the message');
  const e = new Cursor(exts);
  while (e.at < exts.length) {
    const type = e.u16();
    const len = e.u16();
    if (type === undefined || len === undefined) return bad('extension header');
    const data = e.take(len);
    if (data === undefined) return bad('extension overruns the list');
    if (type !== EXT_SERVER_NAME) continue;
    const s = new Cursor(data);
    const listLen = s.u16();
    const list = listLen === undefined ? undefined : s.take(listLen);
    if (list === undefined) return bad('server_name list');
    const l = new Cursor(list);
    while (l.at < list.length) {
      const nameType = l.u8();
      const nameLen = l.u16();
      if (nameType === undefined || nameLen === undefined) return bad('server_name entry');
      const name = l.take(nameLen);
      if (name === undefined) return bad('server_name entry overruns the list');
      // RFC 6066 §3: host_name (0) is the only type; at most one of each type.
      if (nameType !== 0) continue;
      const host = normaliseHostName(name);
      if (host === undefined) return bad('server_name is not a DNS host name');
      return { kind: 'client-hello', serverName: host };
    }
    return { kind: 'client-hello' };
  }
  return { kind: 'client-hello' };
}

/** ASCII letters, digits, `-`, `_` and dots, 1..253 characters, lowercased; a trailing dot dropped. */
function normaliseHostName(raw: Buffer): string | undefined {
  if (raw.length === 0 || raw.length > 254) return undefined;
  let s = raw.toString('latin1').toLowerCase();
  if (s.endsWith('.')) s = s.slice(0, -1);
  return /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(s) && s.length <= 253 ? s : undefined;
}
