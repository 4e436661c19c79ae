// The one registry of error codes. docs/errors.md is kept in sync with this file by a test
// (test/core/errors-doc.test.ts): add a code here, then document it there.

/** Configuration diagnostics: found at load/translate time, reported as values. */
export const CONFIG_ERRORS = {
  ERR_CONFIG_YAML_PARSE: 'A file is not valid YAML or JSON.',
  ERR_CONFIG_READ: 'A config file or folder could not be read.',
  ERR_CONFIG_TOO_LARGE: 'A file exceeds a config limit: bytes, nodes or characters once aliases are expanded, nesting depth (the file is refused), or diagnostics per file (the rest are only counted).',
  ERR_CONFIG_PARSE_ABORTED: 'Parsing a file was stopped: it took longer than the deadline, needed more than the parser heap, or crashed the parser.',
  ERR_RESOURCE_UNKNOWN_KIND: 'An object has an apiVersion/kind Isthmus does not handle (warning; skipped).',
  ERR_RESOURCE_INVALID: 'An object does not match the schema of its kind (the field path says where).',
  ERR_RESOURCE_DUPLICATE: 'Two objects have the same kind, namespace and name; the later one wins.',
  ERR_BACKEND_SERVICE_NOT_FOUND: 'A backend names a Service that does not exist in that namespace.',
  ERR_BACKEND_PORT_NOT_FOUND: 'A backend names a Service port (number or name) the Service does not have.',
  ERR_SERVICE_NODE_PORT_INVALID: "A Service's nodePort is outside the node-port range (30000-32767 unless set otherwise) or is taken by another Service port of the same protocol: that port gets no node-port rules or listener (the older Service keeps a shared one); the rest of the Service is served.",
  ERR_ENDPOINT_FAMILY_MISMATCH: 'An EndpointSlice holds addresses of a family (IPv4, IPv6) its Service does not have (spec.ipFamilies or its cluster IPs): those endpoints are left out (warning).',
  ERR_L4_SERVICE_INVALID: "A Service's L4 settings cannot be used (an unknown `isthmus.dev/l4-scheduler`, a `isthmus.dev/proxy-protocol` other than v1/v2, an SCTP port): the default is used or that port gets no listener (warning).",
  ERR_L4_LISTENER_CONFLICT: 'An L4 listener (a node port, a load-balancer address, a TCP/UDP/TLS Gateway listener) wants an address and port that an HTTP listener or an older L4 listener of the same transport already holds: it is not served.',
  ERR_BACKEND_NO_ENDPOINTS: 'A backend Service has no ready endpoints (warning; requests get 503).',
  ERR_BACKEND_EXTERNAL_NAME: 'An ExternalName Service is used as a backend (resolved by DNS at connect time).',
  ERR_BACKEND_SUBSET_NOT_FOUND: 'A VirtualService destination or mirror names a subset no DestinationRule for its host defines; its share answers 500.',
  ERR_ISTIO_UNSUPPORTED: 'An Istio field or mode Isthmus does not implement yet (passthrough servers, ISTIO_MUTUAL, some VirtualService and DestinationRule settings); the diagnostic says what is served instead.',
  ERR_HEALTH_CHECK_INVALID: 'An `isthmus.dev/health-check` annotation cannot be read (a malformed setting, no path); the cluster is not actively checked (an unknown key is a warning and ignored).',
  ERR_ISTIO_DELEGATE_INVALID: 'A VirtualService delegate cannot be used (not found, has hosts, not exported to the root, delegates again, or a match outside the root\'s); that route is not served, the rest are.',
  ERR_ISTIO_NOT_EXPORTED: 'A VirtualService, DestinationRule or ServiceEntry is not exported (`exportTo`) to the namespace of the proxy that would use it (the Gateway\'s at the edge, `--namespace` in the sidecar); it is not applied there (warning).',
  ERR_ISTIO_ROUTE_SHADOWED: 'VirtualServices for one host are merged at a gateway in creation order, and an older one already has a route matching every request: the newer one\'s routes for that host are never reached (warning).',
  ERR_BACKEND_UNSUPPORTED: 'A backend kind is not supported (e.g. an Ingress resource backend).',
  ERR_BACKEND_TLS_INVALID: 'A TLS backend\'s upstream TLS settings cannot be used (CA Secret or ConfigMap missing or of the wrong type, no PEM certificate in `ca.crt`, a malformed annotation, an invalid BackendTLSPolicy): routes to it answer 503 (Gateway API routes 500); it is never reached unverified.',
  ERR_BACKEND_TLS_UNVERIFIED: 'Upstream certificate verification is switched off by configuration (warning; encrypted, not authenticated).',
  ERR_POLICY_TARGET_NOT_FOUND: 'A policy (BackendTLSPolicy, AuthPolicy, RateLimitPolicy, an API version) targets an object, or a named section of one (Service port, Gateway listener, route rule), that does not exist (warning; it applies to nothing there; condition Accepted False, TargetNotFound).',
  ERR_POLICY_CONFLICTED: 'Two policies of one kind attach at the same level to the same Service port or route; the older one (creationTimestamp, then namespace/name) applies, the other is Conflicted there (warning).',
  ERR_POLICY_UNSUPPORTED: 'A policy field or target kind Isthmus does not implement (warning; ignored; an unsupported target kind is condition Accepted False, Invalid).',
  ERR_OPENAPI_INVALID: 'An API version\'s OpenAPI document cannot be used: its ConfigMap or key is missing, it is not YAML or JSON, not OpenAPI 3.0 or 3.1, or a part of it (a $ref, a schema, a path) is broken. A whole document that fails is an error: a running gateway keeps its last good configuration; a broken part is a warning and only that part is left out.',
  ERR_POLICY_INVALID: 'A policy value its CRD schema cannot check is wrong (a CEL rule such as jwt needing exactly one of jwksUri and jwks, a limit key needing a name, an inline key set holding a private key, an API successor that names nothing): the smallest broken part (a method, a limit, a field) is left out; an AuthPolicy left without a usable method answers 401 to every request (unless it allows anonymous ones): it fails closed.',
  ERR_AUTHZ_PEER_IDENTITY: 'An Istio AuthorizationPolicy names mTLS peer identities (principals, namespaces, serviceAccounts, source.principal, source.namespace), which clients of an edge gateway do not present (warning): a source or rule requiring one never matches; a notX of them always holds.',
  ERR_AUTHZ_PROVIDER_NOT_FOUND: 'An Istio CUSTOM AuthorizationPolicy names no provider, or one the mesh config (ConfigMap istio/istio-system, key mesh, extensionProviders) does not define or that is not envoyExtAuthzHttp: requests matching its rules are denied (403), as Istio fails closed.',
  ERR_MESH_CONFIG_INVALID: "Istio's mesh config (ConfigMap istio in istio-system, key mesh) cannot be read, or an extensionProviders entry is malformed: the entry (or the whole config) is left out, and CUSTOM policies naming it deny what they match.",
  ERR_CONSUMER_CREDENTIAL_INVALID: 'A Consumer credential cannot be used: its Secret is missing, has no `sha256` of 64 hex characters (API keys) or no `htpasswd` (Basic), an htpasswd line is not `user:bcrypt-hash`, or a key, user or JWT subject is claimed by an older Consumer too; that credential identifies nobody.',
  ERR_CONSUMER_PLAN_NOT_FOUND: 'A Consumer names a Plan that does not exist in its namespace (warning; no Plan limits count its requests).',
  ERR_INGRESS_CLASS_MULTIPLE_DEFAULTS: 'More than one IngressClass is marked default.',
  ERR_INGRESS_RULE_CONFLICT: 'Two Ingresses claim the same host, path and pathType; the older one wins.',
  ERR_INGRESS_DEFAULT_BACKEND_CONFLICT: 'Two Ingresses set a defaultBackend; the older one wins.',
  ERR_INGRESS_INVALID_HOST: 'An Ingress host is not a valid DNS name or wildcard (`*.example.com`).',
  ERR_INGRESS_INVALID_PATH: 'An Ingress path is invalid for its pathType.',
  ERR_TLS_SECRET_NOT_FOUND: 'A TLS section names a Secret that does not exist.',
  ERR_TLS_SECRET_INVALID: 'A TLS Secret has no valid certificate/key pair (type kubernetes.io/tls, base64 tls.crt/tls.key).',
  ERR_TLS_CLIENT_CA_INVALID: 'A Gateway `tls.frontend` CA reference for client certificates cannot be used (missing, wrong kind, not permitted, no PEM certificate); with none usable, the HTTPS listeners on that port are not served.',
  ERR_TLS_CLIENT_UNVERIFIED: 'Client-certificate validation on a Gateway port is AllowInsecureFallback (warning: clients without a valid certificate are let through).',
  ERR_GATEWAY_LISTENER_UNSUPPORTED: 'A Gateway listener uses a protocol or TLS mode Isthmus does not implement (TLS, TCP, UDP, Passthrough); it is not programmed.',
  ERR_GATEWAY_ADDRESS_UNSUPPORTED: 'A Gateway address is not an IPAddress; it is ignored.',
  ERR_LISTENERSET_NOT_ALLOWED: 'A ListenerSet names a Gateway whose `spec.allowedListeners` does not admit its namespace (the default is None); its listeners are not served.',
  ERR_ROUTE_NOT_ACCEPTED: 'A route parentRef did not attach (NoMatchingParent, NotAllowedByListeners, NoMatchingListenerHostname).',
  ERR_ROUTE_BACKEND_INVALID_KIND: 'A route backendRef names a kind other than a core Service; its share answers 500.',
  ERR_ROUTE_REF_NOT_PERMITTED: 'A reference into another namespace has no ReferenceGrant allowing it; its share answers 500.',
  ERR_ROUTE_INVALID_VALUE: 'A route value Isthmus cannot serve (a regular expression RE2 refuses); the rule is dropped.',
  ERR_ROUTE_UNSUPPORTED: 'A route field or filter Isthmus does not implement; the rule answers 500.',
  ERR_LISTENER_CONFLICT: 'Two listeners cannot share one bind (address:port after --port-map): another protocol (ProtocolConflict) or the same hostname (HostnameConflict); the later one is not served.',
  ERR_LISTENER_HOST_SHADOWED: 'Two listeners on one bind serve the same host; the first in bind precedence serves it (Ingress, then the more specific listener hostname, then the older Gateway) and the later one does not.',
  ERR_LISTENER_BIND: 'A listener could not bind its port.',
  ERR_CONFIG_REJECTED: 'A configuration was not applied as a whole: a file that does not parse or an object that breaks its schema (once a configuration serves), or a port that cannot be bound. The last good configuration keeps serving; at start-up there is none, and `isthmus run` exits 1.',
  ERR_KUBERNETES_FORBIDDEN: 'Kubernetes mode: RBAC forbids listing or watching a kind; its objects are not served, the other kinds are.',
  ERR_KUBERNETES_WATCH: 'Kubernetes mode: the watch of a kind keeps failing; the objects last seen keep serving while it retries.',
} as const;

