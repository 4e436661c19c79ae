// Flags of `isthmus sidecar`, with their defaults; `sidecar --help` prints this table. The sidecar
// runs the gateway's machinery (cli/gateway.ts) with the mesh translation, so its flags become a
// RunOptions for that machinery plus the mesh's own (namespace, outbound port).
import { parseArgs } from 'node:util';
import { parseLabels, UsageError, type RunOptions } from '../args.js';
import type { MeshOptions } from '../../translate/istio/mesh-listener.js';

/** The logical port of the outbound listener, Istio's: `--listen` maps it to the real one. */
export const SIDECAR_OUTBOUND_PORT = 15001;
/** Istio's proxy uid: the iptables rules let this uid's own traffic out unredirected. */
export const DEFAULT_PROXY_UID = 1337;

export const SIDECAR_FLAGS = [
  ['--config DIR', '(required)', 'Folder of *.yaml/*.yml/*.json (Services, Pods/EndpointSlices, VirtualServices, DestinationRules); repeatable, watched.'],
  ['--listen HOST:PORT', '127.0.0.1:15001', 'Where the outbound proxy listens (HTTP_PROXY target, or the iptables REDIRECT port).'],
  ['--namespace NS', 'default', 'The workload\'s namespace: short Service names (reviews) resolve there.'],
  ['--workload-labels K=V,...', '(none)', 'The workload\'s Pod labels: routes whose match.sourceLabels they do not satisfy are left out.'],
  ['--admin-port N', '15000', 'Admin API and /metrics, bound to 127.0.0.1.'],
  ['--access-log T', 'stdout', 'stdout, off, or a file path.'],
  ['--trusted-proxy CIDR', 'any, when --listen is loopback', 'Clients whose X-Forwarded-* / X-Request-Id are kept; repeatable.'],
  ['--shutdown-grace MS', '5000', 'On SIGTERM, how long in-flight requests may take to finish.'],
  ['--print-iptables', 'off', 'Print the iptables commands for transparent mode (run them in the workload\'s network namespace) and exit.'],
  ['--proxy-uid N', String(DEFAULT_PROXY_UID), 'With --print-iptables: the uid the sidecar runs as; its own connections are not redirected.'],
] as const;

export type SidecarCommand =
  | { readonly kind: 'serve'; readonly run: RunOptions; readonly mesh: MeshOptions }
  | { readonly kind: 'print-iptables'; readonly proxyUid: number; readonly port: number };

export function parseSidecarArgs(argv: readonly string[]): SidecarCommand {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      config: { type: 'string', multiple: true },
      listen: { type: 'string' },
      namespace: { type: 'string' },
      'workload-labels': { type: 'string' },
      'admin-port': { type: 'string' },
      'access-log': { type: 'string' },
      'trusted-proxy': { type: 'string', multiple: true },
      'shutdown-grace': { type: 'string' },
      'print-iptables': { type: 'boolean' },
      'proxy-uid': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const { host, port } = parseListen(values.listen ?? `127.0.0.1:${SIDECAR_OUTBOUND_PORT}`);
  if (values['print-iptables'] === true) {
    const uid = Number(values['proxy-uid'] ?? DEFAULT_PROXY_UID);
    if (!Number.isInteger(uid) || uid < 0) throw new UsageError(`sidecar --proxy-uid: expected a uid, got ${JSON.stringify(values['proxy-uid'])}`);
    return { kind: 'print-iptables', proxyUid: uid, port };
  }
  const configDirs = values.config ?? [];
  if (configDirs.length === 0) throw new UsageError('sidecar: --config DIR is required (the Services and VirtualServices to apply)');
  const grace = Number(values['shutdown-grace'] ?? '5000');
  if (!Number.isFinite(grace) || grace < 0) throw new UsageError('sidecar --shutdown-grace: expected milliseconds');
  const adminPort = Number(values['admin-port'] ?? '15000');
  if (!Number.isInteger(adminPort) || adminPort < 0 || adminPort > 65535) throw new UsageError(`sidecar --admin-port: expected a port number, got ${JSON.stringify(values['admin-port'])}`);
  // On loopback every client is a process of the workload's own network namespace: its request
  // ids and forwarded-for chain are the workload's to pass on, as an Istio sidecar keeps them.
  const trusted = values['trusted-proxy'] ?? (isLoopback(host) ? ['0.0.0.0/0', '::/0'] : []);
  const run: RunOptions = {
    configDirs,
    demo: false,
    healthPort: 0,
    redisTimeoutMs: 100,
    httpPort: port,
    httpsPort: port,
    listenAddress: host,
    adminPort,
    portMap: new Map([[SIDECAR_OUTBOUND_PORT, port]]),
    accessLog: values['access-log'] ?? 'stdout',
    ingressClass: 'isthmus',
    ingressController: 'isthmus.dev/ingress-controller',
    istioGatewayLabels: new Map(),
    trustedProxies: trusted,
    shutdownGraceMs: grace,
    limits: {},
  };
  const labels = values['workload-labels'] === undefined ? new Map<string, string>() : parseLabels(values['workload-labels'], '--workload-labels');
  return { kind: 'serve', run, mesh: { namespace: values.namespace ?? 'default', port: SIDECAR_OUTBOUND_PORT, labels } };
}

function parseListen(listen: string): { host: string; port: number } {
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(listen.slice(colon + 1));
  if (colon === -1 || host === '' || !Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`sidecar --listen: expected HOST:PORT, got ${JSON.stringify(listen)}`);
  return { host, port };
}

function isLoopback(host: string): boolean {
  return host === '::1' || host === 'localhost' || host.startsWith('127.');
}

export function sidecarHelp(): string {
  const width = Math.max(...SIDECAR_FLAGS.map(([f]) => f.length));
  const lines = SIDECAR_FLAGS.map(([flag, def, text]) => `  ${flag.padEnd(width)}  ${text} (default: ${def})`);
  return `Usage: isthmus sidecar --config DIR [flags]\n\nAn outbound L7 proxy for one workload (docs/sidecar.md): explicit (HTTP_PROXY) or transparent (iptables REDIRECT).\n\nFlags:\n${lines.join('\n')}\n`;
}
