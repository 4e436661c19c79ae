// The IR: the one seam between what the user wrote (Ingress today; Gateway API, Istio and API
// management later) and what the data plane does. Readonly and JSON-serialisable: the admin API
// serves it as is, golden tests compare it as YAML. Nouns follow Envoy: listener, virtual host,
// route, cluster, endpoint. Every name records its origin (`ingress/default/shop/rule/0/path/1`).
import type { IrL4Listener } from './l4.js';
import type { ObjectRef } from '../core/object-ref.js';
import type { IrApiLifecycle, IrAuthn, IrAuthz, IrExtAuth, IrOpenApiValidation, IrQuotas, IrRateLimits, IrTransform } from './apim.js';

export interface IrSnapshot {
  /** Monotonic configuration generation, from the resource snapshot. */
  readonly generation: number;
  /** Logical listeners that are served (conflicted ones are left out and reported). */
  readonly listeners: readonly IrListener[];
  /** Where the logical listeners are served: one entry per socket the data plane binds. */
  readonly binds: readonly IrBind[];
  readonly clusters: readonly IrCluster[];
  readonly certificates: readonly IrCertificate[];
  /** TCP, UDP and TLS listeners (l4.ts), after the bind step; absent when there are none. */
  readonly l4Listeners?: readonly IrL4Listener[];
}

// ---------------------------------------------------------------------------------------------
// Listeners, binds and virtual hosts
//
// A listener is logical: what one declaration asks for (an Ingress port, a Gateway listener, later
// an Istio Gateway server). A bind is an address:port with a socket. Several listeners share a bind
// (Envoy Gateway merges its IR listeners by address:port into filter chains); the bind step
// (src/translate/binds/) decides which, and reports the ones that cannot share as conflicts, so
// the data plane only binds what the IR lists and never meets EADDRINUSE between two listeners.

export interface IrListener {
  /** `ingress/http`, `gateway/default/eg/https` (Gateway, then the listener's name), ... */
  readonly name: string;
  /**
   * The declaration, for the bind step's conflict reports and precedence. Absent for Ingress
   * (one listener per port for all Ingresses), which comes first on a shared bind.
   */
  readonly declaredBy?: IrListenerDeclaration;
  readonly protocol: 'http' | 'https';
  /**
   * The logical port as declared (80 and 443 for Ingress). The CLI maps logical ports to real
   * ones (`--http-port`, `--https-port`, `--port-map`), so the IR never depends on flags.
   */
  readonly port: number;
  /** Address to bind; absent means the CLI's `--listen-address`. */
  readonly address?: string;
  /** Only for https: certificates offered by SNI, most specific server name first. */
  readonly tls?: IrListenerTls;
  /** Matched by the request's Host (without port): exact names, then `*.suffix`, then `*`. */
  readonly virtualHosts: readonly IrVirtualHost[];
}

export interface IrListenerDeclaration {
  readonly object: ObjectRef;
  /** Field path of the declaration, e.g. `spec.listeners[1]`. */
  readonly path: string;
  /** Where the object came from (file#document), for diagnostics. */
  readonly source?: string;
  /** The listener's own name inside the object (Gateway API sectionName). */
  readonly sectionName: string;
  /** The listener's hostname (`*` when it has none): the most specific one owns a host on a bind. */
  readonly hostname: string;
}

/**
 * One socket: a real address and port (after `--listen-address` and `--port-map`), one protocol.
 * Flags enter the IR here and nowhere else.
 */
export interface IrBind {
  /** `0.0.0.0:8080`; with port 0 (any free port) the logical port is added: `127.0.0.1:0/80`. */
  readonly name: string;
  readonly protocol: 'http' | 'https';
  readonly address: string;
  /** 0 lets the OS pick (tests). */
  readonly port: number;
  /**
   * Logical listeners served here, in precedence order: where two declare the same host, the
   * first one serves it (the bind step already dropped the later host and said so).
   */
  readonly listeners: readonly IrBindListener[];
}

