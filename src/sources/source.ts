import type { ResourceSnapshot } from '../store/resource-snapshot.js';

/**
 * Where configuration comes from (files, Kubernetes, the embedded demo). A source pushes whole
 * snapshots, never deltas; bursts are coalesced and the latest snapshot always wins.
 */
export interface ConfigSource {
  /** Resolves once the first snapshot has been delivered to `onSnapshot`. */
  start(onSnapshot: (snapshot: ResourceSnapshot) => void): Promise<void>;
  /** Stops watching; no snapshot is delivered after it resolves. */
  close(): Promise<void>;
}
