// `isthmus.dev/health-check` on a DestinationRule: active HTTP health checks for every cluster the
// rule derives (our addition; Istio has no field for it, and pilot never programs Envoy's
// health_checks). Two spellings of the same settings:
//   isthmus.dev/health-check: "path=/healthz; interval=5s; timeout=1s; unhealthyThreshold=3; healthyThreshold=2; statuses=200-299,418"
//   isthmus.dev/health-check: '{"path": "/healthz", "interval": "5s", "statuses": ["200-299", 418]}'
// Durations are Istio's (Go) syntax. `path` is required; the rest default as DEFAULTS says.
// A setting that cannot be read drops the whole check (an error naming it): a half-understood
// check could take healthy endpoints out of rotation.
import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrActiveHealthCheck } from '../../ir/types.js';
import { parseIstioDuration } from './istio-durations.js';

export const HEALTH_CHECK_ANNOTATION = 'isthmus.dev/health-check';

/** Envoy requires every one of these; ours are its common choices, and 2xx as "healthy". */
const DEFAULTS = { intervalMs: 10_000, timeoutMs: 1_000, healthyThreshold: 2, unhealthyThreshold: 3 } as const;

const KEYS = new Set(['path', 'host', 'interval', 'timeout', 'healthyThreshold', 'unhealthyThreshold', 'statuses']);

export type HealthCheckParse = { readonly kind: 'ok'; readonly check: Omit<IrActiveHealthCheck, 'host'> & { readonly host?: string }; readonly warnings: readonly string[] } | { readonly kind: 'invalid'; readonly message: string };

function entriesOf(text: string): Record<string, unknown> | string {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'expected a JSON object';
      return parsed as Record<string, unknown>;
    } catch {
      return 'starts with "{" but is not valid JSON';
    }
  }
  const out: Record<string, unknown> = {};
  for (const part of trimmed.split(';')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) return `"${part.trim()}" is not key=value`;
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

function statusRanges(value: unknown): { min: number; max: number }[] | string {
  const items = Array.isArray(value) ? value : String(value).split(',');
  const out: { min: number; max: number }[] = [];
  for (const item of items) {
    const text = String(item).trim();
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(text);
    const min = m ? Number(m[1]) : NaN;
    const max = m?.[2] !== undefined ? Number(m[2]) : min;
    if (!m || min < 100 || max > 599 || max < min) return `statuses: "${text}" is not a status (100-599) or a range like 200-299`;
    out.push({ min, max });
  }
  return out.length > 0 ? out : 'statuses: empty';
}

function duration(key: string, value: unknown): number | string {
  const ms = typeof value === 'number' ? value * 1000 : parseIstioDuration(String(value));
  if (ms === undefined || !(ms > 0)) return `${key}: "${String(value)}" is not a positive duration (e.g. 5s, 500ms)`;
  return Math.ceil(ms);
}

function count(key: string, value: unknown): number | string {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100) return `${key}: "${String(value)}" is not a whole number from 1 to 100`;
  return n;
}

export function parseHealthCheckAnnotation(text: string): HealthCheckParse {
  const entries = entriesOf(text);
  if (typeof entries === 'string') return { kind: 'invalid', message: entries };
  const warnings = Object.keys(entries)
    .filter((k) => !KEYS.has(k))
    .map((k) => `unknown setting "${k}" ignored (known: ${[...KEYS].join(', ')})`);
  const path = entries.path;
  if (typeof path !== 'string' || !path.startsWith('/') || /[\s#]/.test(path)) {
    return { kind: 'invalid', message: `path: ${path === undefined ? 'missing' : `"${String(path)}" is not an origin-form path`}; expected e.g. path=/healthz` };
  }
  const intervalMs = entries.interval === undefined ? DEFAULTS.intervalMs : duration('interval', entries.interval);
  const timeoutMs = entries.timeout === undefined ? DEFAULTS.timeoutMs : duration('timeout', entries.timeout);
  const healthyThreshold = entries.healthyThreshold === undefined ? DEFAULTS.healthyThreshold : count('healthyThreshold', entries.healthyThreshold);
  const unhealthyThreshold = entries.unhealthyThreshold === undefined ? DEFAULTS.unhealthyThreshold : count('unhealthyThreshold', entries.unhealthyThreshold);
  const expectedStatuses = entries.statuses === undefined ? [{ min: 200, max: 299 }] : statusRanges(entries.statuses);
  for (const v of [intervalMs, timeoutMs, healthyThreshold, unhealthyThreshold, expectedStatuses]) if (typeof v === 'string') return { kind: 'invalid', message: v };
  const host = entries.host;
  if (host !== undefined && (typeof host !== 'string' || !/^[A-Za-z0-9.:[\]-]+$/.test(host))) return { kind: 'invalid', message: `host: "${String(host)}" is not a host name` };
  return {
    kind: 'ok',
    check: {
      path,
      ...(typeof host === 'string' ? { host } : {}),
      intervalMs: intervalMs as number,
      timeoutMs: timeoutMs as number,
      healthyThreshold: healthyThreshold as number,
      unhealthyThreshold: unhealthyThreshold as number,
      expectedStatuses: expectedStatuses as { min: number; max: number }[],
    },
    warnings,
  };
}

/** The rule's check, with diagnostics for what cannot be read; undefined when it has none or it is invalid. */
export function healthCheckOf(annotations: Readonly<Record<string, string>>, report: (severity: Diagnostic['severity'], message: string) => void): HealthCheckParse | undefined {
  const text = annotations[HEALTH_CHECK_ANNOTATION];
  if (text === undefined) return undefined;
  const parsed = parseHealthCheckAnnotation(text);
  if (parsed.kind === 'invalid') report('error', `${parsed.message}; the rule's clusters are not actively health-checked`);
  else for (const w of parsed.warnings) report('warning', w);
  return parsed;
}
