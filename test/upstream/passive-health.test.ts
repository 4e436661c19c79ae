import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock, type Clock } from '../../src/core/clock.js';
import { seededRandom } from '../../src/core/random.js';
import { createEndpointState } from '../../src/dataplane/upstream/endpoint-state.js';
import { PassiveHealth, alwaysAvailable } from '../../src/dataplane/upstream/health/passive-health.js';
import { createLoadBalancer } from '../../src/dataplane/upstream/lb/create-load-balancer.js';
import { makeContext, makeEndpoints } from './lb-fixtures.js';

const config = { consecutiveFailures: 3, baseEjectionMs: 1000, maxEjectionMs: 5000 };

function setup() {
  const clock = new ManualClock(1_700_000_000_000, 10);
  const health = new PassiveHealth(config, clock);
  const ep = createEndpointState('10.0.0.1', 80);
  return { clock, health, ep };
}

function fail(health: PassiveHealth, ep: ReturnType<typeof createEndpointState>, times: number): void {
  for (let i = 0; i < times; i++) health.recordFailure(ep);
}

describe('passive health', () => {
  it('ejects after the configured consecutive failures, not before', () => {
    const { health, ep } = setup();
    fail(health, ep, 2);
    assert.equal(health.isAvailable(ep), true);
    health.recordFailure(ep);
    assert.equal(health.isAvailable(ep), false);
    assert.equal(ep.ejections, 1);
  });

  it('a success in between resets the consecutive count', () => {
    const { health, ep } = setup();
    fail(health, ep, 2);
    health.recordSuccess(ep);
    fail(health, ep, 2);
    assert.equal(health.isAvailable(ep), true);
    assert.equal(ep.consecutiveFailures, 2);
  });

  it('brings the endpoint back after baseEjectionMs', () => {
    const { clock, health, ep } = setup();
    fail(health, ep, 3);
    clock.advance(999);
    assert.equal(health.isAvailable(ep), false);
    clock.advance(1);
    assert.equal(health.isAvailable(ep), true);
  });

  it('doubles the back-off on each ejection in a row, capped at maxEjectionMs', () => {
    const { clock, health, ep } = setup();
    const durations: number[] = [];
    for (let n = 0; n < 5; n++) {
      fail(health, ep, 3); // after an ejection ends, a full run of failures is needed again
      const start = clock.monotonicMs();
      while (!health.isAvailable(ep)) clock.advance(100);
      durations.push(clock.monotonicMs() - start);
    }
    assert.deepEqual(durations, [1000, 2000, 4000, 5000, 5000]);
  });

  it('needs a full new run of failures after an ejection ends', () => {
    const { clock, health, ep } = setup();
    fail(health, ep, 3);
    clock.advance(1000);
    health.recordFailure(ep);
    assert.equal(health.isAvailable(ep), true);
    fail(health, ep, 2);
    assert.equal(health.isAvailable(ep), false);
    assert.equal(health.nextEjectionMs(ep), 4000);
  });

  it('outcomes of requests already in flight during an ejection do not extend it', () => {
    const { clock, health, ep } = setup();
    fail(health, ep, 3);
    const until = ep.ejectedUntilMs;
    clock.advance(500);
    fail(health, ep, 10);
    assert.equal(ep.ejectedUntilMs, until);
    assert.equal(ep.ejections, 1);
    assert.equal(ep.totalFailures, 13);
  });

  it('forgets the back-off after maxEjectionMs of health, not before', () => {
    const { clock, health, ep } = setup();
    fail(health, ep, 3);
    clock.advance(1000 + 4999);
    health.recordSuccess(ep);
    assert.equal(ep.ejections, 1);
    clock.advance(1);
    health.recordSuccess(ep);
    assert.equal(ep.ejections, 0);
    assert.equal(ep.ejectedUntilMs, 0);
    assert.equal(health.nextEjectionMs(ep), 1000);
  });

  it('counts totals for the admin API', () => {
    const { health, ep } = setup();
    health.recordSuccess(ep);
    health.recordFailure(ep);
    health.recordSuccess(ep);
    assert.deepEqual([ep.totalRequests, ep.totalFailures], [3, 1]);
  });

  it('does not read the clock for an endpoint that was never ejected', () => {
    const clock: Clock = {
      now: () => assert.fail('now() read'),
      monotonicMs: () => assert.fail('monotonicMs() read'),
    };
    const health = new PassiveHealth(config, clock);
    const ep = createEndpointState('10.0.0.1', 80);
    assert.equal(health.isAvailable(ep), true);
    health.recordSuccess(ep);
    assert.equal(alwaysAvailable(ep), true);
  });

  it('is honoured by a load balancer: ejected endpoints get no traffic until they come back', () => {
    const clock = new ManualClock();
    const health = new PassiveHealth(config, clock);
    const eps = makeEndpoints(3);
    const lb = createLoadBalancer({ kind: 'round-robin' }, eps, { random: seededRandom(1), isAvailable: health.isAvailable });
    fail(health, eps[0]!, 3);
    const ctx = makeContext();
    for (let i = 0; i < 30; i++) assert.notEqual(lb.pick(ctx), eps[0]);
    fail(health, eps[1]!, 3);
    fail(health, eps[2]!, 3);
    assert.equal(lb.pick(ctx), undefined); // no panic mode: the proxy answers 503 no_healthy_upstream
    clock.advance(1000);
    const picked = new Set(Array.from({ length: 3 }, () => lb.pick(ctx)));
    assert.equal(picked.size, 3);
  });
});
