import { z } from 'zod';
import { defineKind } from './kind-definition.js';
import { objectMetaSchema, type ObjectMeta } from './object-meta.js';

/** Marks the IngressClass used by Ingresses that name none (networking.k8s.io/v1). */
export { DEFAULT_INGRESS_CLASS_ANNOTATION, isDefaultIngressClass } from './well-known.js';

const ingressClassBodySchema = z.object({
  metadata: objectMetaSchema,
  spec: z.object({
    /** The controller that implements the class, e.g. `isthmus.dev/ingress-controller`. */
    controller: z.string().min(1),
  }),
});

export interface IngressClass {
  readonly apiVersion: 'networking.k8s.io/v1';
  readonly kind: 'IngressClass';
  readonly metadata: ObjectMeta;
  readonly spec: { readonly controller: string };
  readonly source: string;
}

export const ingressClassKind = defineKind({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'IngressClass',
  plural: 'ingressclasses',
  namespaced: false,
  schema: ingressClassBodySchema,
  build: (body, metadata, source): IngressClass => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata,
    spec: { controller: body.spec.controller },
    source,
  }),
});

