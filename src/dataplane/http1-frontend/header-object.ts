// node's `req.headers` from `rawHeaders` (lib/_http_incoming.js matchKnownFields): names in lower
// case; for the fields that must not repeat, the first value wins; set-cookie collects an array;
// cookie values join with "; ", the rest with ", ". Only the first 2000 lines count (node's
// maxHeadersCount), as node:http does.
import type { IncomingHttpHeaders } from 'node:http';

const FIRST_WINS = new Set([
  'content-type', 'content-length', 'user-agent', 'referer', 'host', 'authorization', 'proxy-authorization',
  'if-modified-since', 'if-unmodified-since', 'from', 'location', 'max-forwards', 'retry-after', 'etag',
  'last-modified', 'server', 'age', 'expires',
]);

const MAX_HEADER_LINES = 2000;

export function buildHeaderObject(rawHeaders: readonly string[]): IncomingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  const n = Math.min(rawHeaders.length, MAX_HEADER_LINES * 2);
  for (let i = 0; i < n; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    const prev = out[name];
    if (prev === undefined) {
      out[name] = name === 'set-cookie' ? [value] : value;
    } else if (name === 'set-cookie') {
      (prev as string[]).push(value);
    } else if (!FIRST_WINS.has(name)) {
      out[name] = `${prev as string}${name === 'cookie' ? '; ' : ', '}${value}`;
    }
  }
  return out as IncomingHttpHeaders;
}
