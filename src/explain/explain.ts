// `isthmus explain` and GET /api/explain: the whole path of one request or connection, as the
// configuration would take it: load balancer → node port / cluster IP → kube-proxy's rule chain
// (which rule, which probability, which endpoint) → gateway listener → route (and why earlier
// routes did not match) → filters → cluster → endpoint. A connection to a Service whose
// endpoints are this gateway (their port is one of its binds, or their address is one of
// `gatewayAddresses`) goes on into the gateway part; an L4 listener's route and backends are
// shown the same way. Pure: the IR and the kube-proxy model in, steps out.
import { SniRoutes } from '../dataplane/l4/sni-routes.js';
import { httpsHostnamesOf, SniSplitTable } from '../dataplane/l4/sni-split.js';
import type { IrL4Listener } from '../ir/l4.js';
import type { IrSnapshot } from '../ir/types.js';
import type { KpServicePort } from '../kubeproxy/service-ports.js';
import { explainConnection, type ChainNames } from './explain-kube-proxy.js';
import { explainLoadBalancerHop, type LbNode } from './explain-load-balancer.js';
import { explainHttp } from './explain-http.js';
import type { ExplainStep } from './explain-step.js';

export type ExplainInput =
  | {
      readonly kind: 'http';
      /** `http://host[:port]/path?query`; the port is where the request arrives (a node port, a bind). */
      readonly url: string;
      readonly method?: string;
      readonly headers?: Readonly<Record<string, string>>;
      /** The address connected to, when the URL's host is a name (default: the URL's host). */
      readonly address?: string;
    }
  | { readonly kind: 'connection'; readonly address: string; readonly port: number; readonly protocol?: 'TCP' | 'UDP'; readonly sni?: string };

/**
 * `ADDR:PORT` (`[v6]:PORT` for IPv6) of a connection to explain, with its protocol and SNI, as the
 * CLI's --connect and the admin API's connect= give them; a string says what is wrong.
 */
export function connectionInput(target: string, protocol: string | undefined, sni: string | undefined): ExplainInput | string {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(target);
  if (m === null) return `connect: expected ADDR:PORT, got ${JSON.stringify(target)}`;
  const p = (protocol ?? 'TCP').toUpperCase();
  if (p !== 'TCP' && p !== 'UDP') return 'protocol: TCP or UDP';
  return { kind: 'connection', address: m[1]!, port: Number(m[2]), protocol: p, ...(sni !== undefined ? { sni } : {}) };
}

export interface ExplainContext {
  readonly ir: IrSnapshot;
  /** collectServicePorts() of the same snapshot. */
  readonly servicePorts: readonly KpServicePort[];
  readonly chainNames: ChainNames;
  readonly nodeIPs?: readonly string[];
  readonly nodeName?: string;
  /** Addresses of this gateway (its Pod IP): a Service endpoint there is the gateway itself. */
  readonly gatewayAddresses?: readonly string[];
  /**
   * The nodes `isthmus lb` sends to (--node, Node objects): a connection to a LoadBalancer
   * Service's address starts at the lb, then follows a node in rotation. Absent: the path starts
   * at the node that receives the packet (a cloud LB that keeps the destination address).
   */
  readonly loadBalancerNodes?: readonly LbNode[];
  /** The Services `isthmus lb` serves (by `spec.loadBalancerClass`); absent: every LoadBalancer Service. */
  readonly loadBalancerServes?: (namespace: string, name: string) => boolean;
}

interface NodeProbe {
  readonly address: string;
  readonly port: number;
  readonly nodeIPs?: readonly string[];
  readonly nodeName?: string;
}

/** The lb hop, when there is one: its step is pushed, and the probe moves on to the node it picks (undefined: the path ends there). */
function viaLoadBalancer(ctx: ExplainContext, address: string, port: number, protocol: 'TCP' | 'UDP', steps: ExplainStep[]): NodeProbe | undefined {
  const here: NodeProbe = { address, port, ...(ctx.nodeIPs ? { nodeIPs: ctx.nodeIPs } : {}), ...(ctx.nodeName ? { nodeName: ctx.nodeName } : {}) };
  if (ctx.loadBalancerNodes === undefined) return here;
  const hop = explainLoadBalancerHop(ctx.servicePorts, { address, port, protocol }, ctx.loadBalancerNodes, ctx.loadBalancerServes);
  if (hop === undefined) return here;
  steps.push(hop.step);
  return hop.next === undefined ? undefined : { address: hop.next.address, port: hop.next.port, nodeIPs: [hop.next.address], nodeName: hop.next.nodeName };
}