/**
 * Local-reply reasons: the `details` of a reply the gateway answers itself. Each has a status, a
 * blamed side, and whether the request may be retried on another endpoint.
 */
export const RUNTIME_ERRORS = {
  no_route: { status: 404, blame: 'downstream', retryable: false, text: 'No route matches the host and path.' },
  upstream_connect_error: { status: 502, blame: 'upstream', retryable: true, text: 'The upstream refused or failed the connection.' },
  upstream_reset: { status: 502, blame: 'upstream', retryable: true, text: 'The upstream reset the connection before answering.' },
  upstream_protocol_error: { status: 502, blame: 'upstream', retryable: false, text: 'The upstream sent an invalid HTTP response.' },
  invalid_backend: { status: 503, blame: 'internal', retryable: false, text: 'The route\'s backend is invalid in the configuration; /api/diagnostics says why.' },
  invalid_route: { status: 500, blame: 'internal', retryable: false, text: 'The route cannot be served as configured; /api/diagnostics says why.' },
  no_healthy_upstream: { status: 503, blame: 'upstream', retryable: false, text: 'The route\'s cluster has no healthy endpoint.' },
  upstream_overflow: { status: 503, blame: 'upstream', retryable: false, text: 'The cluster\'s circuit breakers are full (requests in flight and pending at their limits); answered at once, as Envoy\'s overflow.' },
  upstream_timeout: { status: 504, blame: 'upstream', retryable: false, text: 'The upstream did not answer within the route timeout.' },
  upstream_connect_timeout: { status: 504, blame: 'upstream', retryable: true, text: 'Connecting to the upstream timed out.' },
  upstream_tls_error: { status: 502, blame: 'upstream', retryable: true, text: 'The TLS handshake with the upstream failed: its certificate is not trusted or does not carry the expected name, or the handshake broke.' },
  request_headers_too_large: { status: 431, blame: 'downstream', retryable: false, text: 'Request headers exceed the limit.' },
  uri_too_long: { status: 414, blame: 'downstream', retryable: false, text: 'The request target exceeds the limit.' },
  bad_request: { status: 400, blame: 'downstream', retryable: false, text: 'Malformed request (framing, header characters, path).' },
  misdirected_request: { status: 421, blame: 'downstream', retryable: false, text: 'The Host does not match the TLS server name of the connection.' },
  send_timeout: { status: 408, blame: 'downstream', retryable: false, text: 'The client took none of the response for the send timeout; the stream was cut.' },
  request_timeout: { status: 408, blame: 'downstream', retryable: false, text: 'The client did not send the request in time.' },
  backend_not_found: { status: 500, blame: 'internal', retryable: false, text: 'The chosen backend could not be resolved from the configuration (Gateway API: its share of requests gets 500).' },
  internal_error: { status: 500, blame: 'internal', retryable: false, text: 'A bug: logged and counted; the process keeps serving.' },
} as const;

export type ConfigErrorCode = keyof typeof CONFIG_ERRORS;
export type RuntimeErrorCode = keyof typeof RUNTIME_ERRORS;
export type ErrorCode = ConfigErrorCode;
export type Blame = 'downstream' | 'upstream' | 'internal';
