// API management in the IR: what the `isthmus.dev/v1alpha1` policies (and Istio's
// RequestAuthentication) compile to, attached to routes as filters. Everything is resolved at
// translate time: Secrets are read into hashes, Consumers and Plans are looked up, so the data
// plane only looks things up per request. Credentials appear only as one-way hashes here, and
// `/api/config` redacts even those.

/** Who a request is, once a method has authenticated it; filters after authentication read it. */
export interface IrConsumer {
  /** `default/acme` (namespace/name of the Consumer). */
  readonly name: string;
  readonly groups: readonly string[];
  /** The Plan's name (`namespace/name`), when the Consumer has one. */
  readonly plan?: string;
}

/** AuthPolicy (or RequestAuthentication) on a route: any one method that finds credentials decides. */
export interface IrAuthn {
  /** `authpolicy/default/partners`: for logs, metrics and the 401's details. */
  readonly policy: string;
  readonly methods: readonly IrAuthnMethod[];
  /** Without credentials: `deny` answers 401; `allow` lets the request on as anonymous (RequestAuthentication's rule). */
  readonly missing: 'deny' | 'allow';
  /** Realm in `WWW-Authenticate`. */
  readonly realm: string;
  /** Headers set upstream from the consumer and claims; the client's own copies are removed first. */
  readonly forward?: {
    readonly consumerHeader?: string;
    readonly groupsHeader?: string;
    /** claim name → header name (JWT only). */
    readonly claims?: Readonly<Record<string, string>>;
  };
}

export type IrAuthnMethod = IrApiKeyMethod | IrJwtMethod | IrBasicMethod | IrClientCertificateMethod | IrOidcMethod;

export interface IrApiKeyMethod {
  readonly kind: 'api-key';
  /** Where the key is read from, first found wins; names: header lower case. */
  readonly from: { readonly header?: string; readonly query?: string; readonly cookie?: string };
  /** SHA-256 of each key, lower-case hex, with the consumer it identifies. */
  readonly keys: readonly { readonly sha256: string; readonly consumer: IrConsumer }[];
}

export interface IrJwtMethod {
  readonly kind: 'jwt';
  readonly issuer: string;
  /** Any one must be in `aud`; empty = `aud` not checked. */
  readonly audiences: readonly string[];
  /** Allow-list, e.g. ['RS256', 'ES256']; `none` and HMAC algorithms are never used with public keys. */
  readonly algorithms: readonly string[];
  readonly jwks: { readonly kind: 'remote'; readonly url: string; readonly cacheMs: number } | { readonly kind: 'inline'; readonly keys: readonly Readonly<Record<string, unknown>>[] };
  readonly clockSkewSec: number;
  /** Where the token is: a header (with a prefix such as `Bearer `) or a query parameter. */
  readonly from: { readonly header?: { readonly name: string; readonly prefix: string }; readonly query?: string };
  /** The claim naming the consumer (default `sub`); a token whose value names no Consumer is anonymous-with-claims. */
  readonly consumerClaim: string;
  /** consumer claim value → consumer, for Consumers that declare a JWT subject. */
  readonly consumers: Readonly<Record<string, IrConsumer>>;
}

export interface IrBasicMethod {
  readonly kind: 'basic';
  /** bcrypt hashes (htpasswd `$2y$`/`$2a$`/`$2b$`). */
  readonly users: readonly { readonly user: string; readonly bcrypt: string; readonly consumer: IrConsumer }[];
}

/** One limit of a RateLimitPolicy or Plan. */
export interface IrRateLimit {
  /** `ratelimitpolicy/default/partners/0`: names the counter (with the key) and the RateLimit-Policy entry. */
  readonly name: string;
  readonly requests: number;
  readonly periodMs: number;
  /** What is counted separately. `consumer` falls back to the client address for anonymous requests. */
  readonly key: { readonly kind: 'route' } | { readonly kind: 'consumer' } | { readonly kind: 'client-ip' } | { readonly kind: 'header'; readonly name: string } | { readonly kind: 'claim'; readonly name: string };
  /** `local`: in this process; `global`: in the shared store (Redis), across replicas. */
  readonly scope: 'local' | 'global';
  /** Only requests of consumers on this plan are counted by this limit (a Plan's limits). */
  readonly plan?: string;
}

