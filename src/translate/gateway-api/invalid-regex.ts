// Regular expressions in route matches are user input: each is compiled with the same RE2 rules the
// data plane uses (core/linear-regex.ts), so a pattern it would refuse is reported here, on the
// route and its field, instead of silently dropping the route at apply time.
import { compileFullMatchRegex } from '../../core/linear-regex.js';
import type { IrRouteMatch } from '../../ir/types.js';

/** The first invalid pattern among a rule's matches: its field path (below the rule) and why. */
export function firstInvalidRegex(matches: readonly IrRouteMatch[], kind: 'HTTPRoute' | 'GRPCRoute'): { path: string; message: string } | undefined {
  for (let m = 0; m < matches.length; m++) {
    const match = matches[m]!;
    const checks: { path: string; value: string }[] = [];
    // A GRPCRoute's service/method become the IR path.
    if (match.path.kind === 'regex') checks.push({ path: kind === 'GRPCRoute' ? 'method' : 'path.value', value: match.path.value });
    (match.headers ?? []).forEach((h, i) => h.kind === 'regex' && checks.push({ path: `headers[${i}].value`, value: h.value ?? '' }));
    (match.queryParams ?? []).forEach((q, i) => q.kind === 'regex' && checks.push({ path: `queryParams[${i}].value`, value: q.value ?? '' }));
    for (const check of checks) {
      const compiled = compileFullMatchRegex(check.value);
      if (compiled.kind === 'invalid') return { path: `matches[${m}].${check.path}`, message: compiled.message };
    }
  }
  return undefined;
}
