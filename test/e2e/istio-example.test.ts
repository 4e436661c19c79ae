// examples/istio through the real command, as its README runs it: `isthmus run --config
// examples/istio --demo` (the demo starts Bookinfo's echo Pods on 127.0.3.x:9080). The Istio
// Gateway, both VirtualServices and the DestinationRule's subsets are exercised with node's http
// client and with curl: productpage's paths, the first-match jason rule (always reviews-v2), and
// the 50/50 split between v1 and v3 (shares within a tolerance, never v2).
// The Pods listen on fixed addresses and ports, so only one demo runs at a time (as demo.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { get, httpRequest, repoRoot, startGateway } from './cli-harness.js';

const CURL = '/usr/bin/curl';
const EXAMPLE = path.join(repoRoot(), 'examples', 'istio');

function curlJson(args: readonly string[]): Promise<{ name?: string }> {
  return new Promise((resolve, reject) => {
    execFile(CURL, ['--silent', '--show-error', '--max-time', '5', ...args], (error, stdout, stderr) => {
      if (error) reject(new Error(`curl ${args.join(' ')}: ${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as { name?: string });
    });
  });
}

test('examples/istio with --demo', async (t) => {
  assert.ok(existsSync(CURL), `${CURL} is required by the e2e suite (apt-get install curl)`);
  const gateway = await startGateway(t, { config: [EXAMPLE], demo: true });
  const port = gateway.httpPort;
  assert.match(gateway.stderr(), new RegExp(`curl http://reviews\\.bookinfo\\.localhost:${port}/`), 'the banner names the Istio routes with the real port');

  await t.test('bookinfo VirtualService: productpage paths, 404 elsewhere', async () => {
    for (const p of ['/productpage', '/static/app.css', '/login', '/api/v1/products/0']) {
      const res = await get(port, p, 'bookinfo.localhost');
      assert.equal(res.status, 200, `${p}: ${res.body}`);
      assert.equal(res.name, 'productpage-v1', p);
    }
    const miss = await get(port, '/productpage/extra', 'bookinfo.localhost');
    assert.equal(miss.status, 404, 'exact /productpage does not match a longer path');
    const viaCurl = await curlJson(['--resolve', `bookinfo.localhost:${port}:127.0.0.1`, `http://bookinfo.localhost:${port}/productpage`]);
    assert.equal(viaCurl.name, 'productpage-v1');
  });

  await t.test('reviews: end-user jason always reaches subset v2 (first match wins)', async () => {
    for (let i = 0; i < 20; i++) {
      const res = await httpRequest({ port, path: `/reviews/${i}`, headers: { host: 'reviews.bookinfo.localhost', 'end-user': 'jason' } });
      assert.equal(res.status, 200, res.body);
      assert.equal((JSON.parse(res.body) as { name: string }).name, 'reviews-v2');
      assert.equal(res.headers['x-bookinfo-route'], undefined, 'the jason rule sets no route header');
    }
    const viaCurl = await curlJson(['-H', 'end-user: jason', '--resolve', `reviews.bookinfo.localhost:${port}:127.0.0.1`, `http://reviews.bookinfo.localhost:${port}/`]);
    assert.equal(viaCurl.name, 'reviews-v2');
  });

  await t.test('reviews: everyone else is split 50/50 between v1 and v3, never v2', async () => {
    const counts: Record<string, number> = {};
    const total = 400;
    for (let i = 0; i < total; i++) {
      const res = await httpRequest({ port, path: `/r/${i}`, headers: { host: 'reviews.bookinfo.localhost', 'end-user': 'someone' } });
      assert.equal(res.status, 200, res.body);
      assert.equal(res.headers['x-bookinfo-route'], 'everyone-else');
      const name = (JSON.parse(res.body) as { name: string }).name;
      counts[name] = (counts[name] ?? 0) + 1;
    }
    assert.deepEqual(Object.keys(counts).sort(), ['reviews-v1', 'reviews-v3'], JSON.stringify(counts));
    const v1 = (counts['reviews-v1'] ?? 0) / total;
    assert.ok(Math.abs(v1 - 0.5) <= 0.1, `v1 share ${v1}, expected 0.5 ± 0.1 (${JSON.stringify(counts)})`);
  });
});
