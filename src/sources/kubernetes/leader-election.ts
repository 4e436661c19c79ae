// Leader election on a coordination.k8s.io/v1 Lease, the way client-go's leaderelection does it:
// the holder renews `renewTime` every retry period; another candidate takes the lease only when it
// has seen the same record unchanged for a whole lease duration (judged on its own clock, so clocks
// need not agree); every write carries the resourceVersion it read, so two candidates cannot both win.
// A leader that cannot renew within the renew deadline steps down before the lease can expire.
import type { Clock } from '../../core/clock.js';
import type { KubeApiClient } from './kube-api-client.js';
import { collectionPath, objectPath } from './watched-collections.js';

export interface LeaderElectionOptions {
  readonly client: KubeApiClient;
  readonly namespace: string;
  readonly name: string;
  /** This replica's name in `holderIdentity` (the Pod name, unique per replica). */
  readonly identity: string;
  /** client-go's defaults: 15 s lease, renew deadline 10 s, retry every 2 s. */
  readonly leaseDurationMs?: number;
  readonly clock: Clock;
  readonly log: (line: string) => void;
  readonly onChange: (leading: boolean) => void;
}

interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: LeaseSpec;
}

const LEASE_API = 'coordination.k8s.io/v1';

/** metav1.MicroTime: RFC 3339 with microseconds. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  private readonly leaseMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private leadingValue = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private ticking: Promise<void> | undefined;
  /** The last record seen and when (on our clock) it was first seen in that form. */
  private observed: { key: string; atMs: number } | undefined;
  private lastRenewMs = 0;

  constructor(private readonly options: LeaderElectionOptions) {
    this.leaseMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = Math.round((this.leaseMs * 2) / 3);
    this.retryMs = Math.max(100, Math.round(this.leaseMs / 7.5));
  }

  get leading(): boolean {
    return this.leadingValue;
  }

  start(): void {
    this.schedule(0);
  }

  /** Stops campaigning; a leader releases the lease so another replica takes over at once. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    if (!this.leadingValue) return;
    this.setLeading(false);
    try {
      const res = await this.options.client.request('GET', this.path());
      if (res.statusCode !== 200) return;
      const lease = res.body as Lease;
      if (lease.spec.holderIdentity !== this.options.identity) return;
      // What client-go's ReleaseOnCancel writes: no holder, a 1 s lease, so the next candidate takes it at once.
      const now = microTime(this.options.clock.now());
      await this.options.client.request('PUT', this.path(), { ...lease, spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, acquireTime: now, renewTime: now } });
    } catch {
      // Shutting down: the lease expires on its own.
    }
  }

  private path(): string {
    return objectPath(LEASE_API, 'leases', this.options.namespace, this.options.name);
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => {
        this.ticking = undefined;
        this.schedule(this.retryMs);
      });
    }, ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew();
    } catch (err) {
      this.options.log(`isthmus: kubernetes: leader election: ${(err as Error).message}`);
    }
    const now = this.options.clock.now();
    if (ok) {
      this.lastRenewMs = now;
      this.setLeading(true);
    } else if (this.leadingValue && now - this.lastRenewMs > this.renewDeadlineMs) {
      this.options.log(`isthmus: kubernetes: leader election: could not renew lease ${this.options.namespace}/${this.options.name} within ${this.renewDeadlineMs} ms; stepping down`);
      this.setLeading(false);
    }
  }

  /** True when, after this call, we hold the lease. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.options.clock.now();
    const res = await this.options.client.request('GET', this.path());
    if (res.statusCode === 404) {
      const lease: Lease = {
        apiVersion: LEASE_API,
        kind: 'Lease',
        metadata: { name: this.options.name, namespace: this.options.namespace },
        spec: { holderIdentity: this.options.identity, leaseDurationSeconds: Math.ceil(this.leaseMs / 1000), acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
      };
      const created = await this.options.client.request('POST', collectionPath(LEASE_API, 'leases', this.options.namespace), lease);
      return created.statusCode === 201 || created.statusCode === 200;
    }
    if (res.statusCode !== 200) throw new Error(`GET lease ${this.options.namespace}/${this.options.name}: HTTP ${res.statusCode}`);
    const lease = res.body as Lease;
    const spec = lease.spec ?? {};
    const key = JSON.stringify([spec.holderIdentity ?? '', spec.renewTime ?? '', spec.leaseDurationSeconds ?? 0]);
    if (this.observed?.key !== key) this.observed = { key, atMs: now };
    const holder = spec.holderIdentity ?? '';
    const mine = holder === this.options.identity;
    const durationMs = (spec.leaseDurationSeconds ?? Math.ceil(this.leaseMs / 1000)) * 1000;
    const expired = holder === '' || this.observed.atMs + durationMs <= now;
    if (!mine && !expired) return false;
    const next: LeaseSpec = {
      ...spec,
      holderIdentity: this.options.identity,
      leaseDurationSeconds: Math.ceil(this.leaseMs / 1000),
      renewTime: microTime(now),
      acquireTime: mine ? (spec.acquireTime ?? microTime(now)) : microTime(now),
      leaseTransitions: mine ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
    };
    // The resourceVersion we read rides along: if another candidate wrote first, this is a 409.
    const put = await this.options.client.request('PUT', this.path(), { ...lease, spec: next });
    if (put.statusCode === 200) {
      this.observed = { key: JSON.stringify([next.holderIdentity, next.renewTime, next.leaseDurationSeconds]), atMs: now };
      return true;
    }
    return false;
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leadingValue) return;
    this.leadingValue = leading;
    this.options.log(`isthmus: kubernetes: ${leading ? 'became the leader' : 'no longer the leader'} (lease ${this.options.namespace}/${this.options.name}, identity ${this.options.identity})`);
    this.options.onChange(leading);
  }
}
