// Draining after an apply: a connection (or UDP flow) to an endpoint that is no longer in the
// listener's config keeps going for the listener's drainTimeoutMs, then is closed as `drained`.
// New connections never pick it (the new schedulers do not know it). An endpoint that comes back
// before the grace ends is kept: its timer is cancelled.
import type { L4CloseReason } from '../../core/channels.js';

export interface Drainable {
  readonly endpointKey: string | undefined;
  drainTimer: NodeJS.Timeout | undefined;
  close(reason: L4CloseReason): void;
}

export function drainRemovedEndpoints(items: Iterable<Drainable>, keep: ReadonlySet<string>, drainTimeoutMs: number): void {
  for (const item of items) {
    if (item.endpointKey === undefined) continue;
    if (keep.has(item.endpointKey)) {
      clearTimeout(item.drainTimer);
      item.drainTimer = undefined;
    } else if (item.drainTimer === undefined) {
      item.drainTimer = setTimeout(() => item.close('drained'), drainTimeoutMs);
      // A grace timer alone must not keep a process alive that is otherwise shutting down.
      item.drainTimer.unref();
    }
  }
}

/** Every item closes as drained after `graceMs` (a removed listener; 0 at shutdown). */
export function drainAll(items: Iterable<Drainable>, graceMs: number): void {
  for (const item of items) {
    clearTimeout(item.drainTimer);
    if (graceMs <= 0) item.close('drained');
    else item.drainTimer = setTimeout(() => item.close('drained'), graceMs);
  }
}
