// `isthmus run --serve-services`: a NodePort Service served as an L4 listener by the real gateway
// process. Real TCP clients reach both live endpoints, a dead endpoint is skipped on connect (what
// iptables mode cannot do), an EndpointSlice edit on disk moves new connections, and every closed
// connection is counted in /metrics and written to the access log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { configDir, freePorts, startCli } from './cli-harness.js';

function nameServer(host: string, port: number, name: string): Promise<net.Server> {
  const server = net.createServer((s) => {
    s.on('error', () => {}); // health probes connect and reset
    s.end(`${name}\n`);
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

function ask(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const s = net.connect(port, '127.0.0.1');
    s.setEncoding('utf8').on('data', (d: string) => (got += d));
    s.on('end', () => resolve(got.trim()));
    s.on('error', reject);
  });
}

function slice(addresses: readonly string[], port: number): string {
  return `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: db-1, namespace: data, labels: {kubernetes.io/service-name: db}}
addressType: IPv4
ports: [{name: pg, port: ${port}}]
endpoints: [${addresses.map((a) => `{addresses: [${a}]}`).join(', ')}]
`;
}

test('a NodePort Service as an L4 listener: shares, a dead endpoint skipped, hot reload, metrics and access log', async (t) => {
  const [backendPort, nodePort, http, https, admin] = await freePorts(5);
  const servers = [await nameServer('127.0.0.2', backendPort!, 'a'), await nameServer('127.0.0.3', backendPort!, 'b')];
  t.after(() => servers.forEach((s) => s.close()));
  const dir = configDir(t, {
    'svc.yaml': `apiVersion: v1
kind: Service
metadata: {name: db, namespace: data}
spec: {type: NodePort, ports: [{name: pg, port: 5432, nodePort: 30432}]}
`,
    // 127.0.0.4 has nothing listening: connections picked for it must go to another endpoint.
    'slice.yaml': slice(['127.0.0.2', '127.0.0.3', '127.0.0.4'], backendPort!),
  });
  const log = path.join(dir, '..', `l4-access-${process.pid}.log`);
  t.after(() => rmSync(log, { force: true }));
  const gw = await startCli(
    t,
    ['run', '--workers', '1', '--config', dir, '--serve-services', '--node-address', '127.0.0.1', '--port-map', `30432=${nodePort}`, '--http-port', String(http), '--https-port', String(https), '--admin-port', String(admin), '--listen-address', '127.0.0.1', '--access-log', log],
    /admin on 127\.0\.0\.1:\d+/,
  );
  const answers: string[] = [];
  for (let i = 0; i < 30; i++) answers.push(await ask(nodePort!));
  assert.deepEqual([...new Set(answers)].sort(), ['a', 'b'], 'both live endpoints, and every connection answered');
  assert.ok(answers.filter((a) => a === 'a').length >= 5 && answers.filter((a) => a === 'b').length >= 5, answers.join(''));

  // Take endpoint a out on disk: the file watch re-applies, new connections all go to b.
  writeFileSync(path.join(dir, 'slice.yaml'), slice(['127.0.0.3'], backendPort!));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const batch = [];
    for (let i = 0; i < 6; i++) batch.push(await ask(nodePort!));
    if (batch.every((a) => a === 'b')) break;
    if (Date.now() > deadline) throw new Error(`still reaching a after the edit: ${batch.join('')}\n${gw.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  const metrics = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
  const closed = /isthmus_l4_connections_total\{listener="service\/data\/db\/pg\/nodeport\/127\.0\.0\.1",reason="upstream_closed"\} (\d+)/.exec(metrics);
  assert.ok(closed !== null && Number(closed[1]) >= 36, metrics.split('\n').filter((l) => l.includes('l4')).join('\n'));
  assert.match(metrics, /isthmus_l4_bytes_total\{listener="service\/data\/db\/pg\/nodeport\/127\.0\.0\.1",direction="out"\} \d+/);
  await gw.stop();
  const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind?: string; endpoint?: string; bytesOut?: number; reason?: string });
  const l4 = lines.filter((l) => l.kind === 'l4');
  assert.ok(l4.length >= 36);
  assert.ok(l4.every((l) => l.endpoint !== `127.0.0.4:${backendPort}`), 'the dead endpoint never carried a connection');
  assert.ok(l4.every((l) => l.bytesOut === 2));
});
