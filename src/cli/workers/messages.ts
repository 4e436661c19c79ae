// The IPC protocol between the primary and its workers (`--workers N`), one discriminated union each
// way. Sent over the cluster channel as JSON: the IR crosses as the JSON-serialisable value the
// admin API serves, and live views (upstreams, metrics) lose their functions as they do there.
import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrSnapshot } from '../../ir/types.js';
import type { FailedBind } from '../../dataplane/data-plane.js';
import type { UsageEntry } from '../../state/usage-meter.js';

/** A bound socket as the worker's data plane reports it (DataPlane.boundPorts()). */
export interface BoundPort {
  readonly bind: string;
  readonly protocol: 'http' | 'https';
  readonly port: number;
}

/** Primary → worker. Requests carry an `id` the reply repeats. */
export type ToWorker =
  | { readonly kind: 'apply'; readonly id: number; readonly ir: IrSnapshot }
  | { readonly kind: 'metrics'; readonly id: number }
  | { readonly kind: 'upstreams'; readonly id: number }
  /** Hand the usage counted so far to the primary now (before it answers GET /api/usage). */
  | { readonly kind: 'flush-usage'; readonly id: number }
  | { readonly kind: 'drain'; readonly graceMs: number };

/** Worker → primary. */
export type FromWorker =
  /** Set up and waiting for its first configuration. */
  | { readonly kind: 'hello' }
  | {
      readonly kind: 'applied';
      readonly id: number;
      readonly generation: number;
      readonly outcome: 'applied' | 'rejected';
      readonly diagnostics: readonly Diagnostic[];
      readonly failedBind?: FailedBind;
      readonly ports: readonly BoundPort[];
    }
  | { readonly kind: 'metrics'; readonly id: number; readonly metrics: readonly object[] }
  | { readonly kind: 'upstreams'; readonly id: number; readonly upstreams: unknown }
  | { readonly kind: 'flushed-usage'; readonly id: number }
  /** Usage counts the worker's meter flushed: the primary adds them to its sink (the file or Redis). */
  | { readonly kind: 'usage'; readonly entries: readonly UsageEntry[] }
  | { readonly kind: 'drained'; readonly cut: number };

export function isFromWorker(value: unknown): value is FromWorker {
  return typeof value === 'object' && value !== null && typeof (value as { kind?: unknown }).kind === 'string';
}

export function isToWorker(value: unknown): value is ToWorker {
  return typeof value === 'object' && value !== null && typeof (value as { kind?: unknown }).kind === 'string';
}
