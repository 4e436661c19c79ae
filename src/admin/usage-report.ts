// GET /api/usage: the usage the meter holds (src/state/usage-meter.ts), as JSON or CSV. Counts are
// kept per UTC hour; `from` and `to` choose the hours whose start lies in [from, to): `from`
// inclusive, `to` exclusive, so `from=2030-05-01&to=2030-06-01` is exactly May and consecutive
// ranges never count an hour twice. A time that is not on the hour takes the hours that start
// at or after it (`from=...T18:30:00Z` begins with the 19:00 hour).
import { hourOf, type UsageEntry, type UsageRange } from '../state/usage-meter.js';

export interface UsageQuery {
  readonly range: UsageRange;
  readonly consumer?: string;
  readonly api?: string;
  readonly version?: string;
  readonly format: 'json' | 'csv';
}

export type ParsedUsageQuery = { readonly kind: 'ok'; readonly query: UsageQuery } | { readonly kind: 'invalid'; readonly message: string };

const HOUR_MS = 3_600_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
// RFC 3339 date-time: a zone is required (`Z` or an offset), seconds fractions allowed.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export function parseUsageQuery(query: URLSearchParams): ParsedUsageQuery {
  const format = query.get('format') ?? 'json';
  if (format !== 'json' && format !== 'csv') return { kind: 'invalid', message: `format: expected json or csv, found "${format}"` };
  const range: { fromHour?: string; toHour?: string } = {};
  for (const name of ['from', 'to'] as const) {
    const value = query.get(name);
    if (value === null || value === '') continue;
    const ms = DATE.test(value) ? Date.parse(`${value}T00:00:00Z`) : DATE_TIME.test(value) ? Date.parse(value) : Number.NaN;
    if (Number.isNaN(ms)) return { kind: 'invalid', message: `${name}: expected an RFC 3339 time (2030-05-17T18:00:00Z) or a date (2030-05-17), found "${value}"` };
    // The first hour that starts at or after the time.
    const hour = hourOf(Math.ceil(ms / HOUR_MS) * HOUR_MS);
    if (name === 'from') range.fromHour = hour;
    else range.toHour = hour;
  }
  const text = (name: string): { [key: string]: string } => {
    const value = query.get(name);
    return value === null || value === '' ? {} : { [name]: value };
  };
  return { kind: 'ok', query: { range, format, ...text('consumer'), ...text('api'), ...text('version') } };
}

export interface UsageRow {
  readonly hour: string;
  readonly consumer: string;
  readonly api: string;
  readonly version: string;
  readonly plan: string;
  readonly statusClass: string;
  readonly count: number;
}

/** The entries the query selects, summed per cell, in order of hour, consumer, API, version, plan, class. */
export function usageRows(entries: readonly UsageEntry[], query: UsageQuery): UsageRow[] {
  const cells = new Map<string, UsageRow>();
  for (const e of entries) {
    if (query.consumer !== undefined && e.consumer !== query.consumer) continue;
    if (query.api !== undefined && e.api !== query.api) continue;
    if (query.version !== undefined && e.version !== query.version) continue;
    const key = [e.hour, e.consumer, e.api, e.version, e.plan, e.statusClass].join('\u0000');
    const row = cells.get(key);
    cells.set(key, { hour: e.hour, consumer: e.consumer, api: e.api, version: e.version, plan: e.plan, statusClass: e.statusClass, count: (row?.count ?? 0) + e.count });
  }
  return [...cells.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}

export function usageJson(rows: readonly UsageRow[], query: UsageQuery): unknown {
  return {
    from: query.range.fromHour ?? null,
    to: query.range.toHour ?? null,
    total: rows.reduce((n, r) => n + r.count, 0),
    usage: rows,
  };
}

const CSV_HEADER = ['hour', 'consumer', 'api', 'version', 'plan', 'status_class', 'count'];

/** RFC 4180: CRLF line ends, a header row; a field with a comma, quote or line break is quoted. */
export function usageCsv(rows: readonly UsageRow[]): string {
  const lines = [CSV_HEADER.join(',')];
  for (const r of rows) lines.push([r.hour, r.consumer, r.api, r.version, r.plan, r.statusClass, String(r.count)].map(csvField).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

function csvField(value: string): string {
  // A leading = + - @ would be a formula to a spreadsheet (CSV injection); names never start so.
  const guarded = /^[=+\-@]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replace(/"/g, '""')}"` : guarded;
}
