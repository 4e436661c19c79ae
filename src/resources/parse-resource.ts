import type { Diagnostic } from '../core/diagnostic.js';
import { groupOfApiVersion, type ObjectRef } from '../core/object-ref.js';
import { DEFAULT_NAMESPACE } from './object-meta.js';
import type { Resource } from './resource.js';
import { schemaIssueToDiagnostic } from './schema-issue.js';
import { KINDS } from './kind-registry.js';

export type ParseOutcome =
  | { readonly kind: 'parsed'; readonly resource: Resource }
  | { readonly kind: 'rejected'; readonly diagnostics: readonly Diagnostic[] };

const BY_TYPE = new Map(KINDS.map((k) => [`${k.apiVersion} ${k.kind}`, k]));

/** A schema error cascades (a bad list gives many issues); the first few say enough. */
const MAX_ISSUES_PER_OBJECT = 10;

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

// JSON `null` means "not set" to the API server; YAML writes it for an empty `key:`.
// Most objects have none: they are taken as they are (nothing here or after it writes to them),
// which spares a copy of every object of a large folder.
function dropNulls(value: unknown): unknown {
  return hasNullField(value) ? copyWithoutNulls(value) : value;
}

function hasNullField(value: unknown): boolean {
  if (Array.isArray(value)) {
    // A null list item is not dropped (the copy keeps it too): only null fields are.
    for (const item of value) if (hasNullField(item)) return true;
    return false;
  }
  if (!isRecord(value)) return false;
  for (const key in value) {
    const inner = value[key];
    if (inner === null || (typeof inner === 'object' && hasNullField(inner))) return true;
  }
  return false;
}

function copyWithoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyWithoutNulls);
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) if (inner !== null) out[key] = copyWithoutNulls(inner);
  return out;
}

/** The best reference we can make for an object that may not have passed its schema. */
function guessRef(raw: Record<string, unknown>, namespaced: boolean): ObjectRef {
  const kind = typeof raw.kind === 'string' ? raw.kind : '<no kind>';
  const group = typeof raw.apiVersion === 'string' ? groupOfApiVersion(raw.apiVersion) : '';
  const meta = isRecord(raw.metadata) ? raw.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : '<no name>';
  if (!namespaced) return { group, kind, name };
  return { group, kind, namespace: typeof meta.namespace === 'string' ? meta.namespace : DEFAULT_NAMESPACE, name };
}

/** Narrows one decoded document (`unknown`) to a typed Resource, or says exactly why not. */
export function parseResource(input: unknown, source: string): ParseOutcome {
  const raw = dropNulls(input);
  if (!isRecord(raw) || typeof raw.apiVersion !== 'string' || typeof raw.kind !== 'string') {
    const diagnostic: Diagnostic = {
      severity: 'error',
      code: 'ERR_RESOURCE_INVALID',
      source,
      message: 'expected a Kubernetes object: a mapping with string fields apiVersion and kind',
    };
    // Name the object when there is enough of one to name.
    const named = isRecord(raw) && isRecord(raw.metadata) && typeof raw.metadata.name === 'string';
    return { kind: 'rejected', diagnostics: [named ? { ...diagnostic, object: guessRef(raw, true) } : diagnostic] };
  }
  const definition = BY_TYPE.get(`${raw.apiVersion} ${raw.kind}`);
  if (!definition) {
    const sameKind = KINDS.find((k) => k.kind === raw.kind);
    const hint = sameKind ? ` (Isthmus reads ${sameKind.apiVersion} ${sameKind.kind})` : '';
    return {
      kind: 'rejected',
      diagnostics: [
        {
          severity: 'warning',
          code: 'ERR_RESOURCE_UNKNOWN_KIND',
          object: guessRef(raw, true),
          source,
          message: `${raw.apiVersion} ${raw.kind} is not handled here${hint}; skipped`,
        },
      ],
    };
  }
  const result = definition.parse(raw, source);
  if (result.kind === 'ok') return { kind: 'parsed', resource: result.resource };
  const ref = guessRef(raw, definition.namespaced);
  return {
    kind: 'rejected',
    diagnostics: result.issues.slice(0, MAX_ISSUES_PER_OBJECT).map((issue) => schemaIssueToDiagnostic(issue, raw, ref, source)),
  };
}
