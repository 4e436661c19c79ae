// `isthmus kube-proxy render`: the rules kube-proxy would program on one node for the Services and
// EndpointSlices in config folders, printed to stdout (diagnostics and notes to stderr). Loads the
// folders as `isthmus validate` does. Exit status: 0 with rules printed (even when some objects
// had diagnostics), 1 when a folder cannot be read, 2 for a usage error.
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { UsageError } from './args.js';

export const KUBE_PROXY_HELP = `Usage: isthmus kube-proxy render --mode iptables|nftables|ipvs --config DIR [--config DIR ...]
                               [--node-name NAME] [--node-ip IP ...] [--cluster-cidr CIDR ...]
                               [--masquerade-all] [--scheduler rr|wrr|lc|wlc|sh|dh|sed|nq]
                               [--family IPv4|IPv6]

Prints the rules kube-proxy's mode would program on one node for the Services and EndpointSlices
in the folders (docs/kube-proxy.md): iptables-restore input (then ip6tables-restore input for
IPv6, after a "# ip6tables-restore" line), or ipvsadm-restore input. Diagnostics go to stderr.

Flags:
  --mode MODE          iptables, nftables or ipvs (required)
  --config DIR         a folder of YAML/JSON objects (repeatable; required)
  --node-name NAME     this node: its endpoints serve traffic policy Local
  --node-ip IP         this node's addresses (repeatable): node ports in ipvs mode, the
                       load-balancer source-range check in iptables mode
  --cluster-cidr CIDR  the pod CIDR, one per family (repeatable): masquerade traffic from
                       outside it to cluster IPs, as kube-proxy's --cluster-cidr
  --masquerade-all     masquerade all traffic to cluster IPs (kube-proxy's --masquerade-all)
  --scheduler NAME     ipvs scheduler (default: rr)
  --family FAMILY      iptables mode: print only this family's rules
Exit status: 0 when rules were printed, 1 when a folder cannot be read, 2 for a usage error.
`;

export async function kubeProxyCommand(argv: readonly string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(KUBE_PROXY_HELP);
    return;
  }
  if (sub !== 'render') throw new UsageError(`kube-proxy: unknown subcommand ${JSON.stringify(sub)} (isthmus kube-proxy --help)`);
  const { values } = parseArgs({
    args: [...rest],
    strict: true,
    options: {
      mode: { type: 'string' },
      config: { type: 'string', multiple: true },
      'node-name': { type: 'string' },
      'node-ip': { type: 'string', multiple: true },
      'cluster-cidr': { type: 'string', multiple: true },
      'masquerade-all': { type: 'boolean' },
      scheduler: { type: 'string' },
      family: { type: 'string' },
    },
  });
  const [{ rendererFor }, { isIpvsScheduler, IPVS_SCHEDULERS }, { parseCidr, parseIp }] = await Promise.all([
    import('../kubeproxy/renderers.js'),
    import('../kubeproxy/ipvs-render.js'),
    import('../core/cidr.js'),
  ]);
  if (values.mode === undefined) throw new UsageError('kube-proxy render: --mode is required (iptables, nftables, ipvs)');
  const lookup = rendererFor(values.mode);
  if (lookup.kind === 'error') throw new UsageError(`kube-proxy render: ${lookup.message}`);
  const dirs = values.config ?? [];
  if (dirs.length === 0) throw new UsageError('kube-proxy render: name at least one --config folder');
  for (const ip of values['node-ip'] ?? []) if (parseIp(ip) === undefined) throw new UsageError(`kube-proxy render: --node-ip expects an IP address, got ${JSON.stringify(ip)}`);
  for (const c of values['cluster-cidr'] ?? []) if (parseCidr(c).kind !== 'ok') throw new UsageError(`kube-proxy render: --cluster-cidr expects a CIDR such as 10.244.0.0/16, got ${JSON.stringify(c)}`);
  const scheduler = values.scheduler ?? 'rr';
  if (!isIpvsScheduler(scheduler)) throw new UsageError(`kube-proxy render: --scheduler expects one of ${IPVS_SCHEDULERS.join(', ')}, got ${JSON.stringify(scheduler)}`);
  const family = values.family;
  if (family !== undefined && family !== 'IPv4' && family !== 'IPv6') throw new UsageError(`kube-proxy render: --family expects IPv4 or IPv6, got ${JSON.stringify(family)}`);

  const [{ loadDirs }, { indexResources }, { collectServicePorts }, { formatDiagnostic }] = await Promise.all([
    import('../sources/file/load-dirs.js'),
    import('../store/resource-index.js'),
    import('../kubeproxy/service-ports.js'),
    import('../core/diagnostic.js'),
  ]);
  const snapshot = await loadDirs(dirs);
  for (const d of snapshot.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
  if (snapshot.diagnostics.some((d) => d.code === 'ERR_CONFIG_READ')) {
    process.stderr.write('isthmus: kube-proxy render: the config cannot be loaded; no rules printed\n');
    process.exit(1);
  }
  const { ports, diagnostics } = collectServicePorts(indexResources(snapshot.resources));
  for (const d of diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
  const result = lookup.render(ports, {
    ...(values['node-name'] !== undefined ? { nodeName: values['node-name'] } : {}),
    nodeIPs: values['node-ip'] ?? [],
    clusterCIDRs: values['cluster-cidr'] ?? [],
    masqueradeAll: values['masquerade-all'] === true,
    scheduler,
  });
  for (const note of result.notes) process.stderr.write(`note: ${note}\n`);
  const outputs = result.outputs.filter((o) => family === undefined || o.family === undefined || o.family === family);
  for (const [i, o] of outputs.entries()) {
    // A second family's rules go to another tool: a comment line says where one input ends.
    if (i > 0 || (family !== undefined && o.family === 'IPv6')) await write(`# ${o.tool} input (${o.family ?? 'all families'})\n`);
    // Chunk by chunk as they are rendered (about 1 MB each), waiting when stdout is a full pipe.
    for (const chunk of o.chunks()) await write(chunk);
  }
}

async function write(text: string): Promise<void> {
  if (!process.stdout.write(text)) await once(process.stdout, 'drain');
}