export interface IrRateLimits {
  readonly policy: string;
  readonly limits: readonly IrRateLimit[];
  /** When the shared store cannot answer: `open` falls back to a local limit, `closed` answers 503. */
  readonly onStoreFailure: 'open' | 'closed';
}

/**
 * A Plan's quota: requests per consumer per UTC calendar day or month, counted in fixed periods
 * (what invoices and dashboards call "this month"), unlike the smooth GCRA of a rate limit.
 */
export interface IrQuota {
  /** `plan/default/gold/day`: names the counter and the RateLimit-Policy entry. */
  readonly name: string;
  /** Only consumers on this plan are counted. */
  readonly plan?: string;
  readonly requests: number;
  readonly period: 'day' | 'month';
  readonly scope: 'global' | 'local';
}

export interface IrQuotas {
  readonly policy: string;
  readonly quotas: readonly IrQuota[];
  /** When the shared store cannot answer: `open` counts in this process, `closed` answers 503. */
  readonly onStoreFailure: 'open' | 'closed';
}

/** Where an API version stands; set by the API resource on the routes of that version. */
export interface IrApiLifecycle {
  /** `api/default/orders/v1` */
  readonly api: string;
  readonly stage: 'published' | 'deprecated' | 'retired';
  /** RFC 9745 `Deprecation: @<unix seconds>` when known. */
  readonly deprecatedAt?: string;
  /** RFC 8594 `Sunset` (HTTP-date from this RFC 3339 time). */
  readonly sunsetAt?: string;
  /** `Link: <url>; rel="successor-version"`. */
  readonly successor?: string;
  /** `Link: <url>; rel="deprecation"`. */
  readonly policyLink?: string;
}

/**
 * Authorization on a route: an AccessPolicy, or the Istio AuthorizationPolicies that select this
 * gateway, compiled into one list of rules evaluated Istio's way: any matching `deny` rule → 403;
 * then any matching `allow` rule → on; otherwise `noMatch` decides. `noMatch` is `deny` as soon
 * as an allow list exists, even an empty one (Istio's "allow-nothing" ALLOW policy).
 */
export interface IrAuthz {
  /** `accesspolicy/default/partners`, or `authorizationpolicy/ns/a,authorizationpolicy/ns/b`. */
  readonly policy: string;
  readonly rules: readonly IrAuthzRule[];
  readonly noMatch: 'allow' | 'deny';
}

export interface IrAuthzRule {
  /** `accesspolicy/default/partners/deny/0`, `authorizationpolicy/ns/a/rule/0`: set as the `authz` attribute of a request it decided, for the log. */
  readonly name: string;
  /** `audit` (Istio AUDIT) never refuses: a matching request is marked in the access log. */
  readonly action: 'allow' | 'deny' | 'audit';
  /** Every condition must hold; none at all matches every request. */
  readonly conditions: readonly IrAuthzCondition[];
}

/**
 * One condition: it holds when any one of `values` matches (with `negate`: when none does, which
 * includes the fact being absent, e.g. no consumer; Istio's `notX` fields and Envoy's `not_id`).
 * String values use Istio's forms: `exact`, `prefix*`, `*suffix`, and `*` (present, any value).
 */
