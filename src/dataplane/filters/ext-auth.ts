// External authorization, Envoy's ext_authz with an HTTP service: per request, the first check
// whose conditions hold asks its service, with the request's method, Host and path (the service
// URL's path as a prefix, Envoy's `path_prefix`), no body, and an allow-list of its headers.
//   2xx        → on; chosen headers of the answer are set on the upstream request.
//   5xx, no answer in time, a connection error → the service failed: `closed` answers
//                `statusOnError`, `open` lets the request on (logged and counted by the caller).
//   otherwise  → denied: the service's status, body and chosen headers go to the client.
// Envoy allows only a 200; any 2xx allows here (a 204 is a service saying yes, not an answer to
// relay). It runs after authentication, so the service can be told the consumer, and before
// authorization and rate limits. The request phase runs for upgrades too, so a WebSocket the
// service refuses never reaches the upstream.
import { getGlobalDispatcher, type Dispatcher } from 'undici';
import type { IrExtAuth, IrExtAuthService } from '../../ir/apim.js';
import { removeHeader } from './header-list.js';
import { compileConditions, compileStringMatch } from './authz.js';
import { consumerOf, EXT_AUTH_ATTRIBUTE } from './request-identity.js';
import { CONTINUE, type BackendRequestFilter, type FilterOutcome, type RequestPhaseFilter } from './filter-types.js';
import type { RequestContext } from './request-context.js';

/** `ctx.attributes` key: the flat [name, value, ...] headers a 2xx answer sets upstream. */
const UPSTREAM_HEADERS_ATTRIBUTE = 'ext_auth_upstream_headers';

/** A denying body larger than this is not relayed: the service is treated as failed. */
const MAX_DENY_BODY_BYTES = 64 * 1024;

export interface ExtAuthFailure {
  readonly check: string;
  readonly url: string;
  readonly mode: 'closed' | 'open';
  /** `timeout`, `connect_error`, `status_503`, `body_too_large`. */
  readonly reason: string;
}

export interface ExtAuthDeps {
  /** The per-process connection pool (cli/filter-state.ts); undici's global one when absent (tests). */
  readonly dispatcher?: Dispatcher;
  /** Each failed check, whatever the mode: a metric and a log line (the caller rate-limits the log). */
  readonly onFailure?: (failure: ExtAuthFailure) => void;
  readonly isTrustedProxy?: (ip: string) => boolean;
}

export interface CompiledExtAuth {
  readonly request: RequestPhaseFilter;
  readonly backendRequest: BackendRequestFilter;
}

// Never sent to the service or relayed from it: hop-by-hop (RFC 9110 §7.6.1), framing, and what the
// gateway writes itself on its replies.
const NOT_COPIED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'content-length', 'content-type', 'date', 'server', 'x-request-id']);
// Istio adds these to any `headersToDownstreamOnDeny` list: a challenge and a redirect are how a denial tells the client what to do.
const ALWAYS_TO_CLIENT = ['www-authenticate', 'location'];

type NameTest = (name: string) => boolean;

/** Header-name patterns in Istio's forms (exact, `prefix*`, `*suffix`), case-insensitive. */
function namePatterns(patterns: readonly string[]): NameTest {
  const tests = patterns.map((p) => compileStringMatch(p.toLowerCase(), true));
  return (name) => tests.some((t) => t(name));
}

interface CompiledService {
  readonly service: IrExtAuthService;
  readonly origin: string;
  readonly pathPrefix: string;
  readonly sendHeader: NameTest;
  readonly toUpstream: NameTest;
  readonly toClient: NameTest;
}

function compileService(service: IrExtAuthService): CompiledService {
  const url = new URL(service.url);
  const clientHeaders = service.clientHeaders;
  return {
    service,
    origin: url.origin,
    // `/check/` + `/admin` would give `//admin`; Envoy concatenates, so a trailing slash is the operator's.
    pathPrefix: url.pathname === '/' ? '' : url.pathname,
    sendHeader: namePatterns(service.requestHeaders),
    toUpstream: namePatterns(service.upstreamHeaders),
    toClient: clientHeaders === undefined ? () => true : namePatterns([...clientHeaders, ...ALWAYS_TO_CLIENT]),
  };
}

function checkHeaders(ctx: RequestContext, s: CompiledService): Record<string, string> {
  const headers: Record<string, string> = {};
  const identity = s.service.identityHeaders;
  const identityNames = new Set([identity?.consumer, identity?.groups].filter((n): n is string => n !== undefined));
  for (const [name, value] of Object.entries(ctx.headers)) {
    if (value === undefined || NOT_COPIED.has(name) || identityNames.has(name) || name.startsWith(':') || !s.sendHeader(name)) continue;
    headers[name] = Array.isArray(value) ? value.join(name === 'cookie' ? '; ' : ', ') : value;
  }
  for (const [name, value] of Object.entries(s.service.additionalHeaders ?? {})) headers[name] = value;
  // Who authentication said the caller is: never the client's own copy of these headers.
  const consumer = consumerOf(ctx);
  if (consumer !== undefined) {
    if (identity?.consumer !== undefined) headers[identity.consumer] = consumer.name;
    if (identity?.groups !== undefined && consumer.groups.length > 0) headers[identity.groups] = consumer.groups.join(',');
  }
  headers['host'] = ctx.authority;
  return headers;
}

