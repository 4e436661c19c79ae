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
//   request body /   a route's JSON body edit (TransformPolicy), absent on every other route, so
//   response body    their bodies stream as before: the forward path holds a body of at most
//                    `maxBytes` only when the route has one and the body says it is JSON.
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

/**
 * A whole-body edit. The forward path asks `wants` (Content-Type and Content-Encoding), holds at
 * most `maxBytes`, then either calls `apply` on the whole body or, past the limit, `tooLarge` and
 * streams what it held followed by the rest. Each says why a body passed unchanged in one log
 * line per route and reason, not per request.
 */
export interface BodyFilter {
  readonly maxBytes: number;
  wants(ctx: RequestContext, contentType: string | undefined, contentEncoding: string | undefined): boolean;
  /** The edited body, or undefined when it does not parse as JSON (sent unchanged). */
  apply(ctx: RequestContext, body: Buffer): Buffer | undefined;
  tooLarge(ctx: RequestContext): void;
}

export interface FilterChain {
  readonly request: readonly RequestPhaseFilter[];
  readonly backendRequest: readonly BackendRequestFilter[];
  readonly responseHeaders: readonly ResponseHeadersFilter[];
  /**
   * Checks of the whole request body (OpenAPI validation): forward actions only, after the request
   * phase; the body is read up to a limit (413 past it), checked, and forwarded as read.
   */
  readonly requestBodyCheck?: RequestBodyPhase;
  /** A JSON body edit (TransformPolicy), after any check; undefined costs the others one property read. */
  readonly requestBody?: BodyFilter;
  readonly responseBody?: BodyFilter;
}

export const EMPTY_CHAIN: FilterChain = Object.freeze({
  request: Object.freeze([]),
  backendRequest: Object.freeze([]),
  responseHeaders: Object.freeze([]),
});
