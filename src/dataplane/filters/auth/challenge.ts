// `WWW-Authenticate` challenges (RFC 9110 §11.6.1) and the 401 answer that carries them: one
// challenge per configured method, so a client learns every way in; the method that rejected the
// request adds why, where its scheme has a place for it.
import type { FilterResponse } from '../filter-types.js';
import type { RequestContext } from '../request-context.js';

/** RFC 9110 §5.6.4 quoted-string: backslash-escape `"` and `\`; control characters cannot be sent at all. */
export function quoted(value: string): string {
  return `"${value.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '').replace(/["\\]/g, '\\$&')}"`;
}

/**
 * RFC 6750 §3: `Bearer realm="..."`, plus `error="invalid_token"` and an `error_description` when a
 * token was presented and refused. With no token at all, §3.1 says no error code is sent.
 */
export function bearerChallenge(realm: string): (error: string | undefined) => string {
  const base = `Bearer realm=${quoted(realm)}`;
  // §3: error_description is limited to %x20-21 / %x23-5B / %x5D-7E (no `"` or `\`).
  return (error) => (error === undefined ? base : `${base}, error="invalid_token", error_description="${error.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '')}"`);
}

/** RFC 7617 §2.1: `Basic realm="...", charset="UTF-8"` (UTF-8 is the only charset the RFC allows). */
export function basicChallenge(realm: string): (error: string | undefined) => string {
  const value = `Basic realm=${quoted(realm)}, charset="UTF-8"`;
  return () => value;
}

/**
 * No RFC or IANA-registered scheme exists for API keys; `ApiKey realm="..."` follows the
 * auth-scheme syntax of RFC 9110 §11.1 (as several gateways do) so a client sees that a key is one
 * way in. It names no parameter for the reason: the JSON body carries it.
 */
export function apiKeyChallenge(realm: string): (error: string | undefined) => string {
  const value = `ApiKey realm=${quoted(realm)}`;
  return () => value;
}

/**
 * 401 with every challenge (duplicates, e.g. two JWT issuers, once) and a body in the shape of the
 * gateway's other local replies (local-reply.ts: status, reason, message, request_id), so clients
 * parse one shape. `details` stays `unauthorized` for the log and metric label; the message says why.
 */
export function unauthorizedReply(ctx: RequestContext, message: string, challenges: readonly string[]): FilterResponse {
  const headers: string[] = [];
  for (const c of new Set(challenges)) headers.push('www-authenticate', c);
  // RFC 9111 §5.2.2.5: an answer about credentials is never for a shared cache to keep.
  headers.push('cache-control', 'no-store');
  const body = JSON.stringify({ status: 401, reason: 'unauthorized', message, request_id: ctx.requestId });
  return { kind: 'respond', status: 401, details: 'unauthorized', headers, body, contentType: 'application/json' };
}
