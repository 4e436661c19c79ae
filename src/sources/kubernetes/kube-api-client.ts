// The connection to the Kubernetes API: credentials from a kubeconfig file, $KUBECONFIG or the Pod's
// service account (client-node's KubeConfig does the reading), and plain JSON requests for list,
// get and status writes. Watches go through client-node's Watch, which shares the same KubeConfig.
import http from 'node:http';
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

/** A request the API server answered with an error status (a metav1.Status body, usually). */
export class KubeApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export interface KubeResponse {
  readonly statusCode: number;
  readonly body: unknown;
}

const REQUEST_TIMEOUT_MS = 30_000;
/** A list page or an object larger than this is refused rather than buffered without bound. */
const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

export class KubeApiClient {
  private constructor(
    readonly config: KubeConfig,
    private readonly server: URL,
    private readonly userAgent: string,
  ) {}

  /** `kubeconfig` (a path) wins; else $KUBECONFIG or ~/.kube/config; else the in-cluster service account. */
  static load(options: { readonly kubeconfig?: string; readonly userAgent: string }): KubeApiClient {
    const config = new KubeConfig();
    if (options.kubeconfig !== undefined) config.loadFromFile(options.kubeconfig);
    else if (process.env.KUBERNETES_SERVICE_HOST !== undefined && process.env.KUBECONFIG === undefined) config.loadFromCluster();
    else config.loadFromDefault();
    const cluster = config.getCurrentCluster();
    if (!cluster) throw new Error('no Kubernetes cluster: give --kubeconfig, set KUBECONFIG, or run in a Pod with a service account');
    return new KubeApiClient(config, new URL(cluster.server), options.userAgent);
  }

  /** A short description for log lines: the server, never the credentials. */
  get serverText(): string {
    return this.server.origin;
  }

  /** GET/PUT/POST a JSON path; resolves with any status, so callers branch on statusCode. */
  async request(method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<KubeResponse> {
    const options: https.RequestOptions = {
      method,
      headers: { accept: 'application/json', 'user-agent': this.userAgent, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      timeout: REQUEST_TIMEOUT_MS,
    };
    await this.config.applyToHTTPSOptions(options);
    const url = new URL(path, this.server);
    const transport = url.protocol === 'https:' ? https : http;
    return await new Promise<KubeResponse>((resolve, reject) => {
      const req = transport.request(url, options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) req.destroy(new Error(`response to ${method} ${path} exceeds ${MAX_RESPONSE_BYTES} bytes`));
          else chunks.push(chunk);
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text === '' ? undefined : JSON.parse(text);
          } catch {
            // A proxy in front of the API server may answer HTML; keep the text for the error.
          }
          resolve({ statusCode: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  /** Like request(), but a non-2xx answer throws a KubeApiError carrying the Status reason. */
  async requestOk(method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
    const res = await this.request(method, path, body);
    if (res.statusCode >= 200 && res.statusCode < 300) return res.body;
    throw statusError(res, `${method} ${path}`);
  }
}

/** The error for a non-2xx answer, with the metav1.Status reason and message when there is one. */
export function statusError(res: KubeResponse, what: string): KubeApiError {
  const status = (typeof res.body === 'object' && res.body !== null ? res.body : {}) as { reason?: unknown; message?: unknown };
  const reason = typeof status.reason === 'string' ? status.reason : String(res.statusCode);
  const message = typeof status.message === 'string' ? status.message : `${what}: HTTP ${res.statusCode}`;
  return new KubeApiError(res.statusCode, reason, message);
}
