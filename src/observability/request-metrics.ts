// Exposes RequestStats (per-route totals kept outside prom-client for speed, see request-stats.ts)
// as two prom-client metrics that read those totals at scrape time.
import { Counter, Histogram, type MetricType, type Registry } from 'prom-client';
import {
  DURATION_BUCKETS_SECONDS,
  STATUS_CLASSES,
  type RequestStats,
} from './request-stats.js';

export const REQUESTS_TOTAL = 'isthmus_requests_total';
export const REQUEST_DURATION_SECONDS = 'isthmus_request_duration_seconds';

/**
 * `isthmus_requests_total{route, status_class}`: a plain prom-client Counter whose `collect` hook
 * (public API, run on every scrape) adds what arrived since the previous scrape.
 */
export function createRequestsCounter(stats: RequestStats, registry: Registry): Counter<'route' | 'status_class'> {
  return new Counter({
    name: REQUESTS_TOTAL,
    help: 'Downstream requests by route (IR route name, `none` when no route matched) and status class.',
    labelNames: ['route', 'status_class'],
    registers: [registry],
    collect() {
      for (const route of stats.routes()) {
        for (let i = 0; i < STATUS_CLASSES.length; i++) {
          const delta = route.requests[i]! - route.reportedRequests[i]!;
          if (delta <= 0) continue;
          this.inc({ route: route.route, status_class: STATUS_CLASSES[i]! }, delta);
          route.reportedRequests[i] = route.requests[i]!;
        }
      }
    },
  });
}

type HistogramSnapshot = Awaited<ReturnType<Histogram<'route'>['get']>>;
type HistogramValue = HistogramSnapshot['values'][number];

// prom-client's typings declare `type` as a numeric enum, but the registry prints the runtime
// value, which is the string every built-in histogram carries.
const HISTOGRAM_TYPE = 'histogram' as unknown as MetricType;

/**
 * `isthmus_request_duration_seconds{route}`. prom-client has no public way to hand it
 * pre-aggregated bucket counts, so this subclass answers `get()` from RequestStats itself. The
 * registry reads histograms through the undocumented `getForPromString()`, which is pointed at
 * the same data; test/observability/metrics.test.ts checks the exposition text, so a prom-client
 * upgrade that changes this path fails loudly instead of exporting empty buckets.
 */
export class RouteDurationHistogram extends Histogram<'route'> {
  readonly #stats: RequestStats;

  constructor(stats: RequestStats, registry: Registry) {
    super({
      name: REQUEST_DURATION_SECONDS,
      help: 'Downstream request duration, first byte received to last byte sent, by route.',
      labelNames: ['route'],
      buckets: [...DURATION_BUCKETS_SECONDS],
      registers: [registry],
    });
    this.#stats = stats;
  }

  override async get(): Promise<HistogramSnapshot> {
    return {
      name: REQUEST_DURATION_SECONDS,
      help: 'Downstream request duration, first byte received to last byte sent, by route.',
      type: HISTOGRAM_TYPE,
      aggregator: 'sum',
      collect: () => undefined,
      values: this.#values(),
    };
  }

  /** What Registry.metrics() calls for histograms (see the class comment). */
  getForPromString(): Promise<HistogramSnapshot> {
    return this.get();
  }

  override reset(): void {
    super.reset();
    // The base constructor calls reset() before #stats exists.
    if (#stats in this) this.#stats.resetDurations();
  }

  #values(): HistogramValue[] {
    const bucketName = `${REQUEST_DURATION_SECONDS}_bucket`;
    const values: HistogramValue[] = [];
    for (const stats of this.#stats.routes()) {
      if (stats.count === 0) continue;
      const route = stats.route;
      let cumulative = 0;
      for (let i = 0; i < DURATION_BUCKETS_SECONDS.length; i++) {
        cumulative += stats.buckets[i]!;
        values.push({ metricName: bucketName, labels: bucketLabels(route, DURATION_BUCKETS_SECONDS[i]!), value: cumulative });
      }
      values.push({ metricName: bucketName, labels: bucketLabels(route, '+Inf'), value: stats.count });
      values.push({ metricName: `${REQUEST_DURATION_SECONDS}_sum`, labels: { route }, value: stats.sumMs / 1000 });
      values.push({ metricName: `${REQUEST_DURATION_SECONDS}_count`, labels: { route }, value: stats.count });
    }
    return values;
  }
}

/** `le` is not a declared label name (prom-client adds it itself), so it is typed loosely here. */
function bucketLabels(route: string, le: number | string): Record<string, string | number> {
  return { route, le };
}
