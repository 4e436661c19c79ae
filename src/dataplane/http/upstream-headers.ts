// Builds the header list sent upstream and the one sent back downstream.
// RFC 9110 §7.6.1: a proxy drops Connection, the fields Connection lists, and the hop-by-hop fields
// (Proxy-Connection, Keep-Alive, TE, Transfer-Encoding, Upgrade). TE: trailers is kept, because gRPC
// needs it end to end (Envoy does the same). Expect is dropped: Node already answered
// `100 Continue` downstream, and the body is streamed as it arrives.
import { rawHeaderText, type RawHeaders } from '../upstream/transport.js';

export interface ForwardingContext {
  readonly clientIp: string;
  /** The client is a configured trusted proxy: its X-Forwarded-* and X-Request-Id are kept. */
  readonly trusted: boolean;
  readonly scheme: 'http' | 'https';
  readonly requestId: string;
  /**
   * The authority the request was routed by (request-authority.ts): sent as Host, whatever Host or
   * :authority the client sent, so the upstream sees the request the router saw.
   */
  readonly authority: string;
}

export interface UpstreamHeaderResult {
  readonly headers: string[];
  /** The Host header sent upstream (the routed authority). */
  readonly host: string;
  readonly requestId: string;
}

const HOP_BY_HOP = new Set(['connection', 'proxy-connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'expect', 'http2-settings']);
// Only names of these lengths can be special: lower-casing is skipped for every other header.
const SPECIAL_LENGTHS = new Set([2, 4, 6, 7, 10, 12, 14, 15, 16, 17]);

/**
 * `rawHeaders` is Node's flat list; pseudo-headers (HTTP/2) and Host are dropped, and Host is set
 * to `ctx.authority`. `keepUpgrade` keeps Connection/Upgrade for WebSocket tunnels.
 */
export function buildUpstreamHeaders(rawHeaders: readonly string[], ctx: ForwardingContext, keepUpgrade = false): UpstreamHeaderResult {
  const out: string[] = [];
  const host = ctx.authority;
  let xff: string | undefined;
  let xfp: string | undefined;
  let xfh: string | undefined;
  let connectionTokens: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    if (name.charCodeAt(0) === 58 /* ':' */) continue;
    if (!SPECIAL_LENGTHS.has(name.length)) {
      out.push(name, value);
      continue;
    }
    const lower = name.toLowerCase();
    if (lower === 'host') continue;
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'connection') connectionTokens = connectionTokens ? `${connectionTokens},${value}` : value;
      else if (lower === 'te' && value.trim().toLowerCase() === 'trailers') out.push('te', 'trailers');
      else if (keepUpgrade && lower === 'upgrade') out.push(name, value);
      continue;
    }
    switch (lower) {
      case 'x-forwarded-for':
        xff = xff === undefined ? value : `${xff}, ${value}`;
        continue;
      case 'x-forwarded-proto':
        xfp = value;
        continue;
      case 'x-forwarded-host':
        xfh = value;
        continue;
      case 'x-request-id':
        continue;
      default:
        out.push(name, value);
    }
  }
  if (connectionTokens !== undefined) dropConnectionListed(out, connectionTokens);
  if (keepUpgrade) out.push('connection', 'upgrade');
  const trusted = ctx.trusted;
  // Decided once per request by the caller (requestIdOf), so the log, the filters and the
  // upstream all see the same id; an incoming one was already taken when trusted.
  const id = ctx.requestId;
  out.push(
    'host', host,
    'x-forwarded-for', trusted && xff ? `${xff}, ${ctx.clientIp}` : ctx.clientIp,
    'x-forwarded-proto', trusted && xfp ? xfp : ctx.scheme,
    'x-forwarded-host', trusted && xfh ? xfh : host,
    'x-request-id', id,
  );
  return { headers: out, host, requestId: id };
}

function dropConnectionListed(out: string[], tokens: string): void {
  // The usual values name no other field: skip the split.
  const t = tokens.length <= 10 ? tokens.toLowerCase() : '';
  if (t === 'keep-alive' || t === 'close' || t === 'upgrade') return;
  const names = new Set(tokens.split(',').map((t) => t.trim().toLowerCase()).filter((t) => t !== '' && t !== 'close' && t !== 'keep-alive' && t !== 'upgrade'));
  if (names.size === 0) return;
  let w = 0;
  for (let r = 0; r < out.length; r += 2) {
    if (names.has(out[r]!.toLowerCase())) continue;
    out[w] = out[r]!;
    out[w + 1] = out[r + 1]!;
    w += 2;
  }
  out.length = w;
}

const RESPONSE_HOP_BY_HOP = new Set(['connection', 'proxy-connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te']);

/**
 * The transport's raw response headers → flat strings, without hop-by-hop fields. A response without a
 * Server header gets `server: isthmus` (Envoy and nginx name themselves the same way; the
 * ingress-controller conformance features expect the field).
 */
export function buildDownstreamHeaders(raw: RawHeaders): string[] {
  const out: string[] = [];
  let connectionTokens: string | undefined;
  let hasServer = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = rawHeaderText(raw[i]!);
    const value = rawHeaderText(raw[i + 1]!);
    const len = name.length;
    if (len === 6 && !hasServer && name.toLowerCase() === 'server') hasServer = true;
    else if (len === 2 || len === 7 || len === 10 || len === 16 || len === 17) {
      const lower = name.toLowerCase();
      if (RESPONSE_HOP_BY_HOP.has(lower)) {
        if (lower === 'connection') connectionTokens = value;
        continue;
      }
    }
    out.push(name, value);
  }
  if (connectionTokens !== undefined) dropConnectionListed(out, connectionTokens);
  if (!hasServer) out.push('server', SERVER_NAME);
  return out;
}

export const SERVER_NAME = 'isthmus';

/**
 * The request's id: the incoming X-Request-Id (the last one, if repeated) when the client is a
 * trusted proxy, else a fresh one. Decided once, at the start of the request.
 */
export function requestIdOf(rawHeaders: readonly string[], trusted: boolean, fresh: () => string): string {
  if (trusted) {
    for (let i = rawHeaders.length - 2; i >= 0; i -= 2) {
      const name = rawHeaders[i]!;
      if (name.length === 12 && name.toLowerCase() === 'x-request-id' && rawHeaders[i + 1] !== '') return rawHeaders[i + 1]!;
    }
  }
  return fresh();
}
