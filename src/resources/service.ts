import { z } from 'zod';
import type { DeepReadonly } from './deep-readonly.js';
import { defineKind } from './kind-definition.js';
import { objectMetaSchema, type ObjectMeta } from './object-meta.js';
import { portNumberOrNameSchema, portNumberSchema, protocolSchema } from './ports.js';

const servicePortSchema = z.object({
  name: z.string().optional(),
  protocol: protocolSchema.default('TCP'),
  /** `kubernetes.io/h2c`, `kubernetes.io/ws`, `https`, ... (KEP-3726 standard names). */
  appProtocol: z.string().optional(),
  port: portNumberSchema,
  /** Absent means the same number as `port` (Kubernetes' defaulting). */
  targetPort: portNumberOrNameSchema.optional(),
  nodePort: z.number().int().optional(),
});

const serviceSpecSchema = z
  .object({
    type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']).default('ClusterIP'),
    selector: z.record(z.string(), z.string()).optional(),
    ports: z.array(servicePortSchema).default([]),
    externalName: z.string().min(1).optional(),
    publishNotReadyAddresses: z.boolean().default(false),
  })
  .superRefine((spec, ctx) => {
    // Same rules as the API server's ValidateService.
    if (spec.type === 'ExternalName' && spec.externalName === undefined) {
      ctx.addIssue({ code: 'custom', path: ['externalName'], message: 'required when type is ExternalName' });
    }
    const seen = new Set<string>();
    spec.ports.forEach((port, i) => {
      if (spec.ports.length > 1 && !port.name) {
        ctx.addIssue({ code: 'custom', path: ['ports', i, 'name'], message: 'required when a Service has more than one port' });
      }
      if (port.name !== undefined && seen.has(port.name)) {
        ctx.addIssue({ code: 'custom', path: ['ports', i, 'name'], message: `duplicate port name "${port.name}"` });
      }
      if (port.name !== undefined) seen.add(port.name);
    });
  });

const serviceBodySchema = z.object({
  metadata: objectMetaSchema,
  spec: serviceSpecSchema.prefault({}),
});

export type ServicePort = DeepReadonly<z.infer<typeof servicePortSchema>>;
export type ServiceSpec = DeepReadonly<z.infer<typeof serviceSpecSchema>>;

export interface Service {
  readonly apiVersion: 'v1';
  readonly kind: 'Service';
  readonly metadata: ObjectMeta;
  readonly spec: ServiceSpec;
  readonly source: string;
}

export const serviceKind = defineKind({
  apiVersion: 'v1',
  kind: 'Service',
  plural: 'services',
  namespaced: true,
  schema: serviceBodySchema,
  build: (body, metadata, source): Service => ({ apiVersion: 'v1', kind: 'Service', metadata, spec: body.spec, source }),
});
