// `isthmus kube-proxy apply --mode nftables --config DIR --netns NAME [--node-ip IP]...`: programs
// kube-proxy's nftables rules for the Services and EndpointSlices in the folders, and keeps them
// in step as the folders change (the file source's watch): one full sync at start, then partial
// syncs that send only what changed (docs/kube-proxy-nftables.md). Runs until SIGTERM/SIGINT;
// the rules stay in place when it exits, as kube-proxy's do.
import { isIP } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { formatDiagnostic, hasErrors } from '../core/diagnostic.js';
import { buildNftablesModel, type NftablesOptions } from '../kubeproxy/nftables-model.js';
import { createNftRunner, NftablesSync } from '../kubeproxy/nftables-sync.js';
import { collectServicePorts } from '../kubeproxy/service-ports.js';
import { FileSource } from '../sources/file/file-source.js';
import { indexResources } from '../store/resource-index.js';
import type { ResourceSnapshot } from '../store/resource-snapshot.js';
import { UsageError } from './args.js';

export const KUBE_PROXY_APPLY_HELP = `Usage: isthmus kube-proxy apply --mode nftables --config DIR [--config DIR ...] [flags]

Programs kube-proxy's nftables rules (table ip kube-proxy, and ip6 kube-proxy for IPv6) for the
Services and EndpointSlices in the folders, then watches them: a full sync at start, then only
the chains and set/map elements that changed. Logs one line per sync. Needs root and nft.

Flags:
  --mode nftables       The only mode this command applies (iptables and ipvs: kube-proxy render).
  --config DIR          A folder of YAML (repeatable).
  --netns NAME          Apply inside this network namespace (ip netns exec); default: this one.
  --node-ip IP          An address of this node: NodePorts answer on it (repeatable).
  --cluster-cidr CIDR   Pod CIDR: traffic from outside it to a cluster IP is masqueraded (repeatable).
  --service-cidr CIDR   Service CIDR: traffic to an unallocated cluster IP in it is dropped (repeatable).
  --node-name NAME      This node, for externalTrafficPolicy / internalTrafficPolicy Local.
  --once                Apply once and exit (no watch).
`;

export interface KubeProxyApplyOptions {
  readonly dirs: readonly string[];
  readonly netns: string | undefined;
  readonly once: boolean;
  readonly nft: NftablesOptions;
}

export function parseKubeProxyApplyArgs(argv: readonly string[]): KubeProxyApplyOptions {
  // Accept the words main.ts dispatches on, so `kube-proxy apply ...` and `apply ...` both work.
  const args = [...argv];
  if (args[0] === 'kube-proxy') args.shift();
  if (args[0] === 'apply') args.shift();
  const { values } = parseArgs({
    args,
    options: {
      mode: { type: 'string' },
      config: { type: 'string', multiple: true },
      netns: { type: 'string' },
      'node-ip': { type: 'string', multiple: true },
      'cluster-cidr': { type: 'string', multiple: true },
      'service-cidr': { type: 'string', multiple: true },
      'node-name': { type: 'string' },
      once: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.mode !== 'nftables') throw new UsageError(`--mode: expected nftables, got ${JSON.stringify(values.mode ?? '')}`);
  const dirs = values.config ?? [];
  if (dirs.length === 0) throw new UsageError('--config DIR is required');
  const nodeIPs = values['node-ip'] ?? [];
  for (const ip of nodeIPs) if (isIP(ip) === 0) throw new UsageError(`--node-ip: expected an IP address, got ${JSON.stringify(ip)}`);
  const cidr = (flag: string, list: readonly string[]) => {
    for (const c of list) {
      const [addr, len, extra] = c.split('/');
      if (addr === undefined || isIP(addr) === 0 || len === undefined || extra !== undefined || !/^\d{1,3}$/.test(len)) throw new UsageError(`${flag}: expected ADDRESS/PREFIX, got ${JSON.stringify(c)}`);
    }
    return list;
  };
  return {
    dirs,
    netns: values.netns,
    once: values.once === true,
    nft: {
      nodeIPs,
      clusterCIDRs: cidr('--cluster-cidr', values['cluster-cidr'] ?? []),
      serviceCIDRs: cidr('--service-cidr', values['service-cidr'] ?? []),
      ...(values['node-name'] !== undefined ? { nodeName: values['node-name'] } : {}),
    },
  };
}

/** Runs the command; resolves when it stops (after --once, or on SIGTERM/SIGINT). Exit code in the result. */
export async function runKubeProxyApply(argv: readonly string[], log: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  let options: KubeProxyApplyOptions;
  try {
    options = parseKubeProxyApplyArgs(argv);
  } catch (err) {
    process.stderr.write(`isthmus kube-proxy apply: ${(err as Error).message}\n\n${KUBE_PROXY_APPLY_HELP}`);
    return 2;
  }
  const sync = new NftablesSync({ run: createNftRunner(options.netns), log });
  const source = new FileSource({ dirs: options.dirs });
  let appliedOnce = false;
  let lastOk = true;
  const onSnapshot = async (snapshot: ResourceSnapshot): Promise<void> => {
    for (const d of snapshot.diagnostics) log(`isthmus: ${formatDiagnostic(d)}`);
    // A half-written file must not remove live rules: keep the last good state (docs/architecture.md).
    if (appliedOnce && hasErrors(snapshot.diagnostics)) {
      log(`isthmus: generation ${snapshot.generation} has load errors; the rules applied last stay [ERR_CONFIG_REJECTED]`);
      return;
    }
    const { ports, diagnostics } = collectServicePorts(indexResources(snapshot.resources));
    for (const d of diagnostics) log(`isthmus: ${formatDiagnostic(d)}`);
    const result = await sync.sync(buildNftablesModel(ports, options.nft));
    lastOk = result.ok;
    appliedOnce ||= result.ok;
  };
  let pending: Promise<void> = Promise.resolve();
  await source.start((snapshot) => {
    pending = pending.then(() => onSnapshot(snapshot));
  });
  await pending;
  if (options.once) {
    await source.close();
    sync.close();
    return lastOk ? 0 : 1;
  }
  // The file watch does not hold the process open (persistent: false): this timer does, until a signal.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  clearInterval(keepAlive);
  await source.close();
  await pending;
  sync.close();
  return 0;
}

// Runnable on its own (`node dist/src/cli/kube-proxy-apply.js --mode nftables ...`) until main.ts dispatches to it.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // Writes to a pipe are asynchronous: exit once the log lines before it are out.
  runKubeProxyApply(process.argv.slice(2)).then((code) => process.stdout.write('', () => process.exit(code)), (err: unknown) => {
    process.stderr.write(`isthmus kube-proxy apply: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
