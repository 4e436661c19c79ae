// Istio networking kinds (networking.istio.io v1, v1beta1 and v1alpha3: one spec, three versions):
// Gateway, VirtualService, DestinationRule, ServiceEntry. Validated with zod: the npm package that ships Istio's
// CRD schemas (@kubernetes-models/istio 3.x) needs Node 22, and Isthmus runs on Node 20.
// Fields are checked for shape only; meaning (hosts, regexes, references) is the translator's,
// so a bad value drops the smallest unit instead of the whole object. Fields the translator does
// not implement yet are still read (as `unknown`) so it can say "not yet" rather than stay silent.
import { z } from 'zod';
import type { DeepReadonly } from './deep-readonly.js';
import { defineKind, type KindDefinition } from './kind-definition.js';
import { objectMetaSchema, type ObjectMeta } from './object-meta.js';

export const ISTIO_GROUP = 'networking.istio.io';
import { ISTIO_VERSIONS, type IstioApiVersion } from './well-known.js';

export { ISTIO_VERSIONS, isIstioApiVersion, type IstioApiVersion } from './well-known.js';

const unknownField = z.unknown().optional();

const stringMatchSchema = z.object({ exact: z.string().optional(), prefix: z.string().optional(), regex: z.string().optional() });

// --- Gateway ---------------------------------------------------------------------------------

const serverTlsSchema = z.object({
  httpsRedirect: z.boolean().optional(),
  mode: z.enum(['PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL']).optional(),
  credentialName: z.string().optional(),
  credentialNames: z.array(z.string()).optional(),
  serverCertificate: z.string().optional(),
  privateKey: z.string().optional(),
  caCertificates: z.string().optional(),
  caCrl: z.string().optional(),
  subjectAltNames: z.array(z.string()).optional(),
  minProtocolVersion: z.string().optional(),
  maxProtocolVersion: z.string().optional(),
  cipherSuites: z.array(z.string()).optional(),
});

const serverSchema = z.object({
  port: z.object({ number: z.number().int().min(1).max(65535), protocol: z.string(), name: z.string().optional(), targetPort: z.number().int().optional() }),
  bind: z.string().optional(),
  hosts: z.array(z.string()).min(1),
  tls: serverTlsSchema.optional(),
  name: z.string().optional(),
  defaultEndpoint: z.string().optional(),
});

const gatewaySpecSchema = z.object({
  servers: z.array(serverSchema).default([]),
  selector: z.record(z.string(), z.string()).default({}),
});

// --- VirtualService --------------------------------------------------------------------------

const portSelectorSchema = z.object({ number: z.number().int().min(1).max(65535).optional() });
const destinationSchema = z.object({ host: z.string().min(1), subset: z.string().optional(), port: portSelectorSchema.optional() });
const headerOpsSchema = z.object({
  set: z.record(z.string(), z.string()).optional(),
  add: z.record(z.string(), z.string()).optional(),
  remove: z.array(z.string()).optional(),
});
const headersSchema = z.object({ request: headerOpsSchema.optional(), response: headerOpsSchema.optional() });

const httpMatchSchema = z.object({
  name: z.string().optional(),
  uri: stringMatchSchema.optional(),
  scheme: stringMatchSchema.optional(),
  method: stringMatchSchema.optional(),
  authority: stringMatchSchema.optional(),
  headers: z.record(z.string(), stringMatchSchema).optional(),
  port: z.number().int().optional(),
  sourceLabels: z.record(z.string(), z.string()).optional(),
  gateways: z.array(z.string()).optional(),
  queryParams: z.record(z.string(), stringMatchSchema).optional(),
  ignoreUriCase: z.boolean().optional(),
  withoutHeaders: z.record(z.string(), stringMatchSchema).optional(),
  sourceNamespace: z.string().optional(),
  statPrefix: z.string().optional(),
});

