// The PROXY protocol (HAProxy, "The PROXY protocol", versions 1 and 2): a header a front proxy
// writes before the client's bytes so the next hop learns the client's address. Read here from
// trusted fronts (acceptProxyProtocolFrom) and written to backends that ask for it.
// Reading is incremental: the bytes so far give need-more, a header, or invalid, so a header split
// over TCP segments works and a peer that sends junk is refused at once, not after a timeout.
import net from 'node:net';

/** v2's 12-byte signature (spec §2.2): it cannot start a v1 header or any common protocol. */
export const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** Spec §2.1: a v1 line is at most 107 bytes with its CRLF. */
const V1_MAX_BYTES = 107;
/**
 * v2 allows 16 + 65535 bytes; the address block is 36 at most and TLVs (ALPN, authority, AWS VPC
 * ids) are small, so anything larger is refused rather than buffered.
 */
export const PROXY_V2_MAX_BYTES = 16 + 2048;

export interface ProxyAddress {
  readonly address: string;
  readonly port: number;
}

export type ProxyHeaderParse =
  | { readonly kind: 'need-more' }
  | { readonly kind: 'invalid'; readonly message: string }
  /** `source` absent: LOCAL (v2) or UNKNOWN (v1): the connection's own address stands. */
  | { readonly kind: 'header'; readonly consumed: number; readonly version: 1 | 2; readonly source?: ProxyAddress; readonly destination?: ProxyAddress };

export function parseProxyHeader(buf: Buffer): ProxyHeaderParse {
  if (buf.length === 0) return { kind: 'need-more' };
  // v1 starts with 'P', v2 with CR: the first byte says which.
  if (buf[0] === PROXY_V2_SIGNATURE[0]) return parseV2(buf);
  return parseV1(buf);
}

function startsLike(buf: Buffer, prefix: Buffer): boolean {
  const n = Math.min(buf.length, prefix.length);
  return buf.subarray(0, n).equals(prefix.subarray(0, n));
}

function parseV1(buf: Buffer): ProxyHeaderParse {
  if (!startsLike(buf, V1_PREFIX)) return { kind: 'invalid', message: 'the first bytes are not a PROXY protocol header' };
  const end = buf.indexOf('\r\n', 0, 'latin1');
  if (end === -1) return buf.length >= V1_MAX_BYTES ? { kind: 'invalid', message: 'a v1 header longer than 107 bytes' } : { kind: 'need-more' };
  if (end + 2 > V1_MAX_BYTES) return { kind: 'invalid', message: 'a v1 header longer than 107 bytes' };
  const fields = buf.toString('latin1', 0, end).split(' ');
  if (fields[1] === 'UNKNOWN') return { kind: 'header', consumed: end + 2, version: 1 };
  if (fields.length !== 6 || (fields[1] !== 'TCP4' && fields[1] !== 'TCP6')) return { kind: 'invalid', message: 'a v1 header must be "PROXY TCP4|TCP6 src dst sport dport" or "PROXY UNKNOWN"' };
  const family = fields[1] === 'TCP4' ? 4 : 6;
  const [src, dst, sport, dport] = [fields[2]!, fields[3]!, parsePort(fields[4]!), parsePort(fields[5]!)];
  if (net.isIP(src) !== family || net.isIP(dst) !== family || sport === undefined || dport === undefined) {
    return { kind: 'invalid', message: `a v1 header with bad addresses or ports for ${fields[1]}` };
  }
  return { kind: 'header', consumed: end + 2, version: 1, source: { address: src, port: sport }, destination: { address: dst, port: dport } };
}

