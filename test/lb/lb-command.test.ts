// `isthmus lb` as a user runs it: a LoadBalancer Service in front of two "nodes" (addresses on
// loopback, each with a real server on the node port). A node whose node port stops accepting
// leaves the rotation after its failed checks, and comes back when it accepts again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { configDir, freePort, startCli } from '../e2e/cli-harness.js';

function nameServer(host: string, port: number, name: string): Promise<net.Server> {
  const server = net.createServer((s) => {
    s.on('error', () => {}); // health probes connect and reset
    s.end(`${name}\n`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

function ask(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const s = net.connect(port, '127.0.0.20');
    s.setEncoding('utf8').on('data', (d: string) => (got += d));
    s.on('end', () => resolve(got.trim()));
    s.on('error', reject);
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within 10 s\n${stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('isthmus lb: both nodes serve; a failing node leaves the rotation within seconds and comes back', async (t) => {
  // A node port below the kernel's ephemeral range, so on these addresses it is free.
  const nodePort = 30000 + Math.floor(Math.random() * 2700);
  const lbPort = await freePort('127.0.0.20');
  let b = await nameServer('127.0.0.22', nodePort, 'node-b');
  const a = await nameServer('127.0.0.21', nodePort, 'node-a');
  t.after(() => {
    a.close();
    b.close();
  });
  const dir = configDir(t, {
    'svc.yaml': `apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {type: LoadBalancer, ports: [{name: http, port: 80, nodePort: ${nodePort}}]}
status: {loadBalancer: {ingress: [{ip: 127.0.0.20}]}}
---
apiVersion: v1
kind: Node
metadata: {name: node-b}
status: {addresses: [{type: InternalIP, address: 127.0.0.22}]}
`,
  });
  const lb = await startCli(t, ['lb', '--config', dir, '--node', 'node-a=127.0.0.21', '--port-map', `80=${lbPort}`, '--health-interval', '200', '--health-timeout', '200'], /isthmus lb: ready/);
  assert.match(lb.stderr(), new RegExp(`listening TCP 127\\.0\\.0\\.20:${lbPort} for lb/shop/web/http → 127\\.0\\.0\\.21:${nodePort}, 127\\.0\\.0\\.22:${nodePort}`));
  const first = new Set<string>();
  for (let i = 0; i < 10; i++) first.add(await ask(lbPort));
  assert.deepEqual([...first].sort(), ['node-a', 'node-b']);

  await new Promise<void>((r) => b.close(() => r()));
  await waitFor('node-b out of rotation', async () => /node node-b out of rotation \(tcp check of port \d+: .*ECONNREFUSED/.test(lb.stderr()), lb.stderr);
  for (let i = 0; i < 10; i++) assert.equal(await ask(lbPort), 'node-a');

  b = await nameServer('127.0.0.22', nodePort, 'node-b');
  await waitFor('node-b back in rotation', async () => /node node-b back in rotation/.test(lb.stderr()), lb.stderr);
  const after = new Set<string>();
  for (let i = 0; i < 10; i++) after.add(await ask(lbPort));
  assert.deepEqual([...after].sort(), ['node-a', 'node-b']);
  const stopped = await lb.stop();
  assert.equal(stopped.code, 0);
});
