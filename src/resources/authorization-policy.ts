// Istio AuthorizationPolicy (security.istio.io v1 and v1beta1: one spec): allow and deny rules
// for the workloads its selector picks. Validated with zod, as RequestAuthentication is; fields
// are checked for shape, the translator (translate/apim/authorization-policy.ts) reads their
// meaning and says which ones an edge gateway cannot honour.
import { z } from 'zod';
import type { DeepReadonly } from './deep-readonly.js';
import { defineKind, type KindDefinition } from './kind-definition.js';
import { objectMetaSchema, type ObjectMeta } from './object-meta.js';
import { ISTIO_SECURITY_VERSIONS, type IstioSecurityApiVersion } from './request-authentication.js';

const strings = z.array(z.string()).optional();

const sourceSchema = z.object({
  principals: strings,
  notPrincipals: strings,
  requestPrincipals: strings,
  notRequestPrincipals: strings,
  namespaces: strings,
  notNamespaces: strings,
  serviceAccounts: strings,
  notServiceAccounts: strings,
  ipBlocks: strings,
  notIpBlocks: strings,
  remoteIpBlocks: strings,
  notRemoteIpBlocks: strings,
});

const operationSchema = z.object({
  hosts: strings,
  notHosts: strings,
  ports: strings,
  notPorts: strings,
  methods: strings,
  notMethods: strings,
  paths: strings,
  notPaths: strings,
});

const conditionSchema = z.object({ key: z.string().min(1), values: strings, notValues: strings });

const ruleSchema = z.object({
  from: z.array(z.object({ source: sourceSchema.default({}) })).optional(),
  to: z.array(z.object({ operation: operationSchema.default({}) })).optional(),
  when: z.array(conditionSchema).optional(),
});

const targetRefSchema = z.object({ group: z.string().optional(), kind: z.string(), name: z.string(), namespace: z.string().optional() });

const authorizationPolicySpecSchema = z.object({
  selector: z.object({ matchLabels: z.record(z.string(), z.string()).default({}) }).optional(),
  targetRef: targetRefSchema.optional(),
  targetRefs: z.array(targetRefSchema).optional(),
  // Istio's default action is ALLOW.
  action: z.enum(['ALLOW', 'DENY', 'AUDIT', 'CUSTOM']).default('ALLOW'),
  provider: z.object({ name: z.string() }).optional(),
  // Absent rules differ from `rules: []` in nothing: an ALLOW policy without rules allows nothing.
  rules: z.array(ruleSchema).default([]),
});

export type AuthorizationPolicySpec = DeepReadonly<z.infer<typeof authorizationPolicySpecSchema>>;
export type IstioAuthzRule = AuthorizationPolicySpec['rules'][number];
export type IstioAuthzSource = DeepReadonly<z.infer<typeof sourceSchema>>;
export type IstioAuthzOperation = DeepReadonly<z.infer<typeof operationSchema>>;

export interface AuthorizationPolicy {
  readonly apiVersion: IstioSecurityApiVersion;
  readonly kind: 'AuthorizationPolicy';
  readonly metadata: ObjectMeta;
  readonly spec: AuthorizationPolicySpec;
  readonly source: string;
}

export const authorizationPolicyKinds: readonly KindDefinition<AuthorizationPolicy>[] = ISTIO_SECURITY_VERSIONS.map((apiVersion) =>
  defineKind({
    apiVersion,
    kind: 'AuthorizationPolicy',
    plural: 'authorizationpolicies',
    namespaced: true,
    // `spec: {}` (or none) is Istio's allow-nothing policy.
    schema: z.object({ metadata: objectMetaSchema, spec: authorizationPolicySpecSchema.default({ action: 'ALLOW', rules: [] }) }),
    build: (b, metadata, source): AuthorizationPolicy => ({ apiVersion, kind: 'AuthorizationPolicy', metadata, spec: b.spec, source }),
  }),
);
