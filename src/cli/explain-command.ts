// `isthmus explain`: the whole path of one request or connection through the configuration in
// config folders (src/explain/explain.ts), printed as numbered steps (or JSON). It translates the
// folders exactly as `isthmus run` would with the same flags, so the ports are the real ones.
import { parseArgs } from 'node:util';
import { addPortMap, parseNodeSpecs, UsageError } from './args.js';
import { connectionInput, type ExplainInput } from '../explain/explain.js';

export const EXPLAIN_HELP = `Usage: isthmus explain --config DIR [--config DIR ...] URL [-X METHOD] [-H 'Name: value' ...]
       isthmus explain --config DIR [--config DIR ...] --connect ADDR:PORT [--protocol TCP|UDP] [--sni NAME]

The path of one request (URL) or connection (--connect) through the configuration: load balancer or
node port or cluster IP → kube-proxy's rule chain (which rule, which probability, which endpoint) →
gateway listener → route (and why earlier routes did not match) → filters → cluster → endpoint.

Flags:
  --config DIR             a folder of YAML/JSON objects (repeatable; required)
  -X, --method METHOD      the request method (default GET)
  -H, --header 'N: v'      a request header (repeatable); Host defaults to the URL's
  --address IP             the address connected to, when the URL names a host
  --connect ADDR:PORT      explain a connection instead of a request ([v6]:port for IPv6)
  --protocol TCP|UDP       the connection's protocol (default TCP)
  --sni NAME               the TLS server name the connection sends
  --node-ip IP             this node's addresses (repeatable): node ports are reached there
  --node-name NAME         this node, for traffic policy Local
  --gateway-address IP     the gateway's own (Pod) address (repeatable): Service endpoints there are it
  --via-lb                 a LoadBalancer Service's address is served by isthmus lb: start there and
                           follow a node in rotation (nodes: --lb-node and Node objects in the folders)
  --lb-node NAME=ADDRESS   a node isthmus lb sends to, as its --node (repeatable; implies --via-lb)
  --load-balancer-class C  as isthmus lb: the class it serves besides none (default isthmus.dev/lb)
  --port-map A=B,...       as isthmus run (default 80=8080,443=8443)
  --listen-address ADDR    as isthmus run (default 0.0.0.0)
  --serve-services         as isthmus run: NodePort and LoadBalancer Services are L4 listeners
  --json                   print the steps as JSON
Exit status: 0 when the path ends in a served route or endpoint, 3 when it ends refused, 1 when a
folder cannot be read, 2 for a usage error.
`;

export async function explainCommand(argv: readonly string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(EXPLAIN_HELP);
    return;
  }
  const { values, positionals } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: {
      config: { type: 'string', multiple: true },
      method: { type: 'string', short: 'X' },
      header: { type: 'string', short: 'H', multiple: true },
      address: { type: 'string' },
      connect: { type: 'string' },
      protocol: { type: 'string' },
      sni: { type: 'string' },
      'node-ip': { type: 'string', multiple: true },
      'node-name': { type: 'string' },
      'gateway-address': { type: 'string', multiple: true },
      'via-lb': { type: 'boolean' },
      'lb-node': { type: 'string', multiple: true },
      'load-balancer-class': { type: 'string' },
      'port-map': { type: 'string', multiple: true },
      'listen-address': { type: 'string' },
      'serve-services': { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  const dirs = values.config ?? [];
  if (dirs.length === 0) throw new UsageError('explain: --config DIR is required');
  const input = explainInput(positionals, values);
  const lbNodes = parseNodeSpecs(values['lb-node'], '--lb-node');
  const viaLb = values['via-lb'] === true || lbNodes.length > 0;
  const [{ mergeNodes, isServedClass, DEFAULT_LOAD_BALANCER_CLASS }, { loadDirs }, { translate }, { indexResources, namespacedKey }, { collectServicePorts }, { kubeProxyChainNames }, { explain }, { formatSteps }] = await Promise.all([
    import('../translate/services/load-balancer-listeners.js'),
    import('../sources/file/load-dirs.js'),
    import('../translate/translate.js'),
    import('../store/resource-index.js'),
    import('../kubeproxy/service-ports.js'),
    import('../kubeproxy/chain-names.js'),
    import('../explain/explain.js'),
    import('../explain/explain-step.js'),
  ]);
  let snapshot;
  try {
    snapshot = await loadDirs(dirs);
  } catch (err) {
    process.stderr.write(`isthmus explain: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const listenAddress = values['listen-address'] ?? '0.0.0.0';
  const result = translate(snapshot, {
    ingressClass: 'isthmus',
    ingressController: 'isthmus.dev/ingress-controller',
    binds: { listenAddress, portMap: addPortMap(new Map([[80, 8080], [443, 8443]]), values['port-map']) },
    ...(values['serve-services'] === true ? { services: { nodeAddress: '0.0.0.0', ...(values['node-name'] !== undefined ? { nodeName: values['node-name'] } : {}) } } : {}),
  });
  const index = indexResources(snapshot.resources);
  const explained = explain(input, {
    ir: result.ir,
    servicePorts: collectServicePorts(index).ports,
    ...(viaLb
      ? {
          loadBalancerNodes: mergeNodes(lbNodes, [...index.nodes.values()]),
          loadBalancerServes: (namespace: string, name: string) => {
            const service = index.services.get(namespacedKey(namespace, name));
            return service !== undefined && isServedClass(service, values['load-balancer-class'] ?? DEFAULT_LOAD_BALANCER_CLASS);
          },
        }
      : {}),
    chainNames: kubeProxyChainNames,
    ...(values['node-ip'] !== undefined ? { nodeIPs: values['node-ip'] } : {}),
    ...(values['node-name'] !== undefined ? { nodeName: values['node-name'] } : {}),
    ...(values['gateway-address'] !== undefined ? { gatewayAddresses: values['gateway-address'] } : {}),
  });
  if (explained.kind === 'invalid') throw new UsageError(`explain: ${explained.message}`);
  process.stdout.write(values.json === true ? `${JSON.stringify({ steps: explained.steps }, null, 2)}\n` : formatSteps(explained.steps));
  if (explained.steps.some((s) => s.outcome === 'refused')) process.exitCode = 3;
}

function explainInput(positionals: readonly string[], values: { method?: string; header?: string[]; address?: string; connect?: string; protocol?: string; sni?: string }): ExplainInput {
  if ((positionals.length === 1) === (values.connect !== undefined) || positionals.length > 1) throw new UsageError('explain: give one URL, or --connect ADDR:PORT');
  if (values.connect !== undefined) {
    const input = connectionInput(values.connect, values.protocol, values.sni);
    if (typeof input === 'string') throw new UsageError(`explain: --${input}`);
    return input;
  }
  const headers: Record<string, string> = {};
  for (const h of values.header ?? []) {
    const colon = h.indexOf(':');
    if (colon <= 0) throw new UsageError(`explain: -H expects 'Name: value', got ${JSON.stringify(h)}`);
    headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
  }
  return { kind: 'http', url: positionals[0]!, headers, ...(values.method !== undefined ? { method: values.method } : {}), ...(values.address !== undefined ? { address: values.address } : {}) };
}
