// Usage metering from the data plane's requestEnd channel: which consumer called which API version,
// on which plan, with which status class. Two subscribers share the rule of what is metered:
//   - meterRequests feeds the UsageMeter (src/state/usage-meter.ts), whose counts are flushed to
//     the state file or Redis and served by GET /api/usage (billing, reports);
//   - the Prometheus counter isthmus_api_requests_total (dashboards, alerts), since process start.
// Only requests of a route that belongs to an API version, or that an authentication filter gave
// a consumer, are metered: plain routes (the demo's, an Ingress's) are not API traffic.
import { Counter, type Registry } from 'prom-client';
import type { RequestEndMessage } from '../core/channels.js';
import { ANONYMOUS_CONSUMER, usageCellKey, type UsageKey, type UsageMeter } from '../state/usage-meter.js';
import { STATUS_CLASSES, statusClassIndex } from './request-stats.js';
import { subscribeRequestEnd, type Unsubscribe } from './channel-subscription.js';

export const API_REQUESTS_TOTAL = 'isthmus_api_requests_total';

/** What a request is metered under; undefined for a request that is not metered. */
export function usageKeyOf(m: RequestEndMessage): UsageKey | undefined {
  if (m.consumer === undefined && m.api === undefined) return undefined;
  return { consumer: m.consumer ?? ANONYMOUS_CONSUMER, api: m.api ?? '', version: m.apiVersion ?? '', plan: m.plan ?? '' };
}

/** Counts every metered request in the meter until unsubscribed. */
export function meterRequests(meter: UsageMeter): Unsubscribe {
  return subscribeRequestEnd((m) => {
    const key = usageKeyOf(m);
    if (key !== undefined) meter.record(key, m.status);
  });
}

interface ApiSeries {
  readonly labels: { consumer: string; api: string; version: string; plan: string; status_class: string };
  count: number;
  reported: number;
}

/**
 * `isthmus_api_requests_total{consumer, api, version, plan, status_class}`. The label sets are
 * bounded by the configuration: consumers, APIs and plans are objects the translator resolved, and
 * every unauthenticated caller is the one value `anonymous`. As in request-metrics.ts, the request
 * path only bumps a number; prom-client takes the increments at scrape time.
 */
export function createApiRequestsCounter(registry: Registry): Unsubscribe {
  const series = new Map<string, ApiSeries>();
  new Counter({
    name: API_REQUESTS_TOTAL,
    help: 'Metered API requests (routes of an API version, or with an authenticated consumer) by consumer (`anonymous` without one), API, version, plan and status class.',
    labelNames: ['consumer', 'api', 'version', 'plan', 'status_class'],
    registers: [registry],
    collect() {
      for (const s of series.values()) {
        const delta = s.count - s.reported;
        if (delta <= 0) continue;
        this.inc(s.labels, delta);
        s.reported = s.count;
      }
    },
  });
  return subscribeRequestEnd((m) => {
    const key = usageKeyOf(m);
    if (key === undefined) return;
    const statusClass = STATUS_CLASSES[statusClassIndex(m.status)]!;
    const cell = usageCellKey(key, statusClass);
    let s = series.get(cell);
    if (s === undefined) {
      s = { labels: { consumer: key.consumer, api: key.api, version: key.version, plan: key.plan, status_class: statusClass }, count: 0, reported: 0 };
      series.set(cell, s);
    }
    s.count++;
  });
}
