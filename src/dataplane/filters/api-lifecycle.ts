// An API version's lifecycle at the gateway. A retired version answers 410 Gone before anything
// else runs (authentication included: there is nothing left to authorise), with a Link to its
// successor. A deprecated version is served, and every response says so in standard headers:
//   Deprecation: @<unix seconds>                          RFC 9745 (a structured-field date)
//   Sunset: <HTTP-date>                                   RFC 8594
//   Link: <successor>; rel="successor-version"            RFC 5829
//   Link: <policy>; rel="deprecation"                     RFC 9745 section 3
// All header values are built once here, at apply time. Every stage also names the API version in
// the request's attributes (`api`), so the requestEnd message, and usage metering, can count it.
import type { IrApiLifecycle } from '../../ir/apim.js';
import { CONTINUE, type FilterChain, type FilterOutcome } from './filter-types.js';
import type { RequestContext } from './request-context.js';

/** `ctx.attributes` key of the route's ApiVersionIdentity. */
export const API_ATTRIBUTE = 'api';

/** The API and version a route serves: `api/partners/orders` and `v1`. */
export interface ApiVersionIdentity {
  readonly api: string;
  readonly version: string;
}

/** `api/partners/orders/v1` → `api/partners/orders` + `v1` (Kubernetes names hold no `/`). */
export function apiVersionIdentity(lifecycle: IrApiLifecycle): ApiVersionIdentity {
  const slash = lifecycle.api.lastIndexOf('/');
  return slash <= 0 ? { api: lifecycle.api, version: '' } : { api: lifecycle.api.slice(0, slash), version: lifecycle.api.slice(slash + 1) };
}

function links(lifecycle: IrApiLifecycle): string[] {
  const out: string[] = [];
  if (lifecycle.successor !== undefined) out.push(`<${lifecycle.successor}>; rel="successor-version"`);
  if (lifecycle.policyLink !== undefined) out.push(`<${lifecycle.policyLink}>; rel="deprecation"`);
  return out;
}

/** RFC 9745: `@` and the Unix time in seconds; undefined for a date that does not parse. */
export function deprecationValue(rfc3339: string | undefined): string {
  const ms = rfc3339 === undefined ? Number.NaN : Date.parse(rfc3339);
  // A version marked deprecated without a date: RFC 9745 needs a date, and "now or before" is
  // what the stage means, so the epoch says "already deprecated" without inventing a day.
  return `@${Number.isNaN(ms) ? 0 : Math.floor(ms / 1000)}`;
}

export function compileApiLifecycle(lifecycle: IrApiLifecycle): Pick<FilterChain, 'request' | 'responseHeaders'> {
  const linkHeaders = links(lifecycle);
  const sunsetMs = lifecycle.sunsetAt === undefined ? Number.NaN : Date.parse(lifecycle.sunsetAt);
  const sunset = Number.isNaN(sunsetMs) ? undefined : new Date(sunsetMs).toUTCString();
  const identity = Object.freeze(apiVersionIdentity(lifecycle));
  const name = (ctx: RequestContext): FilterOutcome => {
    ctx.attributes.set(API_ATTRIBUTE, identity);
    return CONTINUE;
  };
  switch (lifecycle.stage) {
    case 'published':
      return { request: [name], responseHeaders: [] };
    case 'retired': {
      const headers: string[] = [];
      for (const link of linkHeaders) headers.push('link', link);
      if (sunset !== undefined) headers.push('sunset', sunset);
      // The local-reply shape, with the text and successor fixed at apply time; only the request id varies.
      const message = `${lifecycle.api} is retired${lifecycle.successor === undefined ? '' : `; its successor is ${lifecycle.successor}`}`;
      const successor = lifecycle.successor === undefined ? '' : `,"successor":${JSON.stringify(lifecycle.successor)}`;
      const retired = (ctx: RequestContext): FilterOutcome => {
        name(ctx);
        const body = `{"status":410,"reason":"api_version_retired","message":${JSON.stringify(message)},"request_id":${JSON.stringify(ctx.requestId)}${successor}}`;
        return { kind: 'respond', status: 410, details: 'api_version_retired', headers, body };
      };
      return { request: [retired], responseHeaders: [] };
    }
    case 'deprecated': {
      const added: string[] = ['deprecation', deprecationValue(lifecycle.deprecatedAt)];
      if (sunset !== undefined) added.push('sunset', sunset);
      for (const link of linkHeaders) added.push('link', link);
      const responseHeaders = (_ctx: RequestContext, _status: number, out: string[]): void => {
        for (let i = 0; i < added.length; i += 2) out.push(added[i]!, added[i + 1]!);
      };
      return { request: [name], responseHeaders: [responseHeaders] };
    }
  }
}