export type IrAuthzCondition =
  /** The authenticated Consumer (`namespace/name`). */
  | { readonly kind: 'consumer'; readonly values: readonly string[]; readonly negate: boolean }
  /** Any of the Consumer's groups. */
  | { readonly kind: 'group'; readonly values: readonly string[]; readonly negate: boolean }
  /**
   * A claim of the verified JWT, `path` into nested objects (Istio `request.auth.claims[a][b]`):
   * a string claim matches a value; a list claim (`groups`) matches when any element does.
   */
  | { readonly kind: 'claim'; readonly path: readonly string[]; readonly values: readonly string[]; readonly negate: boolean }
  /** `iss/sub` of the verified JWT (Istio `requestPrincipals`, `request.auth.principal`). */
  | { readonly kind: 'request-principal'; readonly values: readonly string[]; readonly negate: boolean }
  /** Upper-case method, as sent. */
  | { readonly kind: 'method'; readonly values: readonly string[]; readonly negate: boolean }
  /** The normalised path without the query (Istio `paths`: `/x/*` prefix, `*.js` suffix). */
  | { readonly kind: 'path'; readonly values: readonly string[]; readonly negate: boolean }
  /** The Host, lower case, with or without its port. */
  | { readonly kind: 'host'; readonly values: readonly string[]; readonly negate: boolean }
  /** A request header (name lower case); several values of it are joined by `,`. */
  | { readonly kind: 'header'; readonly name: string; readonly values: readonly string[]; readonly negate: boolean }
  /**
   * Address blocks (`10.0.0.0/8`, `2001:db8::/32`; a bare address is /32 or /128). `peer` is the
   * TCP peer (Istio `ipBlocks`, `source.ip`); `client` the original client (Istio
   * `remoteIpBlocks`, `remote.ip`): read from X-Forwarded-For only when the peer is a trusted
   * proxy (`--trusted-proxy`), else the peer itself.
   */
  | { readonly kind: 'ip'; readonly of: 'peer' | 'client'; readonly cidrs: readonly string[]; readonly negate: boolean };

// ---------------------------------------------------------------------------------------------
// OpenAPI request validation (an API version's `openapi` with `validate.requests`)

/** JSON Schema draft 2020-12, as plain JSON (OpenAPI 3.0 schemas are converted by the translator). */
export type IrJsonSchema = boolean | { readonly [key: string]: unknown };

/** One OpenAPI operation, as the validator checks it. */
export interface IrOpenApiOperation {
  /** `operationId`, else `GET /orders/{id}`: for the log. */
  readonly id: string;
  /** Upper case. */
  readonly method: string;
  /**
   * The full request path template (path prefix included), split at `/`: each segment is a list
   * of literal text and `{param}` parts, e.g. `/orders/{id}.json` → [[`orders`], [{param: id}, `.json`]].
   */
  readonly segments: readonly (readonly (string | { readonly param: string })[])[];
  readonly parameters: readonly IrOpenApiParameter[];
  /** Absent: the operation declares no request body, and any body passes. */
  readonly body?: IrOpenApiBody;
}

export interface IrOpenApiParameter {
  readonly in: 'path' | 'query' | 'header';
  /** Header names lower case. */
  readonly name: string;
  readonly required: boolean;
  readonly schema?: IrJsonSchema;
}

export interface IrOpenApiBody {
  readonly required: boolean;
  /** Media types the operation accepts (lower case, `*` wildcards as written); a JSON one with its schema. */
  readonly mediaTypes: readonly { readonly type: string; readonly schema?: IrJsonSchema }[];
}

export interface IrOpenApiValidation {
  /** `api/shop/orders/v1`: names the version in logs. */
  readonly api: string;
  /** The operations this route may serve: one for a generated route, every one for a route the API names. */
  readonly operations: readonly IrOpenApiOperation[];
  /** `components.schemas`, converted to 2020-12; registered as `$defs` of OPENAPI_COMPONENTS_ID (src/core/openapi-ajv.ts), which every `$ref` into them names. */
  readonly schemas: { readonly [name: string]: IrJsonSchema };
  /** Bodies are read whole for validation up to this size; a longer one is answered 413. */
  readonly maxBodyBytes: number;
}
/**
 * TransformPolicy on a route: request and response headers set/add/remove with templates, JSON
 * body fields set/remove/rename, a path rewrite. Templates are parsed at translate time into
 * parts, so the data plane renders them by concatenation (no parsing per request).
 */