/** Flat [name, value, ...] of the answer's headers a test selects; undici gives names lower case. */
function pickHeaders(headers: Record<string, string | string[] | undefined>, test: NameTest): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || NOT_COPIED.has(name) || !test(name)) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.push(name, v);
  }
  return out;
}

async function readCapped(body: Dispatcher.ResponseData['body'], max: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function localAnswer(ctx: RequestContext, status: number, details: string, message: string): FilterOutcome {
  const body = JSON.stringify({ status, reason: details, message, request_id: ctx.requestId });
  return { kind: 'respond', status, details, headers: ['cache-control', 'no-store'], body, contentType: 'application/json' };
}

export function compileExtAuth(extAuth: IrExtAuth, deps: ExtAuthDeps = {}): CompiledExtAuth {
  const dispatcher = deps.dispatcher ?? getGlobalDispatcher();
  const checks = extAuth.checks.map((c) => ({
    name: c.name,
    matches: compileConditions(c.conditions, deps),
    target: c.target.kind === 'service' ? { kind: 'service' as const, compiled: compileService(c.target.service) } : c.target,
  }));
  // Exact names only: a pattern such as `x-*` would also take the X-Forwarded-* fields the gateway itself sets.
  const upstreamNames = [...new Set(extAuth.checks.flatMap((c) => (c.target.kind === 'service' ? c.target.service.upstreamHeaders : [])).filter((n) => !n.includes('*')).map((n) => n.toLowerCase()))];

  const ask = async (ctx: RequestContext, name: string, s: CompiledService): Promise<FilterOutcome> => {
    const { service } = s;
    const failed = (reason: string): FilterOutcome => {
      deps.onFailure?.({ check: name, url: service.url, mode: service.failureMode, reason });
      ctx.attributes.set(EXT_AUTH_ATTRIBUTE, `${name}: failed ${service.failureMode} (${reason})`);
      if (service.failureMode === 'open') return CONTINUE;
      return localAnswer(ctx, service.statusOnError, 'ext_auth_error', 'The external authorization service could not be reached.');
    };
    // One deadline for the whole exchange, connection included: the request never waits longer.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), service.timeoutMs);
    try {
      const answer = await dispatcher.request({
        origin: s.origin,
        path: s.pathPrefix + ctx.path + ctx.query,
        method: ctx.method as Dispatcher.HttpMethod,
        headers: checkHeaders(ctx, s),
        signal: abort.signal,
      });
      const status = answer.statusCode;
      if (status >= 200 && status < 300) {
        await answer.body.dump();
        const upstream = pickHeaders(answer.headers, s.toUpstream);
        if (upstream.length > 0) ctx.attributes.set(UPSTREAM_HEADERS_ATTRIBUTE, upstream);
        ctx.attributes.set(EXT_AUTH_ATTRIBUTE, `${name}: allowed`);
        return CONTINUE;
      }
      if (status >= 500) {
        await answer.body.dump();
        return failed(`status_${status}`);
      }
      const body = await readCapped(answer.body, MAX_DENY_BODY_BYTES);
      if (body === undefined) return failed('body_too_large');
      ctx.attributes.set(EXT_AUTH_ATTRIBUTE, `${name}: denied ${status}`);
      const contentType = answer.headers['content-type'];
      return {
        kind: 'respond',
        status,
        details: 'ext_auth_denied',
        headers: pickHeaders(answer.headers, s.toClient),
        body,
        contentType: typeof contentType === 'string' ? contentType : 'text/plain',
      };
    } catch (err) {
      return failed(abort.signal.aborted ? 'timeout' : (err as { code?: string }).code === 'ECONNREFUSED' ? 'connect_error' : 'error');
    } finally {
      clearTimeout(timer);
    }
  };

  const request: RequestPhaseFilter = (ctx) => {
    for (const c of checks) {
      if (!c.matches(ctx)) continue;
      if (c.target.kind === 'deny') {
        ctx.attributes.set(EXT_AUTH_ATTRIBUTE, `${c.name}: denied (${c.target.reason})`);
        return localAnswer(ctx, 403, 'forbidden', 'Access to this route is denied by its authorization policy.');
      }
      return ask(ctx, c.name, c.target.compiled);
    }
    return CONTINUE;
  };

  // The client's own copies of headers the service may set (named exactly) are always removed, so
  // a request the service did not vouch for (or one no check matched) cannot bring them itself;
  // names set by a pattern are replaced when the answer carries them.
  const backendRequest: BackendRequestFilter = (ctx, draft) => {
    for (const name of upstreamNames) removeHeader(draft.headers, name);
    const set = ctx.attributes.get(UPSTREAM_HEADERS_ATTRIBUTE) as string[] | undefined;
    if (set === undefined) return;
    for (let i = 0; i < set.length; i += 2) removeHeader(draft.headers, set[i]!);
    draft.headers.push(...set);
  };
  return { request, backendRequest };
}
