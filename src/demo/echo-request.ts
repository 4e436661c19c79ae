// What the demo echo backend answers: a JSON description of the request it received, in the
// shape of the Gateway API conformance "echo-basic" backend (canonical header names mapped to
// lists of values), so what newcomers see in the demo is what the conformance tests check.
import type http from 'node:http';

/** Bodies are echoed up to this size; `bodyBytes` still counts all of it. */
export const MAX_ECHOED_BODY_BYTES = 64 * 1024;
/** `?delay=` is capped, so a typo cannot hold a connection for hours. */
export const MAX_DELAY_MS = 300_000;

export interface EchoIdentity {
  readonly name: string;
  readonly namespace: string;
  readonly service: string | null;
}

export interface EchoResponse {
  readonly name: string;
  readonly pod: string;
  readonly namespace: string;
  readonly service: string | null;
  readonly method: string;
  /** The full request target, query included. */
  readonly path: string;
  readonly host: string;
  readonly proto: string;
  /** Canonical names (`Content-Type`), all values in arrival order; Host is in `host`. */
  readonly headers: Readonly<Record<string, string[]>>;
  readonly trailers: Readonly<Record<string, string[]>>;
  /** UTF-8 text of the body, truncated at MAX_ECHOED_BODY_BYTES. */
  readonly body: string;
  readonly bodyBytes: number;
  readonly remoteAddress: string;
  readonly httpPort: number;
}

/** The knobs tests and demos turn through the query string. */
export interface EchoControls {
  /** `?status=NNN` (200-599); default 200. */
  readonly status: number;
  /** `?delay=MS` before answering. */
  readonly delayMs: number;
  /** `?size=N`: answer N bytes of filler instead of the JSON description. */
  readonly sizeBytes?: number;
}

export type ParsedControls =
  | { readonly kind: 'ok'; readonly controls: EchoControls }
  | { readonly kind: 'invalid'; readonly message: string };

export function parseEchoControls(target: string): ParsedControls {
  const queryStart = target.indexOf('?');
  if (queryStart === -1) return { kind: 'ok', controls: { status: 200, delayMs: 0 } };
  const query = new URLSearchParams(target.slice(queryStart + 1));
  const problems: string[] = [];
  const readInteger = (name: string, min: number, max: number): number | undefined => {
    const raw = query.get(name);
    if (raw === null) return undefined;
    const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (Number.isSafeInteger(value) && value >= min && value <= max) return value;
    problems.push(`query parameter ${name}=${JSON.stringify(raw)} must be an integer from ${min} to ${max}`);
    return undefined;
  };
  const status = readInteger('status', 200, 599) ?? 200;
  const delayMs = readInteger('delay', 0, MAX_DELAY_MS) ?? 0;
  const sizeBytes = readInteger('size', 0, Number.MAX_SAFE_INTEGER);
  if (problems.length > 0) return { kind: 'invalid', message: problems.join('; ') };
  return { kind: 'ok', controls: sizeBytes === undefined ? { status, delayMs } : { status, delayMs, sizeBytes } };
}

export function describeRequest(
  identity: EchoIdentity,
  req: http.IncomingMessage,
  body: Buffer,
  bodyBytes: number,
): EchoResponse {
  return {
    name: identity.name,
    pod: identity.name,
    namespace: identity.namespace,
    service: identity.service,
    method: req.method ?? 'GET',
    path: req.url ?? '/',
    host: req.headers.host ?? '',
    proto: `HTTP/${req.httpVersion}`,
    headers: groupRawHeaders(req.rawHeaders, true),
    trailers: groupRawHeaders(req.rawTrailers, false),
    body: body.toString('utf8'),
    bodyBytes,
    remoteAddress: req.socket.remoteAddress ?? '',
    httpPort: req.socket.localPort ?? 0,
  };
}

function groupRawHeaders(raw: readonly string[], skipHost: boolean): Record<string, string[]> {
  const grouped: Record<string, string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (skipHost && name.toLowerCase() === 'host') continue;
    const key = canonicalHeaderName(name);
    (grouped[key] ??= []).push(raw[i + 1]!);
  }
  return grouped;
}

/** Go's http.CanonicalHeaderKey: `x-request-id` → `X-Request-Id`; odd names are left as sent. */
export function canonicalHeaderName(name: string): string {
  if (!/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/.test(name)) return name;
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_match, separator: string, letter: string) => separator + letter.toUpperCase());
}

/** Where a demo echo backend listens and who it says it is. */
export interface EchoServerOptions {
  readonly host: string;
  readonly port: number;
  readonly name: string;
  /** Default `default`. */
  readonly namespace?: string;
  readonly service?: string;
}