export interface IrBindListener {
  /** A name in `IrSnapshot.listeners`. */
  readonly listener: string;
  /**
   * Only connections to this local address: a listener declared on a specific address whose port
   * a wildcard bind (0.0.0.0 / ::) also holds is served by that bind, matched by destination
   * address, as an Envoy filter chain matches `prefix_ranges`. Absent: any address of the bind.
   */
  readonly localAddress?: string;
}

export interface IrListenerTls {
  /** Names in `IrSnapshot.certificates`. The first is the default when SNI matches nothing. */
  readonly certificates: readonly string[];
  /** Client certificates are requested on this listener's server names (Gateway `tls.frontend`). */
  readonly clientValidation?: IrClientValidation;
  /**
   * Per certificate (a name in `certificates`): its server names validate clients so, instead of
   * `clientValidation`. Istio merges the servers of a port into one listener, and each server
   * has its own `tls.mode` (SIMPLE, MUTUAL, OPTIONAL_MUTUAL), as each is its own Envoy filter chain.
   */
  readonly clientValidationByCertificate?: Readonly<Record<string, IrClientValidation>>;
}

/** Frontend mutual TLS: Gateway API `spec.tls.frontend` (default or perPort) `validation`. */
export interface IrClientValidation {
  /** PEM certificates the client's chain must lead to. */
  readonly caPem: string;
  /**
   * `allow-valid-only`: connections without a certificate that verifies are refused, and so are
   * requests for these names on other connections. `allow-insecure-fallback`: a certificate is
   * asked for but not required (AllowInsecureFallback). `verify-if-presented`: a certificate is
   * asked for and not required, but one that is sent must verify, or the connection is refused
   * (Istio OPTIONAL_MUTUAL; Envoy's `require_client_certificate: false` with a validation context).
   */
  readonly mode: 'allow-valid-only' | 'allow-insecure-fallback' | 'verify-if-presented';
}

export interface IrCertificate {
  /** `secret/default/foo-tls` */
  readonly name: string;
  readonly origin: ObjectRef;
  /** DNS names (from the Ingress tls.hosts, or the certificate's SANs) it is served for. */
  readonly serverNames: readonly string[];
  readonly certPem: string;
  readonly keyPem: string;
}

export interface IrVirtualHost {
  readonly name: string;
  /** `foo.example.com`, `*.example.com` (exactly one extra label, see wildcardMatch) or `*` (any host). */
  readonly hostnames: readonly string[];
  /**
   * How a `*.suffix` hostname matches: `one-label` (Ingress, the default) or `any-labels`
   * (Gateway API: `*.example.com` also matches `a.b.example.com`). The most specific wildcard wins.
   */
  readonly wildcardMatch?: 'one-label' | 'any-labels';
  /** In precedence order: the first route whose match holds wins. */
  readonly routes: readonly IrRoute[];
}

// ---------------------------------------------------------------------------------------------
// Routes

export interface IrRoute {
  /** `ingress/default/shop/rule/0/path/1` */
  readonly name: string;
  readonly origin: ObjectRef;
  readonly match: IrRouteMatch;
  readonly action: IrRouteAction;
  /** Per-route filters in execution order; empty costs nothing on the request path. */
  readonly filters: readonly IrFilter[];
  readonly timeouts?: IrTimeouts;
  readonly retry?: IrRetryPolicy;
  readonly mirrors?: readonly IrMirror[];
}

export interface IrRouteMatch {
  readonly path: IrPathMatch;
  /** All must hold. */
  readonly headers?: readonly IrStringMatch[];
  readonly queryParams?: readonly IrStringMatch[];
  /** Upper-case method, e.g. `GET`. */
  readonly method?: string;
}

