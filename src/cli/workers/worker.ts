// One worker of `isthmus run --workers N`: a DataPlane with its traffic listeners and nothing else.
// It reads no config and translates nothing: the primary sends it the IR (worker-pool.ts) and it
// applies it with the same atomic swap as the single process. Its long-lived state (endpoint health,
// outlier ejection, circuit breakers, local rate-limit buckets, JWKS/OIDC caches, connection pools)
// is its own, per process: docs/workers.md says what that means for limits.
import cluster from 'node:cluster';
import type { RunOptions } from '../args.js';
import { DataPlane } from '../../dataplane/data-plane.js';
import { createUpstreamTransport } from '../upstream-transport.js';
import { createMetrics } from '../../observability/metrics.js';
import { createAccessLog } from '../../observability/access-log.js';
import { createFilterState } from '../filter-state.js';
import { systemClock } from '../../core/clock.js';
import { systemRandom } from '../../core/random.js';
import { UsageMeter, type UsageSink } from '../../state/usage-meter.js';
import { meterRequests } from '../../observability/usage-metering.js';
import { USAGE_FLUSH_INTERVAL_MS } from '../usage-state.js';
import { isToWorker, type FromWorker, type ToWorker } from './messages.js';

/** Usage counts go to the primary, which alone writes the state file or Redis: one writer, no lost or double counts. */
class PrimaryUsageSink implements UsageSink {
  add(entries: Parameters<UsageSink['add']>[0]): Promise<void> {
    return send({ kind: 'usage', entries });
  }

  read(): Promise<never[]> {
    return Promise.resolve([]); // GET /api/usage is the primary's.
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Resolves once the message is handed to the channel: a worker that exits right after must not lose it. */
function send(message: FromWorker): Promise<void> {
  // The channel is gone when the primary died: the 'disconnect' handler drains this worker.
  if (!process.connected || process.send === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    try {
      process.send!(message, undefined, {}, () => resolve());
    } catch (err) {
      // A value that cannot be cloned is a bug in this file; the worker keeps serving.
      process.stderr.write(`isthmus: worker: cannot send ${message.kind} to the primary: ${(err as Error).message}\n`);
      resolve();
    }
  });
}

export async function runWorker(options: RunOptions): Promise<void> {
  // The pool's slot (1..N, kept across restarts), not cluster's ever-growing worker id.
  const id = Number(process.env.ISTHMUS_WORKER_SLOT ?? cluster.worker?.id ?? 0);
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const metrics = createMetrics();
  const filterState = createFilterState({
    clock: systemClock,
    random: systemRandom,
    redisUrl: options.redisUrl,
    redisTimeoutMs: options.redisTimeoutMs,
    registry: metrics.registry,
    log,
  });
  const dataPlane = new DataPlane({
    trustedProxies: options.trustedProxies,
    transport: createUpstreamTransport(options.upstreamClient),
    clock: systemClock,
    random: systemRandom,
    limits: options.limits,
    filters: filterState.deps,
  });
  const accessLog = createAccessLog(options.accessLog, { worker: id });
  const meter = new UsageMeter(systemClock, new PrimaryUsageSink());
  meter.start(USAGE_FLUSH_INTERVAL_MS);
  const unmeter = meterRequests(meter);

  // Applies run one at a time, in the order sent: a rollback must land after the apply it undoes.
  let applying = Promise.resolve();
  let draining: Promise<void> | undefined;
  const drain = (graceMs: number): Promise<void> =>
    (draining ??= (async () => {
      const cut = await dataPlane.drain(graceMs);
      unmeter();
      await meter.close(); // The last counts reach the primary before 'drained'.
      await filterState.close();
      metrics.close();
      await accessLog.close();
      await send({ kind: 'drained', cut });
      process.exit(0);
    })());

  process.on('message', (raw: unknown) => {
    if (!isToWorker(raw)) return; // prom-client and cluster have their own messages on this channel.
    const message: ToWorker = raw;
    switch (message.kind) {
      case 'apply':
        applying = applying
          .then(async () => {
            const result = await dataPlane.apply(message.ir);
            await send({ kind: 'applied', id: message.id, generation: message.ir.generation, outcome: result.outcome, diagnostics: result.diagnostics, ports: dataPlane.boundPorts(), ...(result.failedBind === undefined ? {} : { failedBind: result.failedBind }) });
          })
          .catch((err: unknown) => {
            // A data plane that threw mid-apply is in no known state: leave, and the primary starts
            // a fresh worker with the last good configuration.
            log(`isthmus: worker ${id}: apply of generation ${message.ir.generation} threw: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
            process.exit(1);
          });
        return;
      case 'metrics':
        void metrics.registry.getMetricsAsJSON().then((m) => void send({ kind: 'metrics', id: message.id, metrics: m }));
        return;
      case 'upstreams':
        void send({ kind: 'upstreams', id: message.id, upstreams: dataPlane.upstreams() });
        return;
      case 'flush-usage':
        void meter.flush().finally(() => void send({ kind: 'flushed-usage', id: message.id }));
        return;
      case 'drain':
        void drain(message.graceMs);
        return;
    }
  });
  // A terminal's Ctrl-C reaches the whole process group: the worker leaves it to the primary, which
  // sends 'drain' (had the worker exited first, the primary would take it for a crash and restart
  // it). A SIGTERM sent to this worker alone drains it; the primary then starts a fresh one.
  // Without a primary (it was SIGKILLed) nobody would ever send a config or stop it again, so the
  // worker drains and leaves.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => void drain(options.shutdownGraceMs));
  process.on('disconnect', () => void drain(options.shutdownGraceMs));
  void send({ kind: 'hello' });
}