export interface IrTransform {
  /** `transformpolicy/default/orders`: names the log line of a body passed unchanged. */
  readonly policy: string;
  readonly request?: {
    readonly headers?: IrHeaderTransform;
    readonly body?: IrJsonBodyTransform;
    /** The route's matched prefix (decided per route by the translator) or the whole path. */
    readonly path?: { readonly kind: 'full'; readonly value: string } | { readonly kind: 'prefix'; readonly matchedPrefix: string; readonly value: string };
  };
  readonly response?: {
    readonly headers?: IrHeaderTransform;
    readonly body?: IrJsonBodyTransform;
  };
}

/** Applied in this order: remove, set (replaces every copy), add (appends). Names lower case. */
export interface IrHeaderTransform {
  readonly remove: readonly string[];
  readonly set: readonly { readonly name: string; readonly value: IrTemplate }[];
  readonly add: readonly { readonly name: string; readonly value: IrTemplate }[];
}

/** A template: its parts concatenated. One `text` part is a constant. */
export type IrTemplate = readonly IrTemplatePart[];

export type IrTemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  /** The consumer's `namespace/name`; empty for an anonymous request. */
  | { readonly kind: 'consumer' }
  /** Its groups joined by `,` (in a JSON body, when the whole value: an array). */
  | { readonly kind: 'consumer-groups' }
  /** A claim of the verified JWT, `path` into nested objects; strings as they are, others as JSON. */
  | { readonly kind: 'claim'; readonly path: readonly string[] }
  | { readonly kind: 'request-id' }
  /** The original client (request-identity.ts clientAddressOf: trusted proxies skipped). */
  | { readonly kind: 'client-address' }
  /** A request header, name lower case; several values joined by `, `. */
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'method' }
  /** The normalised request path, without the query, as the route matched it. */
  | { readonly kind: 'path' };

/**
 * Edits of a JSON body of at most `maxBytes`, in this order: remove, rename, set. Paths are object
 * keys (an integer also indexes an array). Bodies over the limit, not JSON, or content-encoded
 * pass unchanged.
 */
export interface IrJsonBodyTransform {
  readonly maxBytes: number;
  readonly remove: readonly (readonly string[])[];
  readonly rename: readonly { readonly from: readonly string[]; readonly to: readonly string[] }[];
  readonly set: readonly { readonly path: readonly string[]; readonly value: IrJsonValue }[];
}

/** A constant JSON value, or a template (exactly one variable: that variable's JSON value; else a string). */
export type IrJsonValue = { readonly kind: 'json'; readonly value: unknown } | { readonly kind: 'template'; readonly template: IrTemplate };
/**
 * A client certificate the listener verified (TLS `socket.authorized`) names a Consumer, by the
 * SHA-256 fingerprint of the whole certificate (the safe default: it names one certificate) or by
 * its subject DN (any certificate the trusted CA issues with that subject).
 */
export interface IrClientCertificateMethod {
  readonly kind: 'client-certificate';
  /** Upper-case hex pairs joined by `:`, as node's `fingerprint256` and `openssl x509 -fingerprint -sha256` print them. */
  readonly fingerprints: readonly { readonly sha256: string; readonly consumer: IrConsumer }[];
  /** RFC 4514-style subject DN, `CN=acme,O=Example` (most significant RDN last, as openssl -nameopt RFC2253 prints it). */
  readonly subjects: readonly { readonly subject: string; readonly consumer: IrConsumer }[];
}

/**
 * External authorization (Envoy ext_authz, HTTP flavour) on a route: an AuthPolicy's
 * `externalAuth`, or the Istio AuthorizationPolicies with action CUSTOM that select this gateway.
 * The first check whose conditions all hold decides: its service is asked (or, for a provider that
 * could not be resolved, the request is denied); a request no check matches goes on unchecked.
 */
