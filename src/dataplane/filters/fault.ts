// Fault injection (Istio's HTTPFaultInjection, Envoy's fault filter): for a sampled share of
// requests, wait before going on, or answer with an error instead of forwarding. A delay is a
// timer and a Promise (filter-types.ts: the request phase waits only when a filter asks), so a
// delayed request holds no thread and no other request waits behind it.
import type { IrFault } from '../../ir/types.js';
import type { Random } from '../../core/random.js';
import { CONTINUE, type FilterOutcome, type RequestPhaseFilter } from './filter-types.js';

/** gRPC status codes by number, for the `grpc-message` of an injected gRPC abort. */
const GRPC_NAMES: Readonly<Record<number, string>> = { 1: 'CANCELLED', 2: 'UNKNOWN', 4: 'DEADLINE_EXCEEDED', 8: 'RESOURCE_EXHAUSTED', 13: 'INTERNAL', 14: 'UNAVAILABLE' };

export function compileFault(fault: IrFault, random: Random): RequestPhaseFilter {
  const abort = fault.abort === undefined ? undefined : abortOutcome(fault.abort);
  const abortShare = fault.abort?.percent ?? 0;
  const delay = fault.delay;
  const decideAbort = (): FilterOutcome => (abort !== undefined && sampled(random, abortShare) ? abort : CONTINUE);
  if (delay === undefined || delay.ms <= 0) return decideAbort;
  return () => {
    if (!sampled(random, delay.percent)) return decideAbort();
    return new Promise<FilterOutcome>((resolve) => setTimeout(() => resolve(decideAbort()), delay.ms));
  };
}

function sampled(random: Random, percent: number): boolean {
  return percent >= 100 || (percent > 0 && random.next() * 100 < percent);
}

function abortOutcome(abort: NonNullable<IrFault['abort']>): FilterOutcome {
  if (abort.grpcStatus !== undefined) {
    // gRPC carries its status in headers (a trailers-only response): HTTP 200, grpc-status N.
    const message = GRPC_NAMES[abort.grpcStatus] ?? 'fault injected';
    return { kind: 'respond', status: 200, details: 'fault_abort', headers: ['grpc-status', String(abort.grpcStatus), 'grpc-message', message], body: '', contentType: 'application/grpc' };
  }
  const status = abort.httpStatus ?? 503;
  return { kind: 'respond', status, details: 'fault_abort', body: 'fault filter abort', contentType: 'text/plain' };
}
