// `isthmus kube-proxy apply --mode nftables|iptables --config DIR --netns NAME [--node-ip IP]...`:
// programs kube-proxy's rules for the Services and EndpointSlices in the folders, and keeps them
// in step as the folders change (the file source's watch): one full sync at start, then partial
// syncs that send only what changed (docs/kube-proxy-nftables.md, docs/kube-proxy.md). The mode
// chooses a RuleSyncer; the rest of the command does not know which. Runs until SIGTERM/SIGINT;
// the rules stay in place when it exits, as kube-proxy's do.
import { isIP } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { assertNever } from '../core/assert-never.js';
import { formatDiagnostic, hasErrors } from '../core/diagnostic.js';
import { renderIptables } from '../kubeproxy/iptables-render.js';
import { createCommandRunner, IptablesSync } from '../kubeproxy/iptables-sync.js';
import { buildCompactModel, NftCompactMemo } from '../kubeproxy/nftables-compact-model.js';
import { NftCompactSync } from '../kubeproxy/nftables-compact-sync.js';
import { buildNftablesModel, NftModelMemo, type NftablesOptions } from '../kubeproxy/nftables-model.js';
import { createNftRunner, NftablesSync } from '../kubeproxy/nftables-sync.js';
import { collectServicePorts, ServicePortsMemo, type KpServicePort } from '../kubeproxy/service-ports.js';
import { FileSource } from '../sources/file/file-source.js';
import { indexResources } from '../store/resource-index.js';
import type { ResourceSnapshot } from '../store/resource-snapshot.js';
import { UsageError } from './args.js';

export const KUBE_PROXY_APPLY_HELP = `Usage: isthmus kube-proxy apply --mode nftables|iptables --config DIR [--config DIR ...] [flags]

Programs kube-proxy's rules for the Services and EndpointSlices in the folders, then watches
them: a full sync at start, then only what changed. Logs one line per sync. Needs root.
  nftables: table ip kube-proxy (and ip6 kube-proxy); only the chains and set/map elements that
            changed are sent. Needs nft.
  iptables: the nat and filter tables through iptables-restore --noflush (ip6tables-restore for
            IPv6); the fixed chains and only the Service chains that changed are sent, stale
            ones deleted. Needs iptables.

Flags:
  --mode MODE           nftables or iptables (ipvs: kube-proxy render only).
  --config DIR          A folder of YAML (repeatable).
  --netns NAME          Apply inside this network namespace (ip netns exec); default: this one.
  --node-ip IP          An address of this node: NodePorts answer on it (repeatable).
  --cluster-cidr CIDR   Pod CIDR: traffic from outside it to a cluster IP is masqueraded (repeatable).
  --service-cidr CIDR   nftables: traffic to an unallocated cluster IP in it is dropped (repeatable).
  --masquerade-all      iptables: masquerade all traffic to cluster IPs (kube-proxy's flag).
  --node-name NAME      This node, for externalTrafficPolicy / internalTrafficPolicy Local.
  --layout LAYOUT       nftables: kube-proxy (default: kube-proxy's own chains, comparable with a
                        node) or compact (endpoints in named maps, few chains: a one-endpoint
                        change is element commands only; Services with affinity, a Local
                        policy or source ranges keep kube-proxy's chains in the same table).
  --once                Apply once and exit (no watch).
`;

export type ApplyMode = 'nftables' | 'iptables';
/** nftables only: kube-proxy's own rule layout, or the compact one (docs/kube-proxy-nftables.md). */
export type NftLayout = 'kube-proxy' | 'compact';

