// What the composition root (gateway.ts) drives when traffic is served by worker processes
// (`--workers N`, N > 1) instead of its own DataPlane. worker-pool.ts implements it; the Gateway
// keeps everything else (source, translate, statuses, the admin API) exactly as in one process.
import type { Registry } from 'prom-client';
import type { ApplyResult } from '../../dataplane/data-plane.js';
import type { IrSnapshot } from '../../ir/types.js';
import type { BoundPort } from './messages.js';
import type { AggregatedMetrics } from './metrics-aggregation.js';

export interface TrafficWorkers {
  /** Every live worker applies the IR; rejected when any worker refuses it (those that took it go back to the last good one). */
  apply(ir: IrSnapshot): Promise<ApplyResult>;
  /** Whether every live worker runs the last applied generation (a restarted worker catches up first). */
  isCurrent(): boolean;
  /** GET /ready's body: the applied generation and each worker's. */
  readiness(): Record<string, unknown>;
  /** GET /api/upstreams: every live worker's view merged (upstreams-merge.ts: counts summed, health from all). */
  upstreams(): Promise<unknown>;
  /** GET /metrics: the primary's registry and every worker's, aggregated. */
  metrics(own: Registry): Promise<AggregatedMetrics>;
  /** Every worker hands its unflushed usage counts to the primary (before GET /api/usage reads). */
  flushUsage(): Promise<void>;
  /** SIGTERM: every worker drains within the grace and exits; resolves with the requests cut. */
  drain(graceMs: number): Promise<number>;
  /** The sockets a worker reports bound (all workers share them). */
  boundPorts(): readonly BoundPort[];
}
