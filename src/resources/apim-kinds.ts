// API management kinds (isthmus.dev/v1alpha1): Consumer, Plan, AuthPolicy, AccessPolicy, RateLimitPolicy, API, TransformPolicy.
// Each is validated against the schema of its CRD in deploy/crds/ (crd-schema.ts), the same one
// a cluster enforces; the spec types below describe what that schema admits. Defaults the CRD
// declares are applied by the translator (a file has no API server to apply them).
import type { DeepReadonly } from './deep-readonly.js';
import { defineKind, type KindDefinition } from './kind-definition.js';
import type { ObjectMeta } from './object-meta.js';
import { crdValidator } from './crd-schema.js';
import { upstreamBodySchema } from './upstream-schema.js';

export const APIM_GROUP = 'isthmus.dev';
export const APIM_VERSION = 'isthmus.dev/v1alpha1';

/** Gateway API LocalPolicyTargetReferenceWithSectionName. */
export interface PolicyTargetRef {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  readonly sectionName?: string;
}

export interface SecretRef {
  readonly name: string;
}

export type ConsumerSpec = DeepReadonly<{
  displayName?: string;
  groups?: string[];
  plan?: string;
  apiKeys?: { secretRef: SecretRef }[];
  jwtSubjects?: string[];
  basicAuth?: { secretRef: SecretRef };
  /** Client certificates (mutual TLS at the listener) that are this Consumer: exactly one of the two fields each. */
  clientCertificates?: { sha256Fingerprint?: string; subject?: string }[];
}>;

export type LimitScope = 'local' | 'global';

export type PlanSpec = DeepReadonly<{
  rateLimits?: { requests: number; period: string; scope?: LimitScope }[];
  quota?: { requestsPerDay?: number; requestsPerMonth?: number };
  pricePerRequest?: string;
}>;

export type JwtAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA';

export type AuthPolicySpec = DeepReadonly<{
  targetRefs: PolicyTargetRef[];
  /** Optional when `externalAuth` is set (a CEL rule): the external service then decides alone. */
  methods?: {
    apiKey?: { header?: string; query?: string; cookie?: string };
    jwt?: {
      issuer: string;
      audiences?: string[];
      jwksUri?: string;
      jwks?: { keys: Record<string, unknown>[] };
      algorithms?: JwtAlgorithm[];
      clockSkew?: string;
      consumerClaim?: string;
      fromHeader?: { name: string; prefix?: string };
      fromQuery?: string;
    };
    basic?: Record<string, never>;
    clientCertificate?: Record<string, never>;
    oidc?: {
      issuer: string;
      clientId: string;
      clientSecretRef: SecretRef;
      tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post';
      redirectPath?: string;
      logoutPath?: string;
      postLogoutRedirectUri?: string;
      scopes?: string[];
      cookieName?: string;
      cookieSecretRef: SecretRef;
      sessionLifetime?: string;
      clockSkew?: string;
      consumerClaim?: string;
    };
  };
  allowAnonymous?: boolean;
  realm?: string;
  forward?: { consumerHeader?: string; groupsHeader?: string; claims?: Record<string, string> };
  externalAuth?: {
    url: string;
    timeout?: string;
    failureMode?: 'closed' | 'open';
    statusOnError?: number;
    requestHeaders?: string[];
    upstreamHeaders?: string[];
    clientHeaders?: string[];
  };
}>;

/** One AccessPolicy rule: every field given must hold; within a field, any one value. */
export type AccessRule = DeepReadonly<{
  consumers?: string[];
  notConsumers?: string[];
  groups?: string[];
  notGroups?: string[];
  claims?: Record<string, string[]>;
  notClaims?: Record<string, string[]>;
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
  hosts?: string[];
  notHosts?: string[];
  clientIPs?: string[];
  notClientIPs?: string[];
  headers?: Record<string, string[]>;
  notHeaders?: Record<string, string[]>;
}>;

export type AccessPolicySpec = DeepReadonly<{
  targetRefs: PolicyTargetRef[];
  rules: { allow?: AccessRule[]; deny?: AccessRule[] };
}>;

export type LimitKeyKind = 'route' | 'consumer' | 'clientIP' | 'header' | 'claim';

export type RateLimitPolicySpec = DeepReadonly<{
  targetRefs: PolicyTargetRef[];
  limits: { requests: number; period: string; by?: { kind: LimitKeyKind; name?: string }; scope?: LimitScope }[];
  onStoreFailure?: 'open' | 'closed';
}>;

export type ApiStage = 'draft' | 'published' | 'deprecated' | 'retired';

