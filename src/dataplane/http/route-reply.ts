// Every reply the gateway writes itself for a matched route (a `respond` action, a redirect, a
// filter's answer, a 502 from the exchange) passes the route's response-header filters, as a
// proxied response does: CORS and rate-limit headers must reach a 404 or a 429 too.
import type { CompiledBackend, CompiledRoute } from './compiled-route.js';
import type { RequestContext } from '../filters/request-context.js';
import { localReplyHeaders, sendHeaderList, type DownstreamResponse } from './local-reply.js';

/** Any reply the gateway writes for a matched route: the response-header filters see it first. */
export function sendRouteReply(
  res: DownstreamResponse,
  deps: { readonly draining: () => boolean },
  ctx: RequestContext,
  route: CompiledRoute,
  backend: CompiledBackend | undefined,
  status: number,
  body: string,
  contentType: string,
  extra?: readonly string[],
): void {
  const headers = localReplyHeaders(body, contentType, ctx.requestId, extra);
  for (const f of route.filters.responseHeaders) f(ctx, status, headers);
  if (backend !== undefined) for (const f of backend.filters.responseHeaders) f(ctx, status, headers);
  sendHeaderList(res, status, headers, body, deps.draining());
}

