// Envoy's cluster circuit breakers (IrCircuitBreakers): per cluster, requests in flight and requests
// pending (waiting for a connection). A request over a limit is refused at once, 503
// `upstream_overflow`, the way Envoy answers `x-envoy-overflow`; nothing waits without bound.
//
// "Pending" is Envoy's: a request that has no connection yet, whether it waits here for a slot or
// has been handed to a connection that is still being set up (the transport's onConnect has not
// fired). In flight ("active") runs from the hand-off until the attempt ends.
import type { IrCircuitBreakers, IrCluster } from '../../ir/types.js';

/** A request that may wait for a slot: told once it may go (an object, so admitting allocates nothing). */
export interface SlotWaiter {
  slotGranted(ticket: BreakerTicket): void;
}

export interface BreakerTicket {
  /** The attempt reached a connection: it stops counting as pending. */
  connected(): void;
  /** The attempt ended (response complete, error, or abandoned): its slot goes to the next in line. */
  release(): void;
}

export type AdmitOutcome =
  | { readonly kind: 'go'; readonly ticket: BreakerTicket }
  | { readonly kind: 'queued'; readonly cancel: () => void }
  | { readonly kind: 'overflow' };

export interface CircuitBreaker {
  /** `waiter.slotGranted` runs later with the ticket when the outcome is `queued`. */
  admit(waiter: SlotWaiter): AdmitOutcome;
  /** For tests and the admin API. */
  stats(): { readonly active: number; readonly pending: number };
}

/** No limits: the shared no-op, so a cluster without circuit breakers pays nothing. */
const NO_TICKET: BreakerTicket = { connected: () => undefined, release: () => undefined };
const GO: AdmitOutcome = { kind: 'go', ticket: NO_TICKET };
export const UNLIMITED: CircuitBreaker = { admit: () => GO, stats: () => ({ active: 0, pending: 0 }) };

export function createCircuitBreaker(cluster: Pick<IrCluster, 'protocol' | 'circuitBreakers'>): CircuitBreaker {
  const limits = cluster.circuitBreakers;
  if (limits === undefined) return UNLIMITED;
  const maxActive = activeLimitOf(cluster.protocol, limits);
  const maxPending = limits.maxPendingRequests ?? Infinity;
  if (maxActive === Infinity && maxPending === Infinity) return UNLIMITED;
  return new ClusterBreaker(maxActive, maxPending);
}

/** HTTP/1.1 carries one request per connection, so there max_connections bounds requests too. */
function activeLimitOf(protocol: IrCluster['protocol'], limits: IrCircuitBreakers): number {
  const requests = limits.maxRequests ?? Infinity;
  const multiplexed = protocol === 'h2' || protocol === 'h2c';
  return multiplexed ? requests : Math.min(requests, limits.maxConnections ?? Infinity);
}

class ClusterBreaker implements CircuitBreaker {
  private active = 0;
  /** Handed to a connection not yet set up. */
  private connecting = 0;
  private readonly queue: SlotWaiter[] = [];

  constructor(
    private readonly maxActive: number,
    private readonly maxPending: number,
  ) {}

  admit(waiter: SlotWaiter): AdmitOutcome {
    // Every new request starts as pending (it has no connection yet), as in Envoy's pool.
    if (this.queue.length + this.connecting >= this.maxPending) return { kind: 'overflow' };
    if (this.active < this.maxActive && this.queue.length === 0) return { kind: 'go', ticket: this.grant() };
    this.queue.push(waiter);
    return {
      kind: 'queued',
      cancel: () => {
        const i = this.queue.indexOf(waiter);
        if (i !== -1) this.queue.splice(i, 1);
      },
    };
  }

  stats(): { active: number; pending: number } {
    return { active: this.active, pending: this.queue.length + this.connecting };
  }

  private grant(): BreakerTicket {
    this.active++;
    this.connecting++;
    let connected = false;
    let released = false;
    return {
      connected: () => {
        if (connected || released) return;
        connected = true;
        this.connecting--;
      },
      release: () => {
        if (released) return;
        released = true;
        if (!connected) this.connecting--;
        this.active--;
        this.next();
      },
    };
  }

  private next(): void {
    while (this.active < this.maxActive && this.queue.length > 0) {
      this.queue.shift()!.slotGranted(this.grant());
    }
  }
}