const httpRouteSchema = z.object({
  name: z.string().optional(),
  match: z.array(httpMatchSchema).optional(),
  route: z.array(z.object({ destination: destinationSchema, weight: z.number().int().min(0).optional(), headers: headersSchema.optional() })).optional(),
  redirect: z
    .object({
      uri: z.string().optional(),
      /** Replaces the matched prefix (the whole path after an exact match), Envoy's redirect prefix_rewrite. */
      prefixRewrite: z.string().optional(),
      authority: z.string().optional(),
      port: z.number().int().optional(),
      derivePort: z.enum(['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT']).optional(),
      scheme: z.string().optional(),
      redirectCode: z.number().int().optional(),
    })
    .optional(),
  directResponse: z.object({ status: z.number().int().min(200).max(599), body: z.object({ string: z.string().optional(), bytes: z.string().optional() }).optional() }).optional(),
  delegate: z.object({ name: z.string().optional(), namespace: z.string().optional() }).optional(),
  rewrite: z.object({ uri: z.string().optional(), authority: z.string().optional(), uriRegexRewrite: z.object({ match: z.string(), rewrite: z.string() }).optional() }).optional(),
  timeout: z.string().optional(),
  retries: z.object({ attempts: z.number().int().min(0).optional(), perTryTimeout: z.string().optional(), retryOn: z.string().optional(), retryRemoteLocalities: z.boolean().optional() }).optional(),
  fault: z
    .object({
      delay: z.object({ fixedDelay: z.string().optional(), percentage: z.object({ value: z.number().min(0).max(100) }).optional(), percent: z.number().int().min(0).max(100).optional() }).optional(),
      abort: z
        .object({
          httpStatus: z.number().int().min(200).max(599).optional(),
          grpcStatus: z.string().optional(),
          http2Error: z.string().optional(),
          percentage: z.object({ value: z.number().min(0).max(100) }).optional(),
        })
        .optional(),
    })
    .optional(),
  mirror: destinationSchema.optional(),
  mirrors: z.array(z.object({ destination: destinationSchema, percentage: z.object({ value: z.number() }).optional() })).optional(),
  mirrorPercentage: z.object({ value: z.number() }).optional(),
  mirrorPercent: z.number().optional(),
  corsPolicy: z
    .object({
      allowOrigins: z.array(stringMatchSchema).optional(),
      allowOrigin: z.array(z.string()).optional(),
      allowMethods: z.array(z.string()).optional(),
      allowHeaders: z.array(z.string()).optional(),
      exposeHeaders: z.array(z.string()).optional(),
      maxAge: z.string().optional(),
      allowCredentials: z.boolean().optional(),
      unmatchedPreflights: z.string().optional(),
    })
    .optional(),
  headers: headersSchema.optional(),
});

// L4 routes (istio.io networking/v1 TLSRoute, TCPRoute): served at Gateway servers of protocol TCP
// and TLS / HTTPS in PASSTHROUGH mode (src/translate/istio/istio-l4.ts).
const l4RouteDestinationSchema = z.object({ destination: destinationSchema, weight: z.number().int().min(0).optional() });
const l4MatchBase = {
  destinationSubnets: z.array(z.string()).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  sourceLabels: z.record(z.string(), z.string()).optional(),
  gateways: z.array(z.string()).optional(),
  sourceNamespace: z.string().optional(),
};
const tlsRouteSchema = z.object({
  match: z.array(z.object({ sniHosts: z.array(z.string().min(1)).min(1), ...l4MatchBase })).min(1),
  route: z.array(l4RouteDestinationSchema).optional(),
});
const tcpRouteSchema = z.object({
  match: z.array(z.object(l4MatchBase)).optional(),
  route: z.array(l4RouteDestinationSchema).optional(),
});

const virtualServiceSpecSchema = z.object({
  hosts: z.array(z.string()).default([]),
  gateways: z.array(z.string()).optional(),
  http: z.array(httpRouteSchema).default([]),
  tls: z.array(tlsRouteSchema).optional(),
  tcp: z.array(tcpRouteSchema).optional(),
  exportTo: z.array(z.string()).optional(),
});

// --- DestinationRule -------------------------------------------------------------------------

const loadBalancerSchema = z.object({
  simple: z.enum(['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST']).optional(),
  consistentHash: z
    .object({
      httpHeaderName: z.string().optional(),
      httpCookie: z.object({ name: z.string(), path: z.string().optional(), ttl: z.string().optional() }).optional(),
      useSourceIp: z.boolean().optional(),
      httpQueryParameterName: z.string().optional(),
      ringHash: z.object({ minimumRingSize: z.number().int().optional() }).optional(),
      maglev: z.object({ tableSize: z.number().int().optional() }).optional(),
      minimumRingSize: z.number().int().optional(),
    })
    .optional(),
  localityLbSetting: unknownField,
  warmupDurationSecs: unknownField,
  warmup: unknownField,
});

const clientTlsSchema = z.object({
  mode: z.enum(['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL']).optional(),
  clientCertificate: z.string().optional(),
  privateKey: z.string().optional(),
  caCertificates: z.string().optional(),
  credentialName: z.string().optional(),
  subjectAltNames: z.array(z.string()).optional(),
  sni: z.string().optional(),
  insecureSkipVerify: z.boolean().optional(),
  caCrl: z.string().optional(),
});

const trafficPolicyBase = {
  loadBalancer: loadBalancerSchema.optional(),
  connectionPool: z.object({ tcp: z.record(z.string(), z.unknown()).optional(), http: z.record(z.string(), z.unknown()).optional() }).optional(),
  outlierDetection: z.record(z.string(), z.unknown()).optional(),
  tls: clientTlsSchema.optional(),
  tunnel: unknownField,
  proxyProtocol: unknownField,
  retryBudget: unknownField,
};

const portTrafficPolicySchema = z.object({ port: portSelectorSchema.optional(), ...trafficPolicyBase });
const trafficPolicySchema = z.object({ ...trafficPolicyBase, portLevelSettings: z.array(portTrafficPolicySchema).optional() });