/** Where an API version's OpenAPI document is, and what the gateway does with it (docs/api-management.md#openapi). */
export type ApiOpenApi = DeepReadonly<{
  /** Exactly one of configMapRef and file (the CRD's CEL rule; the translator checks it). */
  configMapRef?: { name: string; key?: string };
  /** Standalone (file) mode only: relative to the declaring YAML file's folder, inside the config folders. */
  file?: string;
  /** Prepended to every path of the document; default: the path of `servers[0].url`. */
  pathPrefix?: string;
  validate?: { requests?: boolean; maxBodyBytes?: number };
  generateRoutes?: {
    parentRefs: { group?: string; kind?: string; namespace?: string; name: string; sectionName?: string; port?: number }[];
    hostnames?: string[];
    backendRef: { name: string; namespace?: string; port: number };
  };
}>;

export type ApiSpec = DeepReadonly<{
  displayName?: string;
  deprecationPolicy?: string;
  /** `routes` may be left out only when `openapi.generateRoutes` makes them (checked by the translator). */
  versions: { name: string; stage: ApiStage; deprecatedAt?: string; sunsetAt?: string; successor?: string; routes?: PolicyTargetRef[]; openapi?: ApiOpenApi }[];
}>;
export type ApiVersion = ApiSpec['versions'][number];

/** Header edits; values are templates (`${consumer}`, `${claims.email}`, ...: docs/api-management.md). */
export type HeaderTransformSpec = DeepReadonly<{
  set?: { name: string; value: string }[];
  add?: { name: string; value: string }[];
  remove?: string[];
}>;

/** JSON body edits; paths are dot-separated keys (`a.b`). A string value is a template. */
export type JsonBodyTransformSpec = DeepReadonly<{
  set?: { path: string; value: unknown }[];
  remove?: string[];
  rename?: { from: string; to: string }[];
}>;

export type TransformPolicySpec = DeepReadonly<{
  targetRefs: PolicyTargetRef[];
  request?: {
    headers?: HeaderTransformSpec;
    body?: { json: JsonBodyTransformSpec; maxBytes?: number };
    path?: { replacePrefix?: string; replaceFull?: string };
  };
  response?: {
    headers?: HeaderTransformSpec;
    body?: { json: JsonBodyTransformSpec; maxBytes?: number };
  };
}>;

interface ApimObject<K extends string, S> {
  readonly apiVersion: typeof APIM_VERSION;
  readonly kind: K;
  readonly metadata: ObjectMeta;
  readonly spec: S;
  readonly source: string;
}

export type Consumer = ApimObject<'Consumer', ConsumerSpec>;
export type Plan = ApimObject<'Plan', PlanSpec>;
export type AuthPolicy = ApimObject<'AuthPolicy', AuthPolicySpec>;
export type AccessPolicy = ApimObject<'AccessPolicy', AccessPolicySpec>;
export type RateLimitPolicy = ApimObject<'RateLimitPolicy', RateLimitPolicySpec>;
export type Api = ApimObject<'API', ApiSpec>;
export type TransformPolicy = ApimObject<'TransformPolicy', TransformPolicySpec>;
export type ApimResource = Consumer | Plan | AuthPolicy | AccessPolicy | RateLimitPolicy | Api | TransformPolicy;

function apimKind<K extends ApimResource['kind'], S>(kind: K): KindDefinition<ApimObject<K, S>> {
  const crd = crdValidator(APIM_VERSION, kind);
  return defineKind({
    apiVersion: APIM_VERSION,
    kind,
    plural: crd.plural,
    namespaced: crd.namespaced,
    schema: upstreamBodySchema<S>(crd.validate),
    build: (body, metadata, source): ApimObject<K, S> => ({ apiVersion: APIM_VERSION, kind, metadata, spec: body.spec, source }),
  });
}

export const consumerKind = apimKind<'Consumer', ConsumerSpec>('Consumer');
export const planKind = apimKind<'Plan', PlanSpec>('Plan');
export const authPolicyKind = apimKind<'AuthPolicy', AuthPolicySpec>('AuthPolicy');
export const accessPolicyKind = apimKind<'AccessPolicy', AccessPolicySpec>('AccessPolicy');
export const rateLimitPolicyKind = apimKind<'RateLimitPolicy', RateLimitPolicySpec>('RateLimitPolicy');
export const apiKind = apimKind<'API', ApiSpec>('API');

export const transformPolicyKind = apimKind<'TransformPolicy', TransformPolicySpec>('TransformPolicy');

export const apimKindDefinitions: readonly KindDefinition<ApimResource>[] = [consumerKind, planKind, authPolicyKind, accessPolicyKind, rateLimitPolicyKind, apiKind, transformPolicyKind];
