// The admin API: readiness, the applied configuration, diagnostics, object statuses, upstream
// health, metered API usage and Prometheus metrics, on its own port (127.0.0.1 by default: it shows secrets' names
// and the whole routing table, so it is not for the world). Read-only: every route is GET/HEAD.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatDiagnostic } from '../core/diagnostic.js';
import type { Metrics } from '../observability/metrics.js';
import type { AdminView } from './admin-view.js';
import { parseUsageQuery, usageCsv, usageJson, usageRows } from './usage-report.js';

export interface AdminServerOptions {
  readonly port: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Without it, GET /metrics answers 404 `metrics_disabled`. */
  readonly metrics?: Metrics;
  /** `--workers N`: the text of GET /metrics comes from here (the workers' registries aggregated), not from `metrics`. */
  readonly aggregatedMetrics?: () => Promise<{ readonly text: string; readonly contentType: string }>;
  /** Serve only these paths (the health port: probes and metrics, nothing that shows config). */
  readonly only?: readonly string[];
}

interface AdminReply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

type AdminHandler = (query: URLSearchParams) => AdminReply | Promise<AdminReply>;

const JSON_TYPE = 'application/json; charset=utf-8';
const ALLOWED_METHODS = 'GET, HEAD';

/** Listed by GET / so a newcomer can discover the rest with one curl. */
const ENDPOINTS: Readonly<Record<string, string>> = {
  '/ready': '200 once the first configuration is applied and all listeners are bound, 503 before',
  '/healthz': '200 while the process runs',
  '/api/config': 'the applied IR (listeners, virtual hosts, routes, clusters)',
  '/api/diagnostics': 'diagnostics of the latest configuration',
  '/api/status': 'the status written back for each object Isthmus owns',
  '/api/upstreams': 'clusters, endpoints and their health',
  '/api/explain': 'the path of one request (?url=http://host:port/path&method=&header=Name:value) or connection (?connect=ADDR:PORT&protocol=TCP|UDP&sni=) through the configuration',
  '/api/usage': 'metered API requests per hour, consumer, API, version, plan and status class (?from=&to=&consumer=&api=&version=&format=csv)',
  '/metrics': 'Prometheus metrics',
};

export class AdminServer {
  readonly #server: http.Server;
  readonly #routes: ReadonlyMap<string, AdminHandler>;
  readonly #host: string;
  readonly #port: number;

  constructor(view: AdminView, options: AdminServerOptions) {
    this.#host = options.host ?? '127.0.0.1';
    this.#port = options.port;
    const routes = buildRoutes(view, options.metrics, options.aggregatedMetrics);
    this.#routes = options.only ? new Map([...routes].filter(([path]) => options.only!.includes(path))) : routes;
    this.#server = http.createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => replyInternalError(res, error));
    });
    // A client error (bad request line, reset) must not reach the process as an exception.
    this.#server.on('clientError', (_error, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
      else socket.destroy();
    });
  }

  /** Resolves with the bound port (useful with port 0). */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.#server.once('error', onError);
      this.#server.listen({ port: this.#port, host: this.#host }, () => {
        this.#server.off('error', onError);
        resolve((this.#server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#server.listening) {
        resolve();
        return;
      }
      this.#server.close(() => resolve());
      // Admin requests are short; keep-alive connections (curl, Prometheus) are simply closed.
      this.#server.closeAllConnections();
    });
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // Split by hand: `new URL('//x', base)` would read `//x` as a host, not a path.
    const target = req.url ?? '/';
    const queryStart = target.indexOf('?');
    const pathname = queryStart === -1 ? target : target.slice(0, queryStart);
    const handler = this.#routes.get(pathname);
    if (handler === undefined) {
      send(res, jsonReply(404, { error: 'not_found', path: pathname }));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', ALLOWED_METHODS);
      send(res, jsonReply(405, { error: 'method_not_allowed', allow: ALLOWED_METHODS }));
      return;
    }
    const query = new URLSearchParams(queryStart === -1 ? '' : target.slice(queryStart + 1));
    send(res, await handler(query));
  }
}

