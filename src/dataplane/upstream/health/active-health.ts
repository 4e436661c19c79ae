// Active health checks (Envoy's HTTP health checker): every endpoint of a cluster that asks for it
// gets a GET on a timer, sent through the same UpstreamTransport (so the same protocol, TLS policy
// and client certificate) as real requests. Consecutive failures take the endpoint out of the
// load balancer's rotation; consecutive successes bring it back.
//
// Lifecycle, so no timer outlives its configuration:
// - compile (cluster-runtime.ts) `acquire`s a probe per (connection settings, endpoint, check
//   settings) and reads its `status` object; acquiring creates a probe but starts no timer.
// - after a successful apply the data plane `commit`s the keys the new runtime acquired: probes
//   not among them are stopped and forgotten (their timer cancelled, an in-flight probe aborted);
//   new ones start, with a first probe at once. A probe whose key survives the reload keeps its
//   timer and its state, as endpoint state survives reloads (endpoint-registry.ts).
// - `close` (drain) stops every probe.
// An apply that is rejected commits nothing: its fresh probes never started and the next commit
// drops them.
import { createHash } from 'node:crypto';
import type { IrActiveHealthCheck } from '../../../ir/types.js';
import type { Timers } from '../../../core/timers.js';
import type { EndpointState } from '../endpoint-state.js';
import { poolKeyOf, type UpstreamConnection, type UpstreamHandler, type UpstreamTransport } from '../transport.js';

/** What the load balancer reads: flipped by the probe, read per pick. */
export interface ActiveHealthStatus {
  healthy: boolean;
}

interface Probe {
  readonly key: string;
  readonly endpoint: EndpointState;
  readonly connection: UpstreamConnection;
  readonly check: IrActiveHealthCheck;
  readonly status: ActiveHealthStatus;
  successes: number;
  failures: number;
  started: boolean;
  stopped: boolean;
  cancelTimer: (() => void) | undefined;
  abortInFlight: (() => void) | undefined;
  lastFailure: string | undefined;
}

const USER_AGENT = 'isthmus-health-check';

export class ActiveHealthChecker {
  private readonly probes = new Map<string, Probe>();

  constructor(
    private readonly transport: UpstreamTransport,
    private readonly timers: Timers,
  ) {}

  /** The probe for this endpoint under these settings, created (not started) on first use. Returns its key and status. */
  acquire(endpoint: EndpointState, connection: UpstreamConnection, check: IrActiveHealthCheck): { key: string; status: ActiveHealthStatus } {
    const digest = createHash('sha256').update(JSON.stringify(check)).digest('hex').slice(0, 12);
    const key = `${poolKeyOf(connection, endpoint)}|hc-${digest}`;
    let probe = this.probes.get(key);
    if (probe === undefined) {
      probe = { key, endpoint, connection, check, status: { healthy: true }, successes: 0, failures: 0, started: false, stopped: false, cancelTimer: undefined, abortInFlight: undefined, lastFailure: undefined };
      this.probes.set(key, probe);
    }
    return { key, status: probe.status };
  }

  /** After an apply: keep and start the probes in `keys`, stop every other one. */
  commit(keys: ReadonlySet<string>): void {
    for (const [key, probe] of this.probes) {
      if (keys.has(key)) {
        if (!probe.started) {
          probe.started = true;
          this.send(probe);
        }
      } else {
        this.stop(probe);
        this.probes.delete(key);
      }
    }
  }

  close(): void {
    for (const probe of this.probes.values()) this.stop(probe);
    this.probes.clear();
  }

  /** For GET /api/upstreams. */
  describe(key: string): { healthy: boolean; consecutiveSuccesses: number; consecutiveFailures: number; lastFailure?: string } | undefined {
    const p = this.probes.get(key);
    if (p === undefined) return undefined;
    return { healthy: p.status.healthy, consecutiveSuccesses: p.successes, consecutiveFailures: p.failures, ...(p.lastFailure === undefined ? {} : { lastFailure: p.lastFailure }) };
  }

  /** Probes with a timer running or a request in flight (tests check nothing leaks). */
  get activeCount(): number {
    let n = 0;
    for (const p of this.probes.values()) if (p.started && !p.stopped) n++;
    return n;
  }

  private stop(probe: Probe): void {
    probe.stopped = true;
    probe.cancelTimer?.();
    probe.cancelTimer = undefined;
    probe.abortInFlight?.();
    probe.abortInFlight = undefined;
  }

  private schedule(probe: Probe): void {
    if (probe.stopped) return;
    probe.cancelTimer = this.timers.after(probe.check.intervalMs, () => {
      probe.cancelTimer = undefined;
      this.send(probe);
    });
  }

  private send(probe: Probe): void {
    if (probe.stopped) return;
    const { check } = probe;
    let settled = false;
    let status = 0;
    let abort: ((reason?: Error) => void) | undefined;
    const finish = (failure: string | undefined): void => {
      if (settled) return;
      settled = true;
      cancelDeadline();
      probe.abortInFlight = undefined;
      if (probe.stopped) return;
      this.record(probe, failure);
      this.schedule(probe);
    };
    const cancelDeadline = this.timers.after(check.timeoutMs, () => {
      abort?.(new Error('health check timed out'));
      finish(`no response within ${check.timeoutMs} ms`);
    });
    probe.abortInFlight = () => {
      settled = true;
      cancelDeadline();
      abort?.(new Error('health check stopped'));
    };
    const handler: UpstreamHandler = {
      onConnect: (a) => {
        abort = a;
      },
      onHeaders: (statusCode) => {
        status = statusCode;
        return true;
      },
      // The body is read and dropped: only a complete response frees the connection for reuse.
      onData: () => true,
      onComplete: () => {
        const ok = check.expectedStatuses.some((r) => status >= r.min && status <= r.max);
        finish(ok ? undefined : `status ${status}`);
      },
      onError: (err) => finish(err.message),
    };
    try {
      this.transport.send(
        probe.endpoint,
        probe.connection,
        { method: 'GET', path: check.path, headers: ['host', check.host, 'user-agent', USER_AGENT], body: null, headersTimeoutMs: check.timeoutMs, bodyTimeoutMs: check.timeoutMs },
        handler,
      );
    } catch (err) {
      finish((err as Error).message);
    }
  }

  private record(probe: Probe, failure: string | undefined): void {
    if (failure === undefined) {
      probe.failures = 0;
      probe.successes++;
      if (!probe.status.healthy && probe.successes >= probe.check.healthyThreshold) probe.status.healthy = true;
      return;
    }
    probe.lastFailure = failure;
    probe.successes = 0;
    probe.failures++;
    if (probe.status.healthy && probe.failures >= probe.check.unhealthyThreshold) probe.status.healthy = false;
  }
}
