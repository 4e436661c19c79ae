// The quota filter with a local store and an injected clock: N pass per UTC day, N+1 is a 429
// naming the quota and when it resets; midnight UTC starts a new count; monthly quotas follow the
// calendar; plan quotas count only their plan; the fields announce the quota as a draft-11 policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/core/clock.js';
import { compileQuotas } from '../../src/dataplane/filters/quota.js';
import type { IrQuota } from '../../src/ir/apim.js';
import type { FilterOutcome } from '../../src/dataplane/filters/filter-types.js';
import type { RequestContext } from '../../src/dataplane/filters/request-context.js';
import { MemoryCounterStore } from '../../src/state/memory-counter-store.js';
import { requestContext } from '../support/request-context.js';

function bed(quotas: IrQuota[], startMs: number) {
  const clock = new ManualClock(startMs, 0);
  const filter = compileQuotas({ policy: 'quotapolicy/default/orders', quotas, onStoreFailure: 'open' }, { clock, local: new MemoryCounterStore(clock), global: undefined });
  const send = (ctx: RequestContext): { outcome: FilterOutcome; headers: string[] } => {
    const outcome = filter.request(ctx);
    assert.ok(!(outcome instanceof Promise));
    const headers: string[] = [];
    if (outcome.kind === 'continue') filter.responseHeaders(ctx, 200, headers);
    return { outcome, headers };
  };
  return { clock, send };
}

const acme = { name: 'default/acme', groups: [] };

test('daily quota: N pass, N+1 is a 429 naming the quota and its reset; a new UTC day starts over', () => {
  // 18:00 UTC: six hours left in the day.
  const { clock, send } = bed([{ name: 'plan/default/free/quota/0', requests: 2, period: 'day', scope: 'local' }], Date.UTC(2030, 4, 17, 18));
  assert.deepEqual(send(requestContext({ consumer: acme })).headers, ['ratelimit-policy', '"plan/default/free/quota/0";q=2;w=86400', 'ratelimit', '"plan/default/free/quota/0";r=1;t=21600']);
  assert.equal(send(requestContext({ consumer: acme })).headers[3], '"plan/default/free/quota/0";r=0;t=21600');
  const refused = send(requestContext({ consumer: acme })).outcome;
  assert.equal(refused.kind, 'respond');
  if (refused.kind !== 'respond') return;
  assert.equal(refused.status, 429);
  assert.equal(refused.details, 'quota_exceeded');
  assert.deepEqual(refused.headers, ['retry-after', '21600', 'ratelimit-policy', '"plan/default/free/quota/0";q=2;w=86400', 'ratelimit', '"plan/default/free/quota/0";r=0;t=21600']);
  const body = JSON.parse(refused.body!);
  assert.equal(body.reason, 'quota_exceeded');
  assert.equal(body.quota, 'plan/default/free/quota/0');
  assert.equal(body.resetsAt, '2030-05-18T00:00:00Z');
  // Another consumer, and anonymous requests by address, have their own counts.
  assert.equal(send(requestContext({ consumer: { name: 'default/globex', groups: [] } })).outcome.kind, 'continue');
  assert.equal(send(requestContext({ clientIp: '198.51.100.7' })).outcome.kind, 'continue');
  clock.advance(6 * 3_600_000 - 1);
  assert.equal(send(requestContext({ consumer: acme })).outcome.kind, 'respond', 'still the same day at 23:59:59.999');
  clock.advance(1);
  assert.deepEqual(send(requestContext({ consumer: acme })).headers[3], '"plan/default/free/quota/0";r=1;t=86400');
});

test('monthly quota follows the calendar: the window is the month, the reset its first day', () => {
  const { clock, send } = bed([{ name: 'monthly', requests: 1, period: 'month', scope: 'local' }], Date.UTC(2030, 1, 27, 12));
  assert.deepEqual(send(requestContext({ consumer: acme })).headers, ['ratelimit-policy', '"monthly";q=1;w=2419200', 'ratelimit', '"monthly";r=0;t=129600']);
  const refused = send(requestContext({ consumer: acme })).outcome;
  assert.equal(refused.kind === 'respond' && JSON.parse(refused.body!).resetsAt, '2030-03-01T00:00:00Z');
  clock.advance(36 * 3_600_000);
  // March: 31 days.
  assert.equal(send(requestContext({ consumer: acme })).headers[1], '"monthly";q=1;w=2678400');
});

test('plan quotas count only consumers on the plan; of several quotas the 200 shows the closest to empty', () => {
  const { send } = bed(
    [
      { name: 'free-daily', plan: 'default/free', requests: 1, period: 'day', scope: 'local' },
      { name: 'all-monthly', requests: 100, period: 'month', scope: 'local' },
    ],
    Date.UTC(2030, 0, 10),
  );
  const free = { name: 'default/small', groups: [], plan: 'default/free' };
  assert.equal(send(requestContext({ consumer: free })).headers[3], '"free-daily";r=0;t=86400');
  assert.equal(send(requestContext({ consumer: free })).outcome.kind, 'respond');
  const gold = { name: 'default/big', groups: [], plan: 'default/gold' };
  for (let i = 0; i < 3; i++) assert.equal(send(requestContext({ consumer: gold })).outcome.kind, 'continue');
  assert.equal(send(requestContext({ consumer: gold })).headers[3], '"all-monthly";r=96;t=1900800');
});
