// Every regular expression a user writes (route path, header and query `regex` matches) is compiled
// here and nowhere else. RE2 syntax through re2js: its automata match in time linear in the input,
// so no pattern can make the request path backtrack. Native RegExp does backtrack: `(a+)+$` against
// 30,000 'a's and a 'b' would hold the event loop for longer than anyone waits (ReDoS), and with it
// every other request on the process. Envoy's safe_regex is RE2 for the same reason (the Gateway
// API leaves the dialect of RegularExpression matches to the implementation).
//
// This module sits in core/ (and is core's one npm dependency) because both sides of the IR need it:
// translators to refuse an invalid pattern with a diagnostic naming the field, the data plane to
// compile the matcher once at apply time.
import { RE2JS, RE2JSException, RE2JSSyntaxException } from 're2js';

/** A compiled pattern that must cover the whole value, as RE2's FullMatch and Envoy's safe_regex. */
export interface FullMatchRegex {
  readonly source: string;
  test(value: string): boolean;
}

export type RegexCompileResult =
  | { readonly kind: 'ok'; readonly matcher: FullMatchRegex }
  | { readonly kind: 'invalid'; readonly message: string };

class Re2FullMatch implements FullMatchRegex {
  constructor(
    readonly source: string,
    private readonly re: RE2JS,
  ) {}
  test(value: string): boolean {
    // testExact anchors both ends inside the engine (no `^(?:…)$` wrapping that a pattern such as
    // `a)|(b` could break out of) and asks for no captures, which keeps re2js on its DFA.
    return this.re.testExact(value);
  }
}

/**
 * Compiles `source` (RE2 syntax) into a full-match predicate. Constructs that need backtracking
 * (backreferences, lookahead, lookbehind, atomic groups, possessive quantifiers) are refused as
 * invalid, with the reason in the message, never thrown.
 */
export function compileFullMatchRegex(source: string): RegexCompileResult {
  try {
    return { kind: 'ok', matcher: new Re2FullMatch(source, RE2JS.compile(source)) };
  } catch (err) {
    return { kind: 'invalid', message: `invalid regular expression ${quote(source)}: ${describeCompileError(err, source)}` };
  }
}

/** Diagnostics quote the pattern; a pathological one could be megabytes long. */
function quote(source: string): string {
  const MAX_QUOTED = 200;
  return JSON.stringify(source.length > MAX_QUOTED ? `${source.slice(0, MAX_QUOTED)}…` : source);
}

function describeCompileError(err: unknown, source: string): string {
  if (err instanceof RE2JSSyntaxException) {
    // re2js names the offending fragment; it is only worth repeating when it is not the whole pattern.
    const fragment = err.input === null || err.input === source ? '' : `: ${quote(err.input)}`;
    const why = explainRefusal(err.input ?? '');
    return `${err.getDescription()}${fragment}${why === undefined ? '' : ` (${why})`}`;
  }
  // Compile-stage limits (program too large) and, defensively, anything re2js did not expect
  // (a stack overflow on a pathological pattern): the route is refused, apply carries on.
  if (err instanceof RE2JSException || err instanceof Error) return err.message;
  return String(err);
}

/**
 * re2js reports the offending fragment; for the constructs that users bring from PCRE or JavaScript
 * it names the construct and why RE2 has none, since "invalid named capture" says neither.
 */
function explainRefusal(fragment: string): string | undefined {
  const reason = 'RE2 syntax refuses it because it cannot be matched in linear time';
  if (fragment.startsWith('(?=') || fragment.startsWith('(?!')) return `lookahead: ${reason}`;
  if (fragment.startsWith('(?<=') || fragment.startsWith('(?<!')) return `lookbehind: ${reason}`;
  if (/^\\([1-9]|k)/.test(fragment)) return `backreference: ${reason}`;
  if (fragment.startsWith('(?>')) return `atomic group: ${reason}`;
  return undefined;
}
