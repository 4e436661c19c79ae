import { z } from 'zod';
import { defineKind } from './kind-definition.js';
import { objectMetaSchema, type ObjectMeta } from './object-meta.js';

// v1 ConfigMap, as far as Isthmus reads one: Gateway API's CA references (BackendTLSPolicy
// `validation.caCertificateRefs`, Gateway `tls.frontend` validation) name a ConfigMap whose
// `ca.crt` key holds a PEM bundle. `binaryData` is kept too (base64), since a bundle may sit there.
const base64Schema = z.string().refine((s) => /^[A-Za-z0-9+/]*={0,2}$/.test(s.replace(/[\r\n]/g, '')), 'expected standard base64');

const configMapBodySchema = z.object({
  metadata: objectMetaSchema,
  data: z.record(z.string(), z.string()).default({}),
  binaryData: z.record(z.string(), base64Schema).default({}),
});

export interface ConfigMap {
  readonly apiVersion: 'v1';
  readonly kind: 'ConfigMap';
  readonly metadata: ObjectMeta;
  readonly data: Readonly<Record<string, string>>;
  /** Base64 values as written. */
  readonly binaryData: Readonly<Record<string, string>>;
  readonly source: string;
}

export const configMapKind = defineKind({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  namespaced: true,
  schema: configMapBodySchema,
  build: (body, metadata, source): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata, data: body.data, binaryData: body.binaryData, source }),
});

/** The bytes of one key: `data` (text) first, then `binaryData` (the API server keeps keys unique across both). */
export function readConfigMapValue(configMap: ConfigMap, key: string): Buffer | undefined {
  const text = configMap.data[key];
  if (text !== undefined) return Buffer.from(text, 'utf8');
  const encoded = configMap.binaryData[key];
  return encoded === undefined ? undefined : Buffer.from(encoded, 'base64');
}

/** Keys of both maps, sorted (for messages that say what was found). */
export function configMapKeys(configMap: ConfigMap): string[] {
  return [...new Set([...Object.keys(configMap.data), ...Object.keys(configMap.binaryData)])].sort();
}
