// AuthPolicy `spec.externalAuth` → IrExtAuth: one check, on every request of the routes the
// policy governs, after its methods have named the consumer. External authorization sits in
// AuthPolicy rather than a kind of its own because it is how a route's callers are let in, and so
// is attached, overridden and reported exactly as the policy's methods are (one AuthPolicy per
// route); an Istio CUSTOM AuthorizationPolicy compiles to the same IR (custom-authorization.ts).
// Pure: no I/O, no clock.
import type { IrExtAuth, IrExtAuthService } from '../../ir/apim.js';
import type { AuthPolicy } from '../../resources/resource.js';
import { authPolicyName } from './auth-policy.js';
import { parseDurationMs } from './period.js';

/** Envoy ext_authz's default timeout for its HTTP service: an authorization check should be quick. */
export const DEFAULT_EXT_AUTH_TIMEOUT_MS = 200;
/**
 * Closed mode's answer when the service fails. 503 rather than Envoy's 403: the caller was not
 * refused, the gateway could not decide, and a client may retry a 503. Istio providers keep
 * Istio's default (403) in custom-authorization.ts.
 */
export const DEFAULT_EXT_AUTH_STATUS_ON_ERROR = 503;

export type Invalid = (path: string, message: string) => void;

/**
 * Istio and protobuf durations (`0.5s`, `600s`) besides our own (`200ms`, `1m`); undefined when
 * neither grammar reads it, or it is zero (a check that may not take any time fails every request).
 */
export function parseTimeoutMs(text: string): number | undefined {
  const ours = parseDurationMs(text);
  if (ours !== undefined) return ours === 0 ? undefined : ours;
  const proto = /^([0-9]{1,9})(?:\.([0-9]{1,9}))?s$/.exec(text);
  if (proto === null) return undefined;
  const ms = Number(proto[1]) * 1000 + Math.round(Number(`0.${proto[2] ?? '0'}`) * 1000);
  return ms === 0 ? undefined : ms;
}

export function evaluateExternalAuth(policy: AuthPolicy, invalid: Invalid): IrExtAuth | undefined {
  const spec = policy.spec.externalAuth;
  if (spec === undefined) return undefined;
  const path = 'spec.externalAuth';
  const name = `${authPolicyName(policy)}/external-auth`;
  let url: URL | undefined;
  try {
    url = new URL(spec.url);
  } catch {
    url = undefined;
  }
  // A check that cannot be made fails closed: the routes refuse every request (403), never pass unchecked.
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    invalid(`${path}.url`, `expected an http:// or https:// URL without query, fragment or credentials, found "${spec.url}"; every request of its routes is refused (403)`);
    return { policy: authPolicyName(policy), checks: [{ name, conditions: [], target: { kind: 'deny', reason: 'invalid externalAuth.url' } }] };
  }
  let timeoutMs = DEFAULT_EXT_AUTH_TIMEOUT_MS;
  if (spec.timeout !== undefined) {
    const parsed = parseTimeoutMs(spec.timeout);
    if (parsed === undefined) invalid(`${path}.timeout`, `expected a duration greater than zero such as "200ms" or "1s", found "${spec.timeout}"; the default ${DEFAULT_EXT_AUTH_TIMEOUT_MS}ms is used`);
    else timeoutMs = parsed;
  }
  const forward = policy.spec.forward;
  const identity = {
    ...(forward?.consumerHeader !== undefined ? { consumer: forward.consumerHeader.toLowerCase() } : {}),
    ...(forward?.groupsHeader !== undefined ? { groups: forward.groupsHeader.toLowerCase() } : {}),
  };
  const service: IrExtAuthService = {
    url: url.href.replace(/\/$/, ''),
    timeoutMs,
    failureMode: spec.failureMode ?? 'closed',
    statusOnError: spec.statusOnError ?? DEFAULT_EXT_AUTH_STATUS_ON_ERROR,
    requestHeaders: (spec.requestHeaders ?? []).map((h) => h.toLowerCase()),
    // The service is told who the methods authenticated, under the names the upstream gets them.
    ...(Object.keys(identity).length > 0 ? { identityHeaders: identity } : {}),
    upstreamHeaders: (spec.upstreamHeaders ?? []).map((h) => h.toLowerCase()),
    ...(spec.clientHeaders !== undefined ? { clientHeaders: spec.clientHeaders.map((h) => h.toLowerCase()) } : {}),
  };
  return { policy: authPolicyName(policy), checks: [{ name, conditions: [], target: { kind: 'service', service } }] };
}
