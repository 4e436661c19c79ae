import type { Diagnostic } from '../core/diagnostic.js';
import type { ObjectStatus } from '../core/object-status.js';
import type { UsageEntry, UsageRange } from '../state/usage-meter.js';

/**
 * What the admin API may read from the running gateway. The composition root (src/cli/)
 * implements it over the store, the last translation and the data plane, so the admin server
 * imports neither: it only serialises what it is given.
 */
export interface AdminView {
  /** True once the first configuration is applied and every listener is bound. */
  isReady(): boolean;
  /** More for GET /ready's body (`--workers N`: each worker's generation); absent in one process. */
  readyDetail?(): Record<string, unknown>;
  /** The applied IR (IrSnapshot) as JSON-serialisable data, or null before the first apply. */
  config(): unknown;
  /** Diagnostics of the latest translation (also when it was rejected). */
  diagnostics(): readonly Diagnostic[];
  /** The status Isthmus would write back to Kubernetes for each object it owns. */
  statuses(): readonly ObjectStatus[];
  /** Clusters, endpoints and their health; the shape is the data plane's, served as given (a worker's is asked over IPC, hence a promise). */
  upstreams(): unknown;
  /**
   * Metered usage for the hours in the range: this process's counts (flushed first) and, with a
   * shared store, every replica's. Absent where nothing is metered (GET /api/usage answers 404).
   */
  usage?(range: UsageRange): Promise<readonly UsageEntry[]>;
  /** The path of one request or connection through the applied configuration (GET /api/explain). */
  explain?(query: ExplainQuery): { readonly kind: 'steps'; readonly steps: unknown; readonly text: string } | { readonly kind: 'invalid'; readonly message: string };
}

/** GET /api/explain's parameters: `url` (with `method`, `header`s, `address`) or `connect` (ADDR:PORT, `protocol`, `sni`). */
export interface ExplainQuery {
  readonly url?: string;
  readonly method?: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly address?: string;
  readonly connect?: string;
  readonly protocol?: string;
  readonly sni?: string;
}
