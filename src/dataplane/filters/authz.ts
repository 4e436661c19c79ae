// Authorization (AccessPolicy, Istio AuthorizationPolicy) on a route, evaluated as Istio's RBAC
// filters are: a matching deny rule refuses; then a matching allow rule lets the request on; with
// neither, `noMatch` decides (deny once any allow list exists). It reads what authentication
// found (the consumer and the JWT claims in ctx.attributes), so it runs right after `authn`; it
// never waits on I/O. The request phase runs for WebSocket upgrades too, so an upgrade is refused
// before anything reaches the upstream. Everything is compiled here once: string matches into
// closures, address blocks into numeric ranges (cidr.ts); nothing per request but comparisons.
import type { IrAuthz, IrAuthzCondition, IrAuthzRule } from '../../ir/apim.js';
import { assertNever } from '../../core/assert-never.js';
import { AUDIT_RULE_ATTRIBUTE, claimsOf, clientAddressOf, consumerOf } from './request-identity.js';
import { compileCidrs } from '../../core/cidr.js';
import { CONTINUE, type FilterOutcome, type RequestPhaseFilter } from './filter-types.js';
import type { RequestContext } from './request-context.js';

/** `ctx.attributes` key of the name of the rule that decided (allowed or denied) a request, for the log. */
export const AUTHZ_RULE_ATTRIBUTE = 'authz';

export interface AuthzDeps {
  readonly isTrustedProxy?: (ip: string) => boolean;
}

type Test = (ctx: RequestContext) => boolean;
type StringTest = (value: string) => boolean;

/** Istio's string forms: `*` (any value, present), `prefix*`, `*suffix`, else exact. */
export function compileStringMatch(pattern: string, ignoreCase = false): StringTest {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const norm = ignoreCase ? (v: string) => v.toLowerCase() : (v: string) => v;
  if (p === '*') return () => true;
  if (p.endsWith('*')) {
    const prefix = p.slice(0, -1);
    return (v) => norm(v).startsWith(prefix);
  }
  if (p.startsWith('*')) {
    const suffix = p.slice(1);
    return (v) => norm(v).endsWith(suffix);
  }
  return (v) => norm(v) === p;
}

function anyOf(values: readonly string[], ignoreCase = false): StringTest {
  const tests = values.map((v) => compileStringMatch(v, ignoreCase));
  if (tests.length === 1) return tests[0]!;
  return (v) => tests.some((t) => t(v));
}

/** A claim's value at a path into nested objects; undefined when any step is missing. */
function claimAt(claims: Readonly<Record<string, unknown>> | undefined, path: readonly string[]): unknown {
  let v: unknown = claims;
  for (const step of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.hasOwn(v, step)) return undefined;
    v = (v as Record<string, unknown>)[step];
  }
  return v;
}

/** A scalar claim as text (strings, numbers, booleans); objects and null match nothing. */
function claimText(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

function headerValue(ctx: RequestContext, name: string): string | undefined {
  const v = ctx.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function compileCondition(c: IrAuthzCondition, deps: AuthzDeps): Test {
  const positive = compilePositive(c, deps);
  return c.negate ? (ctx) => !positive(ctx) : positive;
}

function compilePositive(c: IrAuthzCondition, deps: AuthzDeps): Test {
  switch (c.kind) {
    case 'consumer': {
      const match = anyOf(c.values);
      return (ctx) => {
        const consumer = consumerOf(ctx);
        return consumer !== undefined && match(consumer.name);
      };
    }
    case 'group': {
      const match = anyOf(c.values);
      return (ctx) => consumerOf(ctx)?.groups.some(match) ?? false;
    }
    case 'claim': {
      const match = anyOf(c.values);
      return (ctx) => {
        const v = claimAt(claimsOf(ctx), c.path);
        if (Array.isArray(v)) return v.some((e) => {
          const t = claimText(e);
          return t !== undefined && match(t);
        });
        const t = claimText(v);
        return t !== undefined && match(t);
      };
    }
    case 'request-principal': {
      const match = anyOf(c.values);
      return (ctx) => {
        const claims = claimsOf(ctx);
        const iss = claims?.['iss'];
        const sub = claims?.['sub'];
        return typeof iss === 'string' && typeof sub === 'string' && match(`${iss}/${sub}`);
      };
    }
    case 'method': {
      const match = anyOf(c.values);
      return (ctx) => match(ctx.method);
    }
    case 'path': {
      const match = anyOf(c.values);
      return (ctx) => match(ctx.path);
    }
    case 'host': {
      // Istio matches the Host case-insensitively, with or without its port.
      const match = anyOf(c.values, true);
      return (ctx) => match(ctx.host) || match(ctx.authority);
    }
    case 'header': {
      const match = anyOf(c.values);
      return (ctx) => {
        const v = headerValue(ctx, c.name);
        return v !== undefined && match(v);
      };
    }
    case 'ip': {
      const blocks = compileCidrs(c.cidrs);
      if (c.of === 'peer') return (ctx) => blocks.contains(ctx.clientIp);
      const trusted = deps.isTrustedProxy;
      return (ctx) => blocks.contains(clientAddressOf(ctx, trusted));
    }
    default:
      return assertNever(c, 'authz condition');
  }
}

function compileRule(rule: IrAuthzRule, deps: AuthzDeps): Test {
  return compileConditions(rule.conditions, deps);
}

/** Every condition holds (none: always); shared with ext-auth.ts, whose checks match as rules do. */
export function compileConditions(conditions: readonly IrAuthzCondition[], deps: AuthzDeps): Test {
  const tests = conditions.map((c) => compileCondition(c, deps));
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0]!;
  return (ctx) => tests.every((t) => t(ctx));
}

/** 403 in the shape of the gateway's other local replies; which rule decided goes to the log, not to the client. */
function forbidden(ctx: RequestContext): FilterOutcome {
  const body = JSON.stringify({ status: 403, reason: 'forbidden', message: 'Access to this route is denied by its authorization policy.', request_id: ctx.requestId });
  return { kind: 'respond', status: 403, details: 'forbidden', headers: ['cache-control', 'no-store'], body, contentType: 'application/json' };
}

export function compileAuthz(authz: IrAuthz, deps: AuthzDeps = {}): RequestPhaseFilter {
  const deny = authz.rules.filter((r) => r.action === 'deny').map((r) => ({ name: r.name, test: compileRule(r, deps) }));
  const allow = authz.rules.filter((r) => r.action === 'allow').map((r) => ({ name: r.name, test: compileRule(r, deps) }));
  const audit = authz.rules.filter((r) => r.action === 'audit').map((r) => ({ name: r.name, test: compileRule(r, deps) }));
  const allowByDefault = authz.noMatch === 'allow';
  return (ctx) => {
    // AUDIT decides nothing (Istio: it only marks the request for logging), so it runs first and
    // marks refused requests too.
    for (const r of audit) {
      if (r.test(ctx)) {
        ctx.attributes.set(AUDIT_RULE_ATTRIBUTE, r.name);
        break;
      }
    }
    for (const r of deny) {
      if (r.test(ctx)) {
        ctx.attributes.set(AUTHZ_RULE_ATTRIBUTE, r.name);
        return forbidden(ctx);
      }
    }
    for (const r of allow) {
      if (r.test(ctx)) {
        ctx.attributes.set(AUTHZ_RULE_ATTRIBUTE, r.name);
        return CONTINUE;
      }
    }
    if (allowByDefault) return CONTINUE;
    ctx.attributes.set(AUTHZ_RULE_ATTRIBUTE, `${authz.policy}: no allow rule matched`);
    return forbidden(ctx);
  };
}
