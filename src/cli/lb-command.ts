// `isthmus lb`: an L4 load balancer in front of the node ports of many nodes, for clusters without
// a cloud LoadBalancer (docs/load-balancer.md). It reads Services of type LoadBalancer and Node
// objects from config folders or, with --kubernetes, from the cluster (lb-kubernetes.ts, which also
// writes the Services' status), health-checks every node, and keeps one L4 listener per Service
// port sending to the healthy nodes (lb-runner.ts); a node that fails its check leaves within
// `fall` × interval and comes back after `rise` successes.
import { parseArgs } from 'node:util';
import { addPortMap, parseNodeSpecs, UsageError } from './args.js';
import { LB_KUBERNETES_FLAGS, LB_KUBERNETES_HELP, lbKubernetesOptions } from './lb-kubernetes-flags.js';

export const LB_HELP = `Usage: isthmus lb --config DIR [--config DIR ...] [--node NAME=ADDRESS ...] [flags]
       isthmus lb --kubernetes [--kubeconfig FILE] [--advertise-address IP ...] [flags]

An L4 load balancer for LoadBalancer Services in front of the nodes' node ports, with active
health checks (docs/load-balancer.md). Nodes come from --node and from Node objects (in the
folders, or in the cluster with --kubernetes).

Flags:
  --config DIR             a folder of YAML/JSON objects (repeatable; watched; not with --kubernetes)
  --node NAME=ADDRESS      a node and the address its node ports listen on (repeatable)
  --listen-address ADDR    where a Service without a load-balancer address listens (default 0.0.0.0)
  --port-map A=B,...       listen on port B for a Service port A (tests, unprivileged runs)
  --load-balancer-class C  serve Services of this spec.loadBalancerClass and of none (default isthmus.dev/lb)
  --health-interval MS     how often each node is checked (default 2000)
  --health-timeout MS      how long a check may take (default 1000)
  --rise N                 successes in a row that bring a node back (default 2)
  --fall N                 failures in a row that take a node out (default 2)

${LB_KUBERNETES_HELP}`;

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
      'load-balancer-class': { type: 'string' },
      'health-interval': { type: 'string' },
      'health-timeout': { type: 'string' },
      rise: { type: 'string' },
      fall: { type: 'string' },
      ...LB_KUBERNETES_FLAGS,
    },
  });
  const kubernetes = lbKubernetesOptions(values);
  const dirs = values.config ?? [];
  if (kubernetes !== undefined && dirs.length > 0) throw new UsageError('lb: --kubernetes reads the cluster and --config reads folders: choose one');
  if (kubernetes === undefined && dirs.length === 0) throw new UsageError('lb: --config DIR or --kubernetes is required');
  const nodes = parseNodeSpecs(values.node, 'lb: --node');
  const count = (name: string, fallback: number, min: number): number => {
    const raw = values[name as 'rise'];
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`lb: --${name} expects a whole number ≥ ${min}`);
    return n;
  };
  const log = (line: string): void => void process.stderr.write(`isthmus lb: ${line}\n`);
  const [{ LoadBalancerRunner }, { DEFAULT_LOAD_BALANCER_CLASS }] = await Promise.all([import('./lb-runner.js'), import('../translate/services/load-balancer-listeners.js')]);
  const options = {
    nodes,
    listenAddress: values['listen-address'] ?? '0.0.0.0',
    portMap: addPortMap(new Map(), values['port-map']),
    intervalMs: count('health-interval', 2000, 10),
    timeoutMs: count('health-timeout', 1000, 1),
    rise: count('rise', 2, 1),
    fall: count('fall', 2, 1),
    loadBalancerClass: values['load-balancer-class'] ?? DEFAULT_LOAD_BALANCER_CLASS,
    log,
  };

  let stop: () => Promise<void>;
  if (kubernetes !== undefined) {
    const { createKubernetesLoadBalancer } = await import('./lb-kubernetes.js');
    const lb = createKubernetesLoadBalancer(options, kubernetes);
    await lb.start();
    stop = () => lb.stop();
  } else {
    const { FileSource } = await import('../sources/file/file-source.js');
    const runner = new LoadBalancerRunner({ ...options, addressFromStatus: true });
    await runner.start(new FileSource({ dirs }));
    stop = () => runner.close();
  }
  log(`ready: ${nodes.length} node(s) named, health checks every ${options.intervalMs} ms (rise ${options.rise}, fall ${options.fall})`);
  const onSignal = (): void => void stop().then(() => process.exit(0));
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
