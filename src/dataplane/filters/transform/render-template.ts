// IR template parts → a function of the request context, built once per route: rendering is a
// loop over parts and string concatenation. The consumer and claims are those authentication left
// (request-identity.ts); the client address is the one resolver every filter uses.
import type { IrJsonValue, IrTemplate, IrTemplatePart } from '../../../ir/apim.js';
import type { RequestContext } from '../request-context.js';
import { claimsOf, clientAddressOf, consumerOf } from '../request-identity.js';

export interface TemplateDeps {
  readonly isTrustedProxy: ((ip: string) => boolean) | undefined;
}

/** A claim by path into nested objects (own properties only: a claim named `__proto__` or `constructor` finds nothing inherited). */
function claimAt(ctx: RequestContext, path: readonly string[]): unknown {
  let value: unknown = claimsOf(ctx);
  for (const key of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function headerAt(ctx: RequestContext, name: string): string | undefined {
  const v = ctx.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** One variable's value as JSON (what `set: {value: "${claims.roles}"}` puts in a body). */
function jsonOf(part: IrTemplatePart, ctx: RequestContext, deps: TemplateDeps): unknown {
  switch (part.kind) {
    case 'text':
      return part.text;
    case 'consumer':
      return consumerOf(ctx)?.name ?? null;
    case 'consumer-groups':
      return [...(consumerOf(ctx)?.groups ?? [])];
    case 'claim': {
      const v = claimAt(ctx, part.path);
      // A copy: later edits of the body must not reach the verified claims other filters read.
      return v === undefined ? null : typeof v === 'object' ? structuredClone(v) : v;
    }
    case 'request-id':
      return ctx.requestId;
    case 'client-address':
      return clientAddressOf(ctx, deps.isTrustedProxy);
    case 'header':
      return headerAt(ctx, part.name) ?? null;
    case 'method':
      return ctx.method;
    case 'path':
      return ctx.path;
  }
}

/** One part as text: strings as they are, absent values empty, other values as JSON. */
function textOf(part: IrTemplatePart, ctx: RequestContext, deps: TemplateDeps): string {
  switch (part.kind) {
    case 'text':
      return part.text;
    case 'consumer-groups':
      return (consumerOf(ctx)?.groups ?? []).join(',');
    default: {
      const v = jsonOf(part, ctx, deps);
      return v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
    }
  }
}

export function compileTemplate(template: IrTemplate, deps: TemplateDeps): (ctx: RequestContext) => string {
  const only = template.length === 1 ? template[0]! : undefined;
  if (only?.kind === 'text') {
    const text = only.text;
    return () => text;
  }
  if (only !== undefined) return (ctx) => textOf(only, ctx, deps);
  return (ctx) => {
    let out = '';
    for (const part of template) out += textOf(part, ctx, deps);
    return out;
  };
}

/** A body value: a constant, one variable's JSON value, or a rendered string. */
export function compileJsonValue(value: IrJsonValue, deps: TemplateDeps): (ctx: RequestContext) => unknown {
  if (value.kind === 'json') {
    const constant = value.value;
    // Objects are copied per use, so one request's later edits never reach the next request.
    return typeof constant === 'object' && constant !== null ? () => structuredClone(constant) : () => constant;
  }
  const template = value.template;
  const only = template.length === 1 ? template[0]! : undefined;
  if (only !== undefined && only.kind !== 'text') return (ctx) => jsonOf(only, ctx, deps);
  return compileTemplate(template, deps);
}
