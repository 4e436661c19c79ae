import type { Diagnostic } from '../core/diagnostic.js';
import type { ObjectRef } from '../core/object-ref.js';
import type { SchemaIssue } from './kind-definition.js';

type PathSegment = PropertyKey;

/** `spec.rules[0].http.paths[1].pathType`, `metadata.annotations["isthmus.dev/hash-on"]`. */
export function formatFieldPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$]*$/.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let value = root;
  for (const segment of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

function describeFound(value: unknown): string {
  if (value === undefined) return '';
  if (value !== null && typeof value === 'object') return Array.isArray(value) ? ' (found a list)' : '';
  const text = JSON.stringify(value);
  return ` (found ${text.length > 60 ? `${text.slice(0, 57)}...` : text})`;
}

/** Turns one schema issue into a diagnostic that says where, what was expected and what was found. */
export function schemaIssueToDiagnostic(issue: SchemaIssue, raw: unknown, object: ObjectRef, source: string): Diagnostic {
  const found = valueAt(raw, issue.path);
  let message = `${issue.message}${describeFound(found)}`;
  if (found === undefined && issue.code === 'invalid_type') message = `required field is missing (expected ${issue.expected})`;
  if (found === undefined && issue.code === 'invalid_value') {
    message = `required field is missing (expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')})`;
  }
  return {
    severity: 'error',
    code: 'ERR_RESOURCE_INVALID',
    object,
    source,
    path: formatFieldPath(issue.path),
    message,
  };
}
