import { z } from 'zod';
import type { DeepReadonly } from './deep-readonly.js';
import { defineKind } from './kind-definition.js';
import { objectMetaSchema, type ObjectMeta } from './object-meta.js';
import { objectReferenceSchema } from './object-reference.js';
import { portNumberSchema, protocolSchema } from './ports.js';

const endpointAddressSchema = z.object({
  ip: z.string().min(1),
  hostname: z.string().optional(),
  targetRef: objectReferenceSchema.optional(),
});

const endpointPortSchema = z.object({
  name: z.string().optional(),
  port: portNumberSchema,
  protocol: protocolSchema.default('TCP'),
  appProtocol: z.string().optional(),
});

const endpointSubsetSchema = z.object({
  addresses: z.array(endpointAddressSchema).default([]),
  /** Not ready: never receives traffic. */
  notReadyAddresses: z.array(endpointAddressSchema).default([]),
  ports: z.array(endpointPortSchema).default([]),
});

const endpointsBodySchema = z.object({
  metadata: objectMetaSchema,
  subsets: z.array(endpointSubsetSchema).default([]),
});

export type EndpointSubset = DeepReadonly<z.infer<typeof endpointSubsetSchema>>;

/** core/v1 Endpoints (the pre-EndpointSlice API; still what hand-written configs often use). */
export interface Endpoints {
  readonly apiVersion: 'v1';
  readonly kind: 'Endpoints';
  readonly metadata: ObjectMeta;
  readonly subsets: readonly EndpointSubset[];
  readonly source: string;
}

export const endpointsKind = defineKind({
  apiVersion: 'v1',
  kind: 'Endpoints',
  plural: 'endpoints',
  namespaced: true,
  schema: endpointsBodySchema,
  build: (body, metadata, source): Endpoints => ({
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata,
    subsets: body.subsets,
    source,
  }),
});