export type IrPathMatch =
  /** Any path. */
  | { readonly kind: 'any' }
  /** The normalised path equals `value`. */
  | { readonly kind: 'exact'; readonly value: string }
  /**
   * Element-wise prefix (Ingress/Gateway API): `/foo` matches `/foo` and `/foo/bar`, not
   * `/foobar`. A trailing `/` in `value` is ignored.
   */
  | { readonly kind: 'prefix'; readonly value: string }
  /** Plain string prefix (Istio `prefix`, ImplementationSpecific here is element-wise). */
  | { readonly kind: 'string-prefix'; readonly value: string }
  /** An RE2-compatible regular expression matched against the whole path. */
  | { readonly kind: 'regex'; readonly value: string };

export interface IrStringMatch {
  /**
   * Header names are lower-case; query parameter names are case-sensitive. In `headers`, `:method`
   * and `:scheme` match the request's method and the listener's scheme (`http`/`https`), as
   * Envoy's pseudo-header matches do for every HTTP version.
   */
  readonly name: string;
  readonly kind: 'exact' | 'regex' | 'present' | 'absent' | 'prefix';
  readonly value?: string;
  /**
   * The match holds when the value is missing or does not match (`exact`, `prefix`, `regex` only):
   * a missing value counts as the empty string, then the result is inverted (Envoy `invert_match`
   * with `treat_missing_header_as_empty`, what Istio `withoutHeaders` generates). So an inverted
   * `regex: .*` never holds, and an inverted `exact: jason` holds when the header is absent.
   */
  readonly invert?: boolean;
}

export type IrRouteAction =
  | { readonly kind: 'forward'; readonly backends: readonly IrWeightedBackend[] }
  | { readonly kind: 'redirect'; readonly redirect: IrRedirect }
  | { readonly kind: 'respond'; readonly status: number; readonly body?: string; readonly contentType?: string }
  /**
   * The configuration cannot serve this route (a missing Service, an unsupported filter): the
   * gateway answers with its documented local reply for `reason`; the diagnostic says why.
   */
  | { readonly kind: 'reject'; readonly reason: 'invalid_backend' | 'invalid_route' };

export interface IrWeightedBackend {
  /** A name in `IrSnapshot.clusters`. */
  readonly cluster: string;
  /** Relative weight; 0 means never chosen. */
  readonly weight: number;
  /** Filters applied only when this backend is chosen (Gateway API backendRef filters). */
  readonly filters?: readonly IrFilter[];
}

export interface IrRedirect {
  readonly scheme?: 'http' | 'https';
  readonly hostname?: string;
  readonly port?: number;
  readonly path?: IrPathRewrite;
  /** 301, 302, 303, 307 or 308. */
  readonly status: number;
}

export type IrPathRewrite =
  | { readonly kind: 'full'; readonly value: string }
  | { readonly kind: 'prefix'; readonly matchedPrefix: string; readonly value: string }
  /**
   * Every match of `pattern` (RE2) in the path is replaced by `substitution`, in which `\0`..`\9`
   * are capture groups and `\\` a backslash (Envoy `regex_rewrite`, Istio `uriRegexRewrite`).
   */
  | { readonly kind: 'regex'; readonly pattern: string; readonly substitution: string };

export interface IrTimeouts {
  /** Whole request, from the first byte received to the last byte sent, retries and backoffs included. 0 disables. */
  readonly requestMs?: number;
  /**
   * One upstream attempt, until its response headers arrive: each try gets its own deadline
   * (Gateway API `timeouts.backendRequest`, Istio `retries.perTryTimeout`). Whether an expired try
   * is retried is the retry policy's `per-try-timeout` condition; otherwise the client gets 504.
   */
  readonly backendRequestMs?: number;
  /** No bytes either way for this long closes the stream. */
  readonly idleMs?: number;
}

/**
 * One retry policy for every source: Gateway API `retry` (GEP-1731), Istio `retries`, the Ingress
 * default. The conditions are Envoy's `retry_on` names, so Istio's `retryOn` maps entry by entry.
 * A try is retried only before anything of its response reached the client, only with a body that
 * can be sent again (none, or kept by replayable-body.ts), and only for idempotent methods unless
 * `allowNonIdempotent`.
 */