function parsePort(text: string): number | undefined {
  // Spec: decimal, no leading zeros, 0..65535.
  if (!/^(0|[1-9][0-9]{0,4})$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 65535 ? n : undefined;
}

function parseV2(buf: Buffer): ProxyHeaderParse {
  if (!startsLike(buf, PROXY_V2_SIGNATURE)) return { kind: 'invalid', message: 'the first bytes are not a PROXY protocol header' };
  if (buf.length < 16) return { kind: 'need-more' };
  const verCmd = buf[12]!;
  const famProto = buf[13]!;
  const length = buf.readUInt16BE(14);
  if (verCmd >> 4 !== 2) return { kind: 'invalid', message: `a v2 header of version ${verCmd >> 4}` };
  if (16 + length > PROXY_V2_MAX_BYTES) return { kind: 'invalid', message: `a v2 header of ${16 + length} bytes (at most ${PROXY_V2_MAX_BYTES})` };
  if (buf.length < 16 + length) return { kind: 'need-more' };
  const consumed = 16 + length;
  const command = verCmd & 0x0f;
  // LOCAL (health checks from the front itself): keep the connection's own addresses.
  if (command === 0) return { kind: 'header', consumed, version: 2 };
  if (command !== 1) return { kind: 'invalid', message: `a v2 header with unknown command ${command}` };
  const family = famProto >> 4;
  const body = buf.subarray(16, consumed);
  if (family === 1) {
    if (body.length < 12) return { kind: 'invalid', message: 'a v2 IPv4 header shorter than its addresses' };
    return { kind: 'header', consumed, version: 2, source: { address: ipv4(body, 0), port: body.readUInt16BE(8) }, destination: { address: ipv4(body, 4), port: body.readUInt16BE(10) } };
  }
  if (family === 2) {
    if (body.length < 36) return { kind: 'invalid', message: 'a v2 IPv6 header shorter than its addresses' };
    return { kind: 'header', consumed, version: 2, source: { address: ipv6(body, 0), port: body.readUInt16BE(32) }, destination: { address: ipv6(body, 16), port: body.readUInt16BE(34) } };
  }
  // AF_UNSPEC or AF_UNIX: spec §2.2 says accept and use the real connection's addresses.
  return { kind: 'header', consumed, version: 2 };
}

function ipv4(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

function ipv6(b: Buffer, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(at + i * 2).toString(16));
  // Let node's own formatter compress it the standard way (RFC 5952).
  return new net.SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
}

/** Strips `::ffff:` from an IPv4-mapped address, so a v4 client is written as TCP4. */
function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/** The header to send a backend: the client as source, the address it reached as destination. */
export function encodeProxyHeader(version: 'v1' | 'v2', source: ProxyAddress, destination: ProxyAddress): Buffer {
  const src = plainAddress(source.address);
  const dst = plainAddress(destination.address);
  const v4 = net.isIPv4(src) && net.isIPv4(dst);
  const v6 = net.isIPv6(src) && net.isIPv6(dst);
  if (version === 'v1') {
    if (!v4 && !v6) return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
    return Buffer.from(`PROXY ${v4 ? 'TCP4' : 'TCP6'} ${src} ${dst} ${source.port} ${destination.port}\r\n`, 'latin1');
  }
  if (!v4 && !v6) {
    // Mixed families: a PROXY command with AF_UNSPEC, no addresses.
    return Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([0x21, 0x00, 0x00, 0x00])]);
  }
  const addrLen = v4 ? 12 : 36;
  const out = Buffer.alloc(16 + addrLen);
  PROXY_V2_SIGNATURE.copy(out, 0);
  out[12] = 0x21; // version 2, PROXY
  out[13] = v4 ? 0x11 : 0x21; // AF_INET or AF_INET6, STREAM
  out.writeUInt16BE(addrLen, 14);
  const size = v4 ? 4 : 16;
  writeAddress(out, 16, src, v4);
  writeAddress(out, 16 + size, dst, v4);
  out.writeUInt16BE(source.port, 16 + 2 * size);
  out.writeUInt16BE(destination.port, 18 + 2 * size);
  return out;
}

function writeAddress(out: Buffer, at: number, address: string, v4: boolean): void {
  if (v4) {
    address.split('.').forEach((p, i) => (out[at + i] = Number(p)));
    return;
  }
  const halves = address.split('::');
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length > 1 && halves[1] ? halves[1].split(':') : [];
  const groups = [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), at + i * 2));
}
