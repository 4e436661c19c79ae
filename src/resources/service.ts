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
    // What kube-proxy reads (src/kubeproxy/): the Service's virtual addresses and traffic policies.
    /** `None` for a headless Service; absent in a file-mode Service that never had one allocated. */
    clusterIP: z.string().min(1).optional(),
    /** Dual-stack: `clusterIPs[0]` is `clusterIP`. */
    clusterIPs: z.array(z.string().min(1)).max(2).optional(),
    ipFamilies: z.array(z.enum(['IPv4', 'IPv6'])).max(2).optional(),
    externalIPs: z.array(z.string().min(1)).optional(),
    loadBalancerIP: z.string().min(1).optional(),
    /** Which load-balancer implementation serves this Service (KEP-1959); absent: the default one. */
    loadBalancerClass: z.string().min(1).optional(),
    loadBalancerSourceRanges: z.array(z.string().min(1)).optional(),
    sessionAffinity: z.enum(['None', 'ClientIP']).default('None'),
    sessionAffinityConfig: z.object({ clientIP: z.object({ timeoutSeconds: z.number().int().min(1).max(86_400).optional() }).optional() }).optional(),
    externalTrafficPolicy: z.enum(['Cluster', 'Local']).optional(),
    internalTrafficPolicy: z.enum(['Cluster', 'Local']).optional(),
    healthCheckNodePort: z.number().int().optional(),
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

const serviceStatusSchema = z.object({
  loadBalancer: z
    .object({ ingress: z.array(z.object({ ip: z.string().min(1).optional(), hostname: z.string().min(1).optional() })).default([]) })
    .prefault({}),
});

const serviceBodySchema = z.object({
  metadata: objectMetaSchema,
  spec: serviceSpecSchema.prefault({}),
  status: serviceStatusSchema.optional(),
});

export type ServicePort = DeepReadonly<z.infer<typeof servicePortSchema>>;
export type ServiceSpec = DeepReadonly<z.infer<typeof serviceSpecSchema>>;
export type ServiceStatus = DeepReadonly<z.infer<typeof serviceStatusSchema>>;

export interface Service {
  readonly apiVersion: 'v1';
  readonly kind: 'Service';
  readonly metadata: ObjectMeta;
  readonly spec: ServiceSpec;
  /** The load balancer's addresses (`status.loadBalancer.ingress`), when something wrote them. */
  readonly status?: ServiceStatus;
  readonly source: string;
}

export const serviceKind = defineKind({
  apiVersion: 'v1',
  kind: 'Service',
  plural: 'services',
  namespaced: true,
  schema: serviceBodySchema,
  build: (body, metadata, source): Service =>
    body.status === undefined ? { apiVersion: 'v1', kind: 'Service', metadata, spec: body.spec, source } : { apiVersion: 'v1', kind: 'Service', metadata, spec: body.spec, status: body.status, source },
});
