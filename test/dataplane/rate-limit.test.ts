// The rate-limit filter with local stores and an injected clock: N pass, N+1 is a 429 with
// Retry-After and the draft-11 fields, the bucket refills after the period; what each key kind
// counts apart; plan-only limits; the most restrictive limit is the one shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/core/clock.js';
import type { IrRateLimit, IrRateLimits } from '../../src/ir/apim.js';
import { compileRateLimits } from '../../src/dataplane/filters/rate-limit.js';
import type { FilterOutcome } from '../../src/dataplane/filters/filter-types.js';
import type { RequestContext } from '../../src/dataplane/filters/request-context.js';
import { MemoryCounterStore } from '../../src/state/memory-counter-store.js';
import { requestContext } from '../support/request-context.js';

function policy(...limits: IrRateLimit[]): IrRateLimits {
  return { policy: 'ratelimitpolicy/default/orders', limits, onStoreFailure: 'open' };
}

function limit(name: string, requests: number, periodMs: number, key: IrRateLimit['key'], extra: Partial<IrRateLimit> = {}): IrRateLimit {
  return { name, requests, periodMs, key, scope: 'local', ...extra };
}

function bed(rl: IrRateLimits) {
  const clock = new ManualClock(Date.UTC(2030, 0, 1), 0);
  const filter = compileRateLimits(rl, { clock, local: new MemoryCounterStore(clock), global: undefined });
  /** One request through both phases: the outcome and the response fields a 200 would carry. */
  const send = (ctx: RequestContext = requestContext()): { outcome: FilterOutcome; headers: string[] } => {
    const outcome = filter.request(ctx);
    assert.ok(!(outcome instanceof Promise), 'local limits answer synchronously');
    const headers: string[] = [];
    if (outcome.kind === 'continue') filter.responseHeaders(ctx, 200, headers);
    return { outcome, headers };
  };
  const passes = (n: number, ctx?: () => RequestContext): number => {
    let passed = 0;
    for (let i = 0; i < n; i++) if (send(ctx?.()).outcome.kind === 'continue') passed++;
    return passed;
  };
  return { clock, send, passes };
}

test('N requests pass with RateLimit fields counting down; N+1 is a 429 with Retry-After; the period refills it', () => {
  const { clock, send } = bed(policy(limit('ratelimitpolicy/default/orders/0', 3, 60_000, { kind: 'route' })));
  const fields = [1, 2, 3].map(() => send().headers);
  assert.deepEqual(fields, [
    ['ratelimit-policy', '"ratelimitpolicy/default/orders/0";q=3;w=60', 'ratelimit', '"ratelimitpolicy/default/orders/0";r=2;t=20'],
    ['ratelimit-policy', '"ratelimitpolicy/default/orders/0";q=3;w=60', 'ratelimit', '"ratelimitpolicy/default/orders/0";r=1;t=40'],
    ['ratelimit-policy', '"ratelimitpolicy/default/orders/0";q=3;w=60', 'ratelimit', '"ratelimitpolicy/default/orders/0";r=0;t=60'],
  ]);
  const refused = send().outcome;
  assert.equal(refused.kind, 'respond');
  if (refused.kind !== 'respond') return;
  assert.equal(refused.status, 429);
  assert.equal(refused.details, 'rate_limited');
  // One request comes back after one interval (20 s) less the half-interval slack (counter-store.ts).
  assert.deepEqual(refused.headers, ['retry-after', '10', 'ratelimit-policy', '"ratelimitpolicy/default/orders/0";q=3;w=60', 'ratelimit', '"ratelimitpolicy/default/orders/0";r=0;t=10']);
  const body = JSON.parse(refused.body!);
  assert.deepEqual({ ...body, request_id: undefined }, {
    status: 429,
    reason: 'rate_limited',
    message: 'Too many requests: a rate limit of the route is exhausted.',
    request_id: undefined,
    limit: 'ratelimitpolicy/default/orders/0',
    retryAfterSeconds: 10,
  });
  assert.match(body.request_id, /^req-/);
  clock.advance(60_000);
  assert.deepEqual([1, 2, 3, 4].map(() => send().outcome.kind), ['continue', 'continue', 'continue', 'respond']);
});

test('consumer key: each consumer has its own bucket; anonymous requests count by client address', () => {
  const { passes } = bed(policy(limit('per-consumer', 2, 60_000, { kind: 'consumer' })));
  const acme = { name: 'default/acme', groups: [] };
  assert.equal(passes(3, () => requestContext({ consumer: acme, clientIp: '198.51.100.1' })), 2);
  // Same address, another consumer: a bucket of its own.
  assert.equal(passes(3, () => requestContext({ consumer: { name: 'default/globex', groups: [] }, clientIp: '198.51.100.1' })), 2);
  // Anonymous from two addresses: one bucket each, not shared with the consumers.
  assert.equal(passes(3, () => requestContext({ clientIp: '198.51.100.1' })), 2);
  assert.equal(passes(3, () => requestContext({ clientIp: '198.51.100.2' })), 2);
});

