// Who the request is, as the authentication filter left it in the context's attributes: the
// consumer (an IrConsumer) and, for a JWT, its claims. Attributes are `unknown` to every filter but
// their owner, so they are narrowed here rather than trusted.
import type { IrConsumer } from '../../ir/apim.js';
import { attributeOf, type RequestContext } from './request-context.js';
import { CLAIMS_ATTRIBUTE, CONSUMER_ATTRIBUTE } from './auth/compile-authn.js';
import { API_ATTRIBUTE, type ApiVersionIdentity } from './api-lifecycle.js';

// Set by authz.ts and ext-auth.ts, read here for the log; declared here so that neither filter and
// this reader import each other.
/** `ctx.attributes` key of the first AUDIT rule (Istio action AUDIT) a request matched: the access log's `audit`. */
export const AUDIT_RULE_ATTRIBUTE = 'audit';
/** `ctx.attributes` key: the external check that ran and how it ended (`<check>: allowed`, `...: failed open (timeout)`), for the log. */
export const EXT_AUTH_ATTRIBUTE = 'ext_auth';

/** The authenticated consumer, or undefined for an anonymous request. */
export function consumerOf(ctx: RequestContext): IrConsumer | undefined {
  const value = attributeOf(ctx, CONSUMER_ATTRIBUTE);
  return typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string' ? (value as IrConsumer) : undefined;
}

/** The JWT claims, or undefined when the request carried no token. */
export function claimsOf(ctx: RequestContext): Readonly<Record<string, unknown>> | undefined {
  const value = ctx.attributes.get(CLAIMS_ATTRIBUTE);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** The API version the route serves (set by the api-lifecycle filter), or undefined. */
export function apiVersionOf(ctx: RequestContext): ApiVersionIdentity | undefined {
  const value = attributeOf(ctx, API_ATTRIBUTE);
  return typeof value === 'object' && value !== null && typeof (value as { api?: unknown }).api === 'string' ? (value as ApiVersionIdentity) : undefined;
}

/**
 * The original client: the peer itself, unless the peer is a trusted proxy; then X-Forwarded-For
 * read from the right, skipping trusted proxies (the first address no trusted proxy added is the
 * client's own claim about itself, and the last one we can believe). `ctx.clientIp` is the peer.
 * Read per request only by filters that key or match on the client (rate limits, quotas, authz).
 */
export function clientAddressOf(ctx: RequestContext, isTrustedProxy: ((ip: string) => boolean) | undefined): string {
  if (isTrustedProxy === undefined || !isTrustedProxy(ctx.clientIp)) return ctx.clientIp;
  const raw = ctx.headers['x-forwarded-for'];
  const xff = Array.isArray(raw) ? raw.join(',') : raw;
  if (xff === undefined) return ctx.clientIp;
  const hops = xff.split(',').map((h) => h.trim()).filter((h) => h !== '');
  for (let i = hops.length - 1; i >= 0; i--) if (i === 0 || !isTrustedProxy(hops[i]!)) return hops[i]!;
  return ctx.clientIp;
}

/** Who called which API version, for the requestEnd message (usage metering, src/observability/usage-metering.ts). */
export interface RequestIdentityFields {
  readonly consumer?: string;
  readonly plan?: string;
  readonly api?: string;
  readonly apiVersion?: string;
  /** The Istio AUDIT rule the request matched, for the access log. */
  readonly audit?: string;
  /** The external authorization check that ran and its outcome, for the access log. */
  readonly extAuth?: string;
}

const NO_IDENTITY: RequestIdentityFields = {};

/** The requestEnd fields of a request; one shared empty object when there is nothing to say. */
export function identityFieldsOf(ctx: RequestContext | undefined): RequestIdentityFields {
  if (ctx === undefined) return NO_IDENTITY;
  const consumer = consumerOf(ctx);
  const api = apiVersionOf(ctx);
  const audit = attributeOf(ctx, AUDIT_RULE_ATTRIBUTE);
  const extAuth = attributeOf(ctx, EXT_AUTH_ATTRIBUTE);
  if (consumer === undefined && api === undefined && audit === undefined && extAuth === undefined) return NO_IDENTITY;
  const fields: RequestIdentityFields = { consumer: consumer?.name, plan: consumer?.plan, api: api?.api, apiVersion: api?.version };
  if (typeof audit !== 'string' && typeof extAuth !== 'string') return fields;
  return { ...fields, ...(typeof audit === 'string' ? { audit } : {}), ...(typeof extAuth === 'string' ? { extAuth } : {}) };
}
