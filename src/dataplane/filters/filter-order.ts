// The one order in which filter kinds run, whatever order a route lists them in. Each entry says
// why it sits where it does; a new filter kind gets a row here and nowhere else.
import type { IrFilter } from '../../ir/types.js';

export const FILTER_ORDER: readonly { readonly kind: IrFilter['kind']; readonly why: string }[] = [
  // A preflight carries no credentials (Fetch standard): it must be answered before any auth filter would refuse it.
  { kind: 'cors', why: 'answers preflights before authentication, and adds its headers to every response' },
  // A retired version answers 410 whoever asks: no credential or rate-limit token is spent on it.
  { kind: 'api-lifecycle', why: 'answers 410 for a retired API version before anything else; adds Deprecation/Sunset/Link to responses of deprecated ones' },
  // Before rate limiting: limits keyed by consumer or claim need the identity authentication establishes.
  { kind: 'authn', why: 'authenticates (API key, JWT, Basic) and names the consumer; 401 without valid credentials' },
  // After authn, so the service can be told the consumer; before authz, as Istio evaluates CUSTOM
  // before DENY and ALLOW; before rate limiting, so a request the service refuses spends no token.
  { kind: 'ext-auth', why: 'asks an external authorization service (AuthPolicy externalAuth, Istio CUSTOM); relays its denial, copies its headers upstream' },
  // After authn (it reads the consumer and claims authn sets); before rate limiting, so a refused request spends no token or quota.
  { kind: 'authz', why: 'allows or denies by consumer, group, claims, method, path, host, headers and address; 403 when refused' },
  { kind: 'rate-limit', why: 'counts requests per route, consumer, client or header once the consumer is known; 429 over a limit' },
  // After the rate limit: a request refused for its rate must not spend a unit of the period's quota.
  { kind: 'quota', why: "counts a consumer's requests per UTC day or month against its Plan; 429 naming the quota and its reset" },
  // After authentication, authorization and limits: a caller who may not call the API learns nothing of
  // its schema from a 400 (it gets 401/403 first), and a flood of malformed requests is counted and
  // limited before any CPU is spent parsing and validating it. Before the edits below, which would
  // otherwise change the request the document describes.
  { kind: 'openapi-validate', why: "checks path, query and header parameters and the JSON body against the API version's OpenAPI operation; 400 naming the field, 413 over the body limit" },
  // After CORS (a preflight is not a request to fault) and before anything that edits the request, as Istio orders Envoy's filters.
  { kind: 'fault', why: 'delays or aborts a share of requests before they are forwarded' },
  // After authn, authz, rate limits and quotas: its templates read the consumer and claims, and a refused request is not edited
  // for nothing. Before the route's own header modifier, so the HTTPRoute (closer to the backend) has the last word.
  { kind: 'transform', why: 'TransformPolicy: header edits with templates, JSON body edits and a path rewrite, request and response' },
  // Header edits before the rewrite, so a rewrite of Host is not undone by a header `set: host`.
  { kind: 'request-header-modifier', why: 'edits the upstream request as the route describes it' },
  { kind: 'url-rewrite', why: 'rewrites path and Host last, after every filter that reads them' },
  { kind: 'response-header-modifier', why: 'edits response headers; response phase only' },
];

const RANK = new Map(FILTER_ORDER.map((entry, i) => [entry.kind, i]));

/** The filters in FILTER_ORDER; filters of one kind keep the order the route gave them. */
export function inFilterOrder(filters: readonly IrFilter[]): IrFilter[] {
  return filters
    .map((filter, i) => ({ filter, i }))
    .sort((a, b) => RANK.get(a.filter.kind)! - RANK.get(b.filter.kind)! || a.i - b.i)
    .map((x) => x.filter);
}