export interface IrRetryPolicy {
  /** Retries after the first try (Gateway API and Istio `attempts`): 2 means up to 3 tries. */
  readonly attempts: number;
  /** Any one that holds makes a failed try retryable; empty retries nothing. */
  readonly retryOn: readonly IrRetryCondition[];
  /** Absent: Envoy's defaults, base 25 ms and max 10 × base. */
  readonly backoff?: IrRetryBackoff;
  /** POST, PATCH and other non-idempotent methods (RFC 9110 §9.2.2) are retried too. */
  readonly allowNonIdempotent?: boolean;
}

export type IrRetryCondition =
  /** The connection failed: refused, connect timeout, TLS handshake (Envoy `connect-failure`). */
  | { readonly kind: 'connect-failure' }
  /** The connection was reset or closed before any response byte (Envoy `reset`, `refused-stream`). */
  | { readonly kind: 'reset' }
  /** A try outlived `timeouts.backendRequestMs` before its response headers. */
  | { readonly kind: 'per-try-timeout' }
  /** 502, 503, 504, and the failures a proxy reports as those: connect failure, reset, per-try timeout. */
  | { readonly kind: 'gateway-error' }
  /** Any 5xx, and connect failure, reset, per-try timeout (Envoy `5xx`). */
  | { readonly kind: '5xx' }
  /** 409 Conflict (Envoy `retriable-4xx`). */
  | { readonly kind: 'retriable-4xx' }
  /** Exactly these statuses (Gateway API `retry.codes`, Istio `retriable-status-codes` with `x-envoy-retriable-status-codes`). */
  | { readonly kind: 'retriable-status-codes'; readonly codes: readonly number[] }
  /**
   * A response whose headers carry one of these `grpc-status` codes (a trailers-only gRPC error,
   * whatever the HTTP status): Envoy's `x-envoy-retry-grpc-on` (Istio retryOn `cancelled` 1,
   * `deadline-exceeded` 4, `resource-exhausted` 8, `internal` 13, `unavailable` 14). A status
   * that arrives in trailers, after messages, is never retried: the response is already streaming.
   */
  | { readonly kind: 'grpc-status'; readonly codes: readonly number[] };

/**
 * Exponential, with jitter, capped (Envoy's `retry_back_off`): retry n waits a random time in
 * [baseMs, min(maxMs, baseMs × 2^(n-1))]. The range starts at baseMs, not 0 as in Envoy's full
 * jitter, because GEP-1731 makes `backoff` a minimum: no retry goes out sooner.
 */
export interface IrRetryBackoff {
  readonly baseMs: number;
  /** Absent: 10 × baseMs. */
  readonly maxMs?: number;
}

