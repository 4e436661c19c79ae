// Cluster defaults, in one place: translators write them into the IR, and the data plane falls back
// to them when an IR (hand-written, or from a later translator) leaves them out.
import type { IrPassiveHealth } from './types.js';

/** Envoy's outlier-detection defaults: 5 consecutive failures, 30 s first ejection, 300 s cap. */
export const DEFAULT_PASSIVE_HEALTH: IrPassiveHealth = { consecutiveFailures: 5, baseEjectionMs: 30_000, maxEjectionMs: 300_000 };

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** Envoy's Maglev table size when none is given (a prime). */
export const MAGLEV_DEFAULT_TABLE_SIZE = 65537;
/** Envoy's upper bound on a Maglev table size (a prime): bounds memory and build time. */
export const MAGLEV_MAX_TABLE_SIZE = 5000011;
