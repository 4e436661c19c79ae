import { formatObjectRef, type ObjectRef } from './object-ref.js';
import type { ErrorCode } from './errors.js';

// Config problems are values, not exceptions. A diagnostic names the object, the field path inside
// it, what was expected and what was found, and carries a stable code from the registry.
export type Severity = 'error' | 'warning';

export interface Diagnostic {
  readonly severity: Severity;
  readonly code: ErrorCode;
  /** The object the problem is in; absent for problems with a file as a whole (e.g. bad YAML). */
  readonly object?: ObjectRef;
  /** Where the object came from, e.g. `examples/quickstart/ingress.yaml#2` (document index). */
  readonly source?: string;
  /** JSON-path-like location inside the object: `spec.rules[0].http.paths[1].backend`. */
  readonly path?: string;
  readonly message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.object ? formatObjectRef(d.object) : (d.source ?? '<config>');
  const path = d.path ? ` ${d.path}` : '';
  const from = d.object && d.source ? ` (${d.source})` : '';
  return `${d.severity}: ${where}${path}: ${d.message} [${d.code}]${from}`;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Deterministic order, so translator output is byte-identical for the same input. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort((a, b) => formatDiagnostic(a).localeCompare(formatDiagnostic(b)));
}

/** The formatted text of every entry of a list seen so far, caught up lazily (pushDiagnosticOnce). */
const seenByList = new WeakMap<readonly Diagnostic[], { readonly texts: Set<string>; scanned: number }>();

/**
 * Adds `d` unless the list already holds one with the same text: for translators that derive the
 * same unit several times (an Istio route once per port) and must report its problems once. The
 * texts are remembered per list, so each call costs one format, not a scan of the list.
 */
export function pushDiagnosticOnce(diagnostics: Diagnostic[], d: Diagnostic): void {
  let seen = seenByList.get(diagnostics);
  if (seen === undefined) {
    seen = { texts: new Set(), scanned: 0 };
    seenByList.set(diagnostics, seen);
  }
  // Entries pushed by other code since the last call join the set first.
  for (; seen.scanned < diagnostics.length; seen.scanned++) seen.texts.add(formatDiagnostic(diagnostics[seen.scanned]!));
  const text = formatDiagnostic(d);
  if (seen.texts.has(text)) return;
  seen.texts.add(text);
  diagnostics.push(d);
  seen.scanned = diagnostics.length;
}