export interface IrMirror {
  readonly cluster: string;
  /** 0..100; absent means 100. */
  readonly percent?: number;
  /**
   * Send the copy with `-shadow` appended to its Host (before any port: `a:8080` → `a-shadow:8080`),
   * Envoy's default for mirrors, which Istio documents for its `mirror`: the mirrored service can
   * tell copies from live requests. Absent: the Host is the live request's.
   */
  readonly shadowHost?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Filters: a discriminated union so each kind is compiled by its own module in dataplane/filters/.

export type IrFilter =
  | { readonly kind: 'request-header-modifier'; readonly modifier: IrHeaderModifier }
  | { readonly kind: 'response-header-modifier'; readonly modifier: IrHeaderModifier }
  | { readonly kind: 'url-rewrite'; readonly hostname?: string; readonly path?: IrPathRewrite }
  | { readonly kind: 'cors'; readonly cors: IrCors }
  | { readonly kind: 'fault'; readonly fault: IrFault }
  // API management (src/ir/apim.ts), set by src/translate/apim/ from AuthPolicy (or Istio
  // RequestAuthentication), AccessPolicy (or Istio AuthorizationPolicy), RateLimitPolicy (and the Plans of the Consumers an AuthPolicy knows)
  // and API versions. At most one of each kind on a route: precedence is settled at translate time.
  | { readonly kind: 'authn'; readonly authn: IrAuthn }
  | { readonly kind: 'authz'; readonly authz: IrAuthz }
  | { readonly kind: 'rate-limit'; readonly rateLimits: IrRateLimits }
  | { readonly kind: 'quota'; readonly quotas: IrQuotas }
  | { readonly kind: 'api-lifecycle'; readonly lifecycle: IrApiLifecycle }
  // An API version's OpenAPI document: path, query, header and JSON body checks (400 naming the field).
  | { readonly kind: 'openapi-validate'; readonly validation: IrOpenApiValidation }
  // TransformPolicy: header, JSON body and path edits (one per route, by the same precedence).
  | { readonly kind: 'transform'; readonly transform: IrTransform }
  | { readonly kind: 'ext-auth'; readonly extAuth: IrExtAuth };

/**
 * Fault injection (Istio HTTPFaultInjection): a delay before the request goes on, an abort
 * answered by the gateway, each for a share of requests. Both may apply: the delay first.
 */
export interface IrFault {
  readonly delay?: { readonly ms: number; readonly percent: number };
  /** `httpStatus` answers with that status; `grpcStatus` answers 200 with that `grpc-status`. */
  readonly abort?: { readonly httpStatus?: number; readonly grpcStatus?: number; readonly percent: number };
}

/** Gateway API HTTPCORSFilter. Origins are `scheme://host[:port]`, `*`, or with a `*.` host wildcard. */
export interface IrCors {
  readonly allowOrigins: readonly string[];
  /** Origins allowed by pattern as well (Istio `allowOrigins` prefix / regex, case-sensitive; regexes RE2, whole origin). */
  readonly allowOriginPatterns?: readonly IrOriginPattern[];
  /**
   * A preflight whose origin is not allowed: `forward` passes it to the route's upstream (Envoy's
   * default, Istio `unmatchedPreflights: FORWARD`); `respond` answers it here, 200 without any CORS
   * header (Istio `IGNORE`). Absent: forward.
   */
  readonly unmatchedPreflight?: 'forward' | 'respond';
  /** Methods, or `*`; absent = none beyond the CORS-safelisted GET, HEAD, POST. */
  readonly allowMethods?: readonly string[];
  /** Request header names, or `*`. */
  readonly allowHeaders?: readonly string[];
  readonly exposeHeaders?: readonly string[];
  /** Access-Control-Max-Age of preflight answers; Gateway API's default is 5. */
  readonly maxAgeSeconds?: number;
  readonly allowCredentials?: boolean;
  /**
   * How list headers are joined: `, ` (default, Gateway API) or `,` (Istio: Envoy sends the
   * values as Istio wrote them joined, and clients of the mesh compare them as such).
   */
  readonly listSeparator?: ', ' | ',';
}

export type IrOriginPattern = { readonly kind: 'prefix'; readonly value: string } | { readonly kind: 'regex'; readonly value: string };

export interface IrHeaderModifier {
  readonly set?: readonly IrHeader[];
  readonly add?: readonly IrHeader[];
  readonly remove?: readonly string[];
}

export interface IrHeader {
  readonly name: string;
  readonly value: string;
}

// ---------------------------------------------------------------------------------------------
// Clusters and endpoints

export interface IrCluster {
  /** `service/default/shop/8080` (namespace, Service, Service port). */
  readonly name: string;
  readonly origin: ObjectRef;
  /** Upstream protocol: from the Service port's appProtocol (`kubernetes.io/h2c` → h2c). */
  readonly protocol: 'http1' | 'h2c' | 'h2' | 'https';
  /**
   * How an `https` or `h2` upstream's certificate is checked; ignored for cleartext protocols.
   * Absent on a TLS cluster means what any HTTPS client does: Node's default CAs, and the
   * endpoint's address (an IP, or the ExternalName) as the name. Never "unverified" by omission.
   */
  readonly tls?: IrUpstreamTls;
  readonly lb: IrLoadBalancer;
  readonly endpoints: readonly IrEndpoint[];
  readonly connectTimeoutMs?: number;
  /**
   * An upstream connection idle this long is closed (Istio `connectionPool.http.idleTimeout`,
   * Envoy `common_http_protocol_options.idle_timeout`). Absent: the transport's default (4 s, below
   * common servers' keep-alive). A server's shorter `Keep-Alive: timeout` hint still wins.
   */
  readonly idleTimeoutMs?: number;
  readonly passiveHealth?: IrPassiveHealth;
  /** Envoy's circuit breakers for the whole cluster; absent (or a limit left out) means no limit. */
  readonly circuitBreakers?: IrCircuitBreakers;
  /** Active health checking: each endpoint is probed on a timer; absent means none. */
  readonly activeHealthCheck?: IrActiveHealthCheck;
}

/**
 * Active HTTP health checks (Envoy's `health_checks[].http_health_check`; Istio has no field for
 * it, Isthmus reads the `isthmus.dev/health-check` annotation on a DestinationRule). Every endpoint
 * of the cluster gets a GET of `path` every `intervalMs`, over the cluster's own protocol and TLS.
 * After `unhealthyThreshold` failed probes in a row it leaves the load balancer's rotation; after
 * `healthyThreshold` good ones in a row it returns. Endpoints start healthy (the first probe is
 * sent at once). Independent of passive health: either one can take an endpoint out.
 */
export interface IrActiveHealthCheck {
  readonly path: string;
  /** Host header of the probe. */
  readonly host: string;
  readonly intervalMs: number;
  /** A probe without a complete response within this is a failure. */
  readonly timeoutMs: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  /** Inclusive status ranges a healthy answer has (default 200-299). */
  readonly expectedStatuses: readonly { readonly min: number; readonly max: number }[];
}

/**
 * Envoy's cluster circuit breakers (Istio DestinationRule `connectionPool`; any source may set
 * them). Counted per cluster across its endpoints. A request over a limit is answered at once with
 * 503 `upstream_overflow`, never queued without bound.
 */
export interface IrCircuitBreakers {
  /**
   * `max_connections` (Istio `tcp.maxConnections`). An HTTP/1.1 connection carries one request at
   * a time, so on an HTTP/1.1 cluster (http1, https) at most this many requests are in flight; the
   * next ones wait as pending. Multiplexed clusters (h2, h2c) are bounded by `maxRequests`.
   */
  readonly maxConnections?: number;
  /**
   * `max_pending_requests` (Istio `http.http1MaxPendingRequests`): requests waiting for a
   * connection, queued or sent to a connection still being set up. One more overflows.
   */
  readonly maxPendingRequests?: number;
  /** `max_requests` (Istio `http.http2MaxRequests`): requests in flight to the cluster, any protocol. */
  readonly maxRequests?: number;
  /** `max_requests_per_connection` (Istio `http.maxRequestsPerConnection`): a connection closes after this many requests. */
  readonly maxRequestsPerConnection?: number;
}

/**
 * Upstream TLS: one shape for what the Ingress annotations, Gateway API's BackendTLSPolicy and
 * Istio's DestinationRule `trafficPolicy.tls` (mode SIMPLE) say. Only public material: a client
 * certificate for mutual TLS would be a separate reference, never a private key in here.
 */
export interface IrUpstreamTls {
  /**
   * Sent as SNI (RFC 6066) and, unless `verification.subjectAltNames` is given, the name the
   * certificate must carry. BackendTLSPolicy `validation.hostname`, DestinationRule `sni`; for an
   * Ingress backend `<service>.<namespace>.svc` unless `isthmus.dev/upstream-server-name` says
   * otherwise. An IP address is verified against the certificate's IP SANs and sent as no SNI.
   */
  readonly serverName: string;
  readonly verification: IrUpstreamTlsVerification;
  /**
   * Mutual TLS: the certificate this gateway presents to the upstream, a name in
   * `IrSnapshot.certificates` (DestinationRule `tls.mode: MUTUAL` + `credentialName`). A
   * reference, so the private key stays where the admin API redacts it.
   */
  readonly clientCertificate?: string;
}

export type IrUpstreamTlsVerification =
  /**
   * The chain must lead to `caPem` (PEM certificates; BackendTLSPolicy `caCertificateRefs`,
   * DestinationRule `caCertificates`) or, when absent, to Node's default CA store
   * (`wellKnownCACertificates: System`). The leaf must name `serverName`, or, when
   * `subjectAltNames` is given, at least one of them instead (BackendTLSPolicy and
   * DestinationRule `subjectAltNames`).
   */
  | { readonly kind: 'verify'; readonly caPem?: string; readonly subjectAltNames?: readonly IrSubjectAltName[] }
  /** Encrypted but not authenticated; only when configuration says so explicitly (DestinationRule `insecureSkipVerify`). */
  | { readonly kind: 'insecure-skip-verify' };

export interface IrSubjectAltName {
  /** `dns`: a DNS SAN that covers `value` (a wildcard SAN counts); `uri`: a URI SAN equal to `value` (SPIFFE IDs). */
  readonly kind: 'dns' | 'uri';
  readonly value: string;
}

export interface IrEndpoint {
  /** IPv4/IPv6 address or, for ExternalName Services, a DNS name. */
  readonly address: string;
  readonly port: number;
  /** For weighted policies; default 1. */
  readonly weight?: number;
  /** `pod/default/shop-7d9c-abcde`, when known. */
  readonly target?: string;
}

export type IrLoadBalancer =
  | { readonly kind: 'round-robin' }
  | { readonly kind: 'least-request'; readonly choices?: number }
  | { readonly kind: 'random' }
  | { readonly kind: 'ring-hash'; readonly hashOn: IrHashOn; readonly ringSize?: number }
  /**
   * Maglev consistent hashing (Envoy's MAGLEV): a lookup table of `tableSize` slots, a prime no
   * larger than 5000011 (absent: 65537, Envoy's default), filled once per apply.
   */
  | { readonly kind: 'maglev'; readonly hashOn: IrHashOn; readonly tableSize?: number };

export type IrHashOn =
  | { readonly kind: 'header'; readonly name: string }
  /**
   * The cookie's value. With `ttlSeconds` (Istio `httpCookie.ttl`), a request without the cookie
   * gets one, as Envoy generates it: a value derived from the client connection, hashed on at
   * once and set on the response (`Max-Age` = ttlSeconds, left out for 0: a session cookie;
   * `Path` = path; HttpOnly). Without it, a request lacking the cookie is spread at random.
   */
  | { readonly kind: 'cookie'; readonly name: string; readonly ttlSeconds?: number; readonly path?: string }
  /** The first value of a query parameter (Istio `httpQueryParameterName`); absent: at random. */
  | { readonly kind: 'query-parameter'; readonly name: string }
  | { readonly kind: 'source-ip' };

export interface IrPassiveHealth {
  /** Eject after this many consecutive failures (connect errors, resets, 5xx from the endpoint). */
  readonly consecutiveFailures: number;
  /** First ejection lasts this long; each further one doubles it, up to maxEjectionMs. */
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
  /**
   * At most this share (0-100) of the cluster's endpoints is ejected at once, but always one may be
   * (Envoy `max_ejection_percent`, Istio `maxEjectionPercent`). Absent: no cap.
   */
  readonly maxEjectionPercent?: number;
  /**
   * Envoy's split mode (`split_external_local_origin_errors`, which Istio turns on with
   * `consecutiveLocalOriginFailures`): failures with no response (connect failure, reset, timeout)
   * count on their own against this threshold, and `consecutiveFailures` counts only 5xx answers.
   * Absent: both kinds count together against `consecutiveFailures`.
   */
  readonly consecutiveLocalOriginFailures?: number;
}
