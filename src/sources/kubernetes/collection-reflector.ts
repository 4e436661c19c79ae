// One watched collection (a kind, in all namespaces or in one) kept in memory by client-node's
// ListWatch: a paginated LIST, then a WATCH from the list's resourceVersion with bookmarks; a watch
// that ends is resumed from the last resourceVersion seen, and a `410 Gone` makes ListWatch relist.
// What ListWatch leaves to its user is done here: restarting after errors (with backoff), falling
// back to an older served version on 404, and telling "forbidden" and "not installed" apart.
import { ListWatch, Watch, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { KubeApiClient } from './kube-api-client.js';
import { statusError } from './kube-api-client.js';
import { collectionPath, type WatchedCollection } from './watched-collections.js';

/** Where a collection stands; the source reports every state but `synced` as a diagnostic. */
export type ReflectorState =
  | { readonly kind: 'starting' }
  | { readonly kind: 'synced'; readonly apiVersion: string }
  | { readonly kind: 'forbidden'; readonly message: string }
  | { readonly kind: 'absent'; readonly message: string }
  | { readonly kind: 'failing'; readonly message: string; readonly everSynced: boolean };

export interface ReflectorOptions {
  readonly client: KubeApiClient;
  readonly collection: WatchedCollection;
  /** Watch one namespace; all namespaces when absent (and always for cluster-scoped kinds). */
  readonly namespace?: string;
  readonly labelSelector?: string;
  /** Objects of this collection changed (added, updated, deleted, or relisted). */
  readonly onChange: () => void;
  /** The state changed (synced, forbidden, ...); also called once when the first list is in. */
  readonly onState: (state: ReflectorState) => void;
  readonly log: (line: string) => void;
  /** Items per LIST page; the API server's own advice is a few hundred. */
  readonly pageSize?: number;
}

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;
/** RBAC or a missing CRD is fixed by a person, not in a second: look again at this pace. */
const RETRY_SLOW_MS = 30_000;

interface ListPage {
  readonly metadata?: { readonly resourceVersion?: string; readonly continue?: string };
  readonly items?: KubernetesObject[];
}

function errorStatus(err: unknown): number | undefined {
  const e = err as { statusCode?: unknown; code?: unknown };
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return typeof e?.code === 'number' ? e.code : undefined;
}

export class CollectionReflector {
  private listWatch: ListWatch<KubernetesObject> | undefined;
  private versionIndex = 0;
  private failures = 0;
  private errorCount = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private everSynced = false;
  private stateValue: ReflectorState = { kind: 'starting' };
  private readonly watch: Watch;

  constructor(private readonly options: ReflectorOptions) {
    this.watch = new Watch(options.client.config);
  }

  get state(): ReflectorState {
    return this.stateValue;
  }

  get collection(): WatchedCollection {
    return this.options.collection;
  }

  get description(): string {
    const c = this.options.collection;
    const where = this.options.namespace === undefined ? '' : ` in namespace ${this.options.namespace}`;
    return `${c.plural}${c.group === '' ? '' : `.${c.group}`}${where}`;
  }

  get apiVersion(): string {
    return this.options.collection.apiVersions[this.versionIndex] ?? this.options.collection.apiVersions[0]!;
  }

  /** The objects as last seen; apiVersion and kind are set on every one (LIST items lack them). */
  objects(): readonly KubernetesObject[] {
    return this.listWatch?.list() ?? [];
  }

  /** One object by namespace and name, as last seen. */
  get(namespace: string | undefined, name: string): KubernetesObject | undefined {
    return this.listWatch?.get(name, namespace);
  }

  start(): void {
    this.connect();
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    void this.listWatch?.stop();
  }

  private path(): string {
    return collectionPath(this.apiVersion, this.options.collection.plural, this.options.collection.namespaced ? this.options.namespace : undefined);
  }

  private connect(): void {
    if (this.closed) return;
    if (this.listWatch) {
      // Resume: ListWatch keeps its objects and resourceVersion, so this watches on from where the
      // last stream stopped (and relists only if that version has been compacted away: a 410).
      this.startWatching(this.listWatch);
      return;
    }
    // Bookmarks keep the resourceVersion fresh on quiet collections, so a resumed watch is rarely
    // too old. timeoutSeconds (5 to 10 minutes, spread as client-go spreads it) has the server end
    // each watch cleanly, so a connection that died without a word is replaced within minutes.
    // client-node's Watch keeps a query string that is already on the path.
    const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
    const query = `allowWatchBookmarks=true&timeoutSeconds=${timeoutSeconds}`;
    const lw = new ListWatch<KubernetesObject>(`${this.path()}?${query}`, this.watch, () => this.list(), false, this.options.labelSelector);
    for (const verb of ['add', 'update', 'delete'] as const) lw.on(verb, () => this.options.onChange());
    lw.on('error', (err: unknown) => this.onError(err));
    this.listWatch = lw;
    this.startWatching(lw);
  }

  /** start() resolves once the watch stream is open (or has failed, which onError has seen). */
  private startWatching(lw: ListWatch<KubernetesObject>): void {
    const errorsBefore = this.errorCount;
    lw.start().then(
      () => {
        // A resumed watch does not list, so nothing else says the collection is healthy again.
        if (!this.closed && this.everSynced && this.errorCount === errorsBefore && this.listWatch === lw) this.markSynced();
      },
      (err: unknown) => this.onError(err),
    );
  }

  /** Every page of the collection; ListWatch replaces its cache with the result. */
  private async list(): Promise<KubernetesListObject<KubernetesObject>> {
    const items: KubernetesObject[] = [];
    let token: string | undefined;
    let resourceVersion: string | undefined;
    const limit = this.options.pageSize ?? 500;
    do {
      const query = new URLSearchParams({ limit: String(limit) });
      if (token !== undefined) query.set('continue', token);
      if (this.options.labelSelector !== undefined) query.set('labelSelector', this.options.labelSelector);
      const res = await this.options.client.request('GET', `${this.path()}?${query}`);
      if (res.statusCode === 410 && token !== undefined) {
        // The continue token expired between pages: the pages so far are from an old version of
        // the collection, so start the list again from the top.
        items.length = 0;
        token = undefined;
        continue;
      }
      if (res.statusCode !== 200) throw statusError(res, `list ${this.description}`);
      const page = res.body as ListPage;
      for (const item of page.items ?? []) items.push({ ...item, apiVersion: this.apiVersion, kind: this.options.collection.kind });
      token = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion;
    } while (token !== undefined);
    // ListWatch applies the list in the continuation of this promise, synchronously; by the next
    // turn of the event loop its cache holds these items.
    setImmediate(() => this.markSynced());
    return { metadata: resourceVersion === undefined ? {} : { resourceVersion }, items };
  }

  private markSynced(): void {
    if (this.closed) return;
    this.failures = 0;
    this.everSynced = true;
    this.options.onChange();
    this.setState({ kind: 'synced', apiVersion: this.apiVersion });
  }

  private onError(err: unknown): void {
    if (this.closed) return;
    this.errorCount += 1;
    const status = errorStatus(err);
    const message = err instanceof Error ? err.message : String(err);
    if (status === 404 && !this.everSynced && this.versionIndex + 1 < this.options.collection.apiVersions.length) {
      // This version is not served (an older CRD): try the next one at once.
      void this.listWatch?.stop();
      this.listWatch = undefined;
      this.versionIndex += 1;
      this.connect();
      return;
    }
    if (status === 404 && !this.everSynced) {
      this.versionIndex = 0;
      this.listWatch = undefined;
      this.setState({ kind: 'absent', message: `${this.options.collection.apiVersions.join(', ')} ${this.options.collection.kind} is not served by the API server (CRD not installed?)` });
      this.retryIn(RETRY_SLOW_MS);
      return;
    }
    if (status === 403) {
      this.setState({ kind: 'forbidden', message });
      this.retryIn(RETRY_SLOW_MS);
      return;
    }
    // A dropped connection, a timeout, a 5xx: resume soon, backing off while it keeps failing.
    this.failures += 1;
    this.setState({ kind: 'failing', message, everSynced: this.everSynced });
    this.retryIn(Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (this.failures - 1)));
  }

  private retryIn(ms: number): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect();
    }, ms);
    this.retryTimer.unref();
  }

  private setState(state: ReflectorState): void {
    const before = this.stateValue;
    this.stateValue = state;
    if (before.kind === state.kind && JSON.stringify(before) === JSON.stringify(state)) return;
    if (state.kind === 'forbidden') this.options.log(`isthmus: kubernetes: RBAC forbids watching ${this.description}: ${state.message}; the other kinds keep working, retrying every ${RETRY_SLOW_MS / 1000} s`);
    else if (state.kind === 'absent') this.options.log(`isthmus: kubernetes: ${state.message}; skipped, looking again every ${RETRY_SLOW_MS / 1000} s`);
    else if (state.kind === 'failing') this.options.log(`isthmus: kubernetes: watch of ${this.description} failed (${state.message}); retrying`);
    else if (state.kind === 'synced' && before.kind !== 'starting') this.options.log(`isthmus: kubernetes: watching ${this.description} again (${state.apiVersion})`);
    this.options.onState(state);
  }
}
