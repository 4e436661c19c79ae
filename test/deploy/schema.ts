// Schema checks for rendered manifests, two ways:
// - kubernetes-models (4.x; 5.x needs Node 22): the Kubernetes OpenAPI schemas compiled to ajv
//   validators: types, enums, required fields. Gateway API kinds: @kubernetes-models/gateway-api.
// - field names: those validators accept unknown fields (the OpenAPI documents do not forbid
//   them), so `runAsNonRot: true` would pass. The API server would drop it with a warning, and
//   the pod would run without the setting. So every field name is also checked against the
//   models of @kubernetes/client-node (generated from the Kubernetes 1.34 OpenAPI document).
import { createRequire } from 'node:module';
import * as k8s from '@kubernetes/client-node';
import type { IIoK8sSigsGatewayApiApisV1GatewayClassSpec } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GatewayClassSpec';
import { isRecord, type K8sObject } from './render.js';

const require = createRequire(import.meta.url);

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: unknown) => Validatable;

/** `apps/v1` → group `apps`, version `v1`; `v1` → core group `''`. */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.lastIndexOf('/');
  return slash === -1 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

async function modelClass(object: K8sObject): Promise<ModelClass> {
  const { group, version } = splitApiVersion(object.apiVersion);
  if (group === 'gateway.networking.k8s.io') {
    // ESM-only package with an exports map per version.
    const module = (await import(`@kubernetes-models/gateway-api/gateway.networking.k8s.io/${version}/${object.kind}`)) as Record<string, unknown>;
    const model = module[object.kind];
    if (typeof model !== 'function') throw new Error(`@kubernetes-models/gateway-api has no ${object.apiVersion} ${object.kind}`);
    return model as ModelClass;
  }
  // kubernetes-models 4.x is CommonJS without an exports map: one module per kind.
  const modulePath = group === '' ? `kubernetes-models/${version}/${object.kind}` : `kubernetes-models/${group}/${version}/${object.kind}`;
  let module: Record<string, unknown>;
  try {
    module = require(modulePath) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`no kubernetes-models schema for ${object.apiVersion} ${object.kind} (${modulePath}): ${(error as Error).message}`);
  }
  const model = module[object.kind];
  if (typeof model !== 'function') throw new Error(`${modulePath} exports no ${object.kind}`);
  return model as ModelClass;
}

/** Validates against the OpenAPI schema; resolves to the error text, or undefined when valid. */
export async function schemaErrors(object: K8sObject): Promise<string | undefined> {
  const Model = await modelClass(object);
  try {
    new Model(object).validate();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

// --- field names -----------------------------------------------------------------------------

interface Attribute {
  readonly baseName: string;
  readonly type: string;
}
interface ClientModel {
  getAttributeTypeMap(): readonly Attribute[];
}

const CLIENT_MODELS = k8s as unknown as Record<string, unknown>;
const LEAF_TYPES = new Set(['string', 'number', 'boolean', 'Date', 'any', 'IntOrString']);

function clientModel(name: string): ClientModel | undefined {
  const model = CLIENT_MODELS[name];
  return typeof model === 'function' && typeof (model as Partial<ClientModel>).getAttributeTypeMap === 'function' ? (model as unknown as ClientModel) : undefined;
}

function walk(value: unknown, type: string, path: string, problems: string[]): void {
  if (value === null || value === undefined || LEAF_TYPES.has(type)) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (!Array.isArray(value)) problems.push(`${path}: expected a list`);
    else value.forEach((item, i) => walk(item, array[1]!, `${path}[${i}]`, problems));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (!isRecord(value)) problems.push(`${path}: expected a mapping`);
    else for (const [key, inner] of Object.entries(value)) walk(inner, map[1]!, `${path}.${key}`, problems);
    return;
  }
  const model = clientModel(type);
  if (model === undefined) {
    problems.push(`${path}: no model named ${type} in @kubernetes/client-node`);
    return;
  }
  if (!isRecord(value)) {
    problems.push(`${path}: expected a mapping (${type})`);
    return;
  }
  const attributes = model.getAttributeTypeMap();
  for (const [key, inner] of Object.entries(value)) {
    const attribute = attributes.find((a) => a.baseName === key);
    if (attribute === undefined) problems.push(`${path}.${key}: no such field in ${type}`);
    else walk(inner, attribute.type, `${path}.${key}`, problems);
  }
}

// The GatewayClass spec's fields, typed against the upstream CRD's own TypeScript type: a field
// missing here or not in the type is a compile error, so the list cannot drift from upstream.
const GATEWAY_CLASS_SPEC_FIELDS: Record<keyof IIoK8sSigsGatewayApiApisV1GatewayClassSpec, true> = {
  controllerName: true,
  description: true,
  parametersRef: true,
};

/** Fields that the Kubernetes API does not define (typos, wrong nesting); [] when all are known. */
export function unknownFields(object: K8sObject): string[] {
  const { group, version } = splitApiVersion(object.apiVersion);
  const problems: string[] = [];
  if (group === 'gateway.networking.k8s.io' && object.kind === 'GatewayClass') {
    for (const key of Object.keys(object)) if (!['apiVersion', 'kind', 'metadata', 'spec'].includes(key)) problems.push(`.${key}: no such field in GatewayClass`);
    walk(object.metadata, 'V1ObjectMeta', '.metadata', problems);
    const spec = isRecord(object.spec) ? object.spec : {};
    for (const key of Object.keys(spec)) if (!(key in GATEWAY_CLASS_SPEC_FIELDS)) problems.push(`.spec.${key}: no such field in GatewayClassSpec`);
    return problems;
  }
  // Model names: `V1Deployment`, `V2HorizontalPodAutoscaler`, `V1PodDisruptionBudget`, ...
  const modelName = `${version.charAt(0).toUpperCase()}${version.slice(1)}${object.kind}`;
  const model = clientModel(modelName);
  if (model === undefined) return [`no @kubernetes/client-node model ${modelName} for ${object.apiVersion} ${object.kind}: add a field check for it`];
  const attributes = model.getAttributeTypeMap();
  const declared = attributes.find((a) => a.baseName === 'apiVersion');
  if (declared === undefined) return [`${modelName} is not a top-level kind`];
  walk(object, modelName, '', problems);
  return problems;
}
