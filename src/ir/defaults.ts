// Cluster defaults, in one place: translators write them into the IR, and the data plane falls back
// to them when an IR (hand-written, or from a later translator) leaves them out.
import type { IrPassiveHealth } from './types.js';

/** Envoy's outlier-detection defaults: 5 consecutive failures, 30 s first ejection, 300 s cap. */
export const DEFAULT_PASSIVE_HEALTH: IrPassiveHealth = { consecutiveFailures: 5, baseEjectionMs: 30_000, maxEjectionMs: 300_000 };

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
