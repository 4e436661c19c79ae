// The route's IR retry policy, compiled once per apply into the questions the forward phase asks:
// may this failed try go out again, and after how long. The conditions are Envoy's `retry_on`
// names (src/ir/types.ts IrRetryCondition); what a try may resend is decided here too, so the
// exchange and the body-buffering decision (replayable-body.ts) never disagree.
import type { IrRetryBackoff, IrRetryPolicy } from '../../ir/types.js';
import type { Random } from '../../core/random.js';
import { assertNever } from '../../core/assert-never.js';
import { rawHeaderText, type RawHeaders } from '../upstream/transport.js';

/** How a try failed before any of its response was committed downstream. */
export type TryFailure = 'connect-failure' | 'reset' | 'per-try-timeout';

export interface CompiledRetryPolicy {
  /** Retries after the first try. */
  readonly attempts: number;
  /** True when some condition can ever hold: only then is a body worth keeping for a resend. */
  readonly retriesAnything: boolean;
  readonly allowNonIdempotent: boolean;
  /** A response with this status is dropped and the request resent (when attempts are left). */
  retriesStatus(status: number): boolean;
  /** True when some `grpc-status` is retried: only then are response headers searched for it. */
  readonly readsGrpcStatus: boolean;
  /** A trailers-only gRPC response with this `grpc-status` is dropped and the request resent. */
  retriesGrpcStatus(code: number): boolean;
  retriesFailure(failure: TryFailure): boolean;
  /** The wait before retry number `retry` (1 for the first retry). */
  backoffMs(retry: number, random: Random): number;
}

/** Envoy's `retry_back_off` defaults: base 25 ms, max 10 × base. */
export const DEFAULT_BACKOFF: IrRetryBackoff = { baseMs: 25 };

const GATEWAY_ERRORS: ReadonlySet<number> = new Set([502, 503, 504]);

export function compileRetryPolicy(policy: IrRetryPolicy): CompiledRetryPolicy {
  const statuses = new Set<number>();
  const failures = new Set<TryFailure>();
  const grpcCodes = new Set<number>();
  let any5xx = false;
  for (const c of policy.retryOn) {
    switch (c.kind) {
      case 'connect-failure':
      case 'reset':
      case 'per-try-timeout':
        failures.add(c.kind);
        break;
      case 'gateway-error':
        for (const s of GATEWAY_ERRORS) statuses.add(s);
        failures.add('connect-failure').add('reset').add('per-try-timeout');
        break;
      case '5xx':
        any5xx = true;
        failures.add('connect-failure').add('reset').add('per-try-timeout');
        break;
      case 'retriable-4xx':
        statuses.add(409);
        break;
      case 'retriable-status-codes':
        for (const s of c.codes) statuses.add(s);
        break;
      case 'grpc-status':
        for (const code of c.codes) grpcCodes.add(code);
        break;
      default:
        assertNever(c, 'retry condition');
    }
  }
  const attempts = Math.max(0, Math.floor(policy.attempts));
  const backoff = policy.backoff ?? DEFAULT_BACKOFF;
  const baseMs = Math.max(0, backoff.baseMs);
  const maxMs = Math.max(baseMs, backoff.maxMs ?? 10 * baseMs);
  return {
    attempts,
    retriesAnything: attempts > 0 && (any5xx || statuses.size > 0 || failures.size > 0 || grpcCodes.size > 0),
    readsGrpcStatus: attempts > 0 && grpcCodes.size > 0,
    retriesGrpcStatus: (code) => grpcCodes.has(code),
    allowNonIdempotent: policy.allowNonIdempotent === true,
    retriesStatus: (status) => statuses.has(status) || (any5xx && status >= 500 && status <= 599),
    retriesFailure: (failure) => failures.has(failure),
    backoffMs: (retry, random) => backoffMs(baseMs, maxMs, retry, random),
  };
}

/**
 * Retry n waits in [base, min(max, base × 2^(n-1))]: exponential and jittered like Envoy, but never
 * below base, since GEP-1731 makes `backoff` the minimum wait.
 */
export function backoffMs(baseMs: number, maxMs: number, retry: number, random: Random): number {
  if (baseMs === 0) return 0;
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, retry - 1)));
  return Math.round(baseMs + random.next() * (ceiling - baseMs));
}

const GRPC_STATUS = 'grpc-status';

/**
 * The `grpc-status` of a response's raw headers, or undefined.
 * Only asked when the route retries on a gRPC status, so other routes pay nothing.
 */
export function grpcStatusOf(rawHeaders: RawHeaders): number | undefined {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length !== GRPC_STATUS.length || rawHeaderText(name).toLowerCase() !== GRPC_STATUS) continue;
    const code = Number(rawHeaderText(rawHeaders[i + 1]!).trim());
    return Number.isInteger(code) ? code : undefined;
  }
  return undefined;
}
