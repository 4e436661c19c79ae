import { createHash } from 'node:crypto';
import type { SourceContribution } from '../../store/build-snapshot.js';

/**
 * A digest of what a file contributed (resources and diagnostics, not its bytes): an edit that
 * changes only comments or layout gives the same digest, so it causes no reload downstream. The
 * parse worker computes it next to the parse, so the main thread never serialises a whole config.
 */
export function fingerprintContribution(contribution: SourceContribution): string {
  return createHash('sha256').update(JSON.stringify(contribution)).digest('base64');
}
