import { isIP } from 'node:net';
import { z } from 'zod';
import type { DeepReadonly } from './deep-readonly.js';
import { defineKind } from './kind-definition.js';
import { objectMetaSchema, type ObjectMeta } from './object-meta.js';
import { portNameSchema, portNumberSchema, protocolSchema } from './ports.js';

const ipSchema = z.string().refine((s) => isIP(s) !== 0, 'expected an IPv4 or IPv6 address');

const containerPortSchema = z.object({
  name: portNameSchema.optional(),
  containerPort: portNumberSchema,
  protocol: protocolSchema.default('TCP'),
});

const containerSchema = z.object({
  name: z.string().min(1),
  ports: z.array(containerPortSchema).default([]),
});

const podConditionSchema = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
});

const podSpecSchema = z.object({
  containers: z.array(containerSchema).default([]),
});

const podStatusSchema = z.object({
  phase: z.enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']).optional(),
  /** On one machine pods are told apart by loopback addresses (127.0.0.2, ...); used as is. */
  podIP: ipSchema.optional(),
  conditions: z.array(podConditionSchema).default([]),
});

const podBodySchema = z.object({
  metadata: objectMetaSchema,
  spec: podSpecSchema.prefault({}),
  status: podStatusSchema.prefault({}),
});

export type PodSpec = DeepReadonly<z.infer<typeof podSpecSchema>>;
export type PodStatus = DeepReadonly<z.infer<typeof podStatusSchema>>;

export interface Pod {
  readonly apiVersion: 'v1';
  readonly kind: 'Pod';
  readonly metadata: ObjectMeta;
  readonly spec: PodSpec;
  readonly status: PodStatus;
  readonly source: string;
}

export const podKind = defineKind({
  apiVersion: 'v1',
  kind: 'Pod',
  plural: 'pods',
  namespaced: true,
  schema: podBodySchema,
  build: (body, metadata, source): Pod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata,
    spec: body.spec,
    status: body.status,
    source,
  }),
});
