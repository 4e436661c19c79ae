// CORS as a browser lives it: headless Chromium (Debian's `chromium`, driven by puppeteer-core) loads
// a page from one origin and calls the gateway on another. The browser decides on its own to send a
// preflight, and enforces the answer: a PUT with a custom header from an allowed origin goes
// through and can read the exposed header; the same call from an origin the route does not allow is
// blocked by the browser. The gateway runs in this process on a hand-written IR.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import puppeteer from 'puppeteer-core';
import { cluster, forwardRoute, httpListener, snapshot, startGateway, startUpstream } from '../dataplane/harness.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

/** Serves one page on 127.0.0.<n>; its origin is what the browser sends as Origin. */
async function startPageServer(address: string): Promise<{ origin: string; close(): void }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>cors</title>');
  });
  server.listen(0, address);
  await once(server, 'listening');
  return { origin: `http://${address}:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

test('a real browser: preflight and actual request pass from an allowed origin, and are blocked from another', { timeout: 60_000 }, async (t) => {
  assert.ok(CHROMIUM, 'chromium is installed (apt-get install chromium; .ci/run does)');
  const allowedPage = await startPageServer('127.0.0.1');
  const otherPage = await startPageServer('127.0.0.2');
  const seen: string[] = [];
  const up = await startUpstream((req, res) => {
    seen.push(`${req.method} ${req.url} token=${String(req.headers['x-token'])}`);
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'x-total': '42' });
    res.end('stored');
  });
  const route = forwardRoute('api', 'api', { path: { kind: 'prefix', value: '/api' } }, {
    filters: [{ kind: 'cors', cors: { allowOrigins: [allowedPage.origin], allowMethods: ['GET', 'PUT'], allowHeaders: ['x-token'], exposeHeaders: ['x-total'], maxAgeSeconds: 0 } }],
  });
  const gw = await startGateway(snapshot([httpListener([route])], [cluster('api', [up])]));
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  t.after(async () => {
    await browser.close();
    await gw.close();
    await up.close();
    allowedPage.close();
    otherPage.close();
  });
  const api = `http://127.0.0.1:${gw.httpPort}/api/items`;

  const callFrom = async (origin: string): Promise<string> => {
    const page = await browser.newPage();
    await page.goto(`${origin}/`);
    const result = await page.evaluate(async (url: string) => {
      try {
        const res = await fetch(url, { method: 'PUT', headers: { 'x-token': 'abc', 'content-type': 'text/plain' }, body: 'item' });
        return `${res.status} ${await res.text()} total=${String(res.headers.get('x-total'))}`;
      } catch (err) {
        return `blocked: ${(err as Error).name}`;
      }
    }, api);
    await page.close();
    return result;
  };

  assert.equal(await callFrom(allowedPage.origin), '200 stored total=42');
  assert.deepEqual(seen, ['PUT /api/items token=abc'], 'the preflight was answered by the gateway; only the PUT reached the backend');

  assert.equal(await callFrom(otherPage.origin), 'blocked: TypeError');
  // The preflight from the other origin is not the gateway's to answer: it goes on to the backend,
  // whose answer carries no CORS headers, so the browser never sends the PUT.
  assert.deepEqual(seen.slice(1), ['OPTIONS /api/items token=undefined']);
});
