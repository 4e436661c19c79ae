import { z } from 'zod';
import type { DeepReadonly } from './deep-readonly.js';
import { defineKind } from './kind-definition.js';
import { objectMetaSchema, objectNameSchema, type ObjectMeta } from './object-meta.js';
import { portNumberSchema } from './ports.js';

/** The annotation that named the class before `spec.ingressClassName` existed (still honoured). */
export { INGRESS_CLASS_ANNOTATION } from './well-known.js';

// Field rules follow the API server's ValidateIngress (k8s.io/kubernetes pkg/apis/networking/
// validation). Host and path syntax are checked by the translator instead, so that a bad host or
// path drops only its rule or path (partial acceptance) rather than the whole object.

const serviceBackendPortSchema = z
  .object({ name: z.string().min(1).optional(), number: portNumberSchema.optional() })
  .superRefine((port, ctx) => {
    if ((port.name === undefined) === (port.number === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'expected exactly one of port.name or port.number' });
    }
  });

const ingressBackendSchema = z
  .object({
    service: z.object({ name: objectNameSchema, port: serviceBackendPortSchema }).optional(),
    resource: z.object({ apiGroup: z.string().optional(), kind: z.string().min(1), name: z.string().min(1) }).optional(),
  })
  .superRefine((backend, ctx) => {
    if ((backend.service === undefined) === (backend.resource === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'expected exactly one of backend.service or backend.resource' });
    }
  });

const httpIngressPathSchema = z.object({
  /** Required for Exact and Prefix; ImplementationSpecific may leave it out (then it means `/`). */
  path: z.string().optional(),
  pathType: z.enum(['Exact', 'Prefix', 'ImplementationSpecific']),
  backend: ingressBackendSchema,
});

const ingressRuleSchema = z.object({
  host: z.string().optional(),
  http: z.object({ paths: z.array(httpIngressPathSchema).min(1) }).optional(),
});

const ingressTlsSchema = z.object({
  hosts: z.array(z.string()).default([]),
  secretName: z.string().min(1).optional(),
});

const ingressSpecSchema = z
  .object({
    ingressClassName: z.string().min(1).optional(),
    defaultBackend: ingressBackendSchema.optional(),
    tls: z.array(ingressTlsSchema).default([]),
    rules: z.array(ingressRuleSchema).default([]),
  })
  .superRefine((spec, ctx) => {
    if (spec.defaultBackend === undefined && spec.rules.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'expected spec.rules or spec.defaultBackend (or both)' });
    }
  });

const ingressBodySchema = z.object({ metadata: objectMetaSchema, spec: ingressSpecSchema });

export type IngressBackend = DeepReadonly<z.infer<typeof ingressBackendSchema>>;
export type HttpIngressPath = DeepReadonly<z.infer<typeof httpIngressPathSchema>>;
export type IngressRule = DeepReadonly<z.infer<typeof ingressRuleSchema>>;
export type IngressTls = DeepReadonly<z.infer<typeof ingressTlsSchema>>;
export type IngressSpec = DeepReadonly<z.infer<typeof ingressSpecSchema>>;
export type PathType = HttpIngressPath['pathType'];

export interface Ingress {
  readonly apiVersion: 'networking.k8s.io/v1';
  readonly kind: 'Ingress';
  readonly metadata: ObjectMeta;
  readonly spec: IngressSpec;
  readonly source: string;
}

export const ingressKind = defineKind({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  plural: 'ingresses',
  namespaced: true,
  schema: ingressBodySchema,
  build: (body, metadata, source): Ingress => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata,
    spec: body.spec,
    source,
  }),
});
