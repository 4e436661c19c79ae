// examples/gateway-api through the real command, as its README runs it:
// `isthmus run --config examples/gateway-api --demo` (the demo starts the example's echo Pods on
// 127.0.2.x, a gRPC echo for the port named grpc). Each route is called with node's clients and
// with curl: the plain route, the 80/20 split (shares within a tolerance), both redirects'
// Location, the header modifiers, HTTPS with SNI, and the GRPCRoute with a real gRPC client.
// The Pods listen on fixed addresses and ports, so only one demo runs at a time (as demo.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { get, repoRoot, startGateway } from './cli-harness.js';

const CURL = '/usr/bin/curl';
const EXAMPLE = path.join(repoRoot(), 'examples', 'gateway-api');

interface Echo {
  readonly name?: string;
  readonly path?: string;
  readonly headers?: Record<string, string[]>;
}

function curl(args: readonly string[], input?: Buffer): Promise<{ stdout: Buffer }> {
  return new Promise((resolve, reject) => {
    const child = execFile(CURL, ['--silent', '--show-error', '--max-time', '5', ...args], { encoding: 'buffer' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`curl ${args.join(' ')}: ${error.message}\n${stderr.toString()}`));
      else resolve({ stdout });
    });
    child.stdin?.end(input);
  });
}

/** curl -i output → status, lower-cased headers (last wins), body. */
function parseCurlI(raw: string): { status: number; headers: Record<string, string>; body: string } {
  const cut = raw.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = raw.slice(0, cut).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: raw.slice(cut + 4) };
}

function httpsGet(port: number, servername: string, urlPath: string): Promise<{ status: number; body: string; cn: string; san: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: urlPath, servername, headers: { host: servername }, rejectUnauthorized: false, agent: false }, (res) => {
      const cert = (res.socket as TLSSocket).getPeerCertificate();
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, cn: String(cert.subject?.CN ?? ''), san: cert.subjectaltname ?? '' }));
    });
    req.on('error', reject);
  });
}

type EchoClient = grpc.Client & {
  Echo(request: { text: string }, callback: (err: grpc.ServiceError | null, reply?: { text: string }) => void): grpc.ClientUnaryCall;
};

