// One access log line per downstream request. toAccessLogEntry is the schema: every field on
// every line (null when it does not apply), names after Envoy's access log operators in
// snake_case. formatAccessLogLine writes that entry's JSON text directly, byte for byte what
// JSON.stringify(toAccessLogEntry(m)) gives (test/observability/access-log-line.test.ts holds it
// to that), at about half the cost: no entry object, JSON.stringify only for strings, and the
// ISO time formatted once per millisecond rather than once per line.
import type { RequestEndMessage } from '../core/channels.js';

/** One access log line; `time` is when the request started (ISO 8601, UTC). */
export interface AccessLogEntry {
  readonly time: string;
  readonly request_id: string;
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly protocol: string;
  readonly status: number;
  readonly duration_ms: number;
  readonly upstream_headers_ms: number | null;
  readonly route: string | null;
  readonly cluster: string | null;
  readonly upstream: string | null;
  readonly attempts: number;
  readonly bytes_sent: number;
  readonly details: string | null;
  readonly client: string;
  readonly user_agent: string | null;
  /** The Istio AUDIT rule the request matched: the request is marked, never refused. */
  readonly audit: string | null;
  /** The external authorization check that ran, and how it ended. */
  readonly ext_auth: string | null;
}

export function toAccessLogEntry(m: RequestEndMessage): AccessLogEntry {
  return {
    time: new Date(m.startTime).toISOString(),
    request_id: m.requestId,
    method: m.method,
    host: m.host,
    path: m.path,
    protocol: m.protocol,
    status: m.status,
    duration_ms: roundMs(m.durationMs),
    upstream_headers_ms: m.upstreamHeadersMs === undefined ? null : roundMs(m.upstreamHeadersMs),
    route: m.route ?? null,
    cluster: m.cluster ?? null,
    upstream: m.upstream ?? null,
    attempts: m.attempts,
    bytes_sent: m.bytesSent,
    details: m.details ?? null,
    client: m.clientAddress,
    user_agent: m.userAgent ?? null,
    audit: m.audit ?? null,
    ext_auth: m.extAuth ?? null,
  };
}

/** Microsecond precision is plenty and keeps lines short. */
function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * The entry's JSON text and a newline; `worker` (the cluster worker id under --workers N) goes
 * last, as `{ ...entry, worker }` would put it.
 */
export function formatAccessLogLine(m: RequestEndMessage, worker?: number): string {
  const upstreamHeadersMs = m.upstreamHeadersMs === undefined ? 'null' : num(roundMs(m.upstreamHeadersMs));
  return (
    `{"time":"${isoTimeOf(m.startTime)}","request_id":${str(m.requestId)},"method":${str(m.method)},"host":${str(m.host)}` +
    `,"path":${str(m.path)},"protocol":${str(m.protocol)},"status":${num(m.status)},"duration_ms":${num(roundMs(m.durationMs))}` +
    `,"upstream_headers_ms":${upstreamHeadersMs},"route":${str(m.route)},"cluster":${str(m.cluster)},"upstream":${str(m.upstream)}` +
    `,"attempts":${num(m.attempts)},"bytes_sent":${num(m.bytesSent)},"details":${str(m.details)},"client":${str(m.clientAddress)}` +
    `,"user_agent":${str(m.userAgent)},"audit":${str(m.audit)},"ext_auth":${str(m.extAuth)}` +
    `${worker === undefined ? '' : `,"worker":${num(worker)}`}}\n`
  );
}

/** A string field as JSON (escaped by JSON.stringify); absent: null. */
function str(value: string | undefined): string {
  return value === undefined ? 'null' : JSON.stringify(value);
}

/** A number as JSON.stringify writes it: NaN and the infinities are null. */
function num(value: number): string {
  return Number.isFinite(value) ? `${value}` : 'null';
}

let lastTimeMs = Number.NaN;
let lastIsoTime = '';

/** `new Date(ms).toISOString()`, remembered for the last millisecond (many lines share one). */
function isoTimeOf(startTime: number): string {
  // Date truncates a fractional time value to whole milliseconds (ECMA-262 TimeClip).
  const ms = Math.trunc(startTime);
  if (ms !== lastTimeMs) {
    lastIsoTime = new Date(ms).toISOString();
    lastTimeMs = ms;
  }
  return lastIsoTime;
}
