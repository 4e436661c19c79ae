// What every L4 scheduler implements and sees, apart from scheduler.ts (which builds them), so the
// implementations import their contract without importing the factory that imports them.
import type { IrL4Endpoint } from '../../ir/l4.js';

export interface L4PickContext {
  /** The client's address (from a PROXY header when one was accepted). */
  readonly clientAddress: string;
  /** The address the client connected to (dh hashes it). */
  readonly destinationAddress: string;
}

/** An endpoint as a scheduler sees it: the IR entry, its key, its weight (0: never picked). */
export interface L4EndpointSlot {
  readonly endpoint: IrL4Endpoint;
  readonly key: string;
  readonly weight: number;
}

export interface L4Scheduler {
  pick(ctx: L4PickContext, tried: ReadonlySet<string>): L4EndpointSlot | undefined;
}
