// The shared JWKS cache against a real JWKS server on loopback: cacheMs decides when keys are
// fetched again (counted on the server), concurrent callers share one fetch, failures keep the
// keys held and are retried at most once per cooldown, and a server that never answers times out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '../../../src/core/clock.js';
import { JwksCache } from '../../../src/dataplane/filters/auth/jwks-cache.js';
import { rsaKey, startJwksServer } from './auth-fixtures.js';

test('jwks cache: keys are fetched again only once cacheMs has passed; concurrent callers share a fetch', async (t) => {
  const k1 = await rsaKey('k1');
  const server = await startJwksServer([k1.jwk]);
  t.after(() => server.close());
  const clock = new ManualClock(0, 0);
  const cache = new JwksCache({ clock });

  const first = await Promise.all([cache.keys(server.url, 60_000), cache.keys(server.url, 60_000), cache.keys(server.url, 60_000)]);
  assert.equal(server.fetches(), 1, 'three concurrent callers, one fetch');
  assert.ok(first.every((l) => l.kind === 'keys' && l.version === 1));

  clock.advance(59_999);
  await cache.keys(server.url, 60_000);
  assert.equal(server.fetches(), 1, 'still fresh');
  clock.advance(1);
  const again = await cache.keys(server.url, 60_000);
  assert.equal(server.fetches(), 2, 'cacheMs elapsed: fetched again');
  assert.equal(again.kind === 'keys' && again.version, 2);
  // Another method with a shorter cacheMs on the same URL sees the same entry, with its own freshness.
  clock.advance(5_000);
  await cache.keys(server.url, 60_000);
  assert.equal(server.fetches(), 2);
  await cache.keys(server.url, 1_000);
  assert.equal(server.fetches(), 3);
  assert.equal(cache.fetchCount, 3);
});

test('jwks cache: refresh (unknown kid) fetches once per cooldown, and not at all if another caller already did', async (t) => {
  const server = await startJwksServer([(await rsaKey('k1')).jwk]);
  t.after(() => server.close());
  const clock = new ManualClock(0, 0);
  const cache = new JwksCache({ clock, refetchCooldownMs: 10_000 });
  const first = await cache.keys(server.url, 600_000);
  assert.equal(first.kind, 'keys');
  const seen = first.kind === 'keys' ? first.version : -1;
  await cache.refresh(server.url, seen);
  assert.equal(server.fetches(), 1, 'within the cooldown of the last fetch');
  clock.advance(10_000);
  const [a, b] = await Promise.all([cache.refresh(server.url, seen), cache.refresh(server.url, seen)]);
  assert.equal(server.fetches(), 2);
  assert.equal(a.kind === 'keys' && a.version, 2);
  assert.equal(b.kind === 'keys' && b.version, 2);
  clock.advance(10_000);
  // A caller still holding version 1 learns of version 2 without another fetch.
  await cache.refresh(server.url, seen);
  assert.equal(server.fetches(), 2);
});

test('jwks cache: an outage keeps the keys held, retries once per cooldown, and recovers', async (t) => {
  const server = await startJwksServer([(await rsaKey('k1')).jwk]);
  t.after(() => server.close());
  const clock = new ManualClock(0, 0);
  const cache = new JwksCache({ clock, refetchCooldownMs: 10_000 });
  assert.equal((await cache.keys(server.url, 1_000)).kind, 'keys');
  server.failWith(503);
  clock.advance(1_000);
  const stale = await cache.keys(server.url, 1_000);
  assert.equal(stale.kind, 'keys', 'the held keys still verify tokens');
  assert.equal(server.fetches(), 2);
  for (let i = 0; i < 5; i++) await cache.keys(server.url, 1_000);
  assert.equal(server.fetches(), 2, 'no fetch per request while failing');
  assert.match(cache.status()[0]!.lastError ?? '', /answered 503/);
  clock.advance(10_000);
  server.failWith(undefined);
  await cache.keys(server.url, 1_000);
  assert.equal(server.fetches(), 3);
  assert.equal(cache.status()[0]!.lastError, undefined);
});

test('jwks cache: no keys yet and the server fails → unavailable with the reason; junk is not a key set', async (t) => {
  const server = await startJwksServer([]);
  t.after(() => server.close());
  const clock = new ManualClock(0, 0);
  const cache = new JwksCache({ clock });
  server.failWith(500);
  const lookup = await cache.keys(server.url, 60_000);
  assert.equal(lookup.kind, 'unavailable');
  assert.match(lookup.kind === 'unavailable' ? lookup.reason : '', /answered 500/);

  const junk = http.createServer((_req, res) => res.end('{"nokeys":true}'));
  junk.listen(0, '127.0.0.1');
  await once(junk, 'listening');
  t.after(() => junk.close());
  const url = `http://127.0.0.1:${(junk.address() as AddressInfo).port}/`;
  const bad = await cache.keys(url, 60_000);
  assert.equal(bad.kind, 'unavailable');
  assert.match(bad.kind === 'unavailable' ? bad.reason : '', /no "keys" array/);
});

test('jwks cache: a server that never answers is given up on after timeoutMs', async (t) => {
  const silent = http.createServer(() => {});
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  t.after(() => {
    silent.closeAllConnections();
    silent.close();
  });
  const cache = new JwksCache({ clock: new ManualClock(0, 0), timeoutMs: 200 });
  const started = performance.now();
  const lookup = await cache.keys(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/jwks`, 60_000);
  const took = performance.now() - started;
  assert.equal(lookup.kind, 'unavailable');
  assert.match(lookup.kind === 'unavailable' ? lookup.reason : '', /no answer in 200 ms/);
  assert.ok(took >= 150 && took < 3_000, `took ${took} ms`);
});
