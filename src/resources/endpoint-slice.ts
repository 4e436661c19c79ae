import { z } from 'zod';
import type { DeepReadonly } from './deep-readonly.js';
import { defineKind } from './kind-definition.js';
import { objectMetaSchema, type ObjectMeta } from './object-meta.js';
import { objectReferenceSchema } from './object-reference.js';
import { portNumberSchema, protocolSchema } from './ports.js';

/** The label that ties an EndpointSlice to its Service (discovery.k8s.io/v1 LabelServiceName). */
export { SERVICE_NAME_LABEL } from './well-known.js';

const endpointSchema = z.object({
  /** "Consumers ... may choose to only use the first element" (EndpointSlice API docs). */
  addresses: z.array(z.string().min(1)).min(1).max(100),
  conditions: z
    .object({
      /** Absent means ready ("nil should be interpreted as true", API docs). */
      ready: z.boolean().optional(),
      serving: z.boolean().optional(),
      terminating: z.boolean().optional(),
    })
    .prefault({}),
  targetRef: objectReferenceSchema.optional(),
  /** The node the endpoint runs on: kube-proxy's Local traffic policies keep traffic on it. */
  nodeName: z.string().min(1).optional(),
  zone: z.string().min(1).optional(),
  hostname: z.string().min(1).optional(),
});

const endpointPortSchema = z.object({
  /** Matches the Service port's name; empty for a Service's single unnamed port. */
  name: z.string().optional(),
  /** Absent means "all ports" in the API; a proxy cannot connect to that, so such ports are skipped. */
  port: portNumberSchema.optional(),
  protocol: protocolSchema.default('TCP'),
  appProtocol: z.string().optional(),
});

const endpointSliceBodySchema = z.object({
  metadata: objectMetaSchema,
  addressType: z.enum(['IPv4', 'IPv6', 'FQDN']),
  endpoints: z.array(endpointSchema).default([]),
  ports: z.array(endpointPortSchema).default([]),
});

export type SliceEndpoint = DeepReadonly<z.infer<typeof endpointSchema>>;
export type SlicePort = DeepReadonly<z.infer<typeof endpointPortSchema>>;

export interface EndpointSlice {
  readonly apiVersion: 'discovery.k8s.io/v1';
  readonly kind: 'EndpointSlice';
  readonly metadata: ObjectMeta;
  readonly addressType: 'IPv4' | 'IPv6' | 'FQDN';
  readonly endpoints: readonly SliceEndpoint[];
  readonly ports: readonly SlicePort[];
  readonly source: string;
}

export const endpointSliceKind = defineKind({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  plural: 'endpointslices',
  namespaced: true,
  schema: endpointSliceBodySchema,
  build: (body, metadata, source): EndpointSlice => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata,
    addressType: body.addressType,
    endpoints: body.endpoints,
    ports: body.ports,
    source,
  }),
});
