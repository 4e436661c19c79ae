// One GRPCRoute rule → IR routes, through the HTTPRoute rule translation (filters, weighted
// backendRefs, mirrors and the 500 for a rule without usable backends are the same); only the
// matches and their precedence are gRPC's own.
import type { GrpcRouteMatch, GrpcRouteRule } from '../../resources/resource.js';
import type { BackendContext } from './http-route-backends.js';
import { translateRuleMatches } from './http-route-rules.js';
import { rankGrpcMatch, translateGrpcMatch } from './grpc-route-match.js';
import type { RankedRoute } from './route-precedence.js';

/** A rule without matches matches every gRPC call. */
const MATCH_ALL: GrpcRouteMatch = {};

export function translateGrpcRule(rule: GrpcRouteRule, ruleIndex: number, ctx: BackendContext): RankedRoute[] {
  const matches = rule.matches && rule.matches.length > 0 ? rule.matches : [MATCH_ALL];
  const routes = translateRuleMatches(rule, ruleIndex, matches.map(translateGrpcMatch), ctx);
  return routes.map((route, m) => ({ route, rank: rankGrpcMatch(matches[m] ?? MATCH_ALL) }));
}
