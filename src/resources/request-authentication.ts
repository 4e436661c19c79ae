// Istio RequestAuthentication (security.istio.io v1 and v1beta1: one spec): the JWTs a workload
// accepts. Validated with zod, as the networking kinds are (istio-kinds.ts: Istio's schema
// package needs Node 22). Fields are checked for shape; the translator reads their meaning.
import { z } from 'zod';
import type { DeepReadonly } from './deep-readonly.js';
import { defineKind, type KindDefinition } from './kind-definition.js';
import { objectMetaSchema, type ObjectMeta } from './object-meta.js';

export const ISTIO_SECURITY_GROUP = 'security.istio.io';
export const ISTIO_SECURITY_VERSIONS = ['security.istio.io/v1', 'security.istio.io/v1beta1'] as const;
export type IstioSecurityApiVersion = (typeof ISTIO_SECURITY_VERSIONS)[number];

const jwtRuleSchema = z.object({
  issuer: z.string().min(1),
  audiences: z.array(z.string()).optional(),
  jwksUri: z.string().optional(),
  /** A JSON Web Key Set as a JSON string (Istio's form). */
  jwks: z.string().optional(),
  fromHeaders: z.array(z.object({ name: z.string().min(1), prefix: z.string().optional() })).optional(),
  fromParams: z.array(z.string().min(1)).optional(),
  fromCookies: z.array(z.string()).optional(),
  outputPayloadToHeader: z.string().optional(),
  forwardOriginalToken: z.boolean().optional(),
  outputClaimToHeaders: z.array(z.object({ header: z.string().min(1), claim: z.string().min(1) })).optional(),
  timeout: z.string().optional(),
});

const targetRefSchema = z.object({ group: z.string().optional(), kind: z.string(), name: z.string(), namespace: z.string().optional() });

const requestAuthenticationSpecSchema = z.object({
  selector: z.object({ matchLabels: z.record(z.string(), z.string()).default({}) }).optional(),
  targetRef: targetRefSchema.optional(),
  targetRefs: z.array(targetRefSchema).optional(),
  jwtRules: z.array(jwtRuleSchema).default([]),
});

export type RequestAuthenticationSpec = DeepReadonly<z.infer<typeof requestAuthenticationSpecSchema>>;
export type IstioJwtRule = RequestAuthenticationSpec['jwtRules'][number];

export interface RequestAuthentication {
  readonly apiVersion: IstioSecurityApiVersion;
  readonly kind: 'RequestAuthentication';
  readonly metadata: ObjectMeta;
  readonly spec: RequestAuthenticationSpec;
  readonly source: string;
}

export const requestAuthenticationKinds: readonly KindDefinition<RequestAuthentication>[] = ISTIO_SECURITY_VERSIONS.map((apiVersion) =>
  defineKind({
    apiVersion,
    kind: 'RequestAuthentication',
    plural: 'requestauthentications',
    namespaced: true,
    schema: z.object({ metadata: objectMetaSchema, spec: requestAuthenticationSpecSchema }),
    build: (b, metadata, source): RequestAuthentication => ({ apiVersion, kind: 'RequestAuthentication', metadata, spec: b.spec, source }),
  }),
);
