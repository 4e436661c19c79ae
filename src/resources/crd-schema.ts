// Validators for Isthmus's own kinds, compiled from the CustomResourceDefinitions in deploy/crds/:
// the one source of truth, read at load time, so what the API server refuses (the OpenAPI v3
// schema of the CRD) `isthmus validate` refuses too, with the field path.
// Two things a cluster checks that JSON Schema does not say are added here, as the API server
// does them: unknown fields are refused (kubectl's default `--validate=strict` field validation;
// the API server would otherwise prune them silently), except where the schema says
// `x-kubernetes-preserve-unknown-fields`. CEL rules (`x-kubernetes-validations`) are not run; the
// translator checks the ones it depends on and says so in diagnostics and conditions.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { load } from 'js-yaml';
import { packageRoot } from '../core/package-root.js';
import type { UpstreamValidator } from './upstream-schema.js';

/** Where the CRD files are: `deploy/crds/` of the package (the Dockerfile copies it). */
export function crdDirectory(): string {
  return path.join(packageRoot(), 'deploy', 'crds');
}

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The schema with `additionalProperties: false` on every object that lists its properties and keeps no unknown fields. */
export function strictSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strictSchema);
  if (!isRecord(schema)) return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    // `properties` maps field names to schemas; `default`/`enum`/`example` are values, not schemas.
    if (k === 'properties' && isRecord(v)) out[k] = Object.fromEntries(Object.entries(v).map(([name, s]) => [name, strictSchema(s)]));
    else if (k === 'default' || k === 'enum' || k === 'example' || k === 'x-kubernetes-validations') out[k] = v;
    else out[k] = strictSchema(v);
  }
  if (isRecord(out.properties) && out.additionalProperties === undefined && out['x-kubernetes-preserve-unknown-fields'] !== true) out.additionalProperties = false;
  return out;
}

const ajv = new Ajv({ allErrors: true, strict: true });
ajv.addVocabulary(['x-kubernetes-validations', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-int-or-string', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type', 'x-kubernetes-embedded-resource']);

export interface CrdVersion {
  readonly group: string;
  readonly kind: string;
  readonly plural: string;
  readonly version: string;
  readonly namespaced: boolean;
  readonly validate: UpstreamValidator;
}

/** Reads one CRD file and compiles the schema of each served version. Throws on a broken file: it ships with the package. */
export function loadCrd(file: string): CrdVersion[] {
  const crd = load(readFileSync(file, 'utf8'));
  if (!isRecord(crd) || crd.kind !== 'CustomResourceDefinition' || !isRecord(crd.spec)) throw new Error(`${file}: not a CustomResourceDefinition`);
  const { group, names, scope, versions } = crd.spec;
  if (typeof group !== 'string' || !isRecord(names) || typeof names.kind !== 'string' || typeof names.plural !== 'string' || !Array.isArray(versions)) {
    throw new Error(`${file}: spec.group, spec.names.kind, spec.names.plural and spec.versions are required`);
  }
  return versions.filter((v): v is Json => isRecord(v) && v.served === true).map((v) => {
    const schema = isRecord(v.schema) ? v.schema.openAPIV3Schema : undefined;
    if (typeof v.name !== 'string' || !isRecord(schema)) throw new Error(`${file}: version without a name or schema.openAPIV3Schema`);
    return { group, kind: names.kind as string, plural: names.plural as string, version: v.name, namespaced: scope === 'Namespaced', validate: compiledOnFirstUse(schema) };
  });
}

/**
 * The schema's validator, compiled when it first validates something: compiling every isthmus.dev
 * kind's schema at import cost each command (`kube-proxy render`, `validate`, a start) about 0.1 s
 * of ajv code generation for kinds most configurations never use. A schema ajv refuses still
 * throws, at that first use (test/resources covers every shipped CRD).
 */
function compiledOnFirstUse(schema: Json): UpstreamValidator {
  let compiled: UpstreamValidator | undefined;
  const validate: UpstreamValidator = (data: unknown): boolean => {
    compiled ??= ajv.compile(strictSchema(schema) as Json) as UpstreamValidator;
    const ok = compiled(data);
    validate.errors = compiled.errors;
    return ok;
  };
  return validate;
}

let cache: Map<string, CrdVersion> | undefined;

/** The compiled validator of `kind` in `apiVersion` (`isthmus.dev/v1alpha1`), from `deploy/crds/<kind lower case>.yaml`. */
export function crdValidator(apiVersion: string, kind: string): CrdVersion {
  cache ??= new Map();
  const key = `${apiVersion}/${kind}`;
  let found = cache.get(key);
  if (found === undefined) {
    for (const v of loadCrd(path.join(crdDirectory(), `${kind.toLowerCase()}.yaml`))) cache.set(`${v.group}/${v.version}/${v.kind}`, v);
    found = cache.get(key);
    if (found === undefined) throw new Error(`deploy/crds/${kind.toLowerCase()}.yaml serves no ${apiVersion} ${kind}`);
  }
  return found;
}
