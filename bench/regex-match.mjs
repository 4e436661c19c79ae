// What does linear-time matching cost per request? Times full matches of route-style patterns
// with re2js (src/core/linear-regex.ts, what the data plane uses for every user regex) against
// native RegExp (`^(?:…)$`, what it used before), then shows why: the time native RegExp needs for
// `(a+)+$` doubles with each extra 'a', while re2js stays linear at 30,000.
// Usage: npm run build && node bench/regex-match.mjs [--iterations N]
import { parseArgs } from 'node:util';
import { compileFullMatchRegex } from '../dist/src/core/linear-regex.js';

const { values: opts } = parseArgs({ options: { iterations: { type: 'string', default: '200000' } } });
const iterations = Number(opts.iterations);

const CASES = [
  { name: 'literal path', pattern: '/healthz', inputs: ['/healthz', '/healthz/x', '/api/v1/users/42'] },
  { name: 'path with id', pattern: '/api/v[0-9]+/users/[0-9]+', inputs: ['/api/v1/users/42', '/api/v1/users/abc', '/static/app.js'] },
  { name: 'path segments', pattern: '/shop/[^/]+/cart(/.*)?', inputs: ['/shop/acme/cart', '/shop/acme/cart/items/7', '/shop/acme/orders'] },
  { name: 'header value', pattern: 'v[0-9]+(\\.[0-9]+)*', inputs: ['v2', 'v2.13.1', 'beta'] },
  { name: 'alternation', pattern: '(?i)(curl|wget|python-requests)/.*', inputs: ['curl/8.5.0', 'Mozilla/5.0 (X11; Linux x86_64)', 'Python-Requests/2.31'] },
];

function nsPerMatch(test, inputs) {
  let hits = 0;
  for (let i = 0; i < 10_000; i++) if (test(inputs[i % inputs.length])) hits++; // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) if (test(inputs[i % inputs.length])) hits++;
  const ns = Number(process.hrtime.bigint() - start) / iterations;
  return { ns, hits };
}

function compileRe2(pattern) {
  const result = compileFullMatchRegex(pattern);
  if (result.kind !== 'ok') throw new Error(result.message);
  return result.matcher;
}

console.log(`node ${process.version}, ${iterations} matches per row (inputs rotate: match, non-match, ...)\n`);
console.log('| case | pattern | RegExp ns/match | re2js ns/match | ratio | re2js compile µs (warm) |');
console.log('|---|---|---:|---:|---:|---:|');
for (const c of CASES) {
  const native = new RegExp(`^(?:${c.pattern.replace('(?i)', '')})$`, c.pattern.startsWith('(?i)') ? 'i' : '');
  const re2 = compileRe2(c.pattern);
  const a = nsPerMatch((s) => native.test(s), c.inputs);
  const b = nsPerMatch((s) => re2.test(s), c.inputs);
  if (a.hits !== b.hits) throw new Error(`${c.name}: engines disagree (${a.hits} vs ${b.hits} hits)`);
  // Apply-time cost, warm (native RegExp compiles lazily, so it has no fair counterpart here).
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 1000; i++) compileRe2(c.pattern);
  const compileUs = Number(process.hrtime.bigint() - t0) / 1000 / 1000;
  console.log(`| ${c.name} | \`${c.pattern}\` | ${a.ns.toFixed(0)} | ${b.ns.toFixed(0)} | ${(b.ns / a.ns).toFixed(1)}x | ${compileUs.toFixed(0)} |`);
}

console.log('\n`(a+)+$` against n \'a\'s and a \'b\' (no match):\n');
console.log('| n | RegExp ms | re2js ms |');
console.log('|---:|---:|---:|');
const evil = compileRe2('(a+)+$');
const nativeEvil = /^(?:(a+)+$)$/;
for (const n of [20, 22, 24, 26, 30_000]) {
  const input = 'a'.repeat(n) + 'b';
  let nativeMs = 'not run (hours)';
  if (n <= 26) {
    const t = process.hrtime.bigint();
    nativeEvil.test(input);
    nativeMs = (Number(process.hrtime.bigint() - t) / 1e6).toFixed(1);
  }
  const t = process.hrtime.bigint();
  evil.test(input);
  console.log(`| ${n} | ${nativeMs} | ${(Number(process.hrtime.bigint() - t) / 1e6).toFixed(2)} |`);
}
