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