export interface KubeProxyApplyOptions {
  readonly mode: ApplyMode;
  readonly layout: NftLayout;
  readonly dirs: readonly string[];
  readonly netns: string | undefined;
  readonly once: boolean;
  /** The node's facts as the nftables model takes them (iptables reads the same ones). */
  readonly nft: NftablesOptions;
  /** iptables only: kube-proxy's --masquerade-all. */
  readonly masqueradeAll: boolean;
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
      'masquerade-all': { type: 'boolean' },
      layout: { type: 'string' },
    },
    strict: true,
  });
  const mode = values.mode;
  if (mode !== 'nftables' && mode !== 'iptables') throw new UsageError(`--mode: expected nftables or iptables, got ${JSON.stringify(mode ?? '')}`);
  // Each flag the other mode does not model is refused rather than silently ignored.
  if (mode === 'iptables' && values['service-cidr'] !== undefined) throw new UsageError('--service-cidr: nftables mode only (kube-proxy\'s iptables mode does not drop traffic to unallocated cluster IPs)');
  if (mode === 'nftables' && values['masquerade-all'] === true) throw new UsageError('--masquerade-all: iptables mode only (not modelled in nftables mode, docs/kube-proxy-nftables.md)');
  const layout = values.layout ?? 'kube-proxy';
  if (layout !== 'kube-proxy' && layout !== 'compact') throw new UsageError(`--layout: expected kube-proxy or compact, got ${JSON.stringify(layout)}`);
  if (mode === 'iptables' && values.layout !== undefined) throw new UsageError('--layout: nftables mode only');
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
    mode,
    layout,
    dirs,
    netns: values.netns,
    once: values.once === true,
    masqueradeAll: values['masquerade-all'] === true,
    nft: {
      nodeIPs,
      clusterCIDRs: cidr('--cluster-cidr', values['cluster-cidr'] ?? []),
      serviceCIDRs: cidr('--service-cidr', values['service-cidr'] ?? []),
      ...(values['node-name'] !== undefined ? { nodeName: values['node-name'] } : {}),
    },
  };
}

/** What the command needs of a mode: apply the Service ports, report whether it worked. */
export interface RuleSyncer {
  sync(ports: readonly KpServicePort[]): Promise<{ readonly ok: boolean }>;
  close(): void;
}

export function createRuleSyncer(options: KubeProxyApplyOptions, log: (line: string) => void): RuleSyncer {
  switch (options.mode) {
    case 'nftables': {
      if (options.layout === 'compact') {
        const sync = new NftCompactSync({ run: createNftRunner(options.netns), log });
        const memo = new NftCompactMemo();
        return {
          sync: (ports) => sync.sync(buildCompactModel(ports, options.nft, memo)),
          close: () => sync.close(),
        };
      }
      const sync = new NftablesSync({ run: createNftRunner(options.netns), log });
      // Unchanged Services' ports come back as the same objects (ServicePortsMemo): their parts are reused.
      const memo = new NftModelMemo();
      return { sync: (ports) => sync.sync(buildNftablesModel(ports, options.nft, memo)), close: () => sync.close() };
    }
    case 'iptables': {
      const sync = new IptablesSync({ run: createCommandRunner(options.netns), log });
      const { nodeIPs, clusterCIDRs, nodeName } = options.nft;
      const render = { nodeIPs, clusterCIDRs, masqueradeAll: options.masqueradeAll, ...(nodeName !== undefined ? { nodeName } : {}) };
      return { sync: (ports) => sync.sync(renderIptables(ports, render)), close: () => sync.close() };
    }
    default:
      return assertNever(options.mode, 'kube-proxy apply mode');
  }
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
  const sync = createRuleSyncer(options, log);
  const source = new FileSource({ dirs: options.dirs });
  let appliedOnce = false;
  let lastOk = true;
  // Per Service, between snapshots: a change to one EndpointSlice rebuilds one Service's ports.
  const portsMemo = new ServicePortsMemo();
  const onSnapshot = async (snapshot: ResourceSnapshot): Promise<void> => {
    const received = performance.now();
    for (const d of snapshot.diagnostics) log(`isthmus: ${formatDiagnostic(d)}`);
    // A half-written file must not remove live rules: keep the last good state (docs/architecture.md).
    if (appliedOnce && hasErrors(snapshot.diagnostics)) {
      log(`isthmus: generation ${snapshot.generation} has load errors; the rules applied last stay [ERR_CONFIG_REJECTED]`);
      return;
    }
    const { ports, diagnostics } = collectServicePorts(indexResources(snapshot.resources), { memo: portsMemo });
    for (const d of diagnostics) log(`isthmus: ${formatDiagnostic(d)}`);
    const collected = performance.now();
    const result = await sync.sync(ports);
    // The whole path of a change once the file source has it (bench/kube-proxy-scale.mjs reads it):
    // the sync's own `took` line says how much of the second figure was the sync itself.
    log(`isthmus: generation ${snapshot.generation}: Service ports ${(collected - received).toFixed(1)} ms, model and sync ${(performance.now() - collected).toFixed(1)} ms`);
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

// Runnable on its own too (`node dist/src/cli/kube-proxy-apply.js --mode iptables ...`); bin/isthmus.js dispatches here.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // Writes to a pipe are asynchronous: exit once the log lines before it are out.
  runKubeProxyApply(process.argv.slice(2)).then((code) => process.stdout.write('', () => process.exit(code)), (err: unknown) => {
    process.stderr.write(`isthmus kube-proxy apply: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
