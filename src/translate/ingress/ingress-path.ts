import type { IrPathMatch } from '../../ir/types.js';
import type { PathType } from '../../resources/ingress.js';

export type IngressPathCheck =
  | { readonly kind: 'ok'; readonly match: Extract<IrPathMatch, { kind: 'exact' | 'prefix' }> }
  | { readonly kind: 'invalid'; readonly message: string };

// The API server's validateIngressPath (pkg/apis/networking/validation).
const INVALID_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_SUFFIXES = ['/..', '/.'];

/**
 * Validates one path and turns it into a match. Prefix is element-wise with the trailing `/`
 * ignored (the spec's examples table: `/aaa/bbb/` matches `/aaa/bbb`), so it is stored without
 * the trailing slash (`/` stays `/`). ImplementationSpecific is treated as Prefix here, as
 * docs/ingress.md says; an empty ImplementationSpecific path means `/`.
 */
export function checkIngressPath(path: string | undefined, pathType: PathType): IngressPathCheck {
  if (pathType === 'ImplementationSpecific' && (path === undefined || path === '')) {
    return { kind: 'ok', match: { kind: 'prefix', value: '/' } };
  }
  if (path === undefined || !path.startsWith('/')) {
    return { kind: 'invalid', message: `path ${JSON.stringify(path ?? '')} must be an absolute path (start with "/")` };
  }
  if (pathType !== 'ImplementationSpecific') {
    const sequence = INVALID_SEQUENCES.find((s) => path.includes(s));
    if (sequence) return { kind: 'invalid', message: `path "${path}" must not contain "${sequence}" for pathType ${pathType}` };
    const suffix = INVALID_SUFFIXES.find((s) => path.endsWith(s));
    if (suffix) return { kind: 'invalid', message: `path "${path}" must not end with "${suffix}" for pathType ${pathType}` };
  }
  if (pathType === 'Exact') return { kind: 'ok', match: { kind: 'exact', value: path } };
  // A loop, not /\/+$/: that regex is quadratic on a long run of slashes followed by another character.
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 47 /* '/' */) end--;
  const trimmed = path.slice(0, end);
  return { kind: 'ok', match: { kind: 'prefix', value: trimmed === '' ? '/' : trimmed } };
}

/** Identity of a match for conflict detection: equal keys match exactly the same requests. */
export function pathMatchKey(match: Extract<IrPathMatch, { kind: 'exact' | 'prefix' }>): string {
  return `${match.kind} ${match.value}`;
}

/** Exact before Prefix; longer prefixes first; then by value, for a stable order. */
export function comparePathPrecedence(
  a: Extract<IrPathMatch, { kind: 'exact' | 'prefix' }>,
  b: Extract<IrPathMatch, { kind: 'exact' | 'prefix' }>,
): number {
  if (a.kind !== b.kind) return a.kind === 'exact' ? -1 : 1;
  if (a.kind === 'prefix' && a.value.length !== b.value.length) return b.value.length - a.value.length;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}