test('examples/gateway-api with --demo', async (t) => {
  assert.ok(existsSync(CURL), `${CURL} is required by the e2e suite (apt-get install curl)`);
  const gateway = await startGateway(t, { config: [EXAMPLE], demo: true });
  const port = gateway.httpPort;
  assert.match(gateway.stderr(), new RegExp(`curl http://split\\.gw\\.localhost:${port}/`), 'the banner names the Gateway API routes with the real port');

  await t.test('plain HTTPRoute: echo.gw.localhost → echo-1 (node http and curl)', async () => {
    const res = await get(port, '/hello', 'echo.gw.localhost');
    assert.equal(res.status, 200, res.body);
    assert.equal(res.name, 'echo-1');
    const { stdout } = await curl(['--resolve', `echo.gw.localhost:${port}:127.0.0.1`, `http://echo.gw.localhost:${port}/hello`]);
    assert.equal((JSON.parse(stdout.toString()) as Echo).name, 'echo-1');
    // A hostname under the listener's *.gw.localhost with no route: 404 from the gateway.
    assert.equal((await get(port, '/', 'nothing.gw.localhost')).status, 404);
  });

  await t.test('weighted split 80/20: blue-1 takes 0.8 of 400 requests (± 0.08)', async () => {
    const counts = new Map<string, number>();
    const n = 400;
    for (let i = 0; i < n; i++) {
      const res = await get(port, `/s/${i}`, 'split.gw.localhost');
      assert.equal(res.status, 200, res.body);
      counts.set(res.name ?? '?', (counts.get(res.name ?? '?') ?? 0) + 1);
    }
    assert.deepEqual([...counts.keys()].sort(), ['blue-1', 'green-1'], JSON.stringify([...counts]));
    const blue = (counts.get('blue-1') ?? 0) / n;
    // Binomial(400, 0.8): σ = 0.02, so ± 0.08 is four σ.
    assert.ok(Math.abs(blue - 0.8) <= 0.08, `blue share ${blue}, expected 0.8 ± 0.08`);
  });

  await t.test('RequestRedirect: /old/... → 301 /new/... (query kept); http → https on secure.gw.localhost', async () => {
    const old = await get(port, '/old/page?q=1', `echo.gw.localhost:${port}`);
    assert.equal(old.status, 301);
    assert.equal(old.headers.location, `http://echo.gw.localhost:${port}/new/page?q=1`);
    const secure = await get(port, '/a?b=c', `secure.gw.localhost:${port}`);
    assert.equal(secure.status, 301);
    // The example names port 8443 (the default --https-port) in the redirect.
    assert.equal(secure.headers.location, 'https://secure.gw.localhost:8443/a?b=c');
    const { stdout } = await curl(['-i', '--resolve', `secure.gw.localhost:${port}:127.0.0.1`, `http://secure.gw.localhost:${port}/x`]);
    const viaCurl = parseCurlI(stdout.toString('latin1'));
    assert.equal(viaCurl.status, 301);
    assert.equal(viaCurl.headers.location, 'https://secure.gw.localhost:8443/x');
  });

  await t.test('header modifiers: request set/add/remove reach the backend, response set/remove reach the client', async () => {
    const res = await get(port, '/h', 'headers.gw.localhost');
    assert.equal(res.status, 200, res.body);
    assert.equal(res.headers['x-served-by'], 'isthmus-gateway-demo');
    assert.equal(res.headers['x-content-type-options'], undefined, 'removed by the ResponseHeaderModifier');
    const { stdout } = await curl(['-i', '-H', 'X-Debug: 1', '-H', 'X-Env: prod', '--resolve', `headers.gw.localhost:${port}:127.0.0.1`, `http://headers.gw.localhost:${port}/h`]);
    const viaCurl = parseCurlI(stdout.toString());
    assert.equal(viaCurl.headers['x-served-by'], 'isthmus-gateway-demo');
    const echo = JSON.parse(viaCurl.body) as Echo;
    assert.equal(echo.name, 'echo-1');
    assert.deepEqual(echo.headers?.['X-Env'], ['demo'], 'set replaces the client value');
    assert.deepEqual(echo.headers?.['X-Via'], ['isthmus']);
    assert.equal(echo.headers?.['X-Debug'], undefined, 'removed before the backend');
    // The same backend without the route's filters keeps X-Debug.
    const plain = await curl(['-H', 'X-Debug: 1', '--resolve', `echo.gw.localhost:${port}:127.0.0.1`, `http://echo.gw.localhost:${port}/h`]);
    assert.deepEqual((JSON.parse(plain.stdout.toString()) as Echo).headers?.['X-Debug'], ['1']);
  });

  await t.test('HTTPS listener: SNI secure.gw.localhost gets the *.gw.localhost certificate (node https and curl)', async () => {
    const res = await httpsGet(gateway.httpsPort, 'secure.gw.localhost', '/tls');
    assert.equal(res.status, 200, res.body);
    assert.equal((JSON.parse(res.body) as Echo).name, 'echo-1');
    assert.equal(res.cn, 'gw.localhost');
    assert.match(res.san, /DNS:\*\.gw\.localhost/);
    const hp = gateway.httpsPort;
    const { stdout } = await curl(['-k', '--resolve', `split.gw.localhost:${hp}:127.0.0.1`, '--write-out', '\n%{http_version} %{http_code}', `https://split.gw.localhost:${hp}/`]);
    const text = stdout.toString();
    const cut = text.lastIndexOf('\n');
    assert.equal(text.slice(cut + 1), '2 200');
    assert.match((JSON.parse(text.slice(0, cut)) as Echo).name ?? '', /^(blue|green)-1$/);
  });

  await t.test('GRPCRoute: a gRPC client (h2c) reaches the gRPC echo through the gateway, with the added metadata', async () => {
    const definition = protoLoader.loadSync(path.join(EXAMPLE, 'echo.proto'));
    const pkg = grpc.loadPackageDefinition(definition) as unknown as { demo: { echo: { v1: { Echo: grpc.ServiceClientConstructor } } } };
    const client = new pkg.demo.echo.v1.Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
      'grpc.default_authority': 'grpc.gw.localhost',
    }) as unknown as EchoClient;
    t.after(() => client.close());
    const { reply, metadata } = await new Promise<{ reply: { text: string }; metadata: grpc.Metadata }>((resolve, reject) => {
      let metadata = new grpc.Metadata();
      const call = client.Echo({ text: 'hello' }, (err, reply) => (err || !reply ? reject(err ?? new Error('no reply')) : resolve({ reply, metadata })));
      call.on('metadata', (m: grpc.Metadata) => (metadata = m));
    });
    assert.equal(reply.text, 'hello');
    assert.deepEqual(metadata.get('x-echo-pod'), ['grpc-echo-1']);
    assert.deepEqual(metadata.get('x-echo-method'), ['/demo.echo.v1.Echo/Echo']);
    assert.deepEqual(metadata.get('echo-x-via'), ['isthmus'], 'the GRPCRoute RequestHeaderModifier added x-via');

    // The README's curl line: one length-prefixed message (field 1 = "hello") over h2c.
    const frame = Buffer.from([0, 0, 0, 0, 7, 0x0a, 5, ...Buffer.from('hello')]);
    const { stdout } = await curl([
      '--http2-prior-knowledge', '-H', 'content-type: application/grpc', '-H', 'te: trailers', '--data-binary', '@-',
      '--resolve', `grpc.gw.localhost:${port}:127.0.0.1`, `http://grpc.gw.localhost:${port}/demo.echo.v1.Echo/Echo`,
    ], frame);
    assert.deepEqual(stdout, frame);
  });
});
