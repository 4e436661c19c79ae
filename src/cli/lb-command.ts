// `isthmus lb`: an L4 load balancer in front of the node ports of many nodes, for clusters without
// a cloud LoadBalancer (docs/load-balancer.md). It watches config folders for Services of type
// LoadBalancer and Node objects, health-checks every node, and keeps one L4 listener per Service
// port sending to the healthy nodes (planLoadBalancer); a node that fails its check leaves within
// `fall` × interval and comes back after `rise` successes.
import { parseArgs } from 'node:util';
import { addPortMap, UsageError } from './args.js';

export const LB_HELP = `Usage: isthmus lb --config DIR [--config DIR ...] [--node NAME=ADDRESS ...] [flags]

An L4 load balancer for LoadBalancer Services in front of the nodes' node ports, with active
health checks (docs/load-balancer.md). Nodes come from --node and from Node objects in the folders.

Flags:
  --config DIR             a folder of YAML/JSON objects (repeatable; required; watched)
  --node NAME=ADDRESS      a node and the address its node ports listen on (repeatable)
  --listen-address ADDR    where a Service without a load-balancer address listens (default 0.0.0.0)
  --port-map A=B,...       listen on port B for a Service port A (tests, unprivileged runs)
  --health-interval MS     how often each node is checked (default 2000)
  --health-timeout MS      how long a check may take (default 1000)
  --rise N                 successes in a row that bring a node back (default 2)
  --fall N                 failures in a row that take a node out (default 2)
`;

export async function lbCommand(argv: readonly string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(LB_HELP);
    return;
  }
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      config: { type: 'string', multiple: true },
      node: { type: 'string', multiple: true },
      'listen-address': { type: 'string' },
      'port-map': { type: 'string', multiple: true },
      'health-interval': { type: 'string' },
      'health-timeout': { type: 'string' },
      rise: { type: 'string' },
      fall: { type: 'string' },
    },
  });
  const dirs = values.config ?? [];
  if (dirs.length === 0) throw new UsageError('lb: --config DIR is required');
  const nodes = (values.node ?? []).map((spec) => {
    const eq = spec.indexOf('=');
    if (eq <= 0 || eq === spec.length - 1) throw new UsageError(`lb: --node expects NAME=ADDRESS, got ${JSON.stringify(spec)}`);
    return { name: spec.slice(0, eq), address: spec.slice(eq + 1) };
  });
  const listenAddress = values['listen-address'] ?? '0.0.0.0';
  const portMap = addPortMap(new Map(), values['port-map']);
  const count = (name: string, fallback: number, min: number): number => {
    const raw = values[name as 'rise'];
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`lb: --${name} expects a whole number ≥ ${min}`);
    return n;
  };
  const intervalMs = count('health-interval', 2000, 10);
  const timeoutMs = count('health-timeout', 1000, 1);
  const rise = count('rise', 2, 1);
  const fall = count('fall', 2, 1);

  const [{ FileSource }, { indexResources }, { planLoadBalancer }, { bindL4Listeners }, { L4Server }, { NodeHealthChecker }, { formatDiagnostic }] = await Promise.all([
    import('../sources/file/file-source.js'),
    import('../store/resource-index.js'),
    import('../translate/services/load-balancer-listeners.js'),
    import('../translate/binds/bind-l4-listeners.js'),
    import('../dataplane/l4/l4-server.js'),
    import('../dataplane/upstream/health/node-health-checker.js'),
    import('../core/diagnostic.js'),
  ]);
  const log = (line: string): void => void process.stderr.write(`isthmus lb: ${line}\n`);
  const server = new L4Server();
  let snapshot: import('../store/resource-snapshot.js').ResourceSnapshot | undefined;
  let queue: Promise<void> = Promise.resolve();
  let lastDiagnostics = '';
  // Plans are applied one after another: a health change and a file change never race.
  const replan = (): Promise<void> =>
    (queue = queue.then(async () => {
      if (snapshot === undefined) return;
      const diagnostics = [...snapshot.diagnostics];
      const plan = planLoadBalancer(indexResources(snapshot.resources), { nodes, listenAddress, healthy: (key) => checker.healthy(key) }, diagnostics);
      checker.setTargets(plan.targets);
      const listeners = bindL4Listeners(plan.listeners, [], { listenAddress, portMap }, diagnostics);
      const result = await server.apply(listeners);
      const text = diagnostics.map(formatDiagnostic).join('\n');
      if (text !== lastDiagnostics && text !== '') log(`diagnostics:\n${text}`);
      lastDiagnostics = text;
      for (const f of result.failed) log(`listener ${f.listener}: ${f.message}`);
      for (const name of result.bound) {
        const l = listeners.find((x) => x.name === name)!;
        log(`listening ${l.protocol} ${l.address}:${server.portOf(name)} for ${name} → ${l.routes[0]!.backends[0]!.endpoints.map((e) => `${e.address}:${e.port}`).join(', ') || '(no healthy node)'}`);
      }
    }));
  const checker = new NodeHealthChecker({
    intervalMs,
    timeoutMs,
    rise,
    fall,
    onChange: (key, healthy, why) => {
      const [node, kind, port] = key.split('|');
      log(`node ${node} ${healthy ? 'back in rotation' : 'out of rotation'} (${kind} check of port ${port}: ${why})`);
      void replan();
    },
  });
  const source = new FileSource({ dirs });
  await source.start((s) => {
    snapshot = s;
    void replan();
  });
  await queue;
  // `fall` rounds of checks before saying ready: nodes already down are out from the start.
  for (let i = 0; i < fall; i++) await checker.checkNow();
  await replan();
  log(`ready: ${nodes.length} node(s) named, health checks every ${intervalMs} ms (rise ${rise}, fall ${fall})`);
  const stop = (): void => {
    checker.close();
    void source.close().then(() => server.close()).then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