const destinationRuleSpecSchema = z.object({
  host: z.string().min(1),
  trafficPolicy: trafficPolicySchema.optional(),
  subsets: z.array(z.object({ name: z.string().min(1), labels: z.record(z.string(), z.string()).default({}), trafficPolicy: trafficPolicySchema.optional() })).default([]),
  exportTo: z.array(z.string()).optional(),
  workloadSelector: unknownField,
});

// --- ServiceEntry ----------------------------------------------------------------------------

const serviceEntryPortSchema = z.object({
  number: z.number().int().min(1).max(65535),
  protocol: z.string().optional(),
  name: z.string().min(1),
  targetPort: z.number().int().min(1).max(65535).optional(),
});

/** A WorkloadEntry spec inline: where one instance of the entry's hosts runs. */
const workloadEntrySchema = z.object({
  address: z.string().optional(),
  ports: z.record(z.string(), z.number().int().min(1).max(65535)).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  network: z.string().optional(),
  locality: z.string().optional(),
  weight: z.number().int().min(0).optional(),
  serviceAccount: z.string().optional(),
});

const serviceEntrySpecSchema = z.object({
  hosts: z.array(z.string().min(1)).min(1),
  addresses: z.array(z.string()).optional(),
  ports: z.array(serviceEntryPortSchema).default([]),
  location: z.enum(['MESH_EXTERNAL', 'MESH_INTERNAL']).optional(),
  resolution: z.enum(['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN']).optional(),
  endpoints: z.array(workloadEntrySchema).optional(),
  workloadSelector: z.object({ labels: z.record(z.string(), z.string()).optional() }).optional(),
  exportTo: z.array(z.string()).optional(),
  subjectAltNames: z.array(z.string()).optional(),
});

export type IstioGatewaySpec = DeepReadonly<z.infer<typeof gatewaySpecSchema>>;
export type IstioServer = IstioGatewaySpec['servers'][number];
export type VirtualServiceSpec = DeepReadonly<z.infer<typeof virtualServiceSpecSchema>>;
export type IstioHttpRoute = VirtualServiceSpec['http'][number];
export type IstioTlsRoute = NonNullable<VirtualServiceSpec['tls']>[number];
export type IstioTcpRoute = NonNullable<VirtualServiceSpec['tcp']>[number];
export type IstioHttpMatch = NonNullable<IstioHttpRoute['match']>[number];
export type IstioStringMatch = DeepReadonly<z.infer<typeof stringMatchSchema>>;
export type IstioDestination = DeepReadonly<z.infer<typeof destinationSchema>>;
export type IstioHeaders = DeepReadonly<z.infer<typeof headersSchema>>;
export type DestinationRuleSpec = DeepReadonly<z.infer<typeof destinationRuleSpecSchema>>;
export type ServiceEntrySpec = DeepReadonly<z.infer<typeof serviceEntrySpecSchema>>;
export type ServiceEntryPort = ServiceEntrySpec['ports'][number];
export type IstioWorkloadEntry = NonNullable<ServiceEntrySpec['endpoints']>[number];
export type IstioTrafficPolicy = DeepReadonly<z.infer<typeof trafficPolicySchema>>;
export type IstioPortTrafficPolicy = DeepReadonly<z.infer<typeof portTrafficPolicySchema>>;

interface IstioObject<K extends string, S> {
  readonly apiVersion: IstioApiVersion;
  readonly kind: K;
  readonly metadata: ObjectMeta;
  readonly spec: S;
  readonly source: string;
}

/** Kind `Gateway` as Gateway API's, told apart by the group in its apiVersion (and so in its ObjectRef). */
export type IstioGateway = IstioObject<'Gateway', IstioGatewaySpec>;
export type VirtualService = IstioObject<'VirtualService', VirtualServiceSpec>;
export type DestinationRule = IstioObject<'DestinationRule', DestinationRuleSpec>;
export type ServiceEntry = IstioObject<'ServiceEntry', ServiceEntrySpec>;
export type IstioResource = IstioGateway | VirtualService | DestinationRule | ServiceEntry;


function istioKinds<K extends string, S>(kind: K, plural: string, spec: z.ZodType<S>): KindDefinition<IstioObject<K, DeepReadonly<S>>>[] {
  const body = z.object({ metadata: objectMetaSchema, spec });
  return ISTIO_VERSIONS.map((apiVersion) =>
    defineKind({
      apiVersion,
      kind,
      plural,
      namespaced: true,
      schema: body,
      build: (b, metadata, source): IstioObject<K, DeepReadonly<S>> => ({ apiVersion, kind, metadata, spec: b.spec as DeepReadonly<S>, source }),
    }),
  );
}

export const istioKindDefinitions: readonly KindDefinition<IstioResource>[] = [
  ...istioKinds('Gateway', 'gateways', gatewaySpecSchema),
  ...istioKinds('VirtualService', 'virtualservices', virtualServiceSpecSchema),
  ...istioKinds('DestinationRule', 'destinationrules', destinationRuleSpecSchema),
  ...istioKinds('ServiceEntry', 'serviceentries', serviceEntrySpecSchema),
];
