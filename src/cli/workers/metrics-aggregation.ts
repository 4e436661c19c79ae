// GET /metrics with `--workers N`: the primary's own registry and every worker's, merged by
// prom-client's AggregatorRegistry.aggregate. Each metric's `aggregator` decides: counters and
// histograms are summed (requests, bytes, errors across workers are the gateway's totals); gauges
// are summed too unless the metric says otherwise (prom-client's default process metrics say
// `average`, `min` or `omit` where a sum means nothing, e.g. process_start_time_seconds takes the
// earliest). The primary counts config applies (it is the one that applies); the workers count
// traffic. Its own registry is not asked over IPC: prom-client's clusterMetrics() would only see
// the workers, so the primary collects the JSON itself.
import { AggregatorRegistry, type Registry } from 'prom-client';

export interface AggregatedMetrics {
  readonly text: string;
  readonly contentType: string;
}

export async function aggregateMetrics(own: Registry, workers: readonly (readonly object[])[]): Promise<AggregatedMetrics> {
  const all: object[] = [await own.getMetricsAsJSON(), ...workers];
  const merged = AggregatorRegistry.aggregate(all);
  return { text: await merged.metrics(), contentType: merged.contentType };
}
