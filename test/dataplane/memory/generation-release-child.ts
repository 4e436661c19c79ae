// Run by generation-release.test.ts as `node --expose-gc generation-release-child.js DIR`: the real
// `isthmus run` composition (Gateway, FileSource with its parse worker, the raw upstream pool) on a
// config folder it writes into DIR, one configuration change, requests before and after it on the
// same keep-alive connection, then full GCs. It prints one JSON line: which objects of the
// superseded generation 1 and of the serving generation 2 are still reachable. The test decides.
// `node --test dist/test/` also runs every file under test/ as a test of its own: without a folder
// argument there is nothing to do.
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parseRunArgs } from '../../../src/cli/args.js';
import { Gateway } from '../../../src/cli/gateway.js';
import { FileSource } from '../../../src/sources/file/file-source.js';
import type { ConfigSource } from '../../../src/sources/source.js';
import type { ResourceSnapshot } from '../../../src/store/resource-snapshot.js';
import { translate } from '../../../src/translate/translate.js';
import { EchoServer } from '../../../src/demo/echo-server.js';
import { ingressYaml, serviceYaml } from '../../e2e/cli-harness.js';

const dirArgument = process.argv[2];
if (dirArgument !== undefined) await checkRelease(dirArgument);

async function checkRelease(dir: string): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');

  /** Per generation: weak references to what that generation built, by what it is. */
  const refs = new Map<number, Map<string, WeakRef<object>>>();
  const track = (generation: number, what: string, value: object): void => {
    const byWhat = refs.get(generation) ?? new Map<string, WeakRef<object>>();
    byWhat.set(what, new WeakRef(value));
    refs.set(generation, byWhat);
  };

  const echo = new EchoServer({ host: '127.0.0.1', port: 0, name: 'echo' });
  const bound = await echo.listen();
  const backend = { name: 'echo', address: '127.0.0.1', port: bound.port };
  const HOST = 'memory.test';
  writeFileSync(path.join(dir, 'services.yaml'), serviceYaml(backend));
  const ingressFile = path.join(dir, 'ingress.yaml');
  // Many routes, so a retained generation would be a real cost and not a rounding error.
  const pathsOf = (prefix: string): { path: string; service: string }[] => Array.from({ length: 200 }, (_, i) => ({ path: `/${prefix}${i}`, service: 'echo' }));
  writeFileSync(ingressFile, ingressYaml('memory', HOST, pathsOf('one-')));

  const options = parseRunArgs([
    '--config', dir, '--http-port', '0', '--https-port', '0', '--admin-port', '0',
    '--listen-address', '127.0.0.1', '--access-log', 'off', '--state-dir', path.join(dir, 'state'),
  ]);
  const files = new FileSource({ dirs: options.configDirs, debounceMs: 20 });
  // The snapshots and IRs the gateway is handed, seen through weak references only.
  const source: ConfigSource = {
    start: (onSnapshot) =>
      files.start((snapshot: ResourceSnapshot) => {
        track(snapshot.generation, 'snapshot', snapshot);
        onSnapshot(snapshot);
      }),
    close: () => files.close(),
  };
  const gateway = new Gateway(options, {
    source,
    translate: (snapshot) => {
      const result = translate(snapshot, {
        ingressClass: options.ingressClass,
        ingressController: options.ingressController,
        istioGatewayLabels: options.istioGatewayLabels,
        binds: { listenAddress: options.listenAddress, portMap: options.portMap },
      });
      track(snapshot.generation, 'ir', result.ir);
      return result;
    },
  });
  await gateway.start();
  const trackRuntime = (): number => {
    const runtime = gateway.dataPlane.current;
    if (runtime === undefined) throw new Error('no runtime applied');
    track(runtime.generation, 'runtime', runtime);
    track(runtime.generation, 'router', runtime.binds[0]!.router);
    track(runtime.generation, 'cluster', [...runtime.clusters.values()][0]!);
    return runtime.generation;
  };
  trackRuntime();
  const port = gateway.boundPorts().find((p) => p.protocol === 'http')!.port;

  // One keep-alive connection across the change: an open connection must not pin the old routes.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  /** The client ports the requests went out from: one port means one connection. */
  const clientPorts = new Set<number>();
  const get = (urlPath: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: urlPath, headers: { host: HOST }, agent }, (res) => {
        clientPorts.add(res.socket.localPort ?? 0);
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
    });
  const statuses: number[] = [];
  for (let i = 0; i < 20; i++) statuses.push(await get(`/one-${i}`));

  writeFileSync(ingressFile, ingressYaml('memory', HOST, pathsOf('two-')));
  const deadline = Date.now() + 20_000;
  while ((gateway.dataPlane.current?.generation ?? 0) < 2) {
    if (Date.now() > deadline) throw new Error('generation 2 was not applied within 20 s');
    await new Promise((r) => setTimeout(r, 20));
  }
  const current = trackRuntime();
  for (let i = 0; i < 20; i++) statuses.push(await get(`/two-${i}`));

  // A WeakRef keeps its target alive until the current job ends: collect across macrotasks.
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setImmediate(r));
    gc();
  }
  const alive = (generation: number): Record<string, boolean> =>
    Object.fromEntries([...(refs.get(generation) ?? new Map<string, WeakRef<object>>())].map(([what, ref]) => [what, ref.deref() !== undefined]));
  const report = { current, statuses, superseded: alive(1), serving: alive(2), connections: clientPorts.size };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  agent.destroy();
  await gateway.stop(100);
  await echo.close();
}