function buildRoutes(view: AdminView, metrics: Metrics | undefined, aggregated: AdminServerOptions['aggregatedMetrics']): ReadonlyMap<string, AdminHandler> {
  return new Map<string, AdminHandler>([
    ['/', () => jsonReply(200, { endpoints: ENDPOINTS })],
    ['/ready', () => (view.isReady() ? jsonReply(200, { ready: true, ...view.readyDetail?.() }) : jsonReply(503, { ready: false, ...view.readyDetail?.() }))],
    ['/healthz', () => jsonReply(200, { status: 'ok' })],
    ['/api/config', (q) => jsonReply(200, view.config() ?? null, isPretty(q))],
    [
      '/api/diagnostics',
      (q) => jsonReply(200, view.diagnostics().map((d) => ({ ...d, text: formatDiagnostic(d) })), isPretty(q)),
    ],
    [
      '/api/status',
      (q) =>
        jsonReply(
          200,
          view.statuses().map((s) => ({
            apiVersion: s.apiVersion,
            kind: s.kind,
            namespace: s.namespace,
            name: s.name,
            status: s.status,
          })),
          isPretty(q),
        ),
    ],
    ['/api/upstreams', async (q) => jsonReply(200, (await view.upstreams()) ?? null, isPretty(q))],
    [
      '/api/explain',
      (q) => {
        if (view.explain === undefined) return jsonReply(404, { error: 'explain_disabled' });
        const headers: Record<string, string> = {};
        for (const h of q.getAll('header')) {
          const colon = h.indexOf(':');
          if (colon <= 0) return jsonReply(400, { error: 'bad_query', message: `header ${JSON.stringify(h)}: expected Name:value` });
          headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
        }
        const pick = (name: string): Record<string, string> => {
          const v = q.get(name);
          return v === null ? {} : { [name]: v };
        };
        if ((q.get('url') === null) === (q.get('connect') === null)) return jsonReply(400, { error: 'bad_query', message: 'give exactly one of url= (a request) and connect=ADDR:PORT (a connection)' });
        const result = view.explain({ headers, ...pick('url'), ...pick('method'), ...pick('address'), ...pick('connect'), ...pick('protocol'), ...pick('sni') });
        if (result.kind === 'invalid') return jsonReply(400, { error: 'bad_query', message: result.message });
        if (q.get('format') === 'text') return { status: 200, contentType: 'text/plain; charset=utf-8', body: result.text };
        return jsonReply(200, { steps: result.steps }, isPretty(q));
      },
    ],
    [
      '/api/usage',
      async (q) => {
        if (view.usage === undefined) return jsonReply(404, { error: 'usage_disabled' });
        const parsed = parseUsageQuery(q);
        if (parsed.kind === 'invalid') return jsonReply(400, { error: 'bad_query', message: parsed.message });
        let entries;
        try {
          entries = await view.usage(parsed.query.range);
        } catch (err) {
          // The state file or Redis did not answer: say so rather than report a partial sum.
          return jsonReply(503, { error: 'usage_unavailable', message: err instanceof Error ? err.message : String(err) });
        }
        const rows = usageRows(entries, parsed.query);
        if (parsed.query.format === 'csv') return { status: 200, contentType: 'text/csv; charset=utf-8; header=present', body: usageCsv(rows) };
        return jsonReply(200, usageJson(rows, parsed.query), isPretty(q));
      },
    ],
    [
      '/metrics',
      async () => {
        if (aggregated !== undefined) {
          const { text, contentType } = await aggregated();
          return { status: 200, contentType, body: text };
        }
        if (metrics === undefined) return jsonReply(404, { error: 'metrics_disabled' });
        const text = await metrics.registry.metrics();
        return { status: 200, contentType: metrics.registry.contentType, body: text };
      },
    ],
  ]);
}

/** `?pretty` indents JSON for reading in a terminal; compact by default (the IR can be large). */
function isPretty(query: URLSearchParams): boolean {
  const value = query.get('pretty');
  return value !== null && value !== 'false' && value !== '0';
}

function jsonReply(status: number, data: unknown, pretty = false): AdminReply {
  return { status, contentType: JSON_TYPE, body: `${JSON.stringify(data, null, pretty ? 2 : undefined)}\n` };
}

function send(res: http.ServerResponse, reply: AdminReply): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.statusCode = reply.status;
  res.setHeader('content-type', reply.contentType);
  res.setHeader('content-length', Buffer.byteLength(reply.body));
  res.setHeader('cache-control', 'no-store');
  res.setHeader('x-content-type-options', 'nosniff');
  res.end(reply.body); // Node drops the body for HEAD and keeps content-length.
}

/** A view that throws or data that does not serialise: a 500 for this request, nothing more. */
function replyInternalError(res: http.ServerResponse, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  try {
    send(res, jsonReply(500, { error: 'internal_error', message }));
  } catch {
    res.destroy();
  }
}
