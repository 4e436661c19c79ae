// Filters are compiled per route (and per weighted backend) at apply time into three phase lists;
// a route with none shares one empty chain and costs nothing per request.
//
//   request          right after the route match, for every action kind and for upgrades; may
//                    answer locally (a CORS preflight, 401, 429). Synchronous unless a filter needs
//                    I/O: only then does it return a Promise, and only then does the request wait.
//   backend request  forward and upgrade only: edits the upstream request (headers, path, Host).
//   response headers every response the route produces: proxied ones, local replies (a 404 from a
//                    `respond` action, a 502, a filter's own answer), so CORS and rate-limit
//                    headers reach them too.
// The log phase is not a filter list: each request publishes exactly one requestEnd message.
import type { RequestContext } from './request-context.js';

export interface RequestDraft {
  /** Flat [name, value, ...] headers that will go upstream (names as received or lower-case). */
  headers: string[];
  /** Origin-form path + query that will go upstream. */
  path: string;
  /** The path part matched by the route, for prefix rewrites. */
  readonly matchedPath: string;
}

/** A local answer from a filter: any status, headers and body (JSON when contentType is absent). */
export interface FilterResponse {
  readonly kind: 'respond';
  readonly status: number;
  /** Why, for the log and the default JSON body, e.g. `cors_preflight`, `unauthorized`. */
  readonly details: string;
  /** Flat [name, value, ...] list, e.g. `www-authenticate`, `retry-after`, `location`. */
  readonly headers?: readonly string[];
  readonly body?: string;
  readonly contentType?: string;
}

export type FilterOutcome = { readonly kind: 'continue' } | FilterResponse;

export const CONTINUE: FilterOutcome = { kind: 'continue' };

export type RequestPhaseFilter = (ctx: RequestContext) => FilterOutcome | Promise<FilterOutcome>;
export type BackendRequestFilter = (ctx: RequestContext, draft: RequestDraft) => void;
/** Edits the flat response header list in place; `status` is what the client will get. */
export type ResponseHeadersFilter = (ctx: RequestContext, status: number, headers: string[]) => void;

/**
 * Sees the whole request body (undefined: the request has none) before it is forwarded; may answer
 * instead (a 400 from OpenAPI validation). The body is then forwarded as read, byte for byte.
 */
export type RequestBodyFilter = (ctx: RequestContext, body: Buffer | undefined) => FilterOutcome;

/** Only chains with a filter that needs the body have one; every other route streams its bodies. */
export interface RequestBodyPhase {
  /** A body longer than this is answered 413 (the smallest limit of the phase's filters). */
  readonly maxBytes: number;
  readonly filters: readonly RequestBodyFilter[];
}

export interface FilterChain {
  readonly request: readonly RequestPhaseFilter[];
  readonly backendRequest: readonly BackendRequestFilter[];
  readonly responseHeaders: readonly ResponseHeadersFilter[];
  /** Forward actions only, after the request phase; absent on nearly every route, and then free. */
  readonly requestBody?: RequestBodyPhase;
}

export const EMPTY_CHAIN: FilterChain = Object.freeze({
  request: Object.freeze([]),
  backendRequest: Object.freeze([]),
  responseHeaders: Object.freeze([]),
});
