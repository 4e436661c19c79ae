import { z } from 'zod';
import { defineKind } from './kind-definition.js';
import { objectMetaSchema, type ObjectMeta } from './object-meta.js';

export { readSecretValue, TLS_SECRET_TYPE } from './well-known.js';

// Secret `data` values are standard base64 (Go's encoding/json []byte, which skips CR/LF).
const base64Schema = z
  .string()
  .refine((s) => {
    const compact = s.replace(/[\r\n]/g, '');
    return compact.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(compact);
  }, 'expected standard base64 (use stringData for plain text)');

const secretBodySchema = z.object({
  metadata: objectMetaSchema,
  type: z.string().default('Opaque'),
  data: z.record(z.string(), base64Schema).default({}),
  /** Plain-text values; on write Kubernetes merges them into data, overriding the same keys. */
  stringData: z.record(z.string(), z.string()).default({}),
});

export interface Secret {
  readonly apiVersion: 'v1';
  readonly kind: 'Secret';
  readonly metadata: ObjectMeta;
  readonly type: string;
  /** Base64 values as written. */
  readonly data: Readonly<Record<string, string>>;
  readonly stringData: Readonly<Record<string, string>>;
  readonly source: string;
}

export const secretKind = defineKind({
  apiVersion: 'v1',
  kind: 'Secret',
  plural: 'secrets',
  namespaced: true,
  schema: secretBodySchema,
  build: (body, metadata, source): Secret => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata,
    type: body.type,
    data: body.data,
    stringData: body.stringData,
    source,
  }),
});

