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

/** Replaces every match of a pattern in a value (Envoy `regex_rewrite`, RE2 GlobalReplace). */
export interface RegexRewrite {
  readonly source: string;
  replaceAll(value: string): string;
}

export type RegexRewriteCompileResult = { readonly kind: 'ok'; readonly rewrite: RegexRewrite } | { readonly kind: 'invalid'; readonly message: string };

/** A substitution, parsed once: literal text and capture-group references. */
type SubstitutionPart = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'group'; readonly index: number };

class Re2GlobalReplace implements RegexRewrite {
  constructor(
    readonly source: string,
    private readonly re: RE2JS,
    private readonly parts: readonly SubstitutionPart[],
  ) {}
  replaceAll(value: string): string {
    const m = this.re.matcher(value);
    let out = '';
    let last = 0;
    let lastMatchEnd = -1;
    while (m.find()) {
      const start = m.start();
      const end = m.end();
      // RE2 GlobalReplace: an empty match right where the previous match ended is not a new one.
      if (start === end && start === lastMatchEnd) continue;
      out += value.slice(last, start);
      for (const p of this.parts) out += p.kind === 'text' ? p.text : (m.group(p.index) ?? '');
      last = end;
      lastMatchEnd = end;
    }
    return out + value.slice(last);
  }
}

/**
 * Compiles `pattern` (RE2 syntax) and `substitution` in RE2's rewrite syntax, as Envoy's
 * `regex_rewrite` takes them: `\0` is the whole match, `\1`..`\9` a capture group, `\\` a
 * backslash. A reference to a group the pattern does not have, or any other escape, is invalid.
 */
export function compileRegexRewrite(pattern: string, substitution: string): RegexRewriteCompileResult {
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (err) {
    return { kind: 'invalid', message: `invalid regular expression ${quote(pattern)}: ${describeCompileError(err, pattern)}` };
  }
  const parts: SubstitutionPart[] = [];
  let text = '';
  for (let i = 0; i < substitution.length; i++) {
    const c = substitution[i]!;
    if (c !== '\\') {
      text += c;
      continue;
    }
    const next = substitution[i + 1];
    i++;
    if (next === '\\') text += '\\';
    else if (next !== undefined && next >= '0' && next <= '9') {
      const index = Number(next);
      if (index > re.groupCount()) return { kind: 'invalid', message: `substitution ${quote(substitution)} refers to group \\${index}; the pattern has ${re.groupCount()}` };
      if (text !== '') parts.push({ kind: 'text', text });
      text = '';
      parts.push({ kind: 'group', index });
    } else return { kind: 'invalid', message: `substitution ${quote(substitution)}: "\\${next ?? ''}" is not \\0-\\9 or \\\\` };
  }
  if (text !== '') parts.push({ kind: 'text', text });
  return { kind: 'ok', rewrite: new Re2GlobalReplace(pattern, re, parts) };
}
