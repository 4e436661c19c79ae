// Gateway API HTTPCORSFilter, the Fetch standard's CORS protocol at the gateway. A preflight
// (OPTIONS with Origin and Access-Control-Request-Method) from an allowed origin is answered here,
// in the request phase, before any filter that wants credentials (a preflight never carries them).
// Every other response of the route, proxied or local, gets the allow headers in the response
// phase. A request from an origin not on the list passes through untouched, as Envoy's CORS filter
// does: the browser, not the gateway, enforces CORS (a preflight from such an origin is forwarded
// too, unless `unmatchedPreflight: respond`). Origins are compiled to exact strings and suffixes
// at apply time, and origin patterns (Istio prefix / regex) to prefixes and RE2 matchers.
import { assertNever } from '../../core/assert-never.js';
import { compileFullMatchRegex } from '../../core/linear-regex.js';
import type { IrCors, IrOriginPattern } from '../../ir/types.js';
import { InvalidMatchError } from '../http/route-match.js';
import { getHeader, removeHeader } from './header-list.js';
import { CONTINUE, type FilterChain, type FilterOutcome } from './filter-types.js';
import type { RequestContext } from './request-context.js';

type OriginMatch = (origin: string) => boolean;

export function compileCors(cors: IrCors): Pick<FilterChain, 'request' | 'responseHeaders'> {
  const byList = compileOrigins(cors.allowOrigins);
  const patterns = (cors.allowOriginPatterns ?? []).map(compileOriginPattern);
  const allowed: OriginMatch = patterns.length === 0 ? byList : (origin) => byList(origin) || patterns.some((p) => p(origin));
  const answerUnmatched = cors.unmatchedPreflight === 'respond';
  const anyOrigin = cors.allowOrigins.includes('*');
  const credentials = cors.allowCredentials === true;
  const methods = cors.allowMethods ?? [];
  const headers = cors.allowHeaders ?? [];
  const sep = cors.listSeparator ?? ', ';
  const expose = (cors.exposeHeaders ?? []).join(sep);
  const maxAge = String(cors.maxAgeSeconds ?? 5);
  const wildcardMethods = methods.includes('*');
  const wildcardHeaders = headers.includes('*');

  /** With credentials a browser reads `*` literally, so the origin itself is echoed. */
  const allowOriginValue = (origin: string): string => (anyOrigin && !credentials ? '*' : origin);

  const preflight = (ctx: RequestContext): FilterOutcome => {
    if (ctx.method !== 'OPTIONS') return CONTINUE;
    const origin = single(ctx.headers.origin);
    const requested = single(ctx.headers['access-control-request-method']);
    if (origin === undefined || requested === undefined) return CONTINUE;
    if (!allowed(origin)) {
      // Envoy with forward_not_matching_preflights off: answered here, with no CORS header.
      return answerUnmatched ? { kind: 'respond', status: 200, details: 'cors_preflight_unmatched', headers: [], body: '', contentType: 'text/plain' } : CONTINUE;
    }
    const out = ['access-control-allow-origin', allowOriginValue(origin), 'vary', 'Origin'];
    if (credentials) out.push('access-control-allow-credentials', 'true');
    const allowMethods = wildcardMethods ? (credentials ? requested : '*') : methods.join(sep);
    if (allowMethods !== '') out.push('access-control-allow-methods', allowMethods);
    const requestedHeaders = single(ctx.headers['access-control-request-headers']);
    const allowHeaders = wildcardHeaders ? (credentials ? (requestedHeaders ?? '') : '*') : headers.join(sep);
    if (allowHeaders !== '') out.push('access-control-allow-headers', allowHeaders);
    out.push('access-control-max-age', maxAge);
    return { kind: 'respond', status: 200, details: 'cors_preflight', headers: out, body: '', contentType: 'text/plain' };
  };

  const responseHeaders = (ctx: RequestContext, _status: number, out: string[]): void => {
    const origin = single(ctx.headers.origin);
    if (origin === undefined || !allowed(origin)) return;
    // The gateway speaks for the route: an upstream's own CORS answer would contradict it.
    removeHeader(out, 'access-control-allow-origin');
    removeHeader(out, 'access-control-allow-credentials');
    out.push('access-control-allow-origin', allowOriginValue(origin));
    if (credentials) out.push('access-control-allow-credentials', 'true');
    if (expose !== '' && ctx.method !== 'OPTIONS') out.push('access-control-expose-headers', expose);
    if (!(anyOrigin && !credentials) && !/\borigin\b/i.test(getHeader(out, 'vary') ?? '')) out.push('vary', 'Origin');
  };

  return { request: [preflight], responseHeaders: [responseHeaders] };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** `*`, exact origins (scheme and host case-insensitive), and `scheme://*.suffix[:port]`. */
function compileOrigins(origins: readonly string[]): OriginMatch {
  if (origins.includes('*')) return () => true;
  const exact = new Set<string>();
  const wildcards: { prefix: string; suffix: string }[] = [];
  for (const origin of origins) {
    const lower = origin.toLowerCase();
    const star = lower.indexOf('://*.');
    if (star === -1) exact.add(lower);
    else {
      // `https://*.example.com:8443` → prefix `https://`, suffix `.example.com:8443`: one label or more.
      wildcards.push({ prefix: lower.slice(0, star + 3), suffix: lower.slice(star + 4) });
    }
  }
  return (origin) => {
    const lower = origin.toLowerCase();
    if (exact.has(lower)) return true;
    for (const w of wildcards) {
      if (lower.length > w.prefix.length + w.suffix.length && lower.startsWith(w.prefix) && lower.endsWith(w.suffix)) {
        const label = lower.slice(w.prefix.length, lower.length - w.suffix.length);
        if (!label.includes('/') && !label.includes(':') && !label.startsWith('.')) return true;
      }
    }
    return false;
  };
}

/** An origin pattern; a regex must cover the whole origin (RE2, as every user pattern). */
function compileOriginPattern(p: IrOriginPattern): OriginMatch {
  switch (p.kind) {
    case 'prefix':
      return (origin) => origin.startsWith(p.value);
    case 'regex': {
      const compiled = compileFullMatchRegex(p.value);
      if (compiled.kind === 'invalid') throw new InvalidMatchError(compiled.message);
      return (origin) => compiled.matcher.test(origin);
    }
    default:
      return assertNever(p, 'origin pattern');
  }
}
