import { z } from 'zod';

export { configMapKeys, readConfigMapValue } from './well-known.js';
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
  plural: 'configmaps',
  namespaced: true,
  schema: configMapBodySchema,
  build: (body, metadata, source): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata, data: body.data, binaryData: body.binaryData, source }),
});


