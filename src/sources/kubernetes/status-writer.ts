// Writes the translators' statuses back to the API server's status subresources. Only the leader
// writes (every replica computes the same statuses; one writer avoids them fighting); an object
// whose status already says what we would write is not written; a 409 Conflict re-reads the object
// and tries again on the latest version.
import type { KubernetesObject } from '@kubernetes/client-node';
import { isIP } from 'node:net';
import type { Clock } from '../../core/clock.js';
import { formatObjectRef, groupOfApiVersion, type ObjectRef } from '../../core/object-ref.js';
import type { ObjectStatus } from '../../core/object-status.js';
import type { KubeApiClient } from './kube-api-client.js';
import { canonicalJson, mergeStatus, type PublishedAddress } from './merge-status.js';
import { objectPath } from './watched-collections.js';

/** What the writer reads from the watch caches. */
export interface LiveObjects {
  liveObject(ref: ObjectRef): KubernetesObject | undefined;
  collectionOf(ref: Pick<ObjectRef, 'group' | 'kind'>): { readonly apiVersion: string; readonly plural: string } | undefined;
}

export interface PublishOptions {
  /** `--publish-address`: IPs or host names, written as they are. */
  readonly addresses: readonly string[];
  /** `--publish-service NS/NAME`: the addresses of that Service's load balancer. */
  readonly service?: { readonly namespace: string; readonly name: string };
}

export interface StatusWriterOptions {
  readonly client: KubeApiClient;
  readonly live: LiveObjects;
  readonly controllerName: string;
  readonly publish: PublishOptions;
  readonly clock: Clock;
  readonly log: (line: string) => void;
}

const MAX_ATTEMPTS = 5;

export interface StatusWriteCounts {
  written: number;
  unchanged: number;
  conflicts: number;
  failed: number;
}

export class StatusWriter {
  private desired: readonly ObjectStatus[] = [];
  private leading = false;
  /**
   * What we last wrote per object, and over which resourceVersion: until the watch brings our own
   * write back, the cached object still shows the old status, and writing again would be a
   * needless conflict.
   */
  private readonly written = new Map<string, { readonly over: string; readonly status: string }>();
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  readonly counts: StatusWriteCounts = { written: 0, unchanged: 0, conflicts: 0, failed: 0 };

  constructor(private readonly options: StatusWriterOptions) {}

  /** The statuses of the configuration just applied. */
  update(statuses: readonly ObjectStatus[]): void {
    this.desired = statuses;
    this.kick();
  }

  /** Leadership gained or lost; a new leader writes what differs at once. */
  setLeading(leading: boolean): void {
    this.leading = leading;
    this.kick();
  }

  /** Compare every status with the live object again (the resync period). */
  resync(): void {
    this.kick();
  }

  /** Resolves when the writes in progress (and one more round, if asked for) are done. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.running;
  }

  private kick(): void {
    if (!this.leading || this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.writeAll().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  private async writeAll(): Promise<void> {
    const published = this.published();
    const keep = new Set(this.desired.map((s) => `${groupOfApiVersion(s.apiVersion)}/${s.kind}/${s.namespace ?? ''}/${s.name}`));
    for (const key of this.written.keys()) if (!keep.has(key)) this.written.delete(key);
    for (const status of this.desired) {
      if (!this.leading || this.closed) return;
      try {
        await this.writeOne(status, published);
      } catch (err) {
        this.counts.failed += 1;
        this.options.log(`isthmus: kubernetes: status of ${status.kind} ${status.namespace ?? ''}/${status.name} not written: ${(err as Error).message}`);
      }
    }
  }

  private async writeOne(status: ObjectStatus, published: readonly PublishedAddress[] | undefined): Promise<void> {
    const ref: ObjectRef = { group: groupOfApiVersion(status.apiVersion), kind: status.kind, ...(status.namespace === undefined ? {} : { namespace: status.namespace }), name: status.name };
    const collection = this.options.live.collectionOf(ref);
    if (!collection) return;
    const path = objectPath(collection.apiVersion, collection.plural, ref.namespace, ref.name, 'status');
    let live = this.options.live.liveObject(ref);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS && live; attempt++) {
      const current = (live as { status?: unknown }).status;
      const next = mergeStatus(status, current, { controllerName: this.options.controllerName, published, now: new Date(this.options.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z') });
      if (next === undefined) return;
      const wanted = canonicalJson(next);
      const liveVersion = live.metadata?.resourceVersion ?? '';
      const key = `${ref.group}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
      const mine = this.written.get(key);
      if (wanted === canonicalJson(current ?? {}) || (mine && mine.over === liveVersion && mine.status === wanted)) {
        this.counts.unchanged += 1;
        return;
      }
      const res = await this.options.client.request('PUT', path, { ...live, status: next });
      if (res.statusCode >= 200 && res.statusCode < 300) {
        this.counts.written += 1;
        this.written.set(key, { over: liveVersion, status: wanted });
        return;
      }
      if (res.statusCode === 404) return; // deleted meanwhile: nothing to report on
      if (res.statusCode !== 409) throw new Error(`PUT ${path}: HTTP ${res.statusCode} ${describe(res.body)}`);
      // Someone wrote the object since our watch saw it: merge again onto the latest version.
      this.counts.conflicts += 1;
      const latest = await this.options.client.request('GET', objectPath(collection.apiVersion, collection.plural, ref.namespace, ref.name));
      if (latest.statusCode !== 200) return;
      live = latest.body as KubernetesObject;
    }
    if (live) throw new Error(`${formatObjectRef(ref)}: still conflicting after ${MAX_ATTEMPTS} attempts`);
  }

  /** --publish-address wins; else the published Service's load-balancer addresses (or its external IPs). */
  private published(): readonly PublishedAddress[] | undefined {
    const { addresses, service } = this.options.publish;
    if (addresses.length > 0) return addresses.map((a) => (isIP(a) ? { ip: a } : { hostname: a }));
    if (!service) return undefined;
    const svc = this.options.live.liveObject({ group: '', kind: 'Service', namespace: service.namespace, name: service.name }) as
      | { spec?: { externalIPs?: string[] }; status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } } }
      | undefined;
    if (!svc) return undefined;
    const lb = (svc.status?.loadBalancer?.ingress ?? []).map((i) => (i.ip !== undefined ? { ip: i.ip } : { hostname: i.hostname ?? '' })).filter((a) => a.ip !== undefined || a.hostname !== '');
    if (lb.length > 0) return lb;
    return (svc.spec?.externalIPs ?? []).map((ip) => ({ ip }));
  }
}

function describe(body: unknown): string {
  const message = (body as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : '';
}