export interface IrExtAuth {
  /** `authpolicy/default/partners`, or `authorizationpolicy/ns/a,authorizationpolicy/ns/b`. */
  readonly policy: string;
  readonly checks: readonly IrExtAuthCheck[];
}

export interface IrExtAuthCheck {
  /** `authpolicy/default/partners/external-auth`, `authorizationpolicy/ns/ext/rule/0`: the `ext_auth` attribute, for the log. */
  readonly name: string;
  /** Every condition must hold (the same conditions as authz rules); none: every request. */
  readonly conditions: readonly IrAuthzCondition[];
  readonly target:
    | { readonly kind: 'service'; readonly service: IrExtAuthService }
    /** The provider named does not exist or cannot be used: matching requests are denied (403), as Istio does. */
    | { readonly kind: 'deny'; readonly reason: string };
}

export interface IrExtAuthService {
  /** `http(s)://host:port/prefix`: the original path (with its query) is appended to it, as Envoy's `path_prefix`. */
  readonly url: string;
  readonly timeoutMs: number;
  /** The service failed (no answer in time, a connection error, a 5xx): `closed` answers `statusOnError`; `open` lets the request on. */
  readonly failureMode: 'closed' | 'open';
  readonly statusOnError: number;
  /** Client request headers sent along (lower case; `x-*` prefix and `*-id` suffix forms); Host, method and path always are. */
  readonly requestHeaders: readonly string[];
  /** Fixed headers added to the check request (Istio `includeAdditionalHeadersInCheck`). */
  readonly additionalHeaders?: Readonly<Record<string, string>>;
  /** Headers of the authenticated identity sent to the service: the consumer's name, its groups. */
  readonly identityHeaders?: { readonly consumer?: string; readonly groups?: string };
  /** Headers of a 2xx answer set (replacing) on the upstream request; the client's own copies are removed first. */
  readonly upstreamHeaders: readonly string[];
  /**
   * Headers of a denying answer relayed to the client with its status and body. Absent: all of
   * them but framing and hop-by-hop ones (Envoy's default); a list always includes
   * `www-authenticate` and `location`.
   */
  readonly clientHeaders?: readonly string[];
}

/**
 * OpenID Connect login for browsers (authorization code + PKCE S256, OIDC Core §3.1): a request
 * without a session is sent to the provider, the callback exchanges the code and verifies the ID
 * token, and a sealed session cookie authenticates what follows. Unlike the other methods it holds
 * two secrets in the clear (the client secret, which the token endpoint needs as it is, and the
 * key that seals cookies); `/api/config` redacts both.
 */
export interface IrOidcMethod {
  readonly kind: 'oidc';
  /** The provider; its discovery document is `${issuer}/.well-known/openid-configuration`. */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** RFC 6749 §2.3.1 `client_secret_basic` (default) or OIDC Core §9 `client_secret_post`. */
  readonly tokenEndpointAuth: 'client_secret_basic' | 'client_secret_post';
  /** Paths (on the request's own authority) this method answers itself. */
  readonly redirectPath: string;
  readonly logoutPath: string;
  /** Sent to the end_session_endpoint, or the logout's target when the provider has none. */
  readonly postLogoutRedirectUri?: string;
  /** Always includes `openid`. */
  readonly scopes: readonly string[];
  /** Session cookie name; the login state cookie is `${cookieName}_login`. */
  readonly cookieName: string;
  readonly sessionTtlMs: number;
  /** Secret bytes (base64) that the cookie keys are derived from (HKDF); at least 32 bytes. */
  readonly cookieSecret: string;
  /** How long the discovery document is kept before it is fetched again. */
  readonly discoveryCacheMs: number;
  readonly clockSkewSec: number;
  /** The claim naming the consumer (default `sub`), as for `jwt`. */
  readonly consumerClaim: string;
  /** consumer claim value → consumer, for Consumers that declare a JWT subject. */
  readonly consumers: Readonly<Record<string, IrConsumer>>;
}
