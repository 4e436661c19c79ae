// Who the request is, as the authentication filter left it in the context's attributes: the
// consumer (an IrConsumer) and, for a JWT, its claims. Attributes are `unknown` to every filter but
// their owner, so they are narrowed here rather than trusted.
import type { IrConsumer } from '../../ir/apim.js';
import type { RequestContext } from './request-context.js';
import { CLAIMS_ATTRIBUTE, CONSUMER_ATTRIBUTE } from './auth/compile-authn.js';

/** The authenticated consumer, or undefined for an anonymous request. */
export function consumerOf(ctx: RequestContext): IrConsumer | undefined {
  const value = ctx.attributes.get(CONSUMER_ATTRIBUTE);
  return typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string' ? (value as IrConsumer) : undefined;
}

/** The JWT claims, or undefined when the request carried no token. */
export function claimsOf(ctx: RequestContext): Readonly<Record<string, unknown>> | undefined {
  const value = ctx.attributes.get(CLAIMS_ATTRIBUTE);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