test('client-ip key counts addresses, whoever the consumer is', () => {
  const { passes } = bed(policy(limit('per-ip', 2, 60_000, { kind: 'client-ip' })));
  let n = 0;
  assert.equal(passes(4, () => requestContext({ consumer: { name: `c${n++}`, groups: [] }, clientIp: '203.0.113.9' })), 2);
  assert.equal(passes(1, () => requestContext({ clientIp: '203.0.113.10' })), 1);
});

test('header key: one bucket per value; requests without the header share one bucket of their own', () => {
  const { passes } = bed(policy(limit('per-tenant', 2, 60_000, { kind: 'header', name: 'X-Tenant' })));
  assert.equal(passes(3, () => requestContext({ headers: { 'x-tenant': 'blue' } })), 2);
  assert.equal(passes(3, () => requestContext({ headers: { 'x-tenant': 'green' } })), 2);
  let ip = 0;
  assert.equal(passes(3, () => requestContext({ clientIp: `192.0.2.${++ip}` })), 2, 'without the header, whatever the address');
  // A header literally named like the absent bucket does not share it.
  assert.equal(passes(1, () => requestContext({ headers: { 'x-tenant': '!' } })), 1);
});

test('claim key: one bucket per claim value (strings and other JSON values); no claims share one bucket', () => {
  const { passes } = bed(policy(limit('per-org', 2, 60_000, { kind: 'claim', name: 'org' })));
  assert.equal(passes(3, () => requestContext({ claims: { sub: 'a', org: 'initech' } })), 2);
  assert.equal(passes(3, () => requestContext({ claims: { sub: 'b', org: 42 } })), 2);
  assert.equal(passes(3, () => requestContext({ claims: { sub: 'c' } })), 2);
  assert.equal(passes(1, () => requestContext()), 0, 'no token at all is the same absent bucket as no claim');
});

test('plan limits count only consumers on that plan; others and anonymous requests pass untouched', () => {
  const { passes, send } = bed(policy(limit('plan/default/bronze/0', 1, 60_000, { kind: 'consumer' }, { plan: 'default/bronze' })));
  const bronze = { name: 'default/acme', groups: [], plan: 'default/bronze' };
  assert.equal(passes(3, () => requestContext({ consumer: bronze })), 1);
  assert.equal(passes(5, () => requestContext({ consumer: { name: 'default/gold-co', groups: [], plan: 'default/gold' } })), 5);
  assert.equal(passes(5, () => requestContext()), 5);
  // No limit applied: no fields on the response.
  assert.deepEqual(send(requestContext()).headers, []);
});

test('every applicable limit is checked; the 429 names the one that refused; a 200 shows the closest to empty', () => {
  const { send, clock } = bed(
    policy(
      limit('burst', 5, 1_000, { kind: 'route' }),
      limit('hourly', 7, 3_600_000, { kind: 'route' }),
    ),
  );
  const first = send().headers;
  // burst has 4 left, hourly 6: burst is shown.
  assert.equal(first[3], '"burst";r=4;t=1');
  for (let i = 0; i < 4; i++) send();
  const refusedByBurst = send().outcome;
  assert.equal(refusedByBurst.kind === 'respond' && JSON.parse(refusedByBurst.body!).limit, 'burst');
  clock.advance(2_000);
  // 5 taken from hourly (the refused request cost hourly one too: 6), burst is full again.
  const shown = send().headers;
  assert.equal(shown[3], '"hourly";r=0;t=3598');
  const refusedByHour = send().outcome;
  assert.equal(refusedByHour.kind === 'respond' && JSON.parse(refusedByHour.body!).limit, 'hourly');
});

test('names with quotes and backslashes are escaped as sf-strings', () => {
  const { send } = bed(policy(limit('a"b\\c', 2, 500, { kind: 'route' })));
  assert.deepEqual(send().headers, ['ratelimit-policy', '"a\\"b\\\\c";q=2;w=1', 'ratelimit', '"a\\"b\\\\c";r=1;t=1']);
});

test('behind a trusted proxy, client-ip limits count the client the proxy names, not the proxy', () => {
  const clock = new ManualClock(Date.UTC(2030, 0, 1), 0);
  const filter = compileRateLimits(policy(limit('per-ip', 1, 60_000, { kind: 'client-ip' })), {
    clock,
    local: new MemoryCounterStore(clock),
    global: undefined,
    isTrustedProxy: (ip) => ip === '10.0.0.1',
  });
  const via = (client: string): FilterOutcome => filter.request(requestContext({ clientIp: '10.0.0.1', headers: { 'x-forwarded-for': client } })) as FilterOutcome;
  assert.equal(via('198.51.100.7').kind, 'continue');
  assert.equal(via('198.51.100.8').kind, 'continue', 'another client behind the same proxy has its own bucket');
  assert.equal(via('198.51.100.7').kind, 'respond', 'the first client is limited');
  // An untrusted peer's X-Forwarded-For is ignored: it is counted as itself.
  const direct = (xff: string): FilterOutcome => filter.request(requestContext({ clientIp: '203.0.113.5', headers: { 'x-forwarded-for': xff } })) as FilterOutcome;
  assert.equal(direct('1.1.1.1').kind, 'continue');
  assert.equal(direct('2.2.2.2').kind, 'respond');
});
