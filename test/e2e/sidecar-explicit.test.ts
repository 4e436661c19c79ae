// `isthmus sidecar` in explicit mode: the workload names it as its HTTP proxy, so requests arrive
// in absolute form (`GET http://reviews:9080/ HTTP/1.1`) and are routed by that authority. Real
// clients: curl with -x and with HTTP_PROXY, and node:http sending an absolute-form target.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { CLI, configDir, freePorts, httpRequest, pollUntil, startEcho, type EchoBackend } from './cli-harness.js';

const run = promisify(execFile);

function pod(backend: EchoBackend, app: string, version: string): string {
  return `---
apiVersion: v1
kind: Pod
metadata: {name: ${backend.name}, namespace: shop, labels: {app: ${app}, version: ${version}}}
spec: {containers: [{name: echo, image: echo, ports: [{name: http, containerPort: ${backend.port}}]}]}
status: {podIP: ${backend.address}, conditions: [{type: Ready, status: "True"}]}
`;
}

test('explicit sidecar: HTTP_PROXY clients are routed by mesh VirtualServices and DestinationRules', async (t) => {
  const [v1, v2, ratings] = [await startEcho(t, '127.0.0.1', 'reviews-v1'), await startEcho(t, '127.0.0.2', 'reviews-v2'), await startEcho(t, '127.0.0.3', 'ratings')];
  const [web, admin] = [await startEcho(t, '127.0.0.4', 'multi-web'), await startEcho(t, '127.0.0.4', 'multi-admin')];
  const dir = configDir(t, {
    'mesh.yaml': `apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080, targetPort: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: shop}
spec: {selector: {app: ratings}, ports: [{name: http, port: 9080, targetPort: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: multi, namespace: shop}
spec: {selector: {app: multi}, ports: [{name: web, port: 80, targetPort: ${web.port}}, {name: admin, port: 9090, targetPort: ${admin.port}}]}
${pod(web, 'multi', 'v1')}${pod(v1, 'reviews', 'v1')}${pod(v2, 'reviews', 'v2')}${pod(ratings, 'ratings', 'v1')}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews.shop.svc.cluster.local]
  gateways: [mesh]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: reviews, subset: v2}}]
    headers: {response: {set: {x-route: jason}}}
  - route: [{destination: {host: reviews, subset: v1}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews.shop.svc.cluster.local
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: partners, namespace: shop}
spec:
  hosts: ["*.partners.example"]
  http: [{directResponse: {status: 202, body: {string: "partners wildcard"}}}]
`,
  });
  const [port, adminPort] = (await freePorts(2)) as [number, number];
  const child = spawn(process.execPath, [CLI, 'sidecar', '--config', dir, '--listen', `127.0.0.1:${port}`, '--admin-port', String(adminPort), '--namespace', 'shop', '--access-log', 'off'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise((r) => child.once('exit', r));
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await exited;
  });
  await pollUntil(`sidecar ready (stderr: ${stderr})`, async () => ((await httpRequest({ port: adminPort, path: '/ready' }).catch(() => undefined))?.status === 200 ? true : undefined), 15_000, 50);

  const proxy = `http://127.0.0.1:${port}`;
  const curl = async (args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number; body: string; headers: string }> => {
    const { stdout } = await run('curl', ['-sS', '-D', '-', '--max-time', '10', '-w', '\n%{http_code}', ...args], { env: { PATH: process.env.PATH, ...env } });
    const nl = stdout.lastIndexOf('\n');
    const all = stdout.slice(0, nl);
    const split = all.indexOf('\r\n\r\n');
    return { status: Number(stdout.slice(nl + 1)), headers: all.slice(0, split), body: all.slice(split + 4) };
  };
  const nameOf = (body: string): string => (JSON.parse(body) as { name: string }).name;

  await t.test('curl -x: routed by the VirtualService (header match, then default), every DNS form of the name', async () => {
    for (const host of ['reviews', 'reviews.shop', 'reviews.shop.svc', 'reviews.shop.svc.cluster.local']) {
      const jason = await curl(['-x', proxy, '-H', 'end-user: jason', `http://${host}:9080/r`]);
      assert.equal(jason.status, 200, jason.body);
      assert.equal(nameOf(jason.body), 'reviews-v2');
      assert.match(jason.headers, /x-route: jason/i);
      const other = await curl(['-x', proxy, `http://${host}:9080/r`]);
      assert.equal(nameOf(other.body), 'reviews-v1');
    }
  });

  await t.test('HTTP_PROXY in the environment; a Service without a VirtualService is passed through', async () => {
    const r = await curl(['http://ratings:9080/stars'], { http_proxy: proxy, HTTP_PROXY: proxy });
    assert.equal(r.status, 200, r.body);
    assert.equal(nameOf(r.body), 'ratings');
    assert.equal((JSON.parse(r.body) as { path: string }).path, '/stars');
  });

  await t.test('a multi-port Service is passed through to the port the URL names', async () => {
    assert.equal(nameOf((await curl(['-x', proxy, 'http://multi.shop/'])).body), 'multi-web');
    assert.equal(nameOf((await curl(['-x', proxy, 'http://multi.shop:80/'])).body), 'multi-web');
    assert.equal(nameOf((await curl(['-x', proxy, 'http://multi.shop:9090/'])).body), 'multi-admin');
    const other = await curl(['-x', proxy, 'http://multi.shop:7000/']);
    assert.equal(other.status, 404, 'a port the Service does not have');
  });

  await t.test('node:http absolute-form target: the target\'s authority wins over Host', async () => {
    const r = await httpRequest({ port, path: 'http://reviews.shop:9080/abs', headers: { host: 'elsewhere.example', 'end-user': 'jason' } });
    assert.equal(r.status, 200, r.body);
    assert.equal(nameOf(r.body), 'reviews-v2');
  });

  await t.test('a wildcard VirtualService host serves any name under it', async () => {
    const r = await curl(['-x', proxy, 'http://api.eu.partners.example/']);
    assert.equal(r.status, 202, r.body);
    assert.equal(r.body, 'partners wildcard');
  });

  await t.test('an unknown host gets 404 no_route in JSON', async () => {
    const r = await curl(['-x', proxy, 'http://nowhere.shop:9080/']);
    assert.equal(r.status, 404);
    assert.equal((JSON.parse(r.body) as { reason: string }).reason, 'no_route');
  });

  await t.test('CONNECT (https through the proxy) is refused with 405', async () => {
    const r = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'CONNECT', path: 'reviews:443', agent: false });
      // A proxy that accepted would answer 200 and hand over the socket ('connect').
      req.on('connect', (res, socket) => {
        socket.destroy();
        resolve(res.statusCode ?? 0);
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(r, 405);
  });

  await t.test('a changed VirtualService is applied without a restart', async () => {
    const file = path.join(dir, 'mesh.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('route: [{destination: {host: reviews, subset: v1}}]', 'route: [{destination: {host: reviews, subset: v2}}]'));
    await pollUntil('the reload to send everyone to v2', async () => (nameOf((await curl(['-x', proxy, 'http://reviews:9080/r'])).body) === 'reviews-v2' ? true : undefined), 15_000, 100);
  });

  await t.test('metrics on the admin port', async () => {
    const r = await httpRequest({ port: adminPort, path: '/metrics' });
    assert.equal(r.status, 200);
    assert.match(r.body, /virtualservice\/shop\/reviews\/http\/0\/match\/0/);
    assert.match(r.body, /mesh\/outbound\/passthrough\/shop\/ratings\/9080/);
  });
});
