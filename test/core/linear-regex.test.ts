import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFullMatchRegex, compileRegexRewrite, type FullMatchRegex } from '../../src/core/linear-regex.js';

function compile(source: string): FullMatchRegex {
  const result = compileFullMatchRegex(source);
  assert.equal(result.kind, 'ok', `${source} should compile: ${result.kind === 'invalid' ? result.message : ''}`);
  if (result.kind !== 'ok') throw new Error('unreachable');
  return result.matcher;
}

function refusal(source: string): string {
  const result = compileFullMatchRegex(source);
  assert.equal(result.kind, 'invalid', `${source} should be refused`);
  if (result.kind !== 'invalid') throw new Error('unreachable');
  return result.message;
}

test('a pattern must cover the whole value (full match, no implicit anchors to forget)', () => {
  const re = compile('/api/v[0-9]+/users');
  assert.equal(re.test('/api/v2/users'), true);
  assert.equal(re.test('/api/v12/users'), true);
  assert.equal(re.test('/api/v2/users/7'), false, 'a match of a prefix is not a match');
  assert.equal(re.test('/x/api/v2/users'), false, 'a match of a suffix is not a match');
  assert.equal(re.test('/api/vX/users'), false);
  assert.equal(re.source, '/api/v[0-9]+/users');
});

test('alternation is anchored as a whole, not per branch', () => {
  const re = compile('a|ab');
  assert.equal(re.test('a'), true);
  assert.equal(re.test('ab'), true, 'the longer branch can cover the whole value');
  assert.equal(re.test('abc'), false);
  assert.equal(re.test('xab'), false);
  const branches = compile('/foo|/bar');
  assert.equal(branches.test('/foo/x'), false, 'the first branch is anchored at the end too');
  assert.equal(branches.test('/x/bar'), false, 'the second branch is anchored at the start too');
});

test('an empty pattern matches only the empty value; explicit anchors are harmless', () => {
  const empty = compile('');
  assert.equal(empty.test(''), true);
  assert.equal(empty.test('a'), false);
  const anchored = compile('^/a+$');
  assert.equal(anchored.test('/aaa'), true);
  assert.equal(anchored.test('/aaab'), false);
});

test('RE2 syntax that native RegExp lacks: inline flags, Perl named groups, POSIX classes', () => {
  assert.equal(compile('(?i)/Shop/.*').test('/SHOP/cart'), true);
  assert.equal(compile('/(?P<id>[0-9]+)').test('/42'), true);
  assert.equal(compile('[[:digit:]]{3}').test('123'), true);
  assert.equal(compile('[[:digit:]]{3}').test('12a'), false);
});

test('a pattern cannot break out of the full-match anchoring', () => {
  // With `^(?:${source})$` wrapping, this source would become `^(?:a)|(b)$` and match any value
  // that starts with "a". The engine anchors instead, and the unbalanced pattern is refused.
  assert.match(refusal('a)|(b'), /unexpected \)/);
});

test('backreferences are refused with a reason', () => {
  const message = refusal('(a)\\1');
  assert.match(message, /^invalid regular expression "\(a\)\\\\1": /);
  assert.match(message, /backreference/);
  assert.match(message, /linear time/);
  assert.match(refusal('(?<n>a)\\k<n>'), /backreference/);
});

test('lookahead and lookbehind are refused with a reason', () => {
  for (const source of ['/api(?=/v1)', '/api(?!/internal).*']) assert.match(refusal(source), /lookahead: RE2 syntax refuses it/);
  for (const source of ['(?<=/api)/v1', '(?<!/internal)/x']) assert.match(refusal(source), /lookbehind: RE2 syntax refuses it/);
  assert.match(refusal('(?>a+)b'), /atomic group/);
});

test('other invalid patterns name the problem and the fragment', () => {
  assert.equal(refusal('/(unclosed'), 'invalid regular expression "/(unclosed": missing closing )');
  assert.equal(refusal('/ok/(?=x)'), 'invalid regular expression "/ok/(?=x)": invalid or unsupported Perl syntax: "(?=" (lookahead: RE2 syntax refuses it because it cannot be matched in linear time)');
  const huge = refusal('('.repeat(100_000));
  assert.ok(huge.length < 300, `a huge pattern is quoted shortened, not whole (${huge.length} characters)`);
  assert.match(refusal('a++'), /invalid nested repetition operator/);
  assert.match(refusal('a{1001}'), /invalid repeat count/);
  assert.match(refusal('\\u0041'), /invalid escape sequence/, 'JavaScript-only escapes are not RE2 syntax');
});

test('catastrophic-backtracking patterns answer in linear time', () => {
  // Each of these would take longer than the test runner lives with a backtracking engine.
  const evil = 'a'.repeat(30_000) + 'b';
  assert.equal(compile('(a+)+$').test(evil), false);
  assert.equal(compile('(a|aa)+').test(evil), false);
  assert.equal(compile('(a|aa)+').test('a'.repeat(30_000)), true);
  assert.equal(compile('(.*a){20}').test(evil), false);
});

test('compileRegexRewrite replaces every match with RE2 rewrite syntax (Envoy regex_rewrite)', () => {
  const rewrite = (pattern: string, substitution: string, value: string): string => {
    const r = compileRegexRewrite(pattern, substitution);
    assert.equal(r.kind, 'ok', JSON.stringify(r));
    return r.kind === 'ok' ? r.rewrite.replaceAll(value) : '';
  };
  assert.equal(rewrite('^/service/([^/]+)(/.*)$', '\\2/instance/\\1', '/service/foo/v1/api'), '/v1/api/instance/foo');
  // Every match, not the first only; \0 is the whole match; \\ is one backslash.
  assert.equal(rewrite('o', '0', '/foo/boo'), '/f00/b00');
  assert.equal(rewrite('[0-9]+', '<\\0>', '/a1/b22'), '/a<1>/b<22>');
  assert.equal(rewrite('x', '\\\\', '/x'), '/\\');
  // An empty match right after a match is not another match (RE2 GlobalReplace).
  assert.equal(rewrite('a*', '-', 'baab'), '-b-b-');
  // A missing group and an unknown escape are refused; so is a pattern RE2 refuses.
  assert.equal(compileRegexRewrite('/(a)', '/\\2').kind, 'invalid');
  assert.equal(compileRegexRewrite('/(a)', '/\\n').kind, 'invalid');
  assert.equal(compileRegexRewrite('(?=a)', '/').kind, 'invalid');
});
