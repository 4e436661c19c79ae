// Address blocks compiled once into numeric ranges: IPv4 as [first, last] numbers, IPv6 as
// [first, last] BigInts. A request's address is parsed once and compared, no string work per
// block. `::ffff:a.b.c.d` (IPv4-mapped, RFC 4291 §2.5.5.2) is the IPv4 address it carries.

export interface CidrSet {
  /** True when `ip` (textual IPv4 or IPv6) lies in any block; false for an unparsable address. */
  contains(ip: string): boolean;
}

export type CidrParse = { readonly kind: 'ok'; readonly v6: boolean; readonly first: bigint; readonly last: bigint } | { readonly kind: 'invalid'; readonly message: string };

export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

/** RFC 4291 §2.2 text forms, `::` and a trailing dotted IPv4 included; a zone (`%eth0`) is dropped. */
export function parseIpv6(text: string): bigint | undefined {
  const zone = text.indexOf('%');
  const s = zone === -1 ? text : text.slice(0, zone);
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    const items = h.split(':');
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (i === items.length - 1 && item.includes('.')) {
        const v4 = parseIpv4(item);
        if (v4 === undefined) return undefined;
        out.push(Math.floor(v4 / 65536), v4 % 65536);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(item)) out.push(parseInt(item, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  let n = 0n;
  for (const g of [...head, ...Array<number>(missing).fill(0), ...tail]) n = (n << 16n) | BigInt(g);
  return n;
}

const MAPPED_V4 = 0xffffn << 32n;

/** A textual address as [v6, value]; IPv4-mapped IPv6 becomes IPv4. */
export function parseIp(text: string): { readonly v6: boolean; readonly value: bigint } | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { v6: false, value: BigInt(v4) };
  const v6 = parseIpv6(text);
  if (v6 === undefined) return undefined;
  if (v6 >> 32n === 0xffffn) return { v6: false, value: v6 - MAPPED_V4 };
  return { v6: true, value: v6 };
}

/** `10.0.0.0/8`, `2001:db8::/32`, or a bare address (/32, /128). Host bits set below the prefix are ignored, as Envoy's CidrRange does. */
export function parseCidr(text: string): CidrParse {
  const slash = text.indexOf('/');
  const addr = slash === -1 ? text : text.slice(0, slash);
  const ip = parseIp(addr);
  if (ip === undefined) return { kind: 'invalid', message: `"${text}" is not an IPv4 or IPv6 address or CIDR block` };
  const width = ip.v6 ? 128 : 32;
  let bits = width;
  if (slash !== -1) {
    const b = text.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(b)) return { kind: 'invalid', message: `"${text}": the prefix length is not a number` };
    // `::ffff:10.0.0.0/104` is the IPv4 block 10.0.0.0/8.
    bits = Number(b) - (!ip.v6 && addr.includes(':') ? 96 : 0);
    if (bits < 0 || bits > width) return { kind: 'invalid', message: `"${text}": the prefix length is out of range for the address` };
  }
  const value = ip.value;
  const v6 = ip.v6;
  const host = (1n << BigInt(width - bits)) - 1n;
  const first = value & ~host & ((1n << BigInt(width)) - 1n);
  return { kind: 'ok', v6, first, last: first | host };
}

/** Blocks that do not parse are left out (the translator has already reported them). */
export function compileCidrs(cidrs: readonly string[]): CidrSet {
  const v4: [number, number][] = [];
  const v6: [bigint, bigint][] = [];
  for (const c of cidrs) {
    const r = parseCidr(c);
    if (r.kind !== 'ok') continue;
    if (r.v6) v6.push([r.first, r.last]);
    else v4.push([Number(r.first), Number(r.last)]);
  }
  return {
    contains(ip) {
      const n4 = parseIpv4(ip);
      if (n4 !== undefined) return v4.some(([a, b]) => n4 >= a && n4 <= b);
      if (v4.length === 0 && v6.length === 0) return false;
      const p = parseIp(ip);
      if (p === undefined) return false;
      if (!p.v6) {
        const n = Number(p.value);
        return v4.some(([a, b]) => n >= a && n <= b);
      }
      return v6.some(([a, b]) => p.value >= a && p.value <= b);
    },
  };
}
