// `isthmus run --demo`: the embedded quickstart with its built-in echo backends, over HTTP/1.1,
// h2c (prior knowledge) and HTTPS + SNI + HTTP/2, with node's clients and with curl.
// The demo pods listen on fixed addresses (127.0.0.2-4:8081/8082), so only one demo runs at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import http2 from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { adminJson, get, startGateway, type RunningGateway } from './cli-harness.js';

const CURL = '/usr/bin/curl';

interface Echo {
  readonly name?: string;
  readonly host?: string;
  readonly path?: string;
  readonly proto?: string;
  readonly headers?: Record<string, string[]>;
}

interface H2Answer {
  readonly status: number;
  readonly body: string;
  readonly alpn: string | false | null;
  readonly subject: string;
  readonly subjectAltName: string | undefined;
}

function http2Get(port: number, servername: string, urlPath: string): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://127.0.0.1:${port}`, { servername, rejectUnauthorized: false });
    session.on('error', reject);
    const req = session.request({ ':path': urlPath, ':authority': servername });
    let status = 0;
    let body = '';
    req.setEncoding('utf8');
    req.on('response', (headers) => (status = Number(headers[':status'])));
    req.on('data', (d: string) => (body += d));
    req.on('error', reject);
    req.on('end', () => {
      const socket = session.socket as TLSSocket;
      const cert = socket.getPeerCertificate();
      const answer = { status, body, alpn: socket.alpnProtocol, subject: JSON.stringify(cert.subject), subjectAltName: cert.subjectaltname };
      session.close();
      resolve(answer);
    });
    req.end();
  });
}

function curl(args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(CURL, ['--silent', '--show-error', '--max-time', '5', ...args], (error, stdout, stderr) => {
      if (error) reject(new Error(`curl ${args.join(' ')}: ${error.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** curl's body, then a last line `<http_version> <status>` written by --write-out. */
function splitCurl(stdout: string): { echo: Echo; version: string; status: number } {
  const cut = stdout.lastIndexOf('\n');
  const [version = '', status = '0'] = stdout.slice(cut + 1).split(' ');
  return { echo: JSON.parse(stdout.slice(0, cut)) as Echo, version, status: Number(status) };
}

test('the embedded demo', async (t) => {
  // Fail loudly, never skip: the issue requires curl coverage where curl is installed, and it is here.
  assert.ok(existsSync(CURL), `${CURL} is required by the e2e suite (apt-get install curl)`);
  const gateway: RunningGateway = await startGateway(t, { demo: true });
  assert.match(gateway.stderr(), /Isthmus is running the embedded demo/);
  assert.ok(gateway.stderr().includes(`curl -H 'Host: shop.localhost' http://127.0.0.1:${gateway.httpPort}/`), 'the banner uses the real ports');

  await t.test('HTTP/1.1: Host shop.localhost on / reaches web, /api/... reaches api', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const res = await get(gateway.httpPort, '/', 'shop.localhost');
      assert.equal(res.status, 200, res.body);
      seen.add(res.name ?? '?');
    }
    assert.deepEqual([...seen].sort(), ['web-1', 'web-2'], 'round robin over both ready Pods');
    const api = await get(gateway.httpPort, '/api/orders?id=7', 'shop.localhost');
    assert.equal(api.status, 200, api.body);
    assert.equal(api.name, 'api-1');
    const echo = JSON.parse(api.body) as Echo;
    assert.equal(echo.path, '/api/orders?id=7');
    assert.equal(echo.host, 'shop.localhost');
    // The host-less rule catches any other host.
    const other = await get(gateway.httpPort, '/anything', 'elsewhere.test');
    assert.match(other.name ?? '', /^web-[12]$/);
  });

  await t.test('HTTPS with SNI shop.localhost over HTTP/2 serves the demo certificate', async () => {
    const answer = await http2Get(gateway.httpsPort, 'shop.localhost', '/api/x');
    assert.equal(answer.alpn, 'h2');
    assert.equal(answer.status, 200, answer.body);
    assert.equal((JSON.parse(answer.body) as Echo).name, 'api-1');
    assert.match(answer.subject, /shop\.localhost/);
    assert.match(answer.subjectAltName ?? '', /DNS:shop\.localhost/);
    const web = await http2Get(gateway.httpsPort, 'shop.localhost', '/');
    assert.match((JSON.parse(web.body) as Echo).name ?? '', /^web-[12]$/);
  });

  await t.test('curl --http2-prior-knowledge (h2c) on the http port', async () => {
    const { stdout } = await curl([
      '--http2-prior-knowledge', '-H', 'Host: shop.localhost', '--write-out', '\n%{http_version} %{http_code}',
      `http://127.0.0.1:${gateway.httpPort}/api/h2c`,
    ]);
    const { echo, version, status } = splitCurl(stdout);
    assert.equal(version, '2');
    assert.equal(status, 200);
    assert.equal(echo.name, 'api-1');
    assert.equal(echo.path, '/api/h2c');
  });

  await t.test('curl -k --http2 --resolve shop.localhost:PORT:127.0.0.1 https://shop.localhost:PORT/', async () => {
    const port = gateway.httpsPort;
    const { stdout } = await curl([
      '-k', '--http2', '--resolve', `shop.localhost:${port}:127.0.0.1`, '--write-out', '\n%{http_version} %{http_code}',
      `https://shop.localhost:${port}/`,
    ]);
    const { echo, version, status } = splitCurl(stdout);
    assert.equal(version, '2');
    assert.equal(status, 200);
    assert.match(echo.name ?? '', /^web-[12]$/);
    assert.deepEqual(echo.headers?.['X-Forwarded-Proto'], ['https']);
  });

  await t.test('h2c requests carry the client address in X-Forwarded-For', async () => {
    const { stdout } = await curl(['--http2-prior-knowledge', '--write-out', '\n%{http_version} %{http_code}', `http://127.0.0.1:${gateway.httpPort}/xff`]);
    const { echo, version } = splitCurl(stdout);
    assert.equal(version, '2');
    assert.deepEqual(echo.headers?.['X-Forwarded-For'], ['127.0.0.1']);
  });

  await t.test('/api/config lists the demo certificate but never its private key', async () => {
    const ir = (await adminJson(gateway.adminPort, '/api/config')) as { certificates: { name: string; certPem: string; keyPem: string }[] };
    // --demo serves examples/quickstart and examples/gateway-api: one certificate each.
    assert.deepEqual(ir.certificates.map((c) => c.name).sort(), ['gateway/gateway-demo/edge/https/gateway-demo/gw-tls', 'secret/demo/shop-tls']);
    for (const cert of ir.certificates) {
      assert.match(cert.certPem, /BEGIN CERTIFICATE/);
      assert.equal(cert.keyPem, '[redacted]');
    }
  });
});
