// What one bound socket's requests read: its routers and certificates, swapped as a whole on apply.
import type { Router } from './router.js';
import type { SniTable } from '../listen/sni-table.js';

export interface ListenerRuntime {
  readonly name: string;
  readonly scheme: 'http' | 'https';
  /** For connections to any local address of the bind. */
  readonly router: Router;
  /** For connections to these local addresses (specific-address listeners on a wildcard bind). */
  readonly routersByAddress: ReadonlyMap<string, Router>;
  /** HTTPS only: the certificates by server name, to detect misdirected requests. */
  readonly sni?: SniTable;
}

/** Swapped atomically on apply: a request reads it once and keeps that version to the end. */
export interface ListenerSlot {
  runtime: ListenerRuntime;
}
