import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import { EndpointRegistry } from '../../src/dataplane/upstream/endpoint-registry.js';
import { PassiveHealth } from '../../src/dataplane/upstream/health/passive-health.js';

describe('endpoint registry', () => {
  it('returns the same state object for the same address and port', () => {
    const registry = new EndpointRegistry();
    const a = registry.acquire('10.0.0.1', 8080);
    assert.equal(registry.acquire('10.0.0.1', 8080), a);
    assert.notEqual(registry.acquire('10.0.0.1', 8081), a);
    assert.equal(registry.get('10.0.0.1:8080'), a);
    assert.equal(registry.get('10.0.0.9:8080'), undefined);
  });

  it('keeps in-flight counts and ejections across a reload, and updates the weight', () => {
    const registry = new EndpointRegistry();
    const clock = new ManualClock();
    const health = new PassiveHealth({ consecutiveFailures: 1, baseEjectionMs: 1000, maxEjectionMs: 1000 }, clock);
    // generation 1
    const kept = registry.acquire('10.0.0.1', 80, 1);
    const dropped = registry.acquire('10.0.0.2', 80, 1);
    registry.retain(new Set([kept.key, dropped.key]));
    kept.inFlight = 7;
    health.recordFailure(kept);
    // generation 2 keeps 10.0.0.1 with a new weight, drops 10.0.0.2, adds 10.0.0.3
    const again = registry.acquire('10.0.0.1', 80, 5);
    const added = registry.acquire('10.0.0.3', 80);
    registry.retain(new Set([again.key, added.key]));
    assert.equal(again, kept);
    assert.equal(again.inFlight, 7);
    assert.equal(again.weight, 5);
    assert.equal(health.isAvailable(again), false);
    assert.equal(registry.get(dropped.key), undefined);
    assert.deepEqual(
      registry.all().map((ep) => ep.key),
      ['10.0.0.1:80', '10.0.0.3:80'],
    );
    assert.equal(registry.size, 2);
  });

  it('a dropped endpoint that comes back starts fresh', () => {
    const registry = new EndpointRegistry();
    const first = registry.acquire('10.0.0.2', 80);
    first.totalRequests = 10;
    registry.retain(new Set());
    const second = registry.acquire('10.0.0.2', 80);
    assert.notEqual(second, first);
    assert.equal(second.totalRequests, 0);
  });

  it('keys IPv6 endpoints with brackets', () => {
    const registry = new EndpointRegistry();
    const ep = registry.acquire('2001:db8::1', 443, 2);
    assert.equal(ep.key, '[2001:db8::1]:443');
    assert.equal(registry.get('[2001:db8::1]:443'), ep);
    assert.equal(ep.weight, 2);
    assert.equal(registry.acquire('2001:db8::1', 443).weight, 1);
  });
});
