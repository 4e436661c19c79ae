import { z } from 'zod';

// Kubernetes' own name rules (apimachinery validation), so a file that `kubectl apply` would refuse
// is refused here too, with the field path.
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const objectNameSchema = z
  .string()
  .max(253)
  .regex(DNS1123_SUBDOMAIN, 'expected a lower-case DNS subdomain name (RFC 1123), e.g. "my-app"');

export const namespaceNameSchema = z
  .string()
  .max(63)
  .regex(DNS1123_LABEL, 'expected a lower-case DNS label (RFC 1123), e.g. "default"');

/** RFC 3339 as Kubernetes writes it (`2024-05-01T10:00:00Z`); kept as a string, compared by time. */
export const timestampSchema = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), 'expected an RFC 3339 timestamp, e.g. "2024-05-01T10:00:00Z"');

const stringMapSchema = z.record(z.string(), z.string());

export const objectMetaSchema = z.object({
  name: objectNameSchema,
  namespace: namespaceNameSchema.optional(),
  labels: stringMapSchema.default({}),
  annotations: stringMapSchema.default({}),
  creationTimestamp: timestampSchema.optional(),
  /** Bumped by the API server on every spec change; conditions report the one they describe. */
  generation: z.number().int().nonnegative().optional(),
  deletionTimestamp: timestampSchema.optional(),
});

/**
 * Metadata after loading: namespaced kinds always have a namespace ("default" when the file did
 * not say, as kubectl does); cluster-scoped kinds (Namespace, IngressClass) never have one.
 */
export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly creationTimestamp?: string;
  readonly generation?: number;
  readonly deletionTimestamp?: string;
}

export const DEFAULT_NAMESPACE = 'default';
