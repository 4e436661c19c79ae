// GET /api/upstreams with `--workers N`: each worker keeps its own endpoint state (in-flight counts,
// passive health, outlier ejection, circuit breakers, pools), so the primary merges the workers'
// views into the one-process shape: counts are summed (requests, failures, in flight, pool
// connections), an endpoint is healthy only when every worker finds it so, and ejection and
// consecutive failures show the worst worker. Identity and configuration (names, addresses,
// weights, TLS, the active health check's last result) are taken from the lowest-numbered worker.

/** Fields that say what a thing is or how it is configured: the same in every worker, or one worker's view. */
const FIRST = new Set(['name', 'protocol', 'tls', 'address', 'port', 'weight', 'activeHealthCheck']);
/** Per-worker state where the sum means nothing: the worst worker's. */
const MAX = new Set(['ejectedForMs', 'consecutiveFailures']);

export function mergeUpstreamViews(views: readonly unknown[]): unknown {
  return mergeValues(views, undefined);
}

function mergeValues(values: readonly unknown[], key: string | undefined): unknown {
  const first = values[0];
  if (values.length <= 1 || (key !== undefined && FIRST.has(key))) return first;
  if (typeof first === 'number') {
    const numbers = values.filter((v): v is number => typeof v === 'number');
    return key !== undefined && MAX.has(key) ? Math.max(...numbers) : numbers.reduce((a, b) => a + b, 0);
  }
  if (typeof first === 'boolean') return values.every((v) => v === true);
  if (Array.isArray(first)) return mergeArrays(values.filter(Array.isArray));
  if (typeof first === 'object' && first !== null) {
    const objects = values.filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v));
    const keys = new Set(objects.flatMap((o) => Object.keys(o)));
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = mergeValues(objects.filter((o) => k in o).map((o) => o[k]), k);
    return out;
  }
  return first;
}

/** Clusters match by name, endpoints by address and port; anything else by position. */
function mergeArrays(arrays: readonly unknown[][]): unknown[] {
  const identity = (item: unknown, index: number): string => {
    if (typeof item !== 'object' || item === null) return `#${index}`;
    const o = item as Record<string, unknown>;
    if (typeof o.name === 'string') return `name:${o.name}`;
    if (typeof o.address === 'string') return `at:${o.address}:${String(o.port)}`;
    return `#${index}`;
  };
  const groups = new Map<string, unknown[]>();
  for (const array of arrays) array.forEach((item, i) => {
    const id = identity(item, i);
    const group = groups.get(id);
    if (group === undefined) groups.set(id, [item]);
    else group.push(item);
  });
  return [...groups.values()].map((group) => mergeValues(group, undefined));
}