export type ExplainResult = { readonly kind: 'steps'; readonly steps: readonly ExplainStep[] } | { readonly kind: 'invalid'; readonly message: string };

export function explain(input: ExplainInput, ctx: ExplainContext): ExplainResult {
  if (input.kind === 'connection') return { kind: 'steps', steps: explainL4OrService(input.address, input.port, input.protocol ?? 'TCP', input.sni, ctx) };
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    return { kind: 'invalid', message: `not a URL: ${JSON.stringify(input.url)}` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { kind: 'invalid', message: `only http and https URLs are explained, not ${url.protocol}` };
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const address = input.address ?? hostname;
  const host = input.headers?.host ?? input.headers?.Host ?? url.host;
  const steps: ExplainStep[] = [];
  let gatewayPort = port;
  let gatewayAddress: string | undefined = isIp(address) ? address : undefined;
  if (isIp(address)) {
    const probe = viaLoadBalancer(ctx, address, port, 'TCP', steps);
    if (probe === undefined) return { kind: 'steps', steps };
    const kp = explainConnection(ctx.servicePorts, { ...probe, protocol: 'TCP' }, ctx.chainNames);
    if (kp.servicePort !== undefined) {
      steps.push(...kp.steps);
      const gateway = kp.endpoints.find((e) => isGateway(ctx, e.address, e.port));
      if (gateway === undefined) {
        if (kp.endpoints.length > 0) steps.push({ stage: 'endpoint', outcome: 'matched', summary: `the endpoint serves the request itself (not this gateway)`, details: [] });
        return { kind: 'steps', steps };
      }
      gatewayPort = gateway.port;
      gatewayAddress = undefined;
    }
  }
  const l4 = findL4(ctx.ir.l4Listeners ?? [], gatewayAddress, gatewayPort, 'TCP');
  const sni = url.protocol === 'https:' ? url.hostname : undefined;
  const split = l4 === undefined ? undefined : sharedBindSplit(ctx.ir, l4, sni);
  if (split !== undefined) steps.push(split.step);
  if (l4 !== undefined && split?.owner !== 'https') return { kind: 'steps', steps: [...steps, ...explainL4(l4, sni)] };
  steps.push(...explainHttp(ctx.ir, { port: gatewayPort, ...(gatewayAddress ? { address: gatewayAddress } : {}), host, path: url.pathname, query: url.search, method: input.method ?? 'GET', headers: input.headers ?? {} }));
  return { kind: 'steps', steps };
}

function explainL4OrService(address: string, port: number, protocol: 'TCP' | 'UDP', sni: string | undefined, ctx: ExplainContext): ExplainStep[] {
  const steps: ExplainStep[] = [];
  const probe = viaLoadBalancer(ctx, address, port, protocol, steps);
  if (probe === undefined) return steps;
  let target = { address: probe.address as string | undefined, port: probe.port };
  const kp = explainConnection(ctx.servicePorts, { ...probe, protocol }, ctx.chainNames);
  if (kp.servicePort !== undefined) {
    steps.push(...kp.steps);
    const gateway = kp.endpoints.find((e) => isGateway(ctx, e.address, e.port));
    if (gateway === undefined) return steps;
    target = { address: undefined, port: gateway.port };
  }
  const l4 = findL4(ctx.ir.l4Listeners ?? [], target.address, target.port, protocol);
  const split = l4 === undefined ? undefined : sharedBindSplit(ctx.ir, l4, sni);
  if (split?.owner === 'https') return [...steps, split.step, { stage: 'listener', outcome: 'matched', summary: 'TLS ends here with the HTTPS bind\'s certificates; explain a URL to follow the request', details: [] }];
  if (l4 !== undefined) return [...steps, ...(split ? [split.step] : []), ...explainL4(l4, sni)];
  if (kp.servicePort === undefined) steps.length = 0;
  steps.push({ stage: 'listener', outcome: 'refused', summary: `no ${protocol} listener of this gateway at ${address}:${port}${protocol === 'TCP' ? ' (for an HTTP request, explain a URL)' : ''}`, details: [] });
  return steps;
}

function isGateway(ctx: ExplainContext, address: string, port: number): boolean {
  if (ctx.gatewayAddresses?.includes(address)) return true;
  return ctx.ir.binds.some((b) => b.port === port) || (ctx.ir.l4Listeners ?? []).some((l) => l.port === port);
}

function findL4(listeners: readonly IrL4Listener[], address: string | undefined, port: number, protocol: 'TCP' | 'UDP'): IrL4Listener | undefined {
  const onPort = listeners.filter((l) => l.port === port && (protocol === 'UDP' ? l.protocol === 'UDP' : l.protocol !== 'UDP'));
  return onPort.find((l) => address !== undefined && l.address === address) ?? onPort.find((l) => l.address === '0.0.0.0' || l.address === '::' || address === undefined);
}

/** A TLS listener that shares an HTTPS bind: the data plane's own split says who takes this SNI name. */
function sharedBindSplit(ir: IrSnapshot, l: IrL4Listener, sni: string | undefined): { owner: 'l4' | 'https'; step: ExplainStep } | undefined {
  if (l.sharesBind === undefined) return undefined;
  const hostnames = httpsHostnamesOf(ir, l.sharesBind);
  const owner = new SniSplitTable(hostnames, l.routes).owner(sni);
  const name = sni === undefined ? '(no SNI)' : `"${sni}"`;
  return {
    owner,
    step: {
      stage: 'listener',
      outcome: 'matched',
      summary: `port shared by HTTPS bind ${l.sharesBind} and L4 listener ${l.name}: SNI ${name} goes to ${owner === 'l4' ? 'the L4 listener' : 'the HTTPS bind'}`,
      details: [`HTTPS hostnames: ${hostnames.join(', ') || '(none)'}`, `L4 SNI names: ${l.routes.map((r) => r.sniHosts.join(', ') || '(any)').join('; ')}`],
    },
  };
}

function explainL4(l: IrL4Listener, sni: string | undefined): ExplainStep[] {
  const steps: ExplainStep[] = [{ stage: 'listener', outcome: 'matched', summary: `L4 listener ${l.name} (${l.protocol}${l.tls ? ` ${l.tls.mode}` : ''} ${l.address}:${l.port}), scheduler ${l.scheduler}`, details: [] }];
  // The data plane's own SNI table (exact, then the longest wildcard, then the default route).
  const route = l.protocol === 'TLS' ? new SniRoutes(l.routes).select(sni?.toLowerCase()) : l.routes[0];
  if (route === undefined) {
    steps.push({ stage: 'route', outcome: 'refused', summary: l.protocol === 'TLS' ? `no route for SNI ${sni === undefined ? '(none sent)' : `"${sni}"`}: the connection is closed` : 'no route: the connection is closed', details: l.routes.map((r) => `${r.name}: ${r.sniHosts.join(', ') || '(any)'}`) });
    return steps;
  }
  steps.push({ stage: 'route', outcome: 'matched', summary: `route ${route.name}${route.sniHosts.length > 0 ? ` (SNI ${route.sniHosts.join(', ')})` : ''}`, details: [] });
  const total = route.backends.reduce((s, b) => s + b.weight, 0);
  for (const b of route.backends) {
    const share = total > 0 ? ` ${((100 * b.weight) / total).toFixed(1)} % of connections` : '';
    steps.push({
      stage: 'endpoint',
      outcome: b.endpoints.length > 0 ? 'matched' : 'refused',
      summary: `backend ${b.name}:${share}; ${b.endpoints.length} endpoint${b.endpoints.length === 1 ? '' : 's'} by ${l.scheduler}, a failed connect retries another${b.proxyProtocol ? `; PROXY protocol ${b.proxyProtocol} first` : ''}`,
      details: b.endpoints.map((e) => `${e.address}:${e.port}${e.target ? ` (${e.target})` : ''}`),
    });
  }
  return steps;
}

function isIp(s: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(s) || s.includes(':');
}
