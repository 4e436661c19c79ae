// Prometheus metrics, fed only by the data plane's diagnostics channels (src/core/channels.ts):
// the request path never imports prom-client. Each Metrics owns its Registry (never the global
// one), so tests and several gateways in one process do not share counters.
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import {
  subscribeConfigApply,
  subscribeL4ConnectionEnd,
  subscribeRequestEnd,
  subscribeUpstreamError,
  type Unsubscribe,
} from './channel-subscription.js';
import { createRequestsCounter, RouteDurationHistogram } from './request-metrics.js';
import { RequestStats } from './request-stats.js';
import { createApiRequestsCounter } from './usage-metering.js';

export interface Metrics {
  readonly registry: Registry;
  /** Unsubscribes from the channels; the registry keeps its last values. */
  close(): void;
}

export const UPSTREAM_ERRORS_TOTAL = 'isthmus_upstream_errors_total';
export const CONFIG_APPLIES_TOTAL = 'isthmus_config_applies_total';

export function createMetrics(): Metrics {
  const registry = new Registry();
  const stats = new RequestStats();
  createRequestsCounter(stats, registry);
  new RouteDurationHistogram(stats, registry);

  const upstreamErrors = new Counter({
    name: UPSTREAM_ERRORS_TOTAL,
    help: 'Failed upstream attempts (also ones that were retried) by cluster and reason.',
    labelNames: ['cluster', 'reason'],
    registers: [registry],
  });
  // Errors are rare next to requests, but a failing cluster can produce one per request: the
  // label objects are built once per (cluster, reason), not per error.
  const errorLabels = new Map<string, Map<string, { cluster: string; reason: string }>>();

  const configApplies = new Counter({
    name: CONFIG_APPLIES_TOTAL,
    help: 'Attempts to apply a new configuration, by outcome (applied | rejected).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  // Both series exist from the start, so `rate()` and alerts on `rejected` work before the first one.
  configApplies.inc({ outcome: 'applied' }, 0);
  configApplies.inc({ outcome: 'rejected' }, 0);

  const l4Connections = new Counter({
    name: 'isthmus_l4_connections_total',
    help: 'Closed L4 connections (TCP, TLS) and UDP flows by listener and close reason.',
    labelNames: ['listener', 'reason'],
    registers: [registry],
  });
  const l4Bytes = new Counter({
    name: 'isthmus_l4_bytes_total',
    help: 'Bytes of closed L4 connections and flows by listener and direction (in: from the client; out: to it).',
    labelNames: ['listener', 'direction'],
    registers: [registry],
  });

  // Unprefixed (process_cpu_seconds_total, nodejs_heap_size_used_bytes, ...): the names the
  // stock Node.js dashboards query.
  collectDefaultMetrics({ register: registry });

  const unsubscribes: Unsubscribe[] = [
    createApiRequestsCounter(registry),
    subscribeRequestEnd((m) => stats.record(m.route, m.status, m.durationMs)),
    subscribeUpstreamError((m) => {
      let byReason = errorLabels.get(m.cluster);
      if (byReason === undefined) {
        byReason = new Map();
        errorLabels.set(m.cluster, byReason);
      }
      let labels = byReason.get(m.reason);
      if (labels === undefined) {
        labels = { cluster: m.cluster, reason: m.reason };
        byReason.set(m.reason, labels);
      }
      upstreamErrors.inc(labels);
    }),
    subscribeConfigApply((m) => configApplies.inc({ outcome: m.outcome })),
    subscribeL4ConnectionEnd((m) => {
      l4Connections.inc({ listener: m.listener, reason: m.reason });
      l4Bytes.inc({ listener: m.listener, direction: 'in' }, m.bytesIn);
      l4Bytes.inc({ listener: m.listener, direction: 'out' }, m.bytesOut);
    }),
  ];

  return {
    registry,
    close() {
      for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
    },
  };
}
