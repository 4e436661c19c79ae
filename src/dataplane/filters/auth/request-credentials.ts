// Where credentials sit in a request: a header, a query parameter or a cookie. Each reader answers
// `undefined` when the request carries nothing there, so a method can tell "no credentials for
// me" (the next method may find some) from "credentials, but bad" (401, no fall-through).
import type { RequestContext } from '../request-context.js';

/** The first value of a header (names lower case); node joins most repeats, HTTP/2 may give arrays. */
export function headerValue(ctx: RequestContext, lowerName: string): string | undefined {
  const value = ctx.headers[lowerName];
  return Array.isArray(value) ? value[0] : value;
}

/** The first value of a query parameter, percent-decoded (WHATWG URLSearchParams, as browsers send it). */
export function queryValue(ctx: RequestContext, name: string): string | undefined {
  if (ctx.query.length <= 1) return undefined;
  return new URLSearchParams(ctx.query).get(name) ?? undefined;
}

/** A cookie's value (RFC 6265 §5.4 `name=value; name=value`), the first of that name wins. */
export function cookieValue(ctx: RequestContext, name: string): string | undefined {
  const header = ctx.headers.cookie;
  if (header === undefined) return undefined;
  // HTTP/2 may send one cookie field per cookie (RFC 9113 §8.2.3); node may leave them apart.
  const fields = Array.isArray(header) ? header : [header];
  for (const field of fields) {
    for (const pair of field.split(';')) {
      const eq = pair.indexOf('=');
      if (eq === -1 || pair.slice(0, eq).trim() !== name) continue;
      let value = pair.slice(eq + 1).trim();
      // RFC 6265 §4.1.1: a cookie-value may be DQUOTEd.
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      return value;
    }
  }
  return undefined;
}

/**
 * `Authorization: <scheme> <credentials>` split at the first space; the scheme is compared
 * case-insensitively (RFC 9110 §11.1). Undefined when the header is absent or has another scheme.
 */
export function authorizationFor(ctx: RequestContext, lowerHeader: string, prefix: string): string | undefined {
  const value = headerValue(ctx, lowerHeader);
  if (value === undefined) return undefined;
  const scheme = prefix.trimEnd();
  const trimmed = value.trim();
  // `Bearer` alone: the scheme is ours, the credentials are empty (malformed, not absent).
  if (trimmed.length === scheme.length) return trimmed.toLowerCase() === scheme.toLowerCase() ? '' : undefined;
  if (scheme === '') return trimmed;
  if (trimmed.slice(0, scheme.length).toLowerCase() !== scheme.toLowerCase()) return undefined;
  // With a scheme, one or more spaces must follow it (`Bearerabc` is another scheme, not ours).
  const rest = trimmed.slice(scheme.length);
  if (rest.length > 0 && rest[0] !== ' ' && rest[0] !== '\t') return undefined;
  return rest.trim();
}
